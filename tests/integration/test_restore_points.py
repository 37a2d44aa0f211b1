# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each backup's newest restore point without every point, and points since a moment, filtered by EM."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest

import emulator as data
from conftest import EM_PASSWORD, EM_USERNAME, connection_to
from emulator import Emulator
from test_listing import listing

#: Generated backups and daily points each: every 20th backup is stale, some for more than 8 days.
POINTS_BULK, POINTS_PER_BACKUP = 300, 10


@pytest.fixture(scope="module")
def points_emulator(tmp_path_factory):
    with Emulator(state_dir=tmp_path_factory.mktemp("points"), username=EM_USERNAME, password=EM_PASSWORD,
                  bulk=POINTS_BULK, bulk_restore_points=POINTS_PER_BACKUP) as em:
        yield em


@pytest.fixture
def points_em(points_emulator):
    with points_emulator.test_scope():
        yield points_emulator


def _date(text):
    return datetime.fromisoformat(text)  # Python 3.11+: "Z" and 0 to 6 fractional digits


def _query_filters(em):
    return [parse_qs(entry["query"]).get("filter", [None])[0] for entry in em.request_log() if entry["path"] == "/api/query"]


def test_latest_is_the_newest_of_all_points_for_every_backup(points_em, run_playbook):
    everything, latest_only = listing(run_playbook, points_em, {"restore_points": True}, {"latest_restore_point": True})
    assert [backup["id"] for backup in latest_only] == [backup["id"] for backup in everything] == list(points_em.data.backups)
    without = 0
    for full, latest in zip(everything, latest_only):
        points = full["restore_points"]
        expected = max(points, key=lambda point: _date(point["backup_date_utc"])) if points else None
        assert latest["latest_restore_point"] == expected, full["name"]
        assert "restore_points" not in latest
        without += expected is None
    assert 0 < without < len(everything)
    assert latest_only[list(points_em.data.backups).index(data.SEED_BACKUP_ID)]["latest_restore_point"] is None, "a ParentBackup has none"


def test_latest_asks_again_only_about_backups_without_a_recent_point(points_em, run_playbook):
    [backups] = listing(run_playbook, points_em, {"latest_restore_point": True})
    filters = _query_filters(points_em)
    # Module and lookup: the backup listing, then one window for every backup, then two rounds by UID.
    assert len(filters) == 2 * 4, filters
    backup_listing, first, second, third = filters[:4]
    assert backup_listing is None and first.startswith('CreationTime>="') and "BackupUid" not in first
    assert second.startswith('(BackupUid=="') and ';CreationTime>="' in second
    assert third.startswith('BackupUid=="') and "CreationTime" not in third
    stale = [backup for backup in backups if backup["backup_type"] != "ParentBackup" and (
        backup["latest_restore_point"] is None
        or _date(backup["latest_restore_point"]["backup_date_utc"]) < points_em.data.now - timedelta(hours=23))]
    assert second.count("BackupUid==") == len(stale) < len(backups) / 10


def test_latest_with_restore_points_takes_no_extra_request(em, run_playbook):
    [[sql]] = listing(run_playbook, em, {"name": data.SQL_BACKUP_NAME, "restore_points": True, "latest_restore_point": True})
    assert sql["latest_restore_point"] == sql["restore_points"][-1]
    assert len(_query_filters(em)) == 2 * 2  # module and lookup: the name, the points


def test_since_duration_equals_the_same_bound_as_a_date_time(em, run_playbook):
    bound = (datetime.now(timezone.utc) - timedelta(hours=26)).strftime("%Y-%m-%dT%H:%M:%SZ")
    by_duration, by_date, everything = listing(
        run_playbook, em, {"restore_points": True, "restore_points_since": "26h"},
        {"restore_points": True, "restore_points_since": bound}, {"restore_points": True})
    assert by_duration == by_date
    cut = _date(bound)
    for since, full in zip(by_duration, everything):
        assert since["restore_points"] == [point for point in full["restore_points"] if _date(point["backup_date_utc"]) >= cut]
    assert 0 < sum(len(backup["restore_points"]) for backup in by_duration) < sum(len(backup["restore_points"]) for backup in everything)
    filters = [query_filter for query_filter in _query_filters(em) if query_filter and "CreationTime" in query_filter]
    # Module, then lookup, each: 26h, then the date-time.
    assert len(filters) == 4 and filters[1::2] == [f'CreationTime>="{bound}"'] * 2, "EM filters, not the module"
    assert all(filters[index].startswith('CreationTime>="') for index in (0, 2))


def test_since_for_named_backups_combines_both_filters(em, run_playbook):
    [[sql]] = listing(run_playbook, em, {"name": data.SQL_BACKUP_NAME, "restore_points": True, "restore_points_since": "26h"})
    assert [point["id"] for point in sql["restore_points"]] == [em.data.restore_points_of(data.SQL_BACKUP_ID)[-1].id]
    assert _query_filters(em)[1] == f'(BackupUid=="urn:veeam:Backup:{data.SQL_BACKUP_ID}");' + _query_filters(em)[1].split(";", 1)[1]


@pytest.mark.parametrize("value", ["yesterday", "26", "-3h", "2026-13-01", "0999-01-01", "60000w"])
def test_other_values_are_refused_before_any_request(em, run_playbook, value):
    # EM answers HTTP 400 to a moment before the year 1000: 0999-01-01, or 60000 weeks back (about the year 876).
    selection = {"restore_points": True, "restore_points_since": value}
    module = run_playbook("listing.yml", {"connection": connection_to(em), "selections": [selection]})
    lookup = run_playbook("lookup.yml", {"backup_ids": [data.SQL_BACKUP_ID, data.CHILD_BACKUP_ID], "lookup_options": {**connection_to(em), **selection}})
    assert module.returncode != 0 and lookup.result["failed"]
    for message in (module.output, lookup.result["msg"]):
        assert f"Invalid restore_points_since '{value}'" in message
        assert "2026-11-28T06:00:00Z" in message and "26h" in message
        assert ("it reaches before the year 1000, which EM refuses" in message) == (value in ("0999-01-01", "60000w"))
        assert "Traceback" not in message
    assert em.stats()["requests"] == 0
