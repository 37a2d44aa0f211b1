# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup_report role's data and the public health checks, from plain backups as the module
returns them: grouping, counts, expectations, freshness, free space, findings, the fingerprint."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree

import pytest

from ansible_collections.veeam_em.rest.plugins.module_utils._report import (
    ReportError,
    age_text,
    build_report,
    check_expectations,
    collect_backups,
    duration_seconds,
    duration_text,
    earlier_marker,
    failure_message,
    format_time,
    jobs_of_backups,
    WORD_JOINER,
    low_space_repositories,
    markdown_text,
    report_result,
    stale_backups,
    utc_moment,
    xml_text,
)

NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=timezone.utc)
TB = 1024 ** 4
SERVER_A = {"id": "a0000000-0000-4000-8000-000000000001", "name": "vbr-a", "version": "12", "port": 9392, "description": "A"}
SERVER_B = {"id": "b0000000-0000-4000-8000-000000000002", "name": "Vbr-B", "version": "11", "port": 9392, "description": ""}
REPO_FULL = {"id": "10000000-0000-4000-8000-000000000001", "name": "full", "kind": "WindowsLocal", "capacity": 10 * TB, "free_space": 0}
REPO_OK = {"id": "20000000-0000-4000-8000-000000000002", "name": "Roomy", "kind": "LinuxLocal", "capacity": 4 * TB, "free_space": 2 * TB}
REPO_UNKNOWN = {"id": "30000000-0000-4000-8000-000000000003", "name": "cloud", "kind": None, "capacity": None, "free_space": None}
REPO_EMPTY = {"id": "40000000-0000-4000-8000-000000000004", "name": "zero", "kind": "Cloud", "capacity": 0, "free_space": 0}


def point(hours_ago: float | None) -> dict | None:
    if hours_ago is None:
        return None
    return {"id": "p", "name": "point", "backup_date_utc": format_time(NOW - timedelta(hours=hours_ago)).replace("Z", ".5Z")}


def backup(number: int, name: str, *, repository: dict | None | str = "ok", server: dict | None | str = "a", hours_ago: float | None = 1,
           backup_type="Backup", platform="VMware", parent=None) -> dict:
    """A backup as the module returns it; by default in REPO_OK on SERVER_A."""
    repository = REPO_OK if repository == "ok" else repository
    server = SERVER_A if server == "a" else server
    backup_id = f"00000000-0000-4000-8000-{number:012d}"
    return {"id": backup_id, "uid": f"urn:veeam:Backup:{backup_id}", "name": name, "href": f"https://em/api/backups/{backup_id}",
            "platform": platform, "backup_type": backup_type, "repository": repository, "backup_server": server,
            "parent_backup": parent, "links": [{"rel": "Up", "type": "x", "name": None, "href": "h"}],
            "latest_restore_point": point(hours_ago)}


def every_backup() -> list[dict]:
    parent = backup(1, "Parent", backup_type="ParentBackup", hours_ago=None, platform="HyperV")
    return [
        parent,
        backup(2, "child", backup_type="ChildBackup", hours_ago=30, parent={"id": parent["id"], "name": "Parent", "href": "h"}),
        backup(3, "   spaced  ", repository=REPO_FULL, hours_ago=None),
        backup(4, "beta", repository=REPO_FULL, server=SERVER_B, hours_ago=2, platform=None),
        backup(5, "alpha", repository=None, server=SERVER_B, hours_ago=50),
        backup(6, "orphan", repository=REPO_UNKNOWN, server=None, hours_ago=0.5),
        backup(7, "Alpha", repository=REPO_EMPTY, server=SERVER_B, hours_ago=3),
    ]


SETTINGS = {"title": "T", "ids": [], "names": [], "expect": [], "max_age": "26h", "min_free_percent": 41, "fail_on": ["stale"]}


def report_of(backups, settings=None, earlier=None, read_at=NOW):
    return build_report({"backups": backups, "missing_ids": [], "missing_names": []}, {**SETTINGS, **(settings or {})}, read_at, earlier)


# --- small pieces ---------------------------------------------------------------------------
@pytest.mark.parametrize("value, seconds", [("90m", 5400), ("26h", 93600), ("7d", 604800), ("2w", 1209600), (3600, 3600), ("0h", 0),
                                            ("3600", 3600), ("0", 0)])
