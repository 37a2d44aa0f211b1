# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's templates laid out over a report whose every value from EM is hostile: ids included,
no format gains structure (a JUnit test case, an HTML element, a Markdown row), none templates a value."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from xml.etree import ElementTree

import pytest

from ansible_collections.veeam_em.rest.plugins.module_utils._report import build_report
from ansible_collections.veeam_em.rest.plugins.plugin_utils._render import render

FORGED = 'x"></testcase><testcase classname="forged" name="all good'
TEMPLATED = "{{ 7*7 }}{% raw %}"
NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=timezone.utc)


def hostile_report() -> dict:
    repository = {"id": FORGED, "name": FORGED, "kind": TEMPLATED, "capacity": 100, "free_space": 1}
    server = {"id": TEMPLATED, "name": TEMPLATED, "version": FORGED, "port": 9392, "description": "line\n# heading | cell"}
    backups = [
        {"id": FORGED, "uid": "u", "name": FORGED, "platform": TEMPLATED, "backup_type": "Backup", "repository": repository,
         "backup_server": server, "parent_backup": {"id": FORGED, "name": TEMPLATED, "href": None},
         "latest_restore_point": {"id": FORGED, "backup_date_utc": "2026-11-28T12:00:00Z"}},
        {"id": TEMPLATED, "uid": "u", "name": TEMPLATED, "platform": None, "backup_type": "Backup", "repository": repository,
         "backup_server": server, "parent_backup": None, "latest_restore_point": {"id": "p", "backup_date_utc": "2026-11-30T11:00:00Z"}},
    ]
    settings = {"title": FORGED, "ids": [], "names": [], "expect": [{"name": FORGED}], "max_age": "26h", "min_free_percent": 10,
                "fail_on": []}
    return build_report({"backups": backups, "missing_ids": [FORGED], "missing_names": [TEMPLATED]}, settings, NOW)


def test_junit_holds_exactly_the_test_cases_of_the_checks():
    report = hostile_report()
    root = ElementTree.fromstring(render(report, "junit").encode("utf-8"))
    cases = root.findall(".//testcase")
    assert [suite.get("name") for suite in root.findall("testsuite")] == ["expectations", "freshness", "capacity"]
    assert len(cases) == 1 + 2 + 1 and not [case for case in cases if case.get("classname") == "forged"]
    assert {case.get("name") for case in cases} == {
        f"backup '{FORGED}'", f"{FORGED} ({FORGED})", f"{TEMPLATED} ({TEMPLATED})", f"{FORGED} ({FORGED})"}
    assert root.get("name") == FORGED and int(root.get("failures")) == len(report["findings"]) == 2


def test_html_shows_every_value_as_text():
    html = render(hostile_report(), "html")
    assert "<testcase" not in html and "&lt;/testcase&gt;" in html
    assert TEMPLATED in html, "not templated again"
    assert f'data-backup-id="{FORGED}"' not in html


def test_markdown_keeps_one_line_per_row():
    markdown = render(hostile_report(), "markdown")
    assert "</testcase>" not in markdown and "\\</testcase\\>" in markdown
    assert not [line for line in markdown.splitlines() if line.startswith("# heading")]
    assert "{{ 7\\*7 }}{% raw %}" in markdown


@pytest.mark.parametrize("report_format", ["json", "markdown", "html", "junit"])
def test_every_format_carries_the_marker_and_json_is_the_report(report_format):
    report = hostile_report()
    text = render(report, report_format)
    if report_format == "json":
        assert json.loads(text) == report
    else:
        assert f"<!-- veeam_em.rest.backup_report fingerprint={report['fingerprint']} generated_at=2026-11-30T12:00:00Z -->" in text
