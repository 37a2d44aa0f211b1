# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""veeam_em_vm_restore_point_info end to end: each VM's newest point across backups, the backup that
holds it, the names without one in order, and what it costs."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs

import pytest

import emulator as data
from conftest import EM_PASSWORD, EM_USERNAME, connection_to
from emulator import Emulator

#: Names of every kind: in two backups, stale, quoted, non-ASCII, two VMs whose names differ in case only and a third
#: case of theirs that no VM has, unknown (twice, in order).
NAMES = ["web01", "zz-unknown", data.VM_APP_UPPER, data.VM_APP, "App01", data.VM_QUOTED, data.VM_UNICODE, data.VM_LEGACY, "aa-unknown",
         data.VM_SQL]


def _date(text):
    return datetime.fromisoformat(text)  # Python 3.11+: "Z" and 0 to 7 fractional digits cut to 6


def points_of(em, name):
    """The emulator's VM points of a VM, its name matched exactly."""
    return [point for point in em.data.vm_restore_points.values() if point.vm_name == name]


def run_vms(run_playbook, em, names, options=None, *args, with_lookup=True):
    run = run_playbook("vm_restore_points.yml", {"connection": connection_to(em), "vm_names": names,
                                                 "vm_options": options or {}, "with_lookup": with_lookup}, *args)
    assert run.returncode == 0 and run.result and not run.result.get("failed"), run.output
    return run.result


def queries(em):
    return [parse_qs(entry["query"]) for entry in em.request_log() if entry["path"] == "/api/query"]


def test_latest_is_the_newest_point_across_backups_with_the_backup_holding_it(em, run_playbook):
    result = run_vms(run_playbook, em, NAMES, {}, "--check")
    assert result["lookup"] == result["module"], "module and lookup return the same"
    assert [item["name"] for item in result["module"]] == NAMES
    assert result["missing"] == ["zz-unknown", "App01", "aa-unknown"], "names matched exactly: App01 is no VM's"
    assert result["module"][2]["latest_restore_point"]["vm_name"] == data.VM_APP_UPPER != data.VM_APP
    assert result["module"][3]["latest_restore_point"]["vm_name"] == data.VM_APP, "each of two names differing in case gets its own point"
    in_two_backups = 0
    for item in result["module"]:
        points = points_of(em, item["name"])
        assert item["found"] is bool(points), item["name"]
        if not points:
            assert item["latest_restore_point"] is None
            continue
        newest = max(points, key=lambda point: point.creation_time)
        latest = item["latest_restore_point"]
        assert latest["id"] == newest.id and _date(latest["creation_time_utc"]) == newest.creation_time, item["name"]
        backup = em.data.backup_of_vm_point(newest)
        assert latest["backup"] == {"id": backup.id, "name": backup.name, "href": f"{data.EM_HREF_BASE}/api/backups/{backup.id}"}
        assert "restore_points" not in item
        in_two_backups += len({em.data.backup_of_vm_point(point).id for point in points}) > 1
    assert in_two_backups >= 3, "web01, app01 and the non-ASCII VM are in two backups each"
    assert em.stats()["logons"] == 2, "one session for the module, one for the lookup"


def test_every_point_newest_first_and_latest_is_their_first(em, run_playbook):
    everything = run_vms(run_playbook, em, NAMES, {"latest": False})
    latest = run_vms(run_playbook, em, NAMES, with_lookup=False)
    assert everything["lookup"] == everything["module"]
    for full, item in zip(everything["module"], latest["module"]):
        points = full["restore_points"]
        assert [point["id"] for point in points] == [point.id for point in sorted(points_of(em, full["name"]), key=lambda p: p.creation_time, reverse=True)]
        assert full["latest_restore_point"] == (points[0] if points else None) == item["latest_restore_point"]
        assert all(point["backup"]["id"] == em.data.backup_of_vm_point(em.data.vm_restore_points[point["id"]]).id for point in points)


