# Sanity and unit tests on the oldest ansible-core that meta/runtime.yml's
# requires_ansible admits (AWX execution environments lag behind ansible-core).
#
#   make sanity-oldest   ansible-test sanity on ansible-core 2.16, Python 3.11
#   make units-oldest    ansible-test units, same (tests/unit, emulator tests included)
#
# `make test` runs both after the main steps (ansible-core 2.21 on Python 3.13,
# from requirements-dev.txt).  Each is the Makefile's own `sanity` / `units` run by
# a sub-make with PY, VENV and REQUIREMENTS pointing at the oldest tool chain:
#   - $(OLDEST_VENV), built from $(OLDEST_REQUIREMENTS) (ansible-core only; ansible-test
#     installs its sanity and unit-test requirements into venvs of its own);
#   - the offline get-pip stand-in for the pip version that ansible-test pins
#     (.ci/install_get_pip.py run with that venv's python: 23.1.2 for core 2.16);
#   - the same collection copy as the main run: its tests/output is shared, which is
#     safe (ansible-test's venvs are per Python version and keyed by a hash of their
#     requirements; the old run uses Python 3.11, the main one 3.13);
#   - logs in $(BUILD)/sanity-oldest.log and $(BUILD)/units-oldest.log.
# Run the same by hand: make sanity PY=3.11 VENV=build/venv-oldest \
#   REQUIREMENTS=requirements-dev-oldest.txt LOG_TAG=-oldest

OLDEST_PY ?= 3.11
OLDEST_VENV ?= $(BUILD)/venv-oldest
OLDEST_REQUIREMENTS ?= requirements-dev-oldest.txt
# Newest pyenv build of $(OLDEST_PY), else python$(OLDEST_PY) from PATH (as the
# Makefile finds PYTHON); override with OLDEST_PYTHON=/path/to/python3.11.  Passed
# on explicitly, so that a PYTHON=... given to `make test` never reaches this run.
OLDEST_PYTHON ?= $(or $(shell ls -d $(PYENV_ROOT)/versions/$(OLDEST_PY).*/bin/python3 2>/dev/null \
                         | grep -E '/$(subst .,\.,$(OLDEST_PY))\.[0-9]+/bin/' | sort -V | tail -n 1), \
                      $(shell command -v python$(OLDEST_PY)))

OLDEST_MAKE = $(MAKE) --no-print-directory PY=$(OLDEST_PY) PYTHON='$(strip $(OLDEST_PYTHON))' \
              VENV=$(OLDEST_VENV) REQUIREMENTS=$(OLDEST_REQUIREMENTS) LOG_TAG=-oldest

.PHONY: sanity-oldest units-oldest oldest-check

sanity-oldest: oldest-check  ## ansible-test sanity on the oldest ansible-core (Python 3.11).
	$(OLDEST_MAKE) sanity

units-oldest: oldest-check  ## ansible-test units on the oldest ansible-core (Python 3.11).
	$(OLDEST_MAKE) units

# The old run must test what requires_ansible promises: the same major.minor.
oldest-check:
	@test -x '$(strip $(OLDEST_PYTHON))' || { echo "No Python $(OLDEST_PY) found (pyenv root: '$(PYENV_ROOT)'); set OLDEST_PYTHON=/path/to/python$(OLDEST_PY)"; exit 1; }
	@floor=$$(sed -nE 's/^requires_ansible:[[:space:]]*["'\'']?>=[[:space:]]*([0-9]+\.[0-9]+).*/\1/p' meta/runtime.yml); \
	 pinned=$$(sed -nE 's/^ansible-core==([0-9]+\.[0-9]+)\..*/\1/p' $(OLDEST_REQUIREMENTS)); \
	 if [ -z "$$floor" ] || [ "$$floor" != "$$pinned" ]; then \
	   echo "meta/runtime.yml requires_ansible admits ansible-core '$$floor', $(OLDEST_REQUIREMENTS) pins '$$pinned': keep them in step."; exit 1; fi

TEST_STEPS += sanity-oldest units-oldest
