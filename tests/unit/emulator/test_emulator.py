# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the EM emulator: the EM facts it reproduces, and the controls (counters,
request log, faults) that the collection's tests rely on."""
from __future__ import annotations

import base64
import json
import re
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import xmltodict

from emulator import (
    CHILD_BACKUP_ID,
    DEFAULT_USERNAME,
    DOWN_PARENT_BACKUP_ID,
    DUPLICATE_BACKUP_IDS,
    DUPLICATE_BACKUP_NAME,
    EM_HREF_BASE,
    ESCAPE_BACKUP_ID,
    ESCAPE_BACKUP_NAME,
    FILTER_CHARS_BACKUP_ID,
    FILTER_CHARS_BACKUP_NAME,
    LINUX_REPOSITORY_ID,
    NO_REPOSITORY_BACKUP_ID,
    SEED_BACKUP_ID,
    SEED_BACKUP_NAME,
    SEED_ENTITY_HREF,
    SEED_HREF_BASE,
    SEED_REPOSITORY_ID,
    SEED_SERVER_ID,
    SLASH_BACKUP_ID,
    SLASH_BACKUP_NAME,
    SPACES_BACKUP_ID,
    SPACES_BACKUP_NAME,
    SQL_BACKUP_ID,
    SQL_REPOSITORY_ID,
    SQL_RESTORE_POINT_ID,
    SQL_RESTORE_POINT_NAME,
    SQL_SERVER_ID,
    SQL_SERVER_NAME,
    UNICODE_BACKUP_ID,
    UNICODE_BACKUP_NAME,
    Emulator,
)

TESTS_DIR = Path(__file__).resolve().parents[2]
# Every tricky character a password can hold: space, ':' (the Basic separator), XML
# specials and non-ASCII.
PASSWORD = "p@ss w0rd:&'\"ü"
SESSION_HEADER = "X-RestSvcSessionId"
XML_TYPE = "application/xml; charset=utf-8"
# Elements that may repeat: always lists in parsed documents, except as the root.
LISTS = frozenset({"Link", "Ref", "Backup", "Repository", "BackupServer", "RestorePoint",
                   "SupportedVersion", "LogonSession"})

# The entity representation from the reference page (backups_id.md), verbatim.
REFERENCE_PAGE_ENTITY = """
<Backup Href="http://local.host:9399/api/backups/c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70?format=Entity" Type="Backup" Name="Simple backup_1" UID="urn:veeam:Backup:c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70" xmlns="http://www.veeam.com/ent/v1.0" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <Links>
    <Link Href="http://local.host:9399/api/repositories/b8832f03-2c9e-4222-8d0b-e43e0c912f93" Name="Scale-out Backup Repository 2" Type="RepositoryReference" Rel="Up"/>
    <Link Href="http://local.host:9399/api/backupServers/8c88c6d6-931f-4044-8c0b-7a0c5f188b00" Name="local.host" Type="BackupServerReference" Rel="Up"/>
    <Link Href="http://local.host:9399/api/backups/c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70" Name="Simple backup_1" Type="BackupReference" Rel="Alternate"/>
    <Link Href="http://local.host:9399/api/backups/c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70/childbackups?format=Entity" Type="BackupList" Rel="Up"/>
  </Links>
  <Platform>CustomPlatform</Platform>
  <BackupType>ParentBackup</BackupType>
</Backup>
"""  # noqa: E501  (kept as on the page)


def _force_list(path: list, key: str, _value: Any) -> bool:
    return bool(path) and key in LISTS


def parse(response: requests.Response) -> dict[str, Any]:
    return xmltodict.parse(response.content, force_list=_force_list)


def links(element: dict[str, Any]) -> list[dict[str, str]]:
    return element["Links"]["Link"]


