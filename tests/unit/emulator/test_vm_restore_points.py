# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's VM restore points: under restore points, as entities shaped as Veeam documents
them, and through the VmRestorePoint query type, looked up by index."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests
import xmltodict

from emulator import (
    CHILD_BACKUP_ID,
    SQL_BACKUP_ID,
    VM_QUOTED,
    VM_UNICODE,
    VM_WEB,
    Emulator,
    bulk_vm_name,
)

PASSWORD = "Veeam123!"
LISTS = ("Link", "Ref", "VmRestorePoint")


class Session:
    """A logged-on keep-alive client (``verify`` on each call: REQUESTS_CA_BUNDLE overrides a Session's)."""

    def __init__(self, em: Emulator) -> None:
        self.em = em
        self.http = requests.Session()
        self.http.trust_env = False
        logon = self.http.post(f"{em.url}/api/sessionMngr/?v=latest", auth=("admin", PASSWORD), verify=em.ca_path, timeout=10)
        assert logon.status_code == 201
        self.http.headers["X-RestSvcSessionId"] = logon.headers["X-RestSvcSessionId"]

    def get(self, path: str, **params: str) -> requests.Response:
        return self.http.get(f"{self.em.url}/api{path}", params=params, verify=self.em.ca_path, timeout=10)

    def parsed(self, path: str, **params: str) -> dict:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return xmltodict.parse(response.content, force_list=lambda path, key, _value: bool(path) and key in LISTS)


@pytest.fixture(scope="module")
def em(tmp_path_factory: pytest.TempPathFactory):
    with Emulator(state_dir=tmp_path_factory.mktemp("em"), password=PASSWORD) as emulator:
        yield emulator


@pytest.fixture
def session(em: Emulator) -> Session:
    return Session(em)


def _links(element: dict) -> list[tuple[str, str | None]]:
    return [(link["@Rel"], link.get("@Type")) for link in element["Links"]["Link"]]


def test_restore_points_hold_the_vms_of_their_backup(em: Emulator, session: Session) -> None:
    newest = em.data.restore_points_of(SQL_BACKUP_ID)[-1]
    refs = session.parsed(f"/restorePoints/{newest.id}/vmRestorePoints")["EntityReferences"]["Ref"]
    assert [ref["@Name"].split("@")[0] for ref in refs] == [VM_WEB, "sql01", VM_QUOTED]
    assert all(ref["@Type"] == "VmRestorePointReference" for ref in refs)
    assert _links(refs[0]) == [("Up", "BackupServerReference"), ("Up", "RestorePointReference"), ("Up", "BackupFileReference"),
                               ("Alternate", "VmRestorePoint")]
    entities = session.parsed(f"/restorePoints/{newest.id}/vmRestorePoints", format="Entity")["VmRestorePoints"]["VmRestorePoint"]
    assert [entity["VmName"] for entity in entities] == [VM_WEB, "sql01", VM_QUOTED]
    assert session.get("/restorePoints/00000000-0000-4000-8000-000000000000/vmRestorePoints").status_code == 404


def test_vm_restore_point_entity_as_documented(em: Emulator, session: Session) -> None:
    point = next(point for point in em.data.vm_restore_points.values() if point.vm_name == VM_QUOTED)
    entity = session.parsed(f"/vmRestorePoints/{point.id.upper()}", format="Entity")["VmRestorePoint"]
    assert [key for key in entity if key.startswith("@") and not key.startswith("@xmlns")] == ["@Href", "@Type", "@Name", "@VmDisplayName", "@UID"]
    assert (entity["@VmDisplayName"], entity["@UID"]) == (VM_QUOTED, f"urn:veeam:VmRestorePoint:{point.id}")
    assert entity["@Name"] == f"{VM_QUOTED}@{point.creation_time:%Y-%m-%d %H:%M:%S}"
    assert [key for key in entity if not key.startswith("@")] == ["Links", "CreationTimeUTC", "VmName", "Algorithm", "PointType", "HierarchyObjRef"]
    assert (entity["Algorithm"], entity["PointType"]) == ("Full", "Full"), "the first point of a chain is a full"
    assert entity["HierarchyObjRef"].startswith("urn:VMware:Vm:")
    assert _links(entity) == [("Restore", None), ("Up", "BackupServerReference"), ("Up", "RestorePointReference"),
                              ("Up", "BackupFileReference"), ("Alternate", "VmRestorePointReference"),
                              ("Down", "VmRestorePointMountList"), ("Create", "VmRestorePointMount")]
    reference = session.parsed(f"/vmRestorePoints/{point.id}")["EntityRef"]
    assert reference["@Type"] == "VmRestorePointReference"
    assert b"&quot;01&quot;" in session.get(f"/vmRestorePoints/{point.id}", format="Entity").content
    assert session.get("/vmRestorePoints/00000000-0000-4000-8000-000000000000").status_code == 404


