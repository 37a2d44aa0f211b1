# The backup_report role's HTML report, checked in a real headless browser.
#
#   make browser   install Debian's chromium when /usr/bin/chromium is missing
#   make report    the role's end-to-end tests (tests/integration/test_backup_report.py),
#                  chromium included; `make test` runs it after the other steps
#
# The screenshot of the rendered report is kept in $(BUILD)/backup_report/ (gitignored).

CHROMIUM ?= /usr/bin/chromium
# apt-get needs root: as root (CI, a fresh Debian 12 machine) directly, else through sudo.
APT_GET := $(if $(filter 0,$(shell id -u)),,sudo )apt-get

.PHONY: browser report

browser:  ## Install Debian's chromium (headless HTML checks) unless it is there.
	@if [ -x $(CHROMIUM) ]; then echo "$(CHROMIUM) is installed"; else \
	  set -x && $(APT_GET) update && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y --no-install-recommends chromium; fi
	$(CHROMIUM) --version

report: browser venv collection  ## The backup_report role's tests, HTML checked in headless chromium.
	$(TOOL_ENV) BACKUP_REPORT_CHROMIUM=$(CHROMIUM) BACKUP_REPORT_ARTIFACTS=$(abspath $(BUILD))/backup_report \
	  $(VENV_BIN)/python -m pytest $(PYTEST_E2E) tests/integration/test_backup_report.py

TEST_STEPS += report