def test_durations(value, seconds):
    assert duration_seconds(value) == seconds


@pytest.mark.parametrize("value", ["yesterday", "-3h", "26H", "1.5h", "26 h", "", None, True, -5, "99999999999999999w", "-3600", "3600.5",
                                   " 3600", "\u0663"])
def test_bad_durations_are_named(value):
    with pytest.raises(ReportError) as error:
        duration_seconds(value)
    assert str(error.value) == ("max_age takes a duration, a whole number followed by m, h, d or w (such as 26h or 7d), "
                                f"or a whole number of seconds (such as 3600), not {value!r}")


@pytest.mark.parametrize("value, text", [("26h", "26h"), (3600, "3600 s"), ("3600", "3600 s")])
def test_durations_as_the_findings_show_them(value, text):
    assert duration_text(value) == text


@pytest.mark.parametrize("value", [datetime(2026, 11, 30, 12, 0, 0, 250000), datetime(2026, 11, 30, 12, 0, 0, tzinfo=timezone.utc),
                                   datetime(2026, 11, 30, 13, 0, 0, tzinfo=timezone(timedelta(hours=1))), "2026-11-30T12:00:00Z",
                                   "2026-11-30T12:00:00.9Z"])
def test_a_time_is_a_utc_text_or_a_datetime_one_without_time_zone_is_utc(value):
    assert utc_moment(value, "now") == NOW


@pytest.mark.parametrize("value", ["2026-11-30 12:00:00", "2026-13-01T00:00:00Z", "now", 1764504000, None, ""])
def test_other_times_are_refused_naming_the_option(value):
    with pytest.raises(ReportError) as error:
        utc_moment(value, "now")
    assert str(error.value) == f"now takes a UTC time such as 2024-05-01T22:00:05Z or a datetime such as now(utc=true), not {value!r}"


@pytest.mark.parametrize("seconds, text", [(0, "0 min"), (119, "1 min"), (7199, "119 min"), (7200, "2.0 h"), (108000, "30.0 h"),
                                           (172799, "48.0 h"), (172800, "2.0 d"), (777600, "9.0 d")])
def test_ages_as_the_report_writes_them(seconds, text):
    assert age_text(seconds) == text


# --- freshness ------------------------------------------------------------------------------
def test_stale_backups_sorted_by_name_parents_not_judged():
    findings = stale_backups(every_backup(), "26h", NOW)
    assert [(finding["name"], finding["kind"]) for finding in findings] == [("   spaced  ", "stale"), ("alpha", "stale"), ("child", "stale")]
    by_name = {finding["name"]: finding["message"] for finding in findings}
    assert by_name["   spaced  "] == "backup '   spaced  ' (00000000-0000-4000-8000-000000000003): no restore point"
    assert by_name["child"] == (f"backup 'child' (00000000-0000-4000-8000-000000000002): latest restore point "
                                f"{format_time(NOW - timedelta(hours=30)).replace('Z', '.5Z')} is 30.0 h old, more than 26h")
    assert stale_backups(every_backup(), "51h", NOW) == [findings[0]], "only the one without a point"
    in_seconds = stale_backups(every_backup(), 93600, NOW)
    assert [finding["id"] for finding in in_seconds] == [finding["id"] for finding in findings]
    assert in_seconds[2]["message"].endswith("is 30.0 h old, more than 93600 s")
    assert stale_backups(every_backup(), "93600", NOW) == in_seconds, "whole seconds as text, as documented"


def test_the_boundary_is_not_stale_and_a_point_of_equal_names_sorts_by_id():
    twins = [backup(9, "same", hours_ago=27), backup(8, "same", hours_ago=27), backup(7, "edge", hours_ago=26)]
    assert [finding["id"][-1] for finding in stale_backups(twins, "26h", NOW)] == ["8", "9"]


def test_backups_without_latest_restore_point_are_refused_naming_the_option():
    plain = every_backup()[1]
    del plain["latest_restore_point"]
    with pytest.raises(ReportError, match=r"backup 'child' has no latest_restore_point: get the backups with latest_restore_point: true"):
        stale_backups([plain], "26h", NOW)


