# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The normalizer turns every shape of EM's <Backup> entity into the documented dict."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.veeam_em.rest.plugins.module_utils._normalize import normalize_backup, safe_key
from ansible_collections.veeam_em.rest.plugins.module_utils._xml import parse_document

FIXTURES = Path(__file__).parent / "fixtures"
LOCAL = "http://local.host:9399/api"
EM01 = "https://em01:9398/api"
SEED_ID = "c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70"
CHILD_ID = "5e0f5d0e-8f7c-4d8a-9a61-2b1c3d4e5f60"
VBR01_ID = "a1b2c3d4-e5f6-4a5b-8c9d-0e1f2a3b4c5d"
VBR01 = {"id": VBR01_ID, "name": "vbr01.lab.local", "href": f"{EM01}/backupServers/{VBR01_ID}"}
SOBR_ID = "b8832f03-2c9e-4222-8d0b-e43e0c912f93"
SOBR = {"id": SOBR_ID, "name": "Scale-out Backup Repository 2", "href": f"{LOCAL}/repositories/{SOBR_ID}"}
LOCAL_SERVER_ID = "8c88c6d6-931f-4044-8c0b-7a0c5f188b00"
LOCAL_SERVER = {"id": LOCAL_SERVER_ID, "name": "local.host", "href": f"{LOCAL}/backupServers/{LOCAL_SERVER_ID}"}
DEFAULT_REPO_ID = "7d6e5f40-1a2b-4c3d-8e9f-001122334455"
DEFAULT_REPO = {"id": DEFAULT_REPO_ID, "name": "Default Backup Repository", "href": f"{EM01}/repositories/{DEFAULT_REPO_ID}"}


def backup_from(fixture: str) -> dict:
    root, content = parse_document((FIXTURES / fixture).read_bytes())
    assert root == "Backup"
    return normalize_backup(content)


def test_seed_backup_from_the_reference_page():
    assert backup_from("backup_seed_parent.xml") == {
        "id": SEED_ID,
        "uid": f"urn:veeam:Backup:{SEED_ID}",
        "name": "Simple backup_1",
        "href": f"{LOCAL}/backups/{SEED_ID}",
        "platform": "CustomPlatform",
        "backup_type": "ParentBackup",
        "repository": SOBR,
        "backup_server": LOCAL_SERVER,
        "parent_backup": None,
        "links": [
            {"rel": "Up", "type": "RepositoryReference", "name": SOBR["name"], "href": SOBR["href"]},
            {"rel": "Up", "type": "BackupServerReference", "name": LOCAL_SERVER["name"], "href": LOCAL_SERVER["href"]},
            {"rel": "Alternate", "type": "BackupReference", "name": "Simple backup_1", "href": f"{LOCAL}/backups/{SEED_ID}"},
            {"rel": "Up", "type": "BackupList", "name": None, "href": f"{LOCAL}/backups/{SEED_ID}/childbackups?format=Entity"},
        ],
    }


def test_standard_vmware_backup():
    backup = backup_from("backup_standard_vmware.xml")
    assert (backup["platform"], backup["backup_type"]) == ("VMware", "Standard")
    assert backup["repository"] == DEFAULT_REPO
    assert backup["backup_server"] == VBR01
    assert backup["parent_backup"] is None
    assert [link["type"] for link in backup["links"]] == [
        "RepositoryReference", "BackupServerReference", "BackupReference",
        "RestorePointReferenceList", "BackupFileReferenceList",
    ]


def test_child_backup_has_three_up_links_picked_by_type_not_position():
    backup = backup_from("backup_child.xml")
    assert backup["id"] == CHILD_ID, "the UID's upper-case UUID is lower-cased"
    assert backup["uid"] == f"urn:veeam:Backup:{CHILD_ID}"
    assert backup["backup_type"] == "ChildBackup"
    assert backup["parent_backup"] == {"id": SEED_ID, "name": "Simple backup_1", "href": f"{LOCAL}/backups/{SEED_ID}"}
    assert backup["repository"] == {**SOBR, "href": f"{LOCAL}/repositories/{SOBR_ID.upper()}"}, "ids lower-cased, hrefs as given"
    assert backup["backup_server"]["name"] == "local.host"
    assert [link["rel"] for link in backup["links"]] == ["Up", "Up", "Up", "Alternate", "Down"]


def test_parent_backup_with_down_child_link_in_server_first_order():
    backup = backup_from("backup_parent_down_link.xml")
    assert backup["repository"] == DEFAULT_REPO
    assert backup["backup_server"] == VBR01
    assert backup["parent_backup"] is None, "neither its own Alternate link nor its child list is a parent"


def test_backup_without_repository_link():
    backup = backup_from("backup_without_repository.xml")
    assert backup["repository"] is None
    assert backup["backup_server"] == VBR01


def test_entities_are_decoded_and_whitespace_kept():
    backup = backup_from("backup_escaped_names.xml")
    assert backup["name"] == "  Backup & <Restore> \"Daily\" 'Ops' / Zürich 日本語 💾 "
    assert backup["repository"] == {"id": DEFAULT_REPO["id"], "name": "Repo & <1> / Ünïcode", "href": DEFAULT_REPO["href"]}
    assert backup["links"][0]["href"].endswith("?format=Entity"), "links keep EM's hrefs as they are"
    assert (backup["platform"], backup["backup_type"], backup["backup_server"]) == (None, None, None)


def test_unknown_elements_pass_through_with_safe_snake_case_keys():
    backup = backup_from("backup_future_elements.xml")
    assert backup["links"] == []
    assert backup["job_uid"] == "urn:veeam:Job:11111111-2222-3333-4444-555555555555"
    assert backup["creation_time_utc"] == "2025-10-14T20:00:31.23Z"
    assert backup["keys_"] == "3"
    assert backup["size_info"] == {"unit": "Bytes", "text": "1024"}
    assert backup["tags"] == {"tag": ["a", "b"]}
    assert backup["description"] is None
    assert backup["repository"] is None, "an element never overrides a key the normalizer owns"
    for key in backup:
        assert key.isidentifier() and key not in dir(dict)


@pytest.mark.parametrize("name, key", [
    ("BackupDateUTC", "backup_date_utc"), ("UID", "uid"), ("FreeSpace", "free_space"),
    ("VbrCertificateThumbprint", "vbr_certificate_thumbprint"), ("items", "items_"), ("Values", "values_"),
    ("class", "class_"), ("1stCopy", "_1st_copy"), ("Odd-Name.x", "odd_name_x"), ("@Unit", "unit"),
])
def test_safe_key(name, key):
    assert safe_key(name) == key
