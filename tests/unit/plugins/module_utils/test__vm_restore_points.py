# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VM restore points: the entity as data, names and bounds checked before any request, and each VM's
newest point found through sorted, windowed queries of the emulator."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest

from emulator import VM_QUOTED, VM_UNICODE

from ansible_collections.veeam_em.rest.plugins.module_utils._errors import InvalidInputError
from ansible_collections.veeam_em.rest.plugins.module_utils._normalize import (
    MalformedEntityError,
    normalize_vm_restore_point,
    restore_point_backup,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._restore_points import WINDOWS, window_bounds
from ansible_collections.veeam_em.rest.plugins.module_utils._vm_restore_points import (
    get_vm_restore_points,
    missing_names,
    vm_point_selection,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._xml import parse_document

NOW = datetime(2026, 11, 30, 23, 0, 30, tzinfo=timezone.utc)
EM = "https://em01.example.test:9398/api"
POINT_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
SERVER_ID = "11112222-3333-4444-8555-666677778888"
RESTORE_POINT_ID = "aaaabbbb-cccc-4ddd-8eee-ffff00001111"
BACKUP_ID = "99998888-7777-4666-8555-444433332222"


def entity(body: str, attributes: str = f'VmDisplayName="web &amp; &quot;01&quot;" UID="urn:veeam:VmRestorePoint:{POINT_ID.upper()}"') -> dict:
    """A <VmRestorePoint> with the links Veeam documents, written here in the query-page form."""
    document = (
        f'<VmRestorePoint xmlns="http://www.veeam.com/ent/v1.0" Type="VmRestorePoint" Href="{EM}/vmRestorePoints/{POINT_ID}?format=Entity" '
        f'Name="web01@2026-11-30 22:00:10" {attributes}><Links>'
        f'<Link Rel="Restore" Href="{EM}/vmRestorePoints/{POINT_ID}?action=restore" />'
        f'<Link Rel="Up" Type="BackupServerReference" Href="{EM}/backupServers/{SERVER_ID}" Name="vbr01" />'
        f'<Link Rel="Up" Type="RestorePointReference" Href="{EM}/restorePoints/{RESTORE_POINT_ID}" Name="Nov 30 2026 10:00PM" />'
        f'<Link Rel="Up" Type="BackupFileReference" Href="{EM}/backupFiles/{BACKUP_ID}" Name="JobD2026-11-30T220000.vib" />'
        f"</Links>{body}</VmRestorePoint>"
    )
    root, content = parse_document(document.encode())
    assert root == "VmRestorePoint"
    return content


def test_vm_restore_point_as_documented():
    point = normalize_vm_restore_point(entity(
        "<CreationTimeUTC>2026-11-30T22:00:10.107Z</CreationTimeUTC><VmName>web01-old</VmName><Algorithm>Incremental</Algorithm>"
        "<PointType>Increment</PointType><HierarchyObjRef>urn:VMware:Vm:abc.vm-42</HierarchyObjRef>"))
    assert point == {
        "id": POINT_ID, "uid": f"urn:veeam:VmRestorePoint:{POINT_ID}", "name": "web01@2026-11-30 22:00:10",
        "vm_name": 'web & "01"', "creation_time_utc": "2026-11-30T22:00:10.107Z", "algorithm": "Incremental",
        "point_type": "Increment", "hierarchy_obj_ref": "urn:VMware:Vm:abc.vm-42",
        "backup_server": {"id": SERVER_ID, "name": "vbr01", "href": f"{EM}/backupServers/{SERVER_ID}"},
        "restore_point": {"id": RESTORE_POINT_ID, "name": "Nov 30 2026 10:00PM", "href": f"{EM}/restorePoints/{RESTORE_POINT_ID}"},
        "backup": None, "href": f"{EM}/vmRestorePoints/{POINT_ID}",
    }


def test_vm_name_from_the_element_without_the_attribute_empty_and_absent_elements():
    point = normalize_vm_restore_point(entity("<VmName>sql02</VmName><Algorithm /><PointType />", f'UID="urn:veeam:VmRestorePoint:{POINT_ID}"'))
    assert point["vm_name"] == "sql02"
    assert (point["algorithm"], point["point_type"]) == ("", "")
    assert (point["creation_time_utc"], point["hierarchy_obj_ref"]) == (None, None)


def test_a_point_whose_id_is_no_uuid_is_refused_by_name():
    with pytest.raises(MalformedEntityError) as caught:
        normalize_vm_restore_point(entity("<VmName>web01</VmName>", 'UID="urn:veeam:VmRestorePoint:../../sessionMngr"'))
    assert "VM restore point named 'web01@2026-11-30 22:00:10'" in str(caught.value) and "sessionMngr" not in str(caught.value)


def test_restore_point_backup_from_its_link():
    _root, content = parse_document(
        f'<RestorePoint xmlns="http://www.veeam.com/ent/v1.0" UID="urn:veeam:RestorePoint:{RESTORE_POINT_ID}"><Links>'
        f'<Link Href="{EM}/backupServers/{SERVER_ID}" Name="vbr01" Type="BackupServerReference" Rel="Up" />'
        f'<Link Href="{EM}/backups/{BACKUP_ID.upper()}" Name="Prod VMs" Type="BackupReference" Rel="Up" />'
        "</Links></RestorePoint>".encode())
    assert restore_point_backup(content) == {"id": BACKUP_ID, "name": "Prod VMs", "href": f"{EM}/backups/{BACKUP_ID.upper()}"}
    assert restore_point_backup({}) is None


@pytest.mark.parametrize("names, message", [
    ([], "Give at least one VM name"),
    (["web01", ""], "Invalid VM name ''"),
    (["   "], "Invalid VM name '   '"),
    (["web01\r"], "Invalid VM name 'web01\\r'"),
    ([42], "Invalid VM name 42"),
    (["x" * 200 + "\n"], "... (201 characters)"),
])
def test_bad_names_are_refused(names, message):
    with pytest.raises(InvalidInputError) as caught:
        vm_point_selection(names, {}, NOW)
    assert message in str(caught.value)


def test_selection_takes_since_as_a_moment():
    selection = vm_point_selection([VM_QUOTED, VM_UNICODE], {"latest": False, "since": "26h"}, NOW)
    assert (selection.names, selection.latest, selection.since) == ((VM_QUOTED, VM_UNICODE), False, NOW - timedelta(hours=26))
    with pytest.raises(InvalidInputError, match="Invalid since '26 hours'"):
        vm_point_selection(["web01"], {"since": "26 hours"}, NOW)


@pytest.mark.parametrize("since, expected", [
    (None, [NOW - WINDOWS[0], NOW - WINDOWS[1], None]),
    (NOW - timedelta(hours=26), [NOW - WINDOWS[0], NOW - timedelta(hours=26)]),
    (NOW - timedelta(hours=2), [NOW - timedelta(hours=2)]),
    (NOW - timedelta(days=30), [NOW - WINDOWS[0], NOW - WINDOWS[1], NOW - timedelta(days=30)]),
])
def test_rounds_widen_up_to_since(since, expected):
    assert window_bounds(NOW, since) == expected


def _vm_queries(em):
    return [parse_qs(entry["query"]) for entry in em.request_log() if "VmRestorePoint" in entry["query"]]


def test_names_matched_exactly_each_asked_once(em, client_for):
    names = ["WEB01", "web01", "nobody", "App01", "APP01", "web01"]
    with client_for() as client:
        items = get_vm_restore_points(client, vm_point_selection(names, {}, em.data.now), em.data.now)
    assert [(item["name"], item["found"]) for item in items] == [
        ("WEB01", False), ("web01", True), ("nobody", False), ("App01", False), ("APP01", True), ("web01", True)]
    assert items[4]["latest_restore_point"]["vm_name"] == "APP01" and items[1]["latest_restore_point"]["vm_name"] == "web01"
    assert missing_names(items) == ["WEB01", "nobody", "App01"]
    first, *later = _vm_queries(em)
    assert first["filter"][0].startswith(
        '(VmDisplayName=="WEB01",VmDisplayName=="web01",VmDisplayName=="nobody",VmDisplayName=="App01",VmDisplayName=="APP01");CreationTime>="')
    assert first["sortDesc"] == ["CreationTime"]
    # web01 (2 h) is answered by the last day; APP01 (20 days) and the names of no VM by no window but the last.
    left = 'VmDisplayName=="WEB01",VmDisplayName=="nobody",VmDisplayName=="App01",VmDisplayName=="APP01"'
    assert [query["filter"][0].split(";")[0] for query in later] == [f"({left})", left]


def test_last_task_is_each_vms_newest_task_matched_exactly(em, client_for):
    names = ["web01", "WEB01", "hv-legacy"]
    with client_for() as client:
        items = get_vm_restore_points(client, vm_point_selection(names, {"last_task": True}, em.data.now), em.data.now)
    web01, upper, legacy = (item["last_task"] for item in items)
    newest = max((task for task in em.data.task_sessions.values() if task.vm_name == "web01"), key=lambda task: task.creation_time)
    assert web01["id"] == newest.id and web01["session"]["id"] == newest.session_id and web01["result"] == "Failed"
    assert upper is None, "web01's tasks are not WEB01's"
    assert legacy["result"] is None and legacy["end_time_utc"] is None and legacy["state"] == "InProgress"
    task_queries = [parse_qs(entry["query"]) for entry in em.request_log() if "BackupTaskSession" in entry["query"]]
    # WEB01 is left alone after the last day, and so asked about without a bound: a page of one task, which is
    # web01's, then one page of every task of both.
    assert [(query["filter"][0].split(";")[0], query["pageSize"]) for query in task_queries] == [
        ('(VmDisplayName=="web01",VmDisplayName=="WEB01",VmDisplayName=="hv-legacy")', ["1000"]),
        ('VmDisplayName=="WEB01"', ["1"]), ('VmDisplayName=="WEB01"', ["1000"])]


def test_every_point_newest_first_since_a_moment(em, client_for):
    since = em.data.now - timedelta(hours=80)
    with client_for() as client:
        selection = vm_point_selection(["web01"], {"latest": False, "since": since.strftime("%Y-%m-%dT%H:%M:%SZ")}, em.data.now)
        [item] = get_vm_restore_points(client, selection, em.data.now)
    dates = [point["creation_time_utc"] for point in item["restore_points"]]
    expected = [point for point in em.data.vm_restore_points.values() if point.vm_name == "web01" and point.creation_time >= since]
    assert len(dates) == len(expected) == 6 and dates == sorted(dates, reverse=True)
    assert {point["backup"]["name"] for point in item["restore_points"]} == {"SQL Backup", "VM number 0 Backup (Simple backup_1)"}


@pytest.mark.parametrize("stem", ["v" * 200, "虚" * 72], ids=["200 ASCII", "72 CJK"])
def test_a_hundred_long_names_make_no_request_line_over_8_kib(em, client_for, stem):
    names = [f"{index:02d}{stem}"[:len(stem)] for index in range(100)]
    with client_for() as client:
        items = get_vm_restore_points(client, vm_point_selection(names, {"last_task": True}, em.data.now), em.data.now)
    assert missing_names(items) == names and all(item["last_task"] is None for item in items)
    tasks = [entry for entry in em.request_log() if "BackupTaskSession" in entry["query"]]
    assert tasks and max(len(f"GET {entry['path']}?{entry['query']} HTTP/1.1") for entry in tasks) <= 8 * 1024
    queries = [entry for entry in em.request_log() if "VmRestorePoint" in entry["query"]]
    assert queries and all(entry["status"] == 200 for entry in queries)
    assert max(len(f"GET {entry['path']}?{entry['query']} HTTP/1.1") for entry in queries) <= 8 * 1024
    asked = [name for entry in queries for name in parse_qs(entry["query"])["filter"][0].split(";")[0].strip("()").split(",")]
    assert set(asked) == {f'VmDisplayName=="{name}"' for name in names}


def test_a_name_too_long_for_any_request_is_refused_before_any_request():
    with pytest.raises(InvalidInputError, match="is too long to be sent to EM as a VmDisplayName"):
        vm_point_selection(["web01", "虚" * 1000], {}, NOW)