def test_some_vms_are_in_two_backups(em: Emulator) -> None:
    backups = {em.data.backup_of_vm_point(point).id for point in em.data.vm_restore_points.values() if point.vm_name == VM_WEB}
    assert backups == {SQL_BACKUP_ID, CHILD_BACKUP_ID}
    assert len({em.data.backup_of_vm_point(point).id for point in em.data.vm_restore_points.values() if point.vm_name == VM_UNICODE}) == 2


@pytest.mark.parametrize("field, value", [
    ("VmDisplayName", "WEB01"), ("Type", "Increment"), ("Algorithm", "Full"), ("BackupServerName", "vbr01.lab.local"),
    ("RestorePointName", "Oct  4 2025  8:00PM"),
])
def test_query_fields(em: Emulator, session: Session, field: str, value: str) -> None:
    result = session.parsed("/query", type="VmRestorePoint", format="Entities", pageSize="1000", filter=f'{field}=="{value}"')
    entities = result["QueryResult"]["Entities"]["VmRestorePoints"]["VmRestorePoint"]
    assert entities
    attribute = {"VmDisplayName": lambda e: e["@VmDisplayName"].casefold() == value.casefold(),
                 "Type": lambda e: e["PointType"] == value, "Algorithm": lambda e: e["Algorithm"] == value,
                 "BackupServerName": lambda e: e["Links"]["Link"][1]["@Name"] == value,
                 "RestorePointName": lambda e: e["Links"]["Link"][2]["@Name"] == value}[field]
    assert all(attribute(entity) for entity in entities)


def test_query_by_restore_point_uid_name_and_date_sorted(em: Emulator, session: Session) -> None:
    newest = em.data.restore_points_of(SQL_BACKUP_ID)[-1]
    quoted = VM_QUOTED.replace('"', '""')
    result = session.parsed("/query", type="VmRestorePoint", sortDesc="CreationTime",
                            filter=f'RestorePointId=="urn:veeam:RestorePoint:{newest.id}";VmDisplayName=="{quoted}"')
    [ref] = result["QueryResult"]["Refs"]["Ref"]
    [expected] = [point for point in em.data.vm_restore_points_of(newest.id) if point.vm_name == VM_QUOTED]
    assert ref["@UID"] == f"urn:veeam:VmRestorePoint:{expected.id}"
    everything = session.parsed("/query", type="VmRestorePoint", format="Entities", sortDesc="CreationTime", filter=f'VmDisplayName=="{VM_UNICODE}"')
    dates = [entity["CreationTimeUTC"] for entity in everything["QueryResult"]["Entities"]["VmRestorePoints"]["VmRestorePoint"]]
    assert len(dates) == 2 and dates == sorted(dates, reverse=True)
    assert session.get("/query", type="VmRestorePoint", filter='VmName=="web01"').status_code == 400, "EM has no VmName field"


def test_name_filters_are_looked_up_by_index(tmp_path: Path) -> None:
    with Emulator(tmp_path, password=PASSWORD, bulk=2000, bulk_restore_points=5, bulk_vms=2) as em:
        session = Session(em)
        names = [bulk_vm_name(index, 1) for index in range(0, 2000, 50)]
        query_filter = ",".join(f'VmDisplayName=="{name}"' for name in names)
        result = session.parsed("/query", type="VmRestorePoint", format="Entities", pageSize="1000", filter=query_filter)
        entities = result["QueryResult"]["Entities"]["VmRestorePoints"]["VmRestorePoint"]
        assert len(em.data.vm_restore_points) >= 2000 * 5 * 2
        assert sorted({entity["@VmDisplayName"] for entity in entities}) == sorted(names) and len(entities) == 5 * len(names)
        indexes = em.data.__dict__["_query_indexes"]
        assert ("equal", "VmRestorePoint", "vmdisplayname") in indexes
        assert ("equal", "VmRestorePoint", "restorepointid") not in indexes