def test_the_point_as_documented(em, run_playbook):
    [web01] = run_vms(run_playbook, em, ["web01"], with_lookup=False)["module"]
    point = web01["latest_restore_point"]
    source = em.data.vm_restore_points[point["id"]]
    restore_point = em.data.restore_points[source.restore_point_id]
    server = em.data.backup_servers[em.data.backup_of_vm_point(source).server_id]
    assert point == {
        "id": source.id, "uid": f"urn:veeam:VmRestorePoint:{source.id}", "name": source.name, "vm_name": "web01",
        "creation_time_utc": point["creation_time_utc"], "algorithm": "Incremental", "point_type": "Increment",
        "hierarchy_obj_ref": source.hierarchy_ref,
        "backup_server": {"id": server.id, "name": server.name, "href": f"{data.EM_HREF_BASE}/api/backupServers/{server.id}"},
        "restore_point": {"id": restore_point.id, "name": restore_point.name, "href": f"{data.EM_HREF_BASE}/api/restorePoints/{restore_point.id}"},
        "backup": {"id": data.SQL_BACKUP_ID, "name": data.SQL_BACKUP_NAME, "href": f"{data.EM_HREF_BASE}/api/backups/{data.SQL_BACKUP_ID}"},
        "href": f"{data.EM_HREF_BASE}/api/vmRestorePoints/{source.id}",
    }


@pytest.mark.parametrize("name", ["web01", data.VM_LEGACY, data.VM_QUOTED, data.VM_UNICODE])
def test_one_vm_takes_a_logon_two_queries_and_a_logoff(em, run_playbook, name):
    [item] = run_vms(run_playbook, em, [name], with_lookup=False)["module"]
    assert item["found"] and item["latest_restore_point"]["vm_name"] == name
    assert [entry["method"] for entry in em.request_log()] == ["POST", "GET", "GET", "DELETE"], em.request_log()
    vm_query, point_query = queries(em)
    assert vm_query["type"] == ["VmRestorePoint"] and vm_query["sortDesc"] == ["CreationTime"] and vm_query["pageSize"] == ["1"]
    assert vm_query["filter"] == [f'VmDisplayName=="{name.replace(chr(34), chr(34) * 2)}"']
    assert point_query["type"] == ["RestorePoint"]


def test_an_unknown_vm_takes_one_query(em, run_playbook):
    result = run_vms(run_playbook, em, ["no-such-vm"], with_lookup=False)
    assert result["module"] == [{"name": "no-such-vm", "found": False, "latest_restore_point": None}]
    assert result["missing"] == ["no-such-vm"]
    assert em.stats()["requests"] == 3


def test_since_keeps_only_points_created_since_then(em, run_playbook):
    latest = run_vms(run_playbook, em, ["web01", "app01", data.VM_LEGACY], {"since": "26h"})
    assert latest["lookup"] == latest["module"]
    assert [item["found"] for item in latest["module"]] == [True, False, False]
    assert latest["missing"] == ["app01", data.VM_LEGACY], "newest points 30 h and 9 days old"
    em.reset_stats()
    week = run_vms(run_playbook, em, ["web01", "app01"], {"latest": False, "since": "60h"}, with_lookup=False)
    bound = em.data.now - timedelta(hours=60)
    for item in week["module"]:
        expected = [point.id for point in points_of(em, item["name"]) if point.creation_time >= bound]
        assert sorted(point["id"] for point in item["restore_points"]) == sorted(expected) and expected
    assert all(";CreationTime>=" in query["filter"][0] for query in queries(em) if query["type"] == ["VmRestorePoint"])


@pytest.mark.parametrize("names, options, message", [
    (["web01", ""], {}, "Invalid VM name ''"),
    (["web01\nweb02"], {}, "Invalid VM name 'web01\\nweb02'"),
    (["web01"], {"since": "yesterday"}, "Invalid since 'yesterday'"),
])
def test_bad_input_is_refused_before_any_request(em, run_playbook, names, options, message):
    run = run_playbook("vm_restore_points.yml", {"connection": connection_to(em), "vm_names": names, "vm_options": options})
    assert run.result["failed"] and message in run.result["msg"], run.output
    assert "Traceback" not in run.output and EM_PASSWORD not in run.output
    assert em.stats()["requests"] == 0


