# The end-to-end tests on the oldest ansible-core that meta/runtime.yml admits (2.16,
# Python 3.11): what depends on ansible-core's templating, inventory and lookups (module,
# lookup, inventory plugin, the role, the hostile-name tests) runs there as on the newest.
# Sanity and unit tests on 2.16 (mk/compat.mk) exercise no templating.
#
#   make integration-oldest   pytest $(E2E_OLDEST_TESTS) with $(E2E_OLDEST_VENV)'s python: its
#                             ansible-playbook, ansible and ansible-inventory are 2.16's
#
# The venv is built from tests/integration/requirements-oldest-core.txt (ansible-core from
# requirements-dev-oldest.txt, the test libraries at the main run's pins).

E2E_OLDEST_VENV := $(BUILD)/venv-e2e-oldest
E2E_OLDEST_REQUIREMENTS := tests/integration/requirements-oldest-core.txt
#: The end-to-end tests whose outcome depends on the ansible-core that runs them.
E2E_OLDEST_TESTS ?= test_veeam_em_backup_info.py test_veeam_em_backup_lookup.py test_listing.py \
                    test_restore_points.py test_veeam_em_inventory.py test_hostile_names.py test_backup_report.py \
                    test_veeam_em_vm_restore_point_info.py test_veeam_em_vm_restore_point_lookup.py test_protection_gate.py \
                    test_health_filters.py test_backup_sessions.py

.PHONY: integration-oldest

$(E2E_OLDEST_VENV)/.installed: $(E2E_OLDEST_REQUIREMENTS) requirements-dev-oldest.txt
	$(call pinned-venv,$(E2E_OLDEST_VENV),$(OLDEST_PY),$(E2E_OLDEST_REQUIREMENTS))

integration-oldest: $(E2E_OLDEST_VENV)/.installed oldest-check browser collection  ## End-to-end tests on the oldest ansible-core.
	@# The run proves nothing unless its ansible-playbook really is the oldest core.  The whole
	@# output is read before it is matched: `| grep -q` would close the pipe at the first match,
	@# and under pipefail ansible-playbook's broken pipe would fail the step now and then.
	@version=$$($(E2E_OLDEST_VENV)/bin/ansible-playbook --version); \
	 pinned=$$(sed -nE 's/^ansible-core==([0-9.]+)$$/\1/p' requirements-dev-oldest.txt); \
	 [[ -n $$pinned && $$version == *"core $$pinned]"* ]] \
	  || { echo "$(E2E_OLDEST_VENV) does not run the ansible-core $$pinned of requirements-dev-oldest.txt"; exit 1; }
	$(TOOL_ENV) BACKUP_REPORT_CHROMIUM=$(CHROMIUM) BACKUP_REPORT_ARTIFACTS=$(abspath $(BUILD))/backup_report-oldest \
	  $(E2E_OLDEST_VENV)/bin/python -m pytest $(PYTEST_E2E) $(addprefix tests/integration/,$(E2E_OLDEST_TESTS))

TEST_STEPS += integration-oldest