# --- free space -----------------------------------------------------------------------------
def test_low_space_repositories_each_once_unknown_sizes_not_judged():
    findings = low_space_repositories(every_backup(), 41)
    assert findings == [{"kind": "low_space", "id": REPO_FULL["id"], "name": "full",
                         "message": f"repository 'full' ({REPO_FULL['id']}): 0.0 % free (0.00 Bytes of 10.00 TB), less than 41 %"}]
    assert [finding["name"] for finding in low_space_repositories(every_backup(), 50)] == ["full"], "50.0 % free is not less than 50"
    assert [finding["name"] for finding in low_space_repositories(every_backup(), 50.1)] == ["full", "Roomy"]


def test_repositories_without_sizes_are_refused_naming_expand():
    unexpanded = backup(1, "x", repository={"id": "r", "name": "plain", "href": "h"})
    with pytest.raises(ReportError, match=r"repository 'plain' has no capacity: get the backups with expand: \[repository\]"):
        low_space_repositories([unexpanded], 10)
    with pytest.raises(ReportError, match="min_free_percent takes a number from 0 to 100"):
        low_space_repositories(every_backup(), 101)


# --- expectations ---------------------------------------------------------------------------
def test_expectations_by_name_id_repository_and_server():
    backups = every_backup()
    results = check_expectations(backups, [
        {"name": "beta"},
        {"id": "urn:veeam:Backup:00000000-0000-4000-8000-000000000004".upper(), "repository": REPO_FULL["id"].upper()},
        {"name": "beta", "repository": "full", "backup_server": "Vbr-B"},
        {"name": "Beta"},
        {"name": "alpha", "repository": "Roomy"},
        {"name": "orphan", "backup_server": SERVER_A["id"]},
    ])
    assert [result["met"] for result in results] == [True, True, True, False, False, False]
    assert [result["reason"] for result in results][3:] == [
        "not found", "found only in no repository on backup server 'Vbr-B'", "found only in repository 'cloud' on no backup server"]
    assert results[1]["description"] == f"backup 00000000-0000-4000-8000-000000000004 in repository '{REPO_FULL['id'].upper()}'"
    assert results[4]["message"] == "backup 'alpha' in repository 'Roomy': found only in no repository on backup server 'Vbr-B'"
    assert results[0]["message"] == "backup 'beta': found" and results[0]["expectation"] == {"name": "beta"}


# --- the role's report ----------------------------------------------------------------------
def test_the_calls_give_each_backup_once_with_the_children_of_selected_parents():
    backups = every_backup()
    parent, child = backups[0], backups[1]
    collected = collect_backups({
        "all": {"skipped": True},
        "by_id": {"backups": [parent, backups[3]], "missing": ["00000000-0000-4000-8000-00000000abcd"]},
        "by_name": {"results": [{"item": "beta", "backups": [backups[3]]}, {"item": "nothing", "backups": []}]},
        "children": {"backups": backups},
    })
    assert [item["id"] for item in collected["backups"]] == [parent["id"], backups[3]["id"], child["id"]]
    assert collected["missing_ids"] == ["00000000-0000-4000-8000-00000000abcd"] and collected["missing_names"] == ["nothing"]