def test_failure_logs_off_and_names_the_error(em, run_playbook):
    em.inject("status", method="GET", status=500, message="Database is locked.", times=None)
    run = run_playbook("vm_restore_points.yml", {"connection": connection_to(em), "vm_names": ["web01"], "with_lookup": False})
    assert run.result["failed"] and "EM answered HTTP 500" in run.result["msg"] and "Database is locked." in run.result["msg"]
    assert em.request_log()[-1]["method"] == "DELETE"


def newest_task(em, name):
    tasks = [task for task in em.data.task_sessions.values() if task.vm_name == name]
    return max(tasks, key=lambda task: task.creation_time) if tasks else None


def test_last_task_names_each_vms_newest_task_with_its_reason(em, run_playbook):
    names = ["web01", data.VM_UNICODE, data.VM_LEGACY, data.VM_APP_UPPER, "no-such-vm"]
    result = run_vms(run_playbook, em, names, {"last_task": True})
    assert result["lookup"] == result["module"]
    web01, unicode, legacy, upper, unknown = result["module"]
    source = newest_task(em, "web01")
    session = em.data.job_sessions[source.session_id]
    assert web01["last_task"] == {
        "id": source.id, "vm_name": "web01", "state": "Completed", "result": "Failed", "reason": data.RETRY_REASON,
        "creation_time_utc": web01["last_task"]["creation_time_utc"], "end_time_utc": web01["last_task"]["end_time_utc"],
        "total_size": source.total_size,
        "session": {"id": session.id, "name": em.data.session_name(session), "href": f"{data.EM_HREF_BASE}/api/backupSessions/{session.id}"},
    }, "the failed retry of last night"
    assert unicode["last_task"]["reason"] == data.MARKUP_REASON, "EM's text exactly"
    assert legacy["last_task"]["result"] is None and legacy["last_task"]["end_time_utc"] is None, "running now"
    assert upper["last_task"] is None, "APP01 was never in a job run; app01's tasks are not its"
    assert unknown["last_task"] is None and unknown["found"] is False


def test_last_task_is_one_query_per_forty_vms(em, run_playbook):
    run_vms(run_playbook, em, ["web01"], {"last_task": True}, with_lookup=False)
    task_queries = [query for query in queries(em) if query["type"] == ["BackupTaskSession"]]
    assert len(task_queries) == 1 and task_queries[0]["filter"] == ['VmDisplayName=="web01"']
    assert em.stats()["requests"] == 5


#: 100 VMs, one per generated backup, 14 daily points each; every 20th VM's newest is 4 to 8 days old.
MANY_VMS, POINTS_PER_VM = 100, 14


@pytest.fixture(scope="module")
def vms_emulator(tmp_path_factory):
    with Emulator(state_dir=tmp_path_factory.mktemp("vms"), username=EM_USERNAME, password=EM_PASSWORD,
                  bulk=MANY_VMS, bulk_restore_points=POINTS_PER_VM, bulk_vms=1) as em:
        yield em


@pytest.fixture
def vms_em(vms_emulator):
    with vms_emulator.test_scope():
        yield vms_emulator


def test_hundred_vms_take_far_fewer_requests_than_their_every_point(vms_em, run_playbook):
    names = [data.bulk_vm_name(index, 0) for index in range(MANY_VMS)]
    latest = run_vms(run_playbook, vms_em, names, with_lookup=False)
    latest_stats = vms_em.stats()
    vms_em.reset_stats()
    everything = run_vms(run_playbook, vms_em, names, {"latest": False}, with_lookup=False)
    every_stats = vms_em.stats()
    points = sum(len(item["restore_points"]) for item in everything["module"])
    assert points == MANY_VMS * POINTS_PER_VM
    for item, full in zip(latest["module"], everything["module"]):
        assert item["latest_restore_point"] == full["restore_points"][0]
    print(f"\n100 VMs, {points} points: latest {latest_stats['requests']} requests, "
          f"every point {every_stats['requests']} requests, a GET per point {points}")
    # logon, 3 batches for the last day, 1 for the 5 stale VMs' 8 days, at most 1 without bound, 3 batches of restore points, logoff
    assert latest_stats["requests"] <= 11 and latest_stats["logons"] == 1
    assert latest_stats["requests"] * 3 < every_stats["requests"] and latest_stats["requests"] * 100 < points
