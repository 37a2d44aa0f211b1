# Development tool chain of the veeam_em.rest collection.  `make help` lists the targets.
#
# Everything runs from .venv/, built from the pinned requirements-dev.txt.  A second
# interpreter / ansible-core is one command line away, e.g.
#   make test PY=3.11 VENV=build/venv-3.11 REQUIREMENTS=requirements-dev-3.11.txt

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules --no-builtin-variables

# ---- knobs ---------------------------------------------------------------------------
# Python minor version: picks the interpreter below and ansible-test's --python.
PY ?= 3.13
# Newest pyenv build of $(PY) (no patch version hard-coded), else python$(PY) from
# PATH; override with PYTHON=/path/to/python.
PYENV_ROOT ?= $(or $(shell pyenv root 2>/dev/null),$(HOME)/.pyenv)
ifndef PYTHON
PYTHON := $(or $(shell ls -d $(PYENV_ROOT)/versions/$(PY).*/bin/python3 2>/dev/null \
                  | grep -E '/$(subst .,\.,$(PY))\.[0-9]+/bin/' | sort -V | tail -n 1), \
               $(shell command -v python$(PY)))
endif
VENV ?= .venv
REQUIREMENTS ?= requirements-dev.txt
BUILD ?= build

# ---- derived -------------------------------------------------------------------------
VENV_BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed-from-$(notdir $(REQUIREMENTS))
COLLECTIONS := $(abspath $(BUILD))/collections
COLLECTION_DIR := $(COLLECTIONS)/ansible_collections/veeam_em/rest
STAGING := $(abspath $(BUILD))/collection.new
# Tools find each other (ansible-playbook, shellcheck, ...) through PATH.
TOOL_ENV := PATH="$(VENV_BIN):$$PATH" ANSIBLE_COLLECTIONS_PATH="$(COLLECTIONS)"
ANSIBLE_TEST := $(TOOL_ENV) $(VENV_BIN)/ansible-test

# What the copy leaves out.  Anchored: only these top-level paths.  .ci holds
# tool-chain shell scripts that are no part of the collection (galaxy.yml
# build_ignore has it too), and ansible-test would lint them in the copy.
COPY_EXCLUDES := --anchored $(foreach p,.git .ci .venv* build tests/output .ansible .pytest_cache,--exclude='./$(p)') \
                 --no-anchored --exclude=__pycache__ --exclude='*.py[cod]'

.PHONY: help venv get-pip collection sanity units integration lint test demo bench clean distclean

help:  ## List the targets.
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

# ---- environment ---------------------------------------------------------------------
venv: $(STAMP)  ## Create .venv/ from requirements-dev.txt (again when that file changes).

# Rebuilt from scratch, never upgraded in place: what is in the venv is exactly the file.
$(STAMP): $(REQUIREMENTS)
	@test -x "$(PYTHON)" || { echo "No Python $(PY) found (pyenv root: '$(PYENV_ROOT)'); set PYTHON=/path/to/python$(PY)"; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV_BIN)/python -m pip install --quiet -r $(REQUIREMENTS)
	$(VENV_BIN)/python -m pip check
	touch $@

# ansible-test downloads get-pip from an unreachable host unless a cached copy exists.
get-pip: venv  ## Put the offline get-pip stand-in into ~/.ansible/test/cache.
	$(VENV_BIN)/python .ci/install_get_pip.py

collection:  ## Copy the work tree to build/collections/ansible_collections/veeam_em/rest.
	@# A fresh copy each time, so it is never stale; keep tests/output (ansible-test's
	@# venvs and caches) so that warm runs stay fast.
	rm -rf $(STAGING) && mkdir -p $(STAGING) $(dir $(COLLECTION_DIR))
	tar -c $(COPY_EXCLUDES) -f - . | tar -x -C $(STAGING) -f -
	@# ansible-test walks up to the nearest .git for its file list; the repo's own
	@# ignores build/, so without a repo of its own the copy would have no files.
	git init --quiet $(STAGING)
	if [ -d $(COLLECTION_DIR)/tests/output ]; then \
	  mkdir -p $(STAGING)/tests && mv $(COLLECTION_DIR)/tests/output $(STAGING)/tests/; fi
	rm -rf $(COLLECTION_DIR) && mv $(STAGING) $(COLLECTION_DIR)

