# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The normalizer turns every shape of EM's <Backup> entity into the documented dict."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.veeam_em.rest.plugins.module_utils._normalize import (
    MalformedEntityError,
    backup_server_details,
    normalize_backup,
    normalize_backup_server,
    normalize_repository,
    normalize_restore_point,
    query_entities,
    query_pages,
    repository_details,
    restore_point_backup_id,
    safe_key,
)
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
    assert backup["description"] == "", "an empty element is there: an empty string, not null"
    assert backup["repository"] is None, "an element never overrides a key the normalizer owns"
    for key in backup:
        assert key.isidentifier() and key not in dir(dict)


# --- The shapes of Veeam's documented bodies, in our own words --------------------------
WEST = "https://em02.corp.example:9398/api"
WEST_SERVER_ID = "c7e25a90-3d14-4b6f-8e02-19a5f6d3b4c1"
WEST_REPOSITORY_ID = "0f3b9d2c-61e4-4a7b-9c85-d2e0a4b7c619"
PAYROLL_ID = "6a1d3e52-0b7c-4f19-a2d4-77c0e1f9b3a8"


#: Some EM responses start with one. Added here, not in the files: ansible-test refuses files that start with it.
BYTE_ORDER_MARK = b"\xef\xbb\xbf"


def document_from(fixture: str, expected_root: str, byte_order_mark: bool = False) -> dict:
    body = (FIXTURES / fixture).read_bytes()
    root, content = parse_document(BYTE_ORDER_MARK + body if byte_order_mark else body)
    assert root == expected_root
    return content


def test_entity_with_byte_order_mark_declaration_and_schema_namespaces():
    assert (FIXTURES / "backup_documented_entity.xml").read_bytes().startswith(b"<?xml")
    assert normalize_backup(document_from("backup_documented_entity.xml", "Backup", byte_order_mark=True)) == {
        "id": PAYROLL_ID,
        "uid": f"urn:veeam:Backup:{PAYROLL_ID}",
        "name": "Payroll Nightly",
        "href": f"{WEST}/backups/{PAYROLL_ID}",
        "platform": "HyperV",
        "backup_type": "Standard",
        "repository": {"id": WEST_REPOSITORY_ID, "name": "Object Store West", "href": f"{WEST}/repositories/{WEST_REPOSITORY_ID}"},
        "backup_server": {"id": WEST_SERVER_ID, "name": "vbr-west.corp.example", "href": f"{WEST}/backupServers/{WEST_SERVER_ID}"},
        "parent_backup": None,
        "links": [
            {"rel": "Up", "type": "RepositoryReference", "name": "Object Store West", "href": f"{WEST}/repositories/{WEST_REPOSITORY_ID}"},
            {"rel": "Up", "type": "BackupServerReference", "name": "vbr-west.corp.example", "href": f"{WEST}/backupServers/{WEST_SERVER_ID}"},
            {"rel": "Alternate", "type": "BackupReference", "name": "Payroll Nightly", "href": f"{WEST}/backups/{PAYROLL_ID}"},
            {"rel": "Down", "type": "RestorePointReferenceList", "name": None, "href": f"{WEST}/backups/{PAYROLL_ID}/restorePoints"},
            {"rel": "Down", "type": "BackupFileReferenceList", "name": None, "href": f"{WEST}/backups/{PAYROLL_ID}/backupFiles"},
        ],
    }, "namespace declarations are no data; the order of attributes does not matter"


def test_query_page_of_a_parent_and_its_child_with_the_placeholder_parent_link():
    content = document_from("query_parent_and_children.xml", "QueryResult")
    parent, child = (normalize_backup(entity) for entity in query_entities(content, "Backups", "Backup"))
    assert query_pages(content) == (1, 1), "PagesCount before PageNum"
    assert (parent["backup_type"], parent["parent_backup"]) == ("ParentBackup", None), "its Down child list is no parent"
    assert child["backup_type"] == "ChildBackup"
    assert child["parent_backup"] == {
        "id": parent["id"],
        "name": "Parent Backup",
        "href": f"{WEST}/backups/{parent['id']}",
    }, "the normalizer keeps EM's placeholder; get_backups puts the parent's name in its place"
    assert child["links"][-1] == {"rel": "Up", "type": "Backup", "name": "Parent Backup", "href": f"{WEST}/backups/{parent['id']}?format=Entity"}


def test_reference_form_of_a_child_links_its_parent_as_backup_reference():
    backup = normalize_backup(document_from("backup_ref_child_placeholder.xml", "EntityRef"))
    parent_id = "e0f6b2d8-13c9-4e7a-b4f0-9a2c5d8e1b36"
    assert backup["parent_backup"] == {"id": parent_id, "name": "Parent Backup", "href": f"{LOCAL}/backups/{parent_id}"}
    assert (backup["platform"], backup["backup_type"]) == (None, None), "a reference carries no Platform or BackupType"
    assert backup["repository"]["name"] == "Branch NAS"


