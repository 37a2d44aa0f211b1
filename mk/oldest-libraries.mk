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
# Newest pyenv build of a minor version, else pythonX.Y from PATH.
pyenv_python = $(or $(shell ls -d $(PYENV_ROOT)/versions/$(1).*/bin/python3 2>/dev/null \
                      | grep -E '/$(subst .,\.,$(1))\.[0-9]+/bin/' | sort -V | tail -n 1), \
                   $(shell command -v python$(1)))
#: What make integration hands to its tests: the target interpreter with the oldest libraries.
OLDLIBS_TARGET_PYTHON := $(abspath $(OLDLIBS_TARGET_VENV))/bin/python

.PHONY: units-oldest-libraries target-oldest-libraries

# $(call oldlibs-venv,VENV,PY,REQUIREMENTS): a venv built from scratch from one file.
define oldlibs-venv
@python='$(strip $(call pyenv_python,$(2)))'; test -x "$$python" || { echo "No Python $(2) found (pyenv root: '$(PYENV_ROOT)')"; exit 1; }; \
 rm -rf $(1) && "$$python" -m venv $(1)
$(1)/bin/python -m pip install --quiet -r $(3)
$(1)/bin/python -m pip check
touch $(1)/.installed
endef

$(OLDLIBS_UNITS_VENV)/.installed: $(OLDLIBS_UNITS_REQUIREMENTS) $(OLDLIBS_REQUIREMENTS) requirements-dev-oldest.txt
	$(call oldlibs-venv,$(OLDLIBS_UNITS_VENV),$(OLDLIBS_UNITS_PY),$(OLDLIBS_UNITS_REQUIREMENTS))

$(OLDLIBS_TARGET_VENV)/.installed: $(OLDLIBS_REQUIREMENTS)
	$(call oldlibs-venv,$(OLDLIBS_TARGET_VENV),$(OLDLIBS_TARGET_PY),$(OLDLIBS_REQUIREMENTS))

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