# ---- checks --------------------------------------------------------------------------
# $(call ansible-test,COMMAND): run it in the copy, log to $(BUILD)/COMMAND$(LOG_TAG).log
# (a second ansible-core, as in mk/compat.mk, sets LOG_TAG and keeps its own logs).
# ansible-test exits 0 with "All targets skipped" when it finds nothing to test: a failure here.
define ansible-test
cd $(COLLECTION_DIR) && $(ANSIBLE_TEST) $(1) --venv --python $(PY) 2>&1 | tee $(abspath $(BUILD))/$(1)$(LOG_TAG).log
! grep -q 'All targets skipped' $(abspath $(BUILD))/$(1)$(LOG_TAG).log || { echo "ansible-test $(1)$(LOG_TAG): nothing was tested"; exit 1; }
endef

sanity: get-pip collection  ## ansible-test sanity (all tests, no ignore file allowed).
	@! ls tests/sanity/ignore-*.txt 2>/dev/null || { echo "Sanity ignore files are not allowed: fix the code instead."; exit 1; }
	$(call ansible-test,sanity)

units: get-pip collection  ## ansible-test units (sees only tests/unit/requirements.txt).
	$(call ansible-test,units)

# pytest exits 5 when it collects no test: make treats that as the failure it is.
# The end-to-end tests run in TEST_WORKERS processes (pytest-xdist), each with its own emulators.
TEST_WORKERS ?= 2
PYTEST_E2E := -p no:cacheprovider -q -n $(TEST_WORKERS)
integration: venv collection  ## pytest tests/integration against the copied collection.
	$(TOOL_ENV) $(VENV_BIN)/python -m pytest $(PYTEST_E2E) tests/integration --ignore=tests/integration/test_backup_report.py

lint: venv collection  ## ansible-lint (production), antsibull-changelog lint, shellcheck .ci/.
	$(TOOL_ENV) $(VENV_BIN)/ansible-lint $(if $(CI),--nocolor)
	$(VENV_BIN)/antsibull-changelog lint
	@# .ci/ is not in the copy, so ansible-test's shellcheck never sees these.
	$(VENV_BIN)/shellcheck .ci/run .ci/steps

# $(call pinned-venv,VENV,PY,REQUIREMENTS): a venv on pyenv's Python PY built from scratch from
# one fully pinned file, with VENV/.installed as its stamp.
pyenv_python = $(or $(shell ls -d $(PYENV_ROOT)/versions/$(1).*/bin/python3 2>/dev/null \
                      | grep -E '/$(subst .,\.,$(1))\.[0-9]+/bin/' | sort -V | tail -n 1), \
                   $(shell command -v python$(1)))
define pinned-venv
@python='$(strip $(call pyenv_python,$(2)))'; test -x "$$python" || { echo "No Python $(2) found (pyenv root: '$(PYENV_ROOT)')"; exit 1; }; \
 rm -rf $(1) && "$$python" -m venv $(1)
$(1)/bin/python -m pip install --quiet -r $(3)
$(1)/bin/python -m pip check
touch $(1)/.installed
endef

# Steps of `make test`, in order; files in mk/ add their own with TEST_STEPS += ...
TEST_STEPS := venv collection sanity units integration lint
-include mk/*.mk

test:  ## All checks (TEST_STEPS); runs every one, prints a summary, fails if any failed.
	@MAKE='$(MAKE)' bash .ci/steps $(TEST_STEPS)

# ---- demo ----------------------------------------------------------------------------
demo: venv collection  ## Start the EM emulator, run tests/demo/demo.yml and an ad-hoc command.
	$(TOOL_ENV) $(VENV_BIN)/python tests/demo/run_demo.py

# ---- benchmark -----------------------------------------------------------------------
bench: venv collection  ## Benchmark against the emulator; prints a table, writes bench/results.json.
	$(TOOL_ENV) $(VENV_BIN)/python bench/bench.py $(BENCH_ARGS)

# ---- housekeeping --------------------------------------------------------------------
clean:  ## Remove build output and caches (keeps .venv/).
	rm -rf $(BUILD) tests/output .ansible .pytest_cache
	find . -path ./.git -prune -o -path './.venv*' -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean  ## clean, and remove .venv/ too.
	rm -rf $(VENV)