def test_empty_elements_are_empty_strings_and_absent_ones_null():
    backup = backup_from("backup_empty_elements.xml")
    assert (backup["name"], backup["platform"], backup["backup_type"]) == ("", "", "")
    assert backup["comment"] == ""
    assert backup["retention"] == {"days": "", "copies": "7"}
    assert backup["links"] == [] and backup["repository"] is None
    absent = backup_from("backup_escaped_names.xml")
    assert (absent["platform"], absent["backup_type"]) == (None, None)


def test_backup_server_with_empty_description():
    details = backup_server_details(document_from("backup_server_empty_description.xml", "BackupServer", byte_order_mark=True))
    assert details == {"description": "", "port": 9392, "version": "12.3.1.1139"}
    assert backup_server_details({}) == {"description": None, "port": None, "version": None}


def test_repository_sizes_stay_integers_or_null_and_an_empty_kind_is_an_empty_string():
    details = repository_details(document_from("repository_empty_kind.xml", "Repository"))
    assert details == {"capacity": 21990232555520, "free_space": None, "kind": ""}
    assert repository_details({}) == {"capacity": None, "free_space": None, "kind": None}


def test_restore_point_name_keeps_its_double_spaces():
    content = document_from("restore_point_double_spaces.xml", "RestorePoint")
    point_id = "b35e9a0c-6f12-4d7b-8e4a-c2091f7d5e38"
    assert normalize_restore_point(content) == {
        "id": point_id,
        "uid": f"urn:veeam:RestorePoint:{point_id}",
        "name": "Mar  3 2026  1:05AM",
        "href": f"{WEST}/restorePoints/{point_id}",
        "backup_date_utc": "2026-03-03T01:05:44.5Z",
    }
    assert restore_point_backup_id(content) == PAYROLL_ID
    assert normalize_restore_point({**content, "BackupDateUTC": None})["backup_date_utc"] == ""
    del content["BackupDateUTC"]
    assert normalize_restore_point(content)["backup_date_utc"] is None


@pytest.mark.parametrize("name, key", [
    ("BackupDateUTC", "backup_date_utc"), ("UID", "uid"), ("FreeSpace", "free_space"),
    ("VbrCertificateThumbprint", "vbr_certificate_thumbprint"), ("items", "items_"), ("Values", "values_"),
    ("class", "class_"), ("1stCopy", "_1st_copy"), ("Odd-Name.x", "odd_name_x"), ("@Unit", "unit"),
])
def test_safe_key(name, key):
    assert safe_key(name) == key


FORGED_ID = 'x"></testcase><testcase classname="forged" name="all good'


@pytest.mark.parametrize("normalize, kind, uid_type, href_kind", [
    (normalize_backup, "backup", "Backup", "backups"),
    (normalize_restore_point, "restore point", "RestorePoint", "restorePoints"),
    (normalize_backup_server, "backup server", "BackupServer", "backupServers"),
    (normalize_repository, "repository", "Repository", "repositories"),
])
@pytest.mark.parametrize("forged", [FORGED_ID, "", "../../sessionMngr", "c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70x", "{{ 7*7 }}"])
def test_an_entity_whose_own_id_is_no_uuid_fails_naming_it_by_name_not_by_the_id(normalize, kind, uid_type, href_kind, forged):
    entity = {"@Href": f"{EM01}/{href_kind}/{forged}?format=Entity", "@UID": f"urn:veeam:{uid_type}:{forged}", "@Name": "Payroll"}
    with pytest.raises(MalformedEntityError) as raised:
        normalize(entity)
    message = str(raised.value)
    assert f"EM sent a {kind} named 'Payroll' whose id is not a UUID" in message
    assert not forged or forged not in message
    # The same entity without a name says so.
    with pytest.raises(MalformedEntityError, match=f"EM sent a {kind} without a name"):
        normalize({key: value for key, value in entity.items() if key != "@Name"})


def test_an_upper_case_uuid_is_an_id_in_lower_case():
    backup = normalize_backup({"@Href": f"{EM01}/backups/{SEED_ID.upper()}", "@UID": f"urn:veeam:Backup:{SEED_ID.upper()}", "@Name": "x"})
    assert (backup["id"], backup["uid"]) == (SEED_ID, f"urn:veeam:Backup:{SEED_ID}")


def test_a_link_to_something_that_is_no_uuid_keeps_name_and_href_with_a_null_id():
    forged_href = f"{EM01}/repositories/{FORGED_ID}"
    entity = {
        "@Href": f"{EM01}/backups/{SEED_ID}", "@UID": f"urn:veeam:Backup:{SEED_ID}", "@Name": "Simple backup_1",
        "Links": {"Link": [
            {"@Href": forged_href, "@Name": "Repo", "@Type": "RepositoryReference", "@Rel": "Up"},
            {"@Href": f"{EM01}/backups/not-a-uuid", "@Name": "Parent Backup", "@Type": "BackupReference", "@Rel": "Up"},
        ]},
    }
    backup = normalize_backup(entity)
    assert backup["repository"] == {"id": None, "name": "Repo", "href": forged_href}
    assert backup["parent_backup"] == {"id": None, "name": "Parent Backup", "href": f"{EM01}/backups/not-a-uuid"}
    assert restore_point_backup_id({**entity, "@UID": "urn:veeam:RestorePoint:b35e9a0c-6f12-4d7b-8e4a-c2091f7d5e38"}) is None
