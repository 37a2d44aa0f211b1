# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup ids are validated strictly, before any request; child backups get their parent's name."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from emulator import EM_HREF_BASE

from ansible_collections.veeam_em.rest.plugins.module_utils._backups import (
    backup_selection,
    get_backups,
    or_filter,
    parse_backup_id,
    value_batches,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import InvalidInputError

SEED_ID = "c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70"


@pytest.mark.parametrize("value", [SEED_ID, SEED_ID.upper(), f"urn:veeam:Backup:{SEED_ID}", f"URN:VEEAM:BACKUP:{SEED_ID.upper()}"])
def test_ids_and_uids_in_any_case(value):
    assert parse_backup_id(value) == SEED_ID


@pytest.mark.parametrize("value", [
    "abc", "", None, 42, "../sessionMngr", f"urn:veeam:Repository:{SEED_ID}", f"{SEED_ID}/restorePoints", f"{SEED_ID}?format=Entity",
    f"{SEED_ID}\n", f"{SEED_ID}\x00", f"..%2f{SEED_ID}", "%2e%2e", f" {SEED_ID}", f"urn:veeam:Backup:{SEED_ID}:x", "{" + SEED_ID + "}",
])
def test_invalid_ids_are_named_in_the_error(value):
    with pytest.raises(InvalidInputError) as error:
        parse_backup_id(value)
    assert f"Invalid backup id {value!r}" in str(error.value)


def test_huge_ids_are_cut_short_in_the_message():
    with pytest.raises(InvalidInputError) as error:
        parse_backup_id("a" * 10_000)
    assert len(str(error.value)) < 400
    assert "10000 characters" in str(error.value)


# --- Parents of child backups, named for real (against the emulator over HTTPS) ----------
CHILD_ID = "e556fda9-07e1-4f49-9193-42d255a909ca"
SQL_ID = "3b0c7f2e-5d1a-4e8b-9c44-0a1b2c3d4e5f"
SEED_NAME = "Simple backup_1"


def backup_gets(em) -> list[str]:
    """Paths of the single-backup reads in the emulator's log."""
    return [entry["path"] for entry in em.request_log() if entry["path"].startswith("/api/backups/")]


def test_parent_in_the_same_listing_lends_its_name_without_a_request(em, client_for):
    with client_for() as client:
        backups = get_backups(client, backup_selection([], {}), on_missing=pytest.fail)
    child = next(backup for backup in backups if backup["id"] == CHILD_ID)
    assert child["parent_backup"]["name"] == SEED_NAME, "not EM's placeholder 'Parent Backup'"
    assert any(link["name"] == "Parent Backup" for link in child["links"]), "links stay as EM gives them"
    assert backup_gets(em) == []
    logon, query, logoff = ((entry["method"], entry["path"]) for entry in em.request_log())
    assert (logon, query, logoff[0]) == (("POST", "/api/sessionMngr/"), ("GET", "/api/query"), "DELETE")


def test_absent_parent_is_read_once_in_the_same_session(em, client_for):
    with client_for() as client:
        backups = get_backups(client, backup_selection([CHILD_ID, SQL_ID, CHILD_ID.upper()], {}), on_missing=pytest.fail)
    assert [backup["id"] for backup in backups] == [CHILD_ID, SQL_ID, CHILD_ID]
    assert [(backup["parent_backup"] or {}).get("name") for backup in backups] == [SEED_NAME, None, SEED_NAME]
    assert backup_gets(em) == [f"/api/backups/{SEED_ID}"], "one read for the parent, however many children"
    assert [entry["path"] for entry in em.request_log()].count("/api/query") == 1
    assert em.stats()["logons"] == 1 and em.stats()["connections"] == 1


def test_parent_that_em_does_not_have_keeps_id_and_href_and_has_no_name(em, client_for):
    em.inject("status", path=f"/api/backups/{SEED_ID}$", status=404, message=f"Object with ID [{SEED_ID}] was not found.")
    with client_for() as client:
        [child] = get_backups(client, backup_selection([CHILD_ID], {}), on_missing=pytest.fail)
    assert child["parent_backup"] == {"id": SEED_ID, "name": None, "href": f"{EM_HREF_BASE}/api/backups/{SEED_ID}"}
    assert backup_gets(em) == [f"/api/backups/{CHILD_ID}", f"/api/backups/{SEED_ID}"]


REQUEST_LINE = 8 * 1024


def test_batches_of_short_values_hold_forty_each():
    uids = [f"urn:veeam:Backup:{index:08d}-0000-4000-8000-000000000000" for index in range(81)]
    batches = value_batches("UID", uids)
    assert [len(batch) for batch in batches] == [40, 40, 1]
    assert [uid for batch in batches for uid in batch] == uids


@pytest.mark.parametrize("name", ["v" * 200, "虚" * 72, '"' * 150], ids=["200 ASCII", "72 CJK", "150 quotes"])
def test_long_values_are_batched_by_the_encoded_length_of_the_filter(name):
    names = [f"{index:03d}{name}" for index in range(100)]
    batches = value_batches("VmDisplayName", names)
    assert [value for batch in batches for value in batch] == names
    for batch in batches:
        assert len(batch) <= 40
        assert len(urlencode({"type": "VmRestorePoint", "format": "Entities", "sortDesc": "CreationTime",
                              "filter": f'({or_filter("VmDisplayName", batch)});CreationTime>="2026-11-30T23:00:30Z"',
                              "pageSize": "1000", "page": "1"})) + len("GET /api/query? HTTP/1.1") <= REQUEST_LINE


def test_a_value_too_long_for_any_request_line_is_refused_by_name():
    message = r"^'虚虚虚.*\(1000 characters\) is too long to be sent to EM as a VmDisplayName: its query filter takes 9025 bytes"
    with pytest.raises(InvalidInputError, match=message):
        value_batches("VmDisplayName", ["web01", "虚" * 1000])


def test_quotes_in_values_are_doubled_as_em_reads_them():
    assert or_filter("VmDisplayName", ['web "01"', "db01"]) == 'VmDisplayName=="web ""01""",VmDisplayName=="db01"'
