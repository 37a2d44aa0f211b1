# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's templates laid out over a report whose every value from EM is hostile: ids included,
no format gains structure (a JUnit test case, an HTML element, a Markdown row), none templates a value."""

from __future__ import annotations

import json
import re
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


# --- layout cases ---------------------------------------------------------------------------
LINE_STARTS = ["# heading", "1. list", "- list", "+ list", "> quote", "| cell |", "    code", "\tcode", "===", "---"]
NAMES = ["two\nlines", "tab\there", "carriage\rreturn", "both\r\n\tkinds"]


def layout_report() -> dict:
    """Repositories whose ids are not UUIDs (id None), kinds that would start a block, names with line breaks and
    tabs, URLs; a title and expectations holding characters XML forbids."""
    server = {"id": None, "name": "vbr https://vbr.example.com", "href": "https://em/api/backupServers/odd", "version": "12",
              "port": 9392, "description": "mail ops@example.com or see www.example.com"}
    repositories = [{"id": None, "name": f"repo {index}", "href": f"https://em/api/repositories/r{index}", "kind": kind,
                     "capacity": 100, "free_space": 1 if index == 0 else 90} for index, kind in enumerate(LINE_STARTS)]
    backups = [{"id": f"00000000-0000-4000-8000-{index:012d}", "uid": "u", "name": name, "platform": "VMware", "backup_type": "Backup",
                "repository": repositories[index % len(repositories)], "backup_server": server, "parent_backup": None,
                "latest_restore_point": {"id": "p", "backup_date_utc": "2026-11-30T11:00:00Z"}}
               for index, name in enumerate(NAMES + [f"backup {number}" for number in range(len(NAMES), len(LINE_STARTS))])]
    settings = {"title": "esc\x1b[31m red\x0cfeed\x00nul", "ids": [], "names": [], "max_age": "26h", "min_free_percent": 10,
                "expect": [{"name": "bell\x07 \x1b"}], "fail_on": []}
    return build_report({"backups": backups, "missing_ids": [], "missing_names": []}, settings, NOW)


def test_markdown_shows_em_text_at_line_starts_and_urls_as_text():
    markdown = render(layout_report(), "markdown")
    lines = markdown.splitlines()
    kind_lines = [line for line in lines if " · capacity " in line]
    assert len(kind_lines) == len(LINE_STARTS)
    for line in kind_lines:
        assert re.match(r"(\\[#>|=+-]|1\\\.|&nbsp;|&#9;)", line), line
    assert not [line for line in lines if re.match(r"\s*([#>=+-]|\d+[.)])\s", line) and not line.startswith(("# ", "## ", "### "))]
    headings = [line for line in lines if line.startswith("#")]
    assert headings == ["# esc\x1b\\[31m red feed\x00nul", "## Findings: 2", "## Expectations: 0 of 1 met", "## Repositories",
                        "## Backup server vbr https:\u2060//vbr.example.com"] + [f"### repo {index}" for index in range(len(LINE_STARTS))]
    assert not re.search(r"://|\bwww\.|[0-9A-Za-z]@", markdown.replace("\\", ""), re.IGNORECASE)
    assert "mail ops\u2060@example.com or see www\u2060.example.com" in markdown


def test_junit_keeps_line_breaks_and_tabs_and_stays_well_formed():
    report = layout_report()
    junit = render(report, "junit")
    root = ElementTree.fromstring(junit.encode("utf-8"))
    assert root.get("name") == "esc\ufffd[31m red\ufffdfeed\ufffdnul", "characters XML forbids are replaced by U+FFFD"
    expectation = root.find("testsuite[@name='expectations']/testcase")
    assert expectation.get("name") == "backup 'bell\ufffd \ufffd'"
    freshness = {case.get("name") for case in root.findall("testsuite[@name='freshness']/testcase")}
    for index, name in enumerate(NAMES):
        assert f"{name} (00000000-0000-4000-8000-{index:012d})" in freshness, "line breaks and tabs kept"
    capacity = root.findall("testsuite[@name='capacity']/testcase")
    assert len(capacity) == len(LINE_STARTS), "repositories without UUID ids are not merged"
    failing = [case for case in capacity if case.find("failure") is not None]
    assert [case.get("name") for case in failing] == ["repo 0 (no UUID)"]
    assert failing[0].find("failure").get("message").startswith("repository 'repo 0' (https://em/api/repositories/r0): 1.0 % free")


def test_html_lists_each_repository_without_uuid_id():
    html = render(layout_report(), "html")
    assert html.count('<div class="repository" data-repository="repo ') == len(LINE_STARTS)
    assert '<span class="none">No repository</span>' not in html


# --- jobs -----------------------------------------------------------------------------------
REASON = "Error: <b>snapshot</b> | {{ 7*7 }}\nsee https://kb.example.com"


def jobs_report(jobs) -> dict:
    server = {"id": "a0000000-0000-4000-8000-000000000001", "name": "vbr | 1", "href": "h"}

    def job_session(number, name, result, tasks, end="2026-11-30T09:30:00Z"):
        job_id = f"90000000-0000-4000-8000-{number:012d}"
        return {"id": f"91000000-0000-4000-8000-{number:012d}", "uid": "u", "name": name, "job": {"id": job_id, "name": name, "href": "h"},
                "job_type": "Backup", "backup_server": server, "creation_time_utc": "2026-11-30T09:00:00Z", "end_time_utc": end,
                "state": "Stopped", "result": result, "progress": 100, "is_retry": False, "href": "h", "tasks": tasks}

    def vm(name, result, reason=""):
        return {"id": name, "vm_name": name, "state": "Completed", "result": result, "reason": reason, "creation_time_utc": "2026-11-30T09:01:00Z",
                "end_time_utc": "2026-11-30T09:02:00Z", "total_size": 1}

    sessions = [job_session(1, "# SQL\tnightly", "Failed", [vm("db01", "Failed", REASON), vm("web01", "Success")]),
                job_session(2, "1. Exchange", "Warning", [vm("mx01", "Warning", "CBT off")]),
                job_session(3, "Files", "Success", [vm("fs01", "Success")]),
                job_session(4, "Running", None, [vm("vm9", None)], end=None)] if jobs else None
    settings = {"title": "T", "ids": [], "names": [], "expect": [], "max_age": None, "min_free_percent": None, "fail_on": []}
    return build_report({"backups": [], "missing_ids": [], "missing_names": [], "jobs": sessions}, settings, NOW)


def test_markdown_jobs_section_one_row_per_job_em_text_escaped():
    markdown = render(jobs_report(True), "markdown")
    section = markdown.split("## Jobs: 4 jobs, 1 failed, 1 with a warning\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith(("| Result", "| ---"))]
    assert rows == [
        "| ❌ Failed | \\# SQL&#9;nightly | vbr \\| 1 | 2026-11-30T09:00:00Z | 2026-11-30T09:30:00Z | **db01** Failed: Error: \\<b\\>snapshot\\</b\\> "
        "\\| {{ 7\\*7 }} see https:\u2060//kb.example.com |",
        "| ⚠️ Warning | 1\\. Exchange | vbr \\| 1 | 2026-11-30T09:00:00Z | 2026-11-30T09:30:00Z | **mx01** Warning: CBT off |",
        "| ✅ Success | Files | vbr \\| 1 | 2026-11-30T09:00:00Z | 2026-11-30T09:30:00Z | – |",
        "| ⏳ running | Running | vbr \\| 1 | 2026-11-30T09:00:00Z | running | – |",
    ]
    assert "## Jobs" not in render(jobs_report(False), "markdown")


def test_html_jobs_section_escapes_reasons():
    html = render(jobs_report(True), "html")
    section = html.split('<section class="card alert" id="jobs">', 1)[1].split("</section>", 1)[0]
    assert section.count("<tr data-job-id=") == 4 and "<b>snapshot</b>" not in section
    assert "Error: &lt;b&gt;snapshot&lt;/b&gt; | {{ 7*7 }}\nsee https://kb.example.com" in section
    assert re.search(r'<tr data-job-id="90000000-0000-4000-8000-000000000004">\s*<td><span class="result running">Running</span>', section)
    assert 'id="jobs"' not in render(jobs_report(False), "html")


def test_junit_one_case_per_job_failing_for_each_finding():
    root = ElementTree.fromstring(render(jobs_report(True), "junit").encode("utf-8"))
    suite = root.find("testsuite[@name='jobs']")
    cases = suite.findall("testcase")
    assert {case.get("classname") for case in cases} == {"backup_report.jobs"}
    names = ["# SQL\tnightly", "1. Exchange", "Files", "Running"]
    assert [case.get("name") for case in cases] == [f"job {name} on vbr | 1 (90000000-0000-4000-8000-{number:012d})" for number, name in enumerate(names, 1)]
    failures = [(case.find("failure").get("type"), case.find("failure").text) if case.find("failure") is not None else None for case in cases]
    assert failures[0][0] == "failed_job" and REASON in failures[0][1]
    assert failures[1][0] == "warning_job" and failures[2:] == [None, None]
    assert (suite.get("tests"), suite.get("failures"), root.get("failures"), root.get("tests")) == ("4", "2", "2", "4")
    assert cases[3].find("system-out").text == "running in the run started 2026-11-30T09:00:00Z"
    assert root.find("testsuite[@name='jobs']") is not None
    assert ElementTree.fromstring(render(jobs_report(False), "junit").encode("utf-8")).find("testsuite[@name='jobs']") is None
