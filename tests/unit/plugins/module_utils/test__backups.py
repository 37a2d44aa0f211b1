# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup ids are validated strictly, before any request."""

from __future__ import annotations

import pytest

from ansible_collections.veeam_em.rest.plugins.module_utils._backups import parse_backup_id
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
