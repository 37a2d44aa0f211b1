# The collection on the oldest run-time libraries that requirements.txt admits:
# requests 2.25.1 on urllib3 1.26 (RHEL 9, and execution environments built on it),
# pinned in tests/requirements-oldest-libraries.txt.
#
#   make units-oldest-libraries   tests/unit/plugins with those libraries (Python 3.11,
#                                 ansible-core 2.16: its client tests run against the emulator)
#   make target-oldest-libraries  a Python 3.9 venv with only those libraries, the target
#                                 interpreter of tests/integration/test_oldest_libraries.py,
#                                 which make integration runs (the modules run on it, as on
#                                 a RHEL 9 host; the controller stays on .venv)

OLDLIBS_UNITS_PY ?= 3.11
OLDLIBS_TARGET_PY ?= 3.9
OLDLIBS_UNITS_VENV := $(BUILD)/venv-units-oldest-libraries
OLDLIBS_TARGET_VENV := $(BUILD)/venv-target-oldest-libraries
OLDLIBS_REQUIREMENTS := tests/requirements-oldest-libraries.txt
OLDLIBS_UNITS_REQUIREMENTS := tests/unit/requirements-oldest-libraries.txt
#: What make integration hands to its tests: the target interpreter with the oldest libraries.
OLDLIBS_TARGET_PYTHON := $(abspath $(OLDLIBS_TARGET_VENV))/bin/python

.PHONY: units-oldest-libraries target-oldest-libraries

$(OLDLIBS_UNITS_VENV)/.installed: $(OLDLIBS_UNITS_REQUIREMENTS) $(OLDLIBS_REQUIREMENTS) requirements-dev-oldest.txt
	$(call pinned-venv,$(OLDLIBS_UNITS_VENV),$(OLDLIBS_UNITS_PY),$(OLDLIBS_UNITS_REQUIREMENTS))

$(OLDLIBS_TARGET_VENV)/.installed: $(OLDLIBS_REQUIREMENTS)
	$(call pinned-venv,$(OLDLIBS_TARGET_VENV),$(OLDLIBS_TARGET_PY),$(OLDLIBS_REQUIREMENTS))

target-oldest-libraries: $(OLDLIBS_TARGET_VENV)/.installed  ## Python 3.9 target venv with requests 2.25.1 / urllib3 1.26.

units-oldest-libraries: $(OLDLIBS_UNITS_VENV)/.installed collection  ## Unit tests on requests 2.25.1 / urllib3 1.26.
	@# The libraries really are the old ones, or this run proves nothing.
	$(OLDLIBS_UNITS_VENV)/bin/python -c 'import requests, urllib3, sys; \
	  sys.exit(0 if (requests.__version__, urllib3.__version__[:4]) == ("2.25.1", "1.26") else "not the oldest libraries")'
	cd $(COLLECTION_DIR) && PYTHONPATH=$(COLLECTIONS) $(abspath $(OLDLIBS_UNITS_VENV))/bin/python \
	  -m pytest -p no:cacheprovider -q tests/unit/plugins

TEST_STEPS += units-oldest-libraries

# make integration runs tests/integration/test_oldest_libraries.py with this target interpreter.
integration: target-oldest-libraries
integration: TOOL_ENV += VEEAM_EM_OLDEST_LIBRARIES_PYTHON=$(OLDLIBS_TARGET_PYTHON)
