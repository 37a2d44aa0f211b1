# Release checks of veeam_em.rest, on the artifact users get: the tarball that
# `ansible-galaxy collection build` makes from the work tree.
#
#   make release-check   only the release and AWX tests:
#                        tests/integration/test_release.py (no development files in the
#                        tarball, install + ansible-doc from it, the EE requirements that
#                        ansible-builder finds, antsibull-docs lint of plugin docs and
#                        docs/docsite/, galaxy-importer when installed) and
#                        tests/integration/test_awx.py (the AWX credential type through
#                        ansible-runner against the EM emulator)
#   make dist            the tarball, in $(BUILD)/dist/
#
# No TEST_STEPS entry: both test files live in tests/integration/, so `make integration`
# (a step of `make test`) runs them already; a step of their own would run them twice.

.PHONY: release-check dist

release-check: venv collection  ## Release and AWX tests only (tarball, ansible-doc, EE, antsibull-docs, galaxy-importer).
	$(TOOL_ENV) $(VENV_BIN)/python -m pytest -p no:cacheprovider -q tests/integration/test_release.py tests/integration/test_awx.py

dist: venv  ## Build the collection tarball into $(BUILD)/dist/.
	$(VENV_BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/dist .