def test_groups_sorted_by_name_no_repository_and_no_backup_server_last_names_exact():
    report = report_of(every_backup())
    servers = report["backup_servers"]
    assert [server["name"] for server in servers] == ["vbr-a", "Vbr-B", "No backup server"]
    assert [[group["name"] for group in server["repositories"]] for server in servers] == [
        ["full", "Roomy"], ["full", "zero", "No repository"], ["cloud"]]
    assert [[backup["name"] for backup in group["backups"]] for group in servers[0]["repositories"]] == [["   spaced  "], ["child", "Parent"]]
    assert servers[2]["id"] is None and servers[0]["repositories"][0]["id"] == REPO_FULL["id"]
    totals = report["totals"]
    assert (totals["backup_servers"], totals["repositories"], totals["backups"]) == (2, 4, 7), "full counts once on two servers"
    assert list(totals["platforms"].items()) == [("HyperV", 1), ("Unknown", 1), ("VMware", 5)]
    assert servers[1]["repository_count"] == 2 and servers[1]["backup_count"] == 3
    full = servers[0]["repositories"][0]
    assert (full["used_percent"], full["capacity_human"], full["free_space_human"], full["free_percent"], full["low_space"]) == (
        100.0, "10.00 TB", "0.00 Bytes", 0.0, True)
    unknown = servers[2]["repositories"][0]
    assert (unknown["used_percent"], unknown["capacity_human"], unknown["free_percent"], unknown["low_space"]) == (None, None, None, None)
    zero = servers[1]["repositories"][1]
    assert (zero["capacity_human"], zero["used_percent"], zero["free_percent"]) == ("0.00 Bytes", None, None)
    assert set(servers[0]["repositories"][1]["backups"][0]) == {
        "id", "uid", "name", "platform", "backup_type", "parent_backup", "latest_restore_point", "age", "age_seconds", "stale"}


def test_health_in_the_report_ages_stale_and_findings_in_order():
    expect = [{"name": "nothing here"}]
    report = report_of(every_backup(), {"expect": expect})
    backups = {backup["name"]: backup for server in report["backup_servers"] for group in server["repositories"] for backup in group["backups"]}
    assert (backups["Parent"]["stale"], backups["Parent"]["age"], backups["Parent"]["latest_restore_point"]) == (None, None, None)
    assert (backups["child"]["stale"], backups["child"]["age_seconds"], backups["child"]["age"]) == (True, 108000, "30.0 h")
    assert (backups["orphan"]["stale"], backups["orphan"]["age"]) == (False, "30 min")
    assert [(finding["kind"], finding["name"]) for finding in report["findings"]] == [
        ("missing", "nothing here"), ("stale", "   spaced  "), ("stale", "alpha"), ("stale", "child"), ("low_space", "full")]
    assert report["checks"] == {"max_age": "26h", "max_age_seconds": 93600, "min_free_percent": 41, "jobs": False, "fail_on": ["stale"]}
    assert (report["totals"]["stale"], report["totals"]["low_space"]) == (3, 1)
    assert report["expectations"] == {"total": 1, "met": 0, "unmet": 1, "results": check_expectations(every_backup(), expect)}
    assert report["backup_servers"][0]["repositories"][1]["stale_count"] == 1
    result = report_result(report, "2026-12-04T16:00:00Z", ["/reports/backup_report.md"])
    assert result == {"files": ["/reports/backup_report.md"], "report": report, "read_at": "2026-12-04T16:00:00Z",
                      "findings": report["findings"], "unmet": [report["expectations"]["results"][0]]}
    assert not result["unmet"][0]["met"]


def test_without_health_settings_nothing_is_judged():
    report = report_of(every_backup(), {"max_age": None, "min_free_percent": None})
    groups = [group for server in report["backup_servers"] for group in server["repositories"]]
    assert {(backup["stale"], backup["age"], backup["latest_restore_point"]) for group in groups for backup in group["backups"]} == {
        (None, None, None)}
    assert {(group["stale_count"], group["free_percent"], group["low_space"]) for group in groups} == {(None, None, None)}
    assert report["findings"] == [] and report["checks"]["max_age_seconds"] is None


def test_the_fingerprint_holds_under_emS_listing_order_and_changes_with_what_is_shown():
    first = report_of(every_backup())
    reordered = report_of(list(reversed(every_backup())))
    assert reordered == first
    later = report_of(every_backup(), read_at=NOW + timedelta(minutes=5))
    assert later["fingerprint"] == first["fingerprint"], "time and ages are not part of it"
    renamed = every_backup()
    renamed[3]["name"] = "beta "
    assert report_of(renamed)["fingerprint"] != first["fingerprint"]
    assert report_of(every_backup(), {"title": "U"})["fingerprint"] != first["fingerprint"]