def assert_error(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["Content-Type"] == XML_TYPE
    error = parse(response)["Error"]
    assert error["@StatusCode"] == str(status)
    assert error["@Message"]
    return error


class Client:
    """A keep-alive HTTPS client of one emulator. ``trust_env`` is off and ``verify`` is
    passed on each call because REQUESTS_CA_BUNDLE would override a Session's verify."""

    def __init__(self, em: Emulator) -> None:
        self.em = em
        self.http = requests.Session()
        self.http.trust_env = False
        self.token: str | None = None
        self.session_id: str | None = None

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("https://") else f"{self.em.url}/api{path}"
        headers = kwargs.pop("headers", {})
        if self.token is not None:
            headers.setdefault(SESSION_HEADER, self.token)
        return self.http.request(method, url, headers=headers, verify=self.em.ca_path,
                                 timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def logon(self, password: str = PASSWORD) -> requests.Response:
        """Log on and authenticate later calls with the header only."""
        response = self.request("POST", "/sessionMngr/?v=latest",
                                auth=(DEFAULT_USERNAME, password))
        assert response.status_code == 201, response.text
        self.token = response.headers[SESSION_HEADER]
        self.session_id = parse(response)["LogonSession"]["SessionId"]
        self.http.cookies.clear()
        return response

    def query(self, **params: str) -> requests.Response:
        return self.get("/query", params=params)


@pytest.fixture(scope="module")
def em(tmp_path_factory: pytest.TempPathFactory):
    """One emulator for the module; counters and faults are reset for each test."""
    with Emulator(state_dir=tmp_path_factory.mktemp("em"), password=PASSWORD) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def bulk_em(tmp_path_factory: pytest.TempPathFactory):
    """An emulator with 250 generated backups, for paging."""
    with Emulator(state_dir=tmp_path_factory.mktemp("bulk"), password=PASSWORD,
                  bulk=250) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _clean(request: pytest.FixtureRequest) -> None:
    if "em" in request.fixturenames:
        emulator = request.getfixturevalue("em")
        emulator.clear_faults()
        emulator.reset_stats()


@pytest.fixture
def client(em: Emulator) -> Client:
    """A client logged on to ``em``; the counters start after its logon."""
    logged_on = Client(em)
    logged_on.logon()
    em.reset_stats()
    return logged_on


# --- root, logon, logoff -----------------------------------------------------------------
def test_root_needs_no_session_and_lists_versions(em: Emulator) -> None:
    response = Client(em).get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == XML_TYPE
    assert response.headers["Server"] == "Microsoft-HTTPAPI/2.0"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = parse(response)["EnterpriseManager"]
    assert root["@xmlns"] == "http://www.veeam.com/ent/v1.0"
    versions = root["SupportedVersions"]["SupportedVersion"]
    assert [v["@Name"] for v in versions] == ["v1_5", "v1_6", "v1_7"]
    assert links(versions[2]) == [{"@Href": f"{em.url}/api/sessionMngr/?v=v1_7",
                                   "@Type": "LogonSession", "@Rel": "Create"}]
    assert f"{em.url}/api/sessionMngr/?v=latest" in [link["@Href"] for link in links(root)]


def test_logon_and_logoff_update_counters(em: Emulator) -> None:
    live_before = em.stats()["live_sessions"]
    client = Client(em)
    response = client.logon()
    token = response.headers[SESSION_HEADER]
    assert response.headers["Set-Cookie"] == f"{SESSION_HEADER}={token}; Path=/api;"
    session = parse(response)["LogonSession"]
    assert str(uuid.UUID(session["SessionId"])) == session["SessionId"] != token
    assert session["UserName"] == f"EMULATOR\\{DEFAULT_USERNAME}"
    assert session["@Href"] == f"{em.url}/api/logonSessions/{session['SessionId']}"
    assert {"Up", "Down", "Delete"} <= {link["@Rel"] for link in links(session)}
    assert em.stats()["live_sessions"] == live_before + 1

    assert client.get("/backups").status_code == 200
    logoff = client.request("DELETE", f"/logonSessions/{client.session_id}")
    assert logoff.status_code == 204
    assert logoff.content == b""
    assert_error(client.get("/backups"), 401)
    stats = em.stats()
    assert (stats["logons"], stats["logoffs"], stats["requests"]) == (1, 1, 4)
    assert stats["live_sessions"] == live_before


@pytest.mark.parametrize("path", ["/sessionMngr/?v=latest", "/sessionMngr/?v=v1_5",
                                  "/sessionMngr/?v=v1_6", "/sessionMngr/?v=V1_7",
                                  "/sessionMngr/", "/sessionMngr", "/SESSIONMNGR/?v=latest"])
def test_logon_versions_and_paths(em: Emulator, path: str) -> None:
    response = Client(em).request("POST", path, auth=(DEFAULT_USERNAME, PASSWORD))
    assert response.status_code == 201


def test_logon_unknown_version_is_400(em: Emulator) -> None:
    response = Client(em).request("POST", "/sessionMngr/?v=v1_9",
                                  auth=(DEFAULT_USERNAME, PASSWORD))
    assert_error(response, 400)
    assert em.stats()["logons"] == 0


@pytest.mark.parametrize("auth", [None, (DEFAULT_USERNAME, "wrong"), ("nobody", PASSWORD)])
def test_logon_rejects_bad_credentials(em: Emulator, auth: tuple[str, str] | None) -> None:
    response = Client(em).request("POST", "/sessionMngr/?v=latest", auth=auth)
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Basic Realm=RestSvc"
    assert SESSION_HEADER not in response.headers


def test_logon_accepts_utf8_credentials(em: Emulator) -> None:
    """requests sends Latin-1 (used by Client.logon); curl and Ansible send UTF-8."""
    credentials = base64.b64encode(f"{DEFAULT_USERNAME}:{PASSWORD}".encode()).decode()
    response = Client(em).request("POST", "/sessionMngr/?v=latest",
                                  headers={"Authorization": f"Basic {credentials}"})
    assert response.status_code == 201


def test_logon_sessions_list_and_lookup(em: Emulator) -> None:
    first, second = Client(em), Client(em)
    first.logon()
    second.logon()
    listed = parse(first.get("/logonSessions"))["LogonSessions"]["LogonSession"]
    assert {first.session_id, second.session_id} <= {s["SessionId"] for s in listed}
    one = parse(first.get(f"/logonSessions/{second.session_id}"))["LogonSession"]
    assert one["SessionId"] == second.session_id
    assert_error(first.request("DELETE", f"/logonSessions/{uuid.uuid4()}"), 404)
    assert first.request("DELETE", f"/logonSessions/{second.session_id}").status_code == 204
    assert_error(second.get("/backups"), 401)
    assert first.get("/backups").status_code == 200


# --- tokens --------------------------------------------------------------------------------
def test_missing_or_unknown_token_is_401(em: Emulator) -> None:
    error = assert_error(Client(em).get("/backups"), 401)
    assert "expired" in error["@Message"]
    assert_error(Client(em).get("/backups", headers={SESSION_HEADER: "bm90IGEgdG9rZW4="}), 401)
    assert [entry["session"] for entry in em.request_log()] == [False, False]


def test_header_name_is_case_insensitive(client: Client) -> None:
    token, client.token = client.token, None
    assert client.get("/backups", headers={"x-restsvcsessionid": token}).status_code == 200


def test_cookie_beats_header(em: Emulator) -> None:
    good, stale = Client(em), Client(em)
    good.logon()
    stale.logon()
    assert stale.request("DELETE", f"/logonSessions/{stale.session_id}").status_code == 204
    em.reset_stats()
    cookie = {"Cookie": f"{SESSION_HEADER}={stale.token}"}
    assert_error(good.get("/backups", headers=cookie), 401)  # valid header, stale cookie
    good_cookie = {"Cookie": f"{SESSION_HEADER}={good.token}", SESSION_HEADER: "bogus"}
    assert Client(em).get("/backups", headers=good_cookie).status_code == 200
    assert [entry["session"] for entry in em.request_log()] == [False, True]


def test_cookie_jar_from_logon_works_alone(em: Emulator) -> None:
    """The Set-Cookie value (base64 with + / =) survives a client's cookie jar."""
    http = requests.Session()
    http.trust_env = False
    logon = http.post(f"{em.url}/api/sessionMngr/?v=latest", auth=(DEFAULT_USERNAME, PASSWORD),
                      verify=em.ca_path)
    assert logon.status_code == 201
    assert http.get(f"{em.url}/api/backups", verify=em.ca_path).status_code == 200


def test_expire_all_sessions(em: Emulator, client: Client) -> None:
    em.expire_all_sessions()
    assert em.stats()["live_sessions"] == 0
    assert_error(client.get("/backups"), 401)


def test_idle_timeout_expires_session(tmp_path: Path) -> None:
    with Emulator(tmp_path, password=PASSWORD, session_idle_timeout=0.3) as em:
        client = Client(em)
        client.logon()
        time.sleep(0.15)
        assert client.get("/backups").status_code == 200  # a request restarts the clock
        time.sleep(0.15)
        assert client.get("/backups").status_code == 200
        time.sleep(0.45)
        assert_error(client.get("/backups"), 401)
        assert em.stats()["live_sessions"] == 0


def test_request_log_holds_no_secrets(em: Emulator, client: Client) -> None:
    client.get("/backups", params={"format": "Entity"})
    client.request("DELETE", f"/logonSessions/{client.session_id}")
    log = em.request_log()
    assert [entry["method"] for entry in log] == ["GET", "DELETE"]
    assert log[0] == {"method": "GET", "path": "/api/backups", "query": "format=Entity",
                      "status": 200, "session": True}
    text = json.dumps(log, ensure_ascii=False)
    assert client.token not in text
    assert PASSWORD not in text
    assert "Authorization" not in text


# --- backups -------------------------------------------------------------------------------
def test_seed_backup_entity_is_the_reference_page(client: Client) -> None:
    response = client.get(f"/backups/{SEED_BACKUP_ID}", params={"format": "Entity"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == XML_TYPE
    expected = xmltodict.parse(REFERENCE_PAGE_ENTITY, force_list=_force_list)
    assert parse(response) == expected
    backup = parse(response)["Backup"]
    assert list(backup)[:4] == ["@Href", "@Type", "@Name", "@UID"]  # attribute order
    assert [list(link) for link in links(backup)][0] == ["@Href", "@Name", "@Type", "@Rel"]
    assert backup["@Href"] == SEED_ENTITY_HREF


def test_seed_backup_reference_form(client: Client) -> None:
    ref = parse(client.get(f"/backups/{SEED_BACKUP_ID}"))["EntityRef"]
    assert ref["@Type"] == "BackupReference"
    assert ref["@Name"] == SEED_BACKUP_NAME
    assert ref["@Href"] == f"{SEED_HREF_BASE}/api/backups/{SEED_BACKUP_ID}"
    assert "Platform" not in ref and "BackupType" not in ref
    assert [(link["@Type"], link["@Rel"]) for link in links(ref)] == [
        ("BackupServerReference", "Up"), ("RepositoryReference", "Up"), ("Backup", "Alternate"),
        ("BackupReferenceList", "Up")]
    assert links(ref)[2]["@Href"] == SEED_ENTITY_HREF


@pytest.mark.parametrize("path", [f"/backups/{SEED_BACKUP_ID.upper()}?format=entity",
                                  f"/BACKUPS/{SEED_BACKUP_ID}?Format=ENTITY"])
def test_ids_paths_and_format_ignore_case(client: Client, path: str) -> None:
    assert parse(client.get(path))["Backup"]["@UID"] == f"urn:veeam:Backup:{SEED_BACKUP_ID}"


def test_a_request_line_over_16_kib_is_refused_as_http_sys_does(client: Client) -> None:
    terms = [f'VmDisplayName=="{index:03d}{"虚" * 72}"' for index in range(40)]
    response = client.query(type="VmRestorePoint", format="Entities", filter=",".join(terms))
    assert response.status_code == 414
    assert "Request URL Too Long" in response.text
    assert client.query(type="VmRestorePoint", format="Entities", filter=",".join(terms[:10])).status_code == 200


def test_unknown_backup_route_and_method(em: Emulator, client: Client) -> None:
    assert_error(client.get(f"/backups/{uuid.uuid4()}"), 404)
    assert_error(client.get("/backups/not-a-guid?format=Entity"), 404)
    assert_error(client.get("/nothing/here"), 404)
    assert_error(client.request("DELETE", "/backups"), 405)
    assert_error(client.get(f"/backups/{uuid.uuid4()}/childbackups"), 404)
    outside = client.http.get(f"{em.url}/elsewhere", verify=em.ca_path)
    assert_error(outside, 404)
    assert em.stats()["requests"] == 5  # outside /api is not counted


def test_backup_collections(em: Emulator, client: Client) -> None:
    refs = parse(client.get("/backups"))["EntityReferences"]["Ref"]
    assert [ref["@UID"].rsplit(":", 1)[1] for ref in refs] == list(em.data.backups)
    assert {ref["@Type"] for ref in refs} == {"BackupReference"}
    entities = parse(client.get("/backups", params={"format": "Entity"}))["Backups"]["Backup"]
    assert len(entities) == len(em.data.backups)
    assert {entity["@Type"] for entity in entities} == {"Backup"}


def test_child_backup_has_three_up_links(em: Emulator, client: Client) -> None:
    child = parse(client.get(f"/backups/{CHILD_BACKUP_ID}", params={"format": "Entity"}))
    child_links = links(child["Backup"])
    ups = [(link["@Type"], link.get("@Name")) for link in child_links if link["@Rel"] == "Up"]
    assert ups == [("RepositoryReference", "Scale-out Backup Repository 2"),
                   ("BackupServerReference", "local.host"), ("Backup", "Parent Backup")]
    parent = next(link for link in child_links if link["@Type"] == "Backup")
    assert parent["@Href"] == f"{EM_HREF_BASE}/api/backups/{SEED_BACKUP_ID}?format=Entity"
    assert list(parent) == ["@Href", "@Name", "@Type", "@Rel"]
    ref = parse(client.get(f"/backups/{CHILD_BACKUP_ID}"))["EntityRef"]
    assert links(ref)[-1] == {"@Href": f"{EM_HREF_BASE}/api/backups/{SEED_BACKUP_ID}",
                              "@Name": "Parent Backup", "@Type": "BackupReference", "@Rel": "Up"}
    assert child["Backup"]["BackupType"] == "ChildBackup"
    assert {link["@Type"] for link in child_links} >= {"BackupReference",
                                                       "RestorePointReferenceList"}
    points = parse(client.get(f"/backups/{CHILD_BACKUP_ID}/restorePoints"))
    assert len(points["EntityReferences"]["Ref"]) == 3


def test_documented_shapes_of_single_objects_query_pages_and_servers(client: Client) -> None:
    """Byte order mark on single objects, EM's own host in hrefs, the attribute orders of
    the documented examples: Rel first in query pages and backup servers."""
    single = client.get(f"/backups/{SQL_BACKUP_ID}?format=Entity")
    assert single.content.startswith(b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?><Backup Href=')
    assert b'xmlns:xsd="http://www.w3.org/2001/XMLSchema"' in single.content
    assert parse(single)["Backup"]["@Href"].startswith(f"{EM_HREF_BASE}/api/backups/")
    page = client.query(type="Backup", format="Entities", filter=f'UID=="urn:veeam:Backup:{CHILD_BACKUP_ID}"')
    assert not page.content.startswith(b"\xef\xbb\xbf")
    entity = parse(page)["QueryResult"]["Entities"]["Backups"]["Backup"][0]
    assert list(entity)[:4] == ["@Type", "@Href", "@Name", "@UID"]
    assert [list(link) for link in links(entity)][-1] == ["@Rel", "@Type", "@Href", "@Name"]
    assert b'Name="Parent Backup" />' in page.content
    server = client.get(f"/backupServers/{SEED_SERVER_ID}?format=Entity")
    assert b"<Description />" in server.content
    entity = parse(server)["BackupServer"]
    assert list(entity)[:4] == ["@Type", "@Href", "@Name", "@UID"]
    assert entity["Description"] is None
    point = parse(client.get(f"/restorePoints/{SQL_RESTORE_POINT_ID}?format=Entity"))["RestorePoint"]
    assert point["@Name"] == SQL_RESTORE_POINT_NAME == "Oct  4 2025  8:00PM"
    assert links(point)[-1]["@Rel"] == "Related" and links(point)[-1]["@Type"] == "BackupFileReferenceList"


def test_child_backup_lists(client: Client) -> None:
    refs = parse(client.get(f"/backups/{SEED_BACKUP_ID}/childbackups"))["EntityReferences"]
    assert [ref["@UID"] for ref in refs["Ref"]] == [f"urn:veeam:Backup:{CHILD_BACKUP_ID}"]
    entities = parse(client.get(f"/backups/{SEED_BACKUP_ID}/childbackups?format=Entity"))
    assert entities["Backups"]["Backup"][0]["BackupType"] == "ChildBackup"
    down_parent = parse(client.get(f"/backups/{DOWN_PARENT_BACKUP_ID}?format=Entity"))["Backup"]
    assert [(link["@Rel"], link["@Type"]) for link in links(down_parent)][-1] == \
        ("Down", "BackupList")
    empty = parse(client.get(f"/backups/{DOWN_PARENT_BACKUP_ID}/childbackups"))
    assert empty["EntityReferences"].get("Ref") is None


def test_backup_without_repository_link(client: Client) -> None:
    backup = parse(client.get(f"/backups/{NO_REPOSITORY_BACKUP_ID}?format=Entity"))["Backup"]
    assert "RepositoryReference" not in {link["@Type"] for link in links(backup)}
    assert backup["Platform"] == "HyperV"


def test_standard_backup_on_second_server(em: Emulator, client: Client) -> None:
    backup = parse(client.get(f"/backups/{SQL_BACKUP_ID}?format=Entity"))["Backup"]
    by_type = {link["@Type"]: link for link in links(backup)}
    assert by_type["BackupServerReference"]["@Name"] == SQL_SERVER_NAME
    assert by_type["BackupServerReference"]["@Href"] == \
        f"{EM_HREF_BASE}/api/backupServers/{SQL_SERVER_ID}"
    assert by_type["BackupFileReferenceList"]["@Rel"] == "Down"
    assert (backup["Platform"], backup["BackupType"]) == ("VMware", "Standard")


@pytest.mark.parametrize("backup_id, name", [
    (ESCAPE_BACKUP_ID, ESCAPE_BACKUP_NAME), (UNICODE_BACKUP_ID, UNICODE_BACKUP_NAME),
    (SPACES_BACKUP_ID, SPACES_BACKUP_NAME), (SLASH_BACKUP_ID, SLASH_BACKUP_NAME),
    (FILTER_CHARS_BACKUP_ID, FILTER_CHARS_BACKUP_NAME)])
def test_names_round_trip(client: Client, backup_id: str, name: str) -> None:
    entity = parse(client.get(f"/backups/{backup_id}?format=Entity"))["Backup"]
    assert entity["@Name"] == name
    assert links(entity)[-2]["@Name"] == name  # the Alternate link
    assert parse(client.get(f"/backups/{backup_id}"))["EntityRef"]["@Name"] == name


def test_escaping_is_ems(client: Client) -> None:
    raw = client.get(f"/backups/{ESCAPE_BACKUP_ID}?format=Entity").text
    assert 'Name="Backup &amp; &lt;Restore&gt; &quot;Daily&quot; &#39;Ops&#39;"' in raw
    raw = client.get(f"/backups/{SLASH_BACKUP_ID}?format=Entity").text
    assert 'Name="Finance&#x2F;Payroll \\ Monthly"' in raw
    assert "&#x2F;" not in raw.split('Name="')[0]  # not in the Href before it


def test_duplicate_names_on_two_servers(client: Client) -> None:
    servers = set()
    for backup_id in DUPLICATE_BACKUP_IDS:
        backup = parse(client.get(f"/backups/{backup_id}?format=Entity"))["Backup"]
        assert backup["@Name"] == DUPLICATE_BACKUP_NAME
        servers.add(next(link["@Name"] for link in links(backup)
                         if link["@Type"] == "BackupServerReference"))
    assert len(servers) == 2


# --- repositories, servers, restore points -------------------------------------------------
def test_repository_entities(client: Client) -> None:
    seed = parse(client.get(f"/repositories/{SEED_REPOSITORY_ID}?format=Entity"))["Repository"]
    assert seed["Kind"] == "Extendable"
    assert 10**13 <= int(seed["Capacity"]) < 10**14 and int(seed["FreeSpace"]) > 0
    assert [(link["@Rel"], link["@Type"]) for link in links(seed)] == [
        ("Up", "BackupServerReference"), ("Alternate", "RepositoryReference"),
        ("Down", "BackupReferenceList")]
    sql = parse(client.get(f"/repositories/{SQL_REPOSITORY_ID}?format=Entity"))["Repository"]
    assert (sql["Kind"], sql["FreeSpace"]) == ("WindowsLocal", "0")
    linux = parse(client.get(f"/repositories/{LINUX_REPOSITORY_ID}"))["EntityRef"]
    assert linux["@Type"] == "RepositoryReference"
    contents = parse(client.get(f"/repositories/{SEED_REPOSITORY_ID}/backups"))
    assert f"urn:veeam:Backup:{SEED_BACKUP_ID}" in {
        ref["@UID"] for ref in contents["EntityReferences"]["Ref"]}


def test_backup_server_entities(client: Client) -> None:
    response = client.get(f"/backupServers/{SEED_SERVER_ID}?format=Entity")
    assert "<Description />" in response.text
    seed = parse(response)["BackupServer"]
    assert (seed["Port"], seed["Version"], seed["WcfPort"]) == ("9392", "13.0.0.1420", "9405")
    assert "Up" not in {link["@Rel"] for link in links(seed)}
    sql = parse(client.get(f"/backupservers/{SQL_SERVER_ID}?format=Entity"))["BackupServer"]
    assert (sql["Version"], "WcfPort" in sql) == ("12.1.2.172", False)
    repositories = parse(client.get(f"/backupServers/{SQL_SERVER_ID}/repositories"))
    assert [ref["@Name"] for ref in repositories["EntityReferences"]["Ref"]] == [
        "Default Backup Repository"]


def test_restore_point_entity(client: Client) -> None:
    point = parse(client.get(f"/restorePoints/{SQL_RESTORE_POINT_ID}?format=Entity"))
    point = point["RestorePoint"]
    assert point["@Name"] == SQL_RESTORE_POINT_NAME == "Oct  4 2025  8:00PM"
    assert point["BackupDateUTC"] == "2025-10-04T20:00:31.23Z"
    assert [(link["@Rel"], link["@Type"]) for link in links(point)] == [
        ("Up", "BackupReference"), ("Up", "BackupServerReference"),
        ("Alternate", "RestorePointReference"), ("Down", "VmRestorePointReferenceList"),
        ("Related", "BackupFileReferenceList")]
    listed = parse(client.get(f"/backups/{SQL_BACKUP_ID}/restorePoints"))
    names = [ref["@Name"] for ref in listed["EntityReferences"]["Ref"]]
    # The later points are dated back from the emulator's start: names in SQL Server's style.
    assert names[0] == "Oct  4 2025  8:00PM" and len(names) == 4
    assert all(re.fullmatch(r"[A-Z][a-z]{2} [ 123]\d \d{4} [ 1]\d:\d\d[AP]M", name) for name in names)


def test_restore_points_are_dated_back_from_the_start(em: Emulator) -> None:
    """Fresh and stale backups on any day: the newest points' ages are fixed, not their dates."""
    ages = {backup_id: em.data.now - max(point.backup_date for point in em.data.restore_points_of(backup_id))
            for backup_id in (SQL_BACKUP_ID, CHILD_BACKUP_ID, UNICODE_BACKUP_ID)}
    assert timedelta(hours=1) < ages[SQL_BACKUP_ID] < timedelta(hours=3)
    assert timedelta(hours=26) < ages[CHILD_BACKUP_ID] < timedelta(hours=48)
    assert ages[UNICODE_BACKUP_ID] > timedelta(days=14)
    assert abs(datetime.now(timezone.utc) - em.data.now) < timedelta(hours=1)


def _point_dates(client: Client, **params: str) -> list[datetime]:
    result = parse(client.query(type="RestorePoint", format="Entities", pageSize="1000", **params))
    entities = (result["QueryResult"]["Entities"]["RestorePoints"] or {}).get("RestorePoint", [])
    return [datetime.fromisoformat(point["BackupDateUTC"]) for point in entities]  # Python 3.11+


@pytest.mark.parametrize("operator", ["==", "!=", "<", "<=", ">", ">="])
def test_query_creation_time_filters(em: Emulator, client: Client, operator: str) -> None:
    points = list(em.data.restore_points.values())
    pivot = sorted(point.backup_date for point in points)[len(points) // 2]
    compare = {"==": pivot.__eq__, "!=": pivot.__ne__, "<": pivot.__gt__, "<=": pivot.__ge__,
               ">": pivot.__lt__, ">=": pivot.__le__}[operator]
    expected = {point.id for point in points if compare(point.backup_date)}
    text = pivot.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    result = parse(client.query(type="RestorePoint", filter=f'CreationTime{operator}"{text}"', pageSize="1000"))
    assert set(_uids(result)) == expected and expected


def test_query_creation_time_dates_and_sorting(em: Emulator, client: Client) -> None:
    day = (em.data.now - timedelta(days=2)).date()
    expected = {point.id for point in em.data.restore_points.values()
                if point.backup_date >= datetime(day.year, day.month, day.day, tzinfo=timezone.utc)}
    assert set(_uids(parse(client.query(type="RestorePoint", filter=f'creationtime>="{day}"')))) == expected
    assert set(_uids(parse(client.query(type="RestorePoint", filter=f"CreationTime>={day}")))) == expected
    ascending = _point_dates(client, sortAsc="CreationTime")
    assert ascending == sorted(ascending) and len(ascending) == len(em.data.restore_points)
    assert _point_dates(client, sortDesc="creationtime") == ascending[::-1]
    windowed = f'(BackupUid=="urn:veeam:Backup:{SQL_BACKUP_ID}",BackupUid=="urn:veeam:Backup:{CHILD_BACKUP_ID}");CreationTime>="{day}"'
    assert set(_uids(parse(client.query(type="RestorePoint", filter=windowed)))) == {
        point.id for point in em.data.restore_points.values()
        if point.id in expected and point.backup_id in (SQL_BACKUP_ID, CHILD_BACKUP_ID)}


# --- query service ---------------------------------------------------------------------------
def _uids(result: dict[str, Any]) -> list[str]:
    refs = result["QueryResult"]["Refs"]
    return [ref["@UID"].rsplit(":", 1)[1] for ref in (refs or {}).get("Ref", [])]


def _paging(result: dict[str, Any]) -> tuple[tuple[str, str, str], list[str]]:
    info = result["QueryResult"]["PagingInfo"]
    return ((info["@PageNum"], info["@PageSize"], info["@PagesCount"]),
            [link["@Rel"] for link in links(info)])


def test_query_default_page_size_is_100(bulk_em: Emulator) -> None:
    client = Client(bulk_em)
    client.logon()
    total = len(bulk_em.data.backups)  # 262: three pages
    response = client.query(type="Backup")
    first = parse(response)
    assert len(_uids(first)) == 100
    assert _paging(first) == (("1", "100", "3"), ["First", "Next", "Last"])
    assert "type=Backup&amp;pageSize=100&amp;page=2" in response.text
    next_href = next(link["@Href"] for link in links(first["QueryResult"]["PagingInfo"])
                     if link["@Rel"] == "Next")
    second = parse(client.get(next_href))
    assert _paging(second) == (("2", "100", "3"), ["First", "Previous", "Next", "Last"])
    last = parse(client.query(type="Backup", page="3"))
    assert len(_uids(last)) == total - 200
    assert _paging(last)[1] == ["First", "Previous", "Last"]
    beyond = client.query(type="Backup", format="Entities", page="4")
    assert "<Entities><Backups /></Entities>" in beyond.text
    assert _uids(parse(client.query(type="Backup", page="4"))) == []


def test_query_entities_and_page_size(client: Client) -> None:
    result = parse(client.query(type="backup", format="entities", pageSize="1",
                                filter=f'Name=="{DUPLICATE_BACKUP_NAME}"'))
    backups = result["QueryResult"]["Entities"]["Backups"]["Backup"]
    assert [b["@Name"] for b in backups] == [DUPLICATE_BACKUP_NAME]
    assert _paging(result) == (("1", "1", "2"), ["First", "Next", "Last"])


@pytest.mark.parametrize("query_filter, expected", [
    (f'Name=="{DUPLICATE_BACKUP_NAME}"', set(DUPLICATE_BACKUP_IDS)),
    ('name=="sql backup"', {SQL_BACKUP_ID}),
    ("Name==SQL Backup", set()),  # unquoted spaces are dropped
    ('Name=="Backup & <Restore> ""Daily"" \'Ops\'"', {ESCAPE_BACKUP_ID}),
    (f'Name=="{FILTER_CHARS_BACKUP_NAME}"', {FILTER_CHARS_BACKUP_ID}),
    (f'UID=="urn:veeam:Backup:{SEED_BACKUP_ID.upper()}"', {SEED_BACKUP_ID}),
    ("(Platform==HyperV,Platform==vCloud);BackupType==Standard",
     {NO_REPOSITORY_BACKUP_ID, UNICODE_BACKUP_ID, SPACES_BACKUP_ID}),
    ('PLATFORM==customplatform;BackupType!=ParentBackup', {CHILD_BACKUP_ID}),
    ('RepositoryName=="Linux Hardened Repository"', {UNICODE_BACKUP_ID, SPACES_BACKUP_ID}),
    (f'RepositoryUid=="urn:veeam:Repository:{LINUX_REPOSITORY_ID}"',
     {UNICODE_BACKUP_ID, SPACES_BACKUP_ID}),
])
def test_query_filters(client: Client, query_filter: str, expected: set[str]) -> None:
    response = client.query(type="Backup", filter=query_filter)
    assert response.status_code == 200, response.text
    assert set(_uids(parse(response))) == expected


def test_query_other_types_and_sorting(client: Client) -> None:
    ascending = _uids(parse(client.query(type="BackupServer", sortAsc="name")))
    descending = _uids(parse(client.query(type="BackupServer", sortDesc="Name")))
    assert descending == ascending[::-1]
    assert ascending[1] == SEED_SERVER_ID  # 10.0.0.15 < local.host < vbr01.lab.local
    assert _uids(parse(client.query(type="Repository", filter="FreeSpace==0"))) == [
        SQL_REPOSITORY_ID]
    assert len(_uids(parse(client.query(type="Repository",
                                        filter="Capacity>50000000000000")))) == 2
    both = f'BackupName=="SQL Backup";Name=="{SQL_RESTORE_POINT_NAME}"'
    points = parse(client.query(type="RestorePoint", format="Entities", filter=both))
    entities = points["QueryResult"]["Entities"]["RestorePoints"]["RestorePoint"]
    assert [p["@UID"] for p in entities] == [f"urn:veeam:RestorePoint:{SQL_RESTORE_POINT_ID}"]


@pytest.mark.parametrize("params", [
    {"type": "Nope"}, {}, {"type": "Backup", "filter": "Bogus==1"},
    {"type": "Backup", "filter": 'Name=="unterminated'}, {"type": "Backup", "filter": "Name=x"},
    {"type": "Backup", "filter": "(Name==x"}, {"type": "Backup", "pageSize": "0"},
    {"type": "Backup", "sortAsc": "Size"}, {"type": "Repository", "filter": "Capacity==big"},
    {"type": "RestorePoint", "filter": 'CreationTime>="yesterday"'},
    {"type": "RestorePoint", "filter": 'CreationTime>="2026-13-01"'},
])
def test_query_errors_are_400(client: Client, params: dict[str, str]) -> None:
    assert_error(client.query(**params), 400)


# --- faults -------------------------------------------------------------------------------
def test_fault_status_skips_the_handler(em: Emulator) -> None:
    em.inject("status", method="POST", path="sessionMngr", times=2, status=500, message="Boom")
    for _attempt in range(2):
        error = assert_error(Client(em).request("POST", "/sessionMngr/?v=latest",
                                                auth=(DEFAULT_USERNAME, PASSWORD)), 500)
        assert error["@Message"] == "Boom"
    assert em.stats()["logons"] == 0
    Client(em).logon()
    assert em.stats()["logons"] == 1


def test_fault_status_default_and_matching(em: Emulator, client: Client) -> None:
    em.inject("status", path=r"/backups$")
    assert client.get(f"/backups/{SEED_BACKUP_ID}").status_code == 200  # path differs
    assert client.request("DELETE", "/nothing").status_code == 404
    error = assert_error(client.get("/backups"), 503)
    assert error["@Message"] == "Service Unavailable"
    assert client.get("/backups").status_code == 200  # used up


def test_fault_forever_until_cleared(em: Emulator, client: Client) -> None:
    em.inject("status", method="get", times=None, status=502)
    for _attempt in range(3):
        assert client.get("/backups").status_code == 502
    em.clear_faults()
    assert client.get("/backups").status_code == 200


def test_fault_expire_session(em: Emulator, client: Client) -> None:
    em.inject("expire_session", path="/backups")
    assert_error(client.get("/backups"), 401)
    assert_error(client.get("/repositories"), 401)  # the session is gone for good
    assert em.request_log()[0]["session"] is False


@pytest.mark.parametrize("body, content_type, status", [
    (b"<Backup><Links>", None, None),
    (b"<html><body>Proxy error</body></html>", "text/html", 502),
    (b"", None, None)])
def test_fault_body(em: Emulator, client: Client, body: bytes, content_type: str | None,
                    status: int | None) -> None:
    em.inject("body", body=body, content_type=content_type, status=status)
    response = client.get(f"/backups/{SEED_BACKUP_ID}")
    assert response.content == body
    assert response.status_code == (status or 200)
    assert response.headers["Content-Type"] == (content_type or XML_TYPE)
    assert client.get(f"/backups/{SEED_BACKUP_ID}").status_code == 200  # same connection


def test_fault_delay(em: Emulator, client: Client) -> None:
    em.inject("delay", seconds=0.3)
    start = time.perf_counter()
    assert client.get("/backups").status_code == 200
    assert time.perf_counter() - start >= 0.3


def test_fault_reset(em: Emulator, client: Client) -> None:
    client.get("/")  # an open keep-alive connection
    em.inject("reset", path="/backups")
    with pytest.raises(requests.ConnectionError):
        client.get("/backups")
    assert client.get("/backups").status_code == 200  # a new connection
    assert [entry["status"] for entry in em.request_log()] == [200, None, 200]
    assert em.stats()["connections"] == 1  # opened after the reset one


def test_fault_huge(em: Emulator, client: Client) -> None:
    size = 5_000_000
    em.inject("huge", size=size)
    response = client.get("/backups", stream=True)
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(size)
    assert response.headers["Content-Type"] == XML_TYPE
    assert next(response.iter_content(100)).startswith(b'<?xml version="1.0"')
    assert 100 + sum(len(chunk) for chunk in response.iter_content(65536)) == size
    assert client.get("/backups").status_code == 200  # the connection is still usable


def test_fault_redirect(em: Emulator, client: Client) -> None:
    em.inject("redirect", status=307, location="http://elsewhere.invalid/api/backups")
    response = client.get("/backups", allow_redirects=False)
    assert (response.status_code, response.headers["Location"]) == (307, "http://elsewhere.invalid/api/backups")
    assert client.get("/backups").status_code == 200


def test_fault_trickle(em: Emulator, client: Client) -> None:
    whole = client.get(f"/backups/{SEED_BACKUP_ID}").content
    em.inject("trickle", interval=0.01)
    start = time.perf_counter()
    response = client.get(f"/backups/{SEED_BACKUP_ID}")
    assert response.content == whole
    assert time.perf_counter() - start >= 0.01 * (len(whole) - 1)


def test_fault_fixed_page(bulk_em: Emulator) -> None:
    client = Client(bulk_em)
    client.logon()
    bulk_em.inject("fixed_page", path="/query", times=None)
    try:
        first = parse(client.query(type="Backup", pageSize="10", page="1"))
        third = parse(client.query(type="Backup", pageSize="10", page="3"))
    finally:
        bulk_em.clear_faults()
    assert first["QueryResult"]["PagingInfo"]["@PageNum"] == third["QueryResult"]["PagingInfo"]["@PageNum"] == "1"
    assert first == third
    assert parse(client.query(type="Backup", pageSize="10", page="3"))["QueryResult"]["PagingInfo"]["@PageNum"] == "3"


def test_inject_validates_its_arguments(em: Emulator) -> None:
    with pytest.raises(ValueError):
        em.inject("explode")
    with pytest.raises(TypeError):
        em.inject("status", colour="red")
    with pytest.raises(TypeError):
        em.inject("delay")
    with pytest.raises(ValueError):
        em.inject("reset", times=0)


# --- transport -------------------------------------------------------------------------------
def test_keep_alive_uses_one_connection(em: Emulator) -> None:
    client = Client(em)
    client.logon()
    for _attempt in range(20):
        assert client.get(f"/backups/{SEED_BACKUP_ID}").status_code == 200
    stats = em.stats()
    assert (stats["connections"], stats["requests"]) == (1, 21)
    assert stats["requests_by_route"]["GET /api/backups/<object_id>"] == 20


def test_no_nagle_stall_on_keep_alive(client: Client) -> None:
    """Without TCP_NODELAY each request would stall ~40 ms (2 s for 50)."""
    client.get("/backups")
    times = []
    for _attempt in range(50):
        start = time.perf_counter()
        assert client.get(f"/backups/{SEED_BACKUP_ID}?format=Entity").status_code == 200
        times.append(time.perf_counter() - start)
    # A stall hits every request; a busy machine slows only some: compare the median.
    assert statistics.median(times) < 0.02


def test_stats_endpoint_is_not_counted(em: Emulator, client: Client) -> None:
    client.get("/backups")
    response = client.http.get(f"{em.url}/_emulator/stats", verify=em.ca_path)
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == em.stats()
    assert em.stats()["requests"] == 1


def test_ten_thousand_entities_in_one_page(tmp_path: Path) -> None:
    with Emulator(tmp_path, password=PASSWORD, bulk=10_000) as em:
        client = Client(em)
        client.logon()
        response = client.query(type="Backup", format="Entities", pageSize="10000")
        assert response.status_code == 200
        assert response.content.count(b'<Backup Type="Backup" Href=') == 10_000


def test_stop_ends_keep_alive_connections(tmp_path: Path) -> None:
    em = Emulator(tmp_path, password=PASSWORD).start()
    client = Client(em)
    assert client.get("/").status_code == 200
    start = time.perf_counter()
    em.stop()
    assert time.perf_counter() - start < 5.0, "stop() must not wait for idle keep-alive connections to time out"
    with pytest.raises(requests.ConnectionError):
        client.get("/")


def test_certificates_share_one_ca(tmp_path: Path) -> None:
    with Emulator(tmp_path) as em:
        ca = Path(em.ca_path).read_bytes()
        assert Client(em).get("/").status_code == 200
    for kind in ("wrong_host", "expired"):
        with Emulator(tmp_path, cert_kind=kind) as em:
            assert Path(em.ca_path).read_bytes() == ca
            with pytest.raises(requests.exceptions.SSLError):
                Client(em).get("/")
    with Emulator(tmp_path) as em:  # the valid certificate is reused
        assert Client(em).get("/").status_code == 200


def test_command_line(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", "--state-dir", str(tmp_path),
         "--password", PASSWORD], cwd=TESTS_DIR, stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(process.stdout.readline())
        assert json.loads((tmp_path / "emulator.json").read_text()) == info
        assert info["url"].startswith("https://127.0.0.1:")
        assert (info["password"], info["pid"]) == (PASSWORD, process.pid)
        http = requests.Session()
        http.trust_env = False
        response = http.get(f"{info['url']}/api/", verify=info["ca_path"], timeout=10)
        assert response.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        process.stdout.close()