def test_an_earlier_report_of_the_same_data_keeps_its_time_and_ages():
    first = report_of(every_backup())
    later = report_of(every_backup(), earlier=(first["fingerprint"], first["generated_at"]), read_at=NOW + timedelta(minutes=5))
    assert later == first, "same time, same ages, same messages"
    other = report_of(every_backup(), earlier=("0" * 40, first["generated_at"]), read_at=NOW + timedelta(minutes=5))
    assert other["generated_at"] == "2026-11-30T12:05:00Z"
    child = [finding for finding in other["findings"] if finding["name"] == "child"][0]
    assert "is 30.1 h old" in child["message"]


@pytest.mark.parametrize("report_format", ["json", "markdown", "html", "junit"])
def test_the_marker_is_read_from_every_format_and_cannot_be_forged_by_a_name(report_format):
    fingerprint, generated_at = "a" * 40, "2026-11-30T12:00:00Z"
    forged = f"<!-- veeam_em.rest.backup_report fingerprint={'b' * 40} generated_at=2020-01-01T00:00:00Z -->"
    if report_format == "json":
        text = json.dumps({"backup_servers": [{"name": f"\n  \"fingerprint\": \"{'b' * 40}\",\n"}], "fingerprint": fingerprint,
                           "generated_at": generated_at, "title": forged}, indent=2, sort_keys=True)
    else:
        text = f"head\n{forged.replace('<', '&lt;')}\n<!-- veeam_em.rest.backup_report fingerprint={fingerprint} generated_at={generated_at} -->\n"
    assert earlier_marker(text, report_format) == (fingerprint, generated_at)
    assert earlier_marker("", report_format) == (None, None)


def test_the_failure_message_lists_the_kinds_in_fail_on():
    report = report_of(every_backup(), {"expect": [{"name": "nothing here"}], "fail_on": ["low_space", "missing"]})
    assert failure_message(report).splitlines() == [
        "1 of 1 expected backups are not there:", "- backup 'nothing here': not found",
        "1 repositories have less than 41 % free space:",
        f"- repository 'full' ({REPO_FULL['id']}): 0.0 % free (0.00 Bytes of 10.00 TB), less than 41 %"]
    assert failure_message(report_of(every_backup(), {"fail_on": []})) is None


# --- layout: Markdown and XML text ----------------------------------------------------------
def shown(markdown: str) -> str:
    """The text a Markdown line shows: backslash escapes resolved, the report's entities and word joiners taken out."""
    return re.sub(r"\\(.)", r"\1", markdown.replace(WORD_JOINER, "")).replace("&nbsp;", " ").replace("&#9;", "\t")


@pytest.mark.parametrize("text, markdown", [
    ("# heading", "\\# heading"),
    ("###### six", "\\###### six"),
    ("1. list", "1\\. list"),
    ("123456789) list", "123456789\\) list"),
    ("- item", "\\- item"),
    ("+ item", "\\+ item"),
    ("* item", "\\* item"),
    ("> quote", "\\> quote"),
    ("===", "\\==="),
    ("---", "\\---"),
    ("| a | b |", "\\| a \\| b \\|"),
    ("```fence", "\\`\\`\\`fence"),
    ("~~~fence", "\\~\\~\\~fence"),
    ("    indented code", "&nbsp;&nbsp;&nbsp;&nbsp;indented code"),
    ("\tcode", "&#9;code"),
    ("[x]: https://example.com", "\\[x\\]: https:\u2060//example.com"),
    ("Kind 1. # - not at the start", "Kind 1. # - not at the start"),
    ("10.0.0.15", "10.0.0.15"),
    ("-x #1 +y", "-x #1 +y"),
    ("####### seven", "####### seven"),
    ("#", "\\#"),
    ("2)", "2\\)"),
])
def test_markdown_text_starts_no_block(text, markdown):
    assert markdown_text(text) == markdown
    assert shown(markdown) == text


@pytest.mark.parametrize("text, markdown", [
    ("see https://em.example.com:9398/api?x=1 now", "see https:\u2060//em.example.com:9398/api?x=1 now"),
    ("HTTP://EXAMPLE.COM and ftp://files.example.com", "HTTP:\u2060//EXAMPLE.COM and ftp:\u2060//files.example.com"),
    ("www.example.com/help", "www\u2060.example.com/help"),
    ("(WWW.example.com)", "(WWW\u2060.example.com)"),
    ("mail ops@example.com", "mail ops\u2060@example.com"),
    ("mailto:ops-team@example.com", "mailto:ops-team\u2060@example.com"),
    ("a_b@example.com", "a\\_b\u2060@example.com"),
])
def test_markdown_text_links_no_url(text, markdown):
    """GitHub links these by themselves, also after escapes are resolved: a word joiner (invisible) breaks them."""
    assert markdown_text(text) == markdown
    assert shown(markdown) == text
    unjoined = markdown.replace("\\", "")
    assert not re.search(r"://|\bwww\.|[0-9A-Za-z]@", unjoined, re.IGNORECASE)


@pytest.mark.parametrize("text, xml", [
    ("two\nlines", "two&#10;lines"),
    ("tab\there", "tab&#9;here"),
    ("cr\r\nlf", "cr&#13;&#10;lf"),
    ("<a href=\"x\">'&'</a>", "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"),
    ("esc\x1b[31m form\x0cfeed nul\x00 \ud800 \uffff", "esc\ufffd[31m form\ufffdfeed nul\ufffd \ufffd \ufffd"),
])
def test_xml_text_keeps_breaks_and_tabs_and_replaces_what_xml_forbids(text, xml):
    assert xml_text(text) == xml
    document = f'<case name="{xml_text(text)}">{xml_text(text)}</case>'.encode("utf-8", "surrogatepass")
    element = ElementTree.fromstring(document)
    expected = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\uffff]", "\ufffd", text)
    assert element.get("name") == element.text == expected


# --- repositories and backup servers whose ids are not UUIDs --------------------------------
def test_repositories_without_uuid_ids_stay_apart_with_their_findings():
    """EM's links to them end in no UUID: id None, href and name kept (see _normalize)."""
    cramped = {"id": None, "name": "Repo", "href": "https://em/api/repositories/repo-1", "kind": "# Kind", "capacity": 100, "free_space": 1}
    roomy = {"id": None, "name": "Repo", "href": "https://em/api/repositories/repo-2", "kind": "1. Kind", "capacity": 100, "free_space": 90}
    odd_server = {"id": None, "name": "vbr-odd", "href": "https://em/api/backupServers/odd", "version": None, "port": None, "description": None}
    roomy_elsewhere = {**roomy, "href": "https://em-alias:9398/api/repositories/repo-2"}
    backups = [backup(1, "one", repository=cramped), backup(2, "two", repository=roomy), backup(3, "three", repository=None),
               backup(4, "four", repository=roomy, server=odd_server), backup(5, "five", repository=roomy_elsewhere)]
    assert [finding["message"] for finding in low_space_repositories(backups, 10)] == [
        "repository 'Repo' (https://em/api/repositories/repo-1): 1.0 % free (1.00 Bytes of 100.00 Bytes), less than 10 %"]
    report = report_of(backups, {"min_free_percent": 10})
    assert report["totals"]["repositories"] == 2 and report["totals"]["backup_servers"] == 2
    groups = {server["name"]: [(group["name"], group["no_repository"], [item["name"] for item in group["backups"]], group["low_space"])
                               for group in server["repositories"]] for server in report["backup_servers"]}
    assert groups == {
        "vbr-a": [("Repo", False, ["one"], True), ("Repo", False, ["five", "two"], False), ("No repository", True, ["three"], None)],
        "vbr-odd": [("Repo", False, ["four"], False)],
    }, "repo-1 sorts before repo-2 by href"
    assert [(finding["kind"], finding["name"]) for finding in report["findings"]] == [("low_space", "Repo")]
    listed_later = report_of(list(reversed(backups)), {"min_free_percent": 10})
    assert listed_later == report, "the same report whatever EM's order"


# --- jobs -----------------------------------------------------------------------------------
def task(vm_name: str, result: str | None = "Success", reason: str = "") -> dict:
    return {"id": f"t-{vm_name}", "vm_name": vm_name, "state": "Completed" if result else "InProgress", "result": result, "reason": reason,
            "creation_time_utc": "2026-11-30T09:00:47Z", "end_time_utc": "2026-11-30T09:03:47Z" if result else None, "total_size": 1}


def session(number: int, job_name: str, result: str | None, server: dict | None = None, tasks=(), hours_ago: float = 3, retry=False) -> dict:
    """A job session as _sessions.job_sessions returns it (with tasks); on SERVER_A unless told."""
    server = server or SERVER_A
    job_id = f"90000000-0000-4000-8000-{number:012d}"
    start = format_time(NOW - timedelta(hours=hours_ago))
    return {"id": f"91000000-0000-4000-8000-{number:012d}", "uid": "u", "name": f"{job_name}@{start}",
            "job": {"id": job_id, "name": job_name, "href": f"https://em/api/jobs/{job_id}"}, "job_type": "Backup",
            "backup_server": {"id": server["id"], "name": server["name"], "href": "h"}, "creation_time_utc": start,
            "end_time_utc": None if result is None else format_time(NOW - timedelta(hours=hours_ago - 0.5)), "state": "Stopped",
            "result": result, "progress": 100, "is_retry": retry, "href": "h", "tasks": list(tasks)}


def every_session() -> list[dict]:
    return [
        session(1, "alpha", "Failed", SERVER_B, [task("db01", "Failed", "Error: <b>snapshot</b> | timed out\nretry"), task("web01")], retry=True),
        session(2, "beta", "Success", SERVER_B, [task("app01")]),
        session(3, "child", "Warning", tasks=[task("db02", "Warning", "CBT disabled")]),
        session(4, "Parent", None, tasks=[task("vm9", None)]),
    ]


def test_jobs_in_the_report_with_failed_and_warning_findings():
    report = build_report({"backups": every_backup(), "missing_ids": [], "missing_names": [], "jobs": every_session()}, SETTINGS, NOW)
    assert report["jobs"] == every_session() and report["checks"]["jobs"] is True
    assert (report["totals"]["jobs"], report["totals"]["failed_jobs"], report["totals"]["warning_jobs"]) == (4, 1, 1)
    jobs = [finding for finding in report["findings"] if finding["kind"].endswith("_job")]
    assert [(finding["kind"], finding["name"], finding["session"]) for finding in jobs] == [
        ("failed_job", "alpha", "91000000-0000-4000-8000-000000000001"), ("warning_job", "child", "91000000-0000-4000-8000-000000000003")]
    assert jobs[0]["message"].startswith("job 'alpha' on Vbr-B: Failed in the run started ")
    assert 'db01: Failed: "Error: <b>snapshot</b> | timed out\nretry"' in jobs[0]["message"]
    assert [finding["kind"] for finding in report["findings"]][-2:] == ["failed_job", "warning_job"], "after the backups' findings"
    message = failure_message(build_report({"backups": every_backup(), "missing_ids": [], "missing_names": [], "jobs": every_session()},
                                           {**SETTINGS, "fail_on": ["failed_job", "warning_job"]}, NOW))
    lines = message.splitlines()
    assert lines[0] == "1 jobs failed in their last run:" and lines[1].startswith("- job 'alpha' on Vbr-B: Failed")
    assert lines[-2:] == ["1 jobs ended with a warning in their last run:", f"- {jobs[1]['message']}"]
    assert failure_message(report).startswith("3 backups have no restore point"), "the default fail_on leaves jobs out"
    assert "failed_job" not in failure_message(report) and "job 'alpha'" not in failure_message(report)


def test_without_jobs_read_the_report_has_no_jobs_and_no_job_findings():
    report = report_of(every_backup())
    assert report["jobs"] is None and report["checks"]["jobs"] is False
    assert (report["totals"]["jobs"], report["totals"]["failed_jobs"], report["totals"]["warning_jobs"]) == (0, 0, 0)
    assert not [finding for finding in report["findings"] if finding["kind"].endswith("_job")]


def test_the_jobs_of_backups_are_named_after_them_on_their_server():
    backups = every_backup()
    sessions = every_session() + [session(5, "alpha", "Failed", SERVER_A), session(6, "gamma", "Failed", SERVER_B)]
    chosen = jobs_of_backups(sessions, [backup for backup in backups if backup["name"] in ("alpha", "child")])
    assert [(item["job"]["name"], item["backup_server"]["name"]) for item in chosen] == [("alpha", "Vbr-B"), ("child", "vbr-a")]
    assert jobs_of_backups(sessions, []) == []
