# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small EM that answers with bodies shaped like those of Veeam's EM documentation.

Not the emulator: a handful of fixed objects, written out the way the documented
examples are, byte for byte in form (our own names and ids): an XML declaration
after a UTF-8 byte order mark, the ``xsd``/``xsi`` namespace declarations before
the attributes of a single entity, ``Type Href Name UID`` and Rel-first links in
query pages, hrefs under EM's own host name, a child's parent link named
"Parent Backup", children whose parent EM no longer has (404), and a backup
server with ``<Description />``. It serves logon, logoff, single entities and
backup queries (all, by UID, by name), and records every request.
"""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from werkzeug.wrappers import Request, Response

from emulator.certs import CA_CERT, server_certificate
from emulator.server import EmulatorServer

#: EM builds its hrefs from its own name, whatever address the client called.
EM_BASE = "https://em-north.example.net:9398/api"
BOM = b"\xef\xbb\xbf"
DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'
NAMESPACE = 'xmlns="http://www.veeam.com/ent/v1.0"'
SCHEMAS = 'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
SESSION_HEADER = "X-RestSvcSessionId"
XML_TYPE = "application/xml; charset=utf-8"

SERVER_ID = "4e8c2a17-93b5-4d60-a0f1-6b2d7c9e3a85"
SERVER_NAME = "vbr-north.example.net"
REPOSITORY_ID = "b0d5f3e9-2c71-4a86-9e14-d8a3c6f07b52"
REPOSITORY_NAME = "North Capacity Tier"
PARENT_ID = "17a9c3e5-6d2b-4f08-b5e7-90c1d4a6f2e3"
PARENT_NAME = "Workstations Policy"
CHILD_IDS = ("62f0b8d4-1e9a-4c37-8b25-a4d7e3c90f16", "a5c3e1f7-0b4d-4e92-86a8-3f7b2d9c5e01")
#: The parent of the two orphans: EM links it but answers 404 for it.
GONE_PARENT_ID = "d9e7b5a3-4c1f-4e8d-a2b6-07f3c5e9d1b4"
ORPHAN_IDS = ("38b6d4f2-7a0c-4e5b-9d13-c2e8a6f4b0d7", "e4a2c0f8-5d3b-4a91-b7e6-1f9d3b7c5a28")
STANDARD_ID = "f1d9b7c5-8e6a-4d24-a3f0-5c2e8b0d6a94"
STANDARD_NAME = "File Shares Daily"


@dataclass(frozen=True)
class _Backup:
    id: str
    name: str
    platform: str
    backup_type: str
    parent_id: Optional[str] = None


BACKUPS = (
    _Backup(PARENT_ID, PARENT_NAME, "AgentForWindows", "ParentBackup"),
    _Backup(CHILD_IDS[0], f"{PARENT_NAME} - ws-0107.example.net", "AgentForWindows", "ChildBackup", PARENT_ID),
    _Backup(CHILD_IDS[1], f"{PARENT_NAME} - ws-0212.example.net", "AgentForWindows", "ChildBackup", PARENT_ID),
    _Backup(ORPHAN_IDS[0], "Retired Laptops - lt-0031.example.net", "AgentForWindows", "ChildBackup", GONE_PARENT_ID),
    _Backup(ORPHAN_IDS[1], "Retired Laptops - lt-0046.example.net", "AgentForWindows", "ChildBackup", GONE_PARENT_ID),
    _Backup(STANDARD_ID, STANDARD_NAME, "VMware", "Standard"),
)
_BY_ID = {backup.id: backup for backup in BACKUPS}
_UID = re.compile(r'UID=="urn:veeam:Backup:([0-9a-f-]{36})"', re.IGNORECASE)
_NAME = re.compile(r'^Name=="(.*)"$', re.DOTALL)


def _link(href: str, rel: str, type_: Optional[str] = None, name: Optional[str] = None, rel_first: bool = False) -> str:
    """A ``<Link>``, attributes in the order of the documented example it belongs to."""
    type_attr = f' Type="{type_}"' if type_ else ""
    name_attr = f' Name="{name}"' if name is not None else ""
    if rel_first:
        return f'<Link Rel="{rel}"{type_attr} Href="{href}"{name_attr} />'
    return f'<Link Href="{href}"{name_attr}{type_attr} Rel="{rel}" />'


def backup_body(backup: _Backup, in_query: bool) -> str:
    """A ``<Backup>`` entity: a single one (schemas first, namespace last), or one of a query page."""
    url = f"{EM_BASE}/backups/{backup.id}"
    links = [
        _link(f"{EM_BASE}/repositories/{REPOSITORY_ID}", "Up", "RepositoryReference", REPOSITORY_NAME, in_query),
        _link(f"{EM_BASE}/backupServers/{SERVER_ID}", "Up", "BackupServerReference", SERVER_NAME, in_query),
        _link(url, "Alternate", "BackupReference", backup.name, in_query),
    ]
    if backup.backup_type == "ParentBackup":
        links.append(_link(f"{url}/childbackups?format=Entity", "Down", "BackupList", rel_first=in_query))
    else:
        links.append(_link(f"{url}/restorePoints", "Down", "RestorePointReferenceList", rel_first=in_query))
        links.append(_link(f"{url}/backupFiles", "Down", "BackupFileReferenceList", rel_first=in_query))
    if backup.parent_id:
        links.append(_link(f"{EM_BASE}/backups/{backup.parent_id}?format=Entity", "Up", "Backup", "Parent Backup", in_query))
    attributes = f'Href="{url}?format=Entity" Type="Backup" Name="{backup.name}" UID="urn:veeam:Backup:{backup.id}"'
    if in_query:
        attributes = f'Type="Backup" Href="{url}?format=Entity" Name="{backup.name}" UID="urn:veeam:Backup:{backup.id}"'
    else:
        attributes = f"{SCHEMAS} {attributes} {NAMESPACE}"
    return (f"<Backup {attributes}><Links>{''.join(links)}</Links>"
            f"<Platform>{backup.platform}</Platform><BackupType>{backup.backup_type}</BackupType></Backup>")


def query_body(backups: list[_Backup]) -> str:
    """A ``<QueryResult>`` page without declaration, paging attributes count first, as documented."""
    entities = "".join(backup_body(backup, in_query=True) for backup in backups)
    first = f"{EM_BASE}/query?type=Backup&amp;format=Entities&amp;pageSize=100&amp;page=1"
    return (f"<QueryResult {NAMESPACE}><Entities><Backups>{entities}</Backups></Entities>"
            f'<PagingInfo PagesCount="1" PageSize="100" PageNum="1"><Links>'
            f"{_link(first, 'First', rel_first=True)}{_link(first, 'Last', rel_first=True)}</Links></PagingInfo></QueryResult>")


def backup_server_body() -> str:
    url = f"{EM_BASE}/backupServers/{SERVER_ID}"
    return (f'{DECLARATION}<BackupServer {NAMESPACE} Type="BackupServer" Href="{url}?format=Entity" Name="{SERVER_NAME}"'
            f' UID="urn:veeam:BackupServer:{SERVER_ID}"><Links>'
            f"{_link(url, 'Alternate', 'BackupServerReference', SERVER_NAME, True)}"
            f"{_link(f'{url}/repositories', 'Down', 'RepositoryReferenceList', rel_first=True)}"
            "</Links><Description /><Port>9392</Port><Version>12.3.1.1139</Version></BackupServer>")


def repository_body() -> str:
    url = f"{EM_BASE}/repositories/{REPOSITORY_ID}"
    return (f'<Repository {NAMESPACE} Type="Repository" Href="{url}?format=Entity" Name="{REPOSITORY_NAME}"'
            f' UID="urn:veeam:Repository:{REPOSITORY_ID}"><Links>'
            f"{_link(f'{EM_BASE}/backupServers/{SERVER_ID}', 'Up', 'BackupServerReference', SERVER_NAME, True)}"
            "</Links><Capacity>54975581388800</Capacity><FreeSpace>13743895347200</FreeSpace><Kind>WindowsLocal</Kind></Repository>")


class DocumentedEM:
    """The server over HTTPS on loopback, with a CA of its own in ``state_dir``."""

    def __init__(self, state_dir: Path, username: str, password: str) -> None:
        self.state_dir = state_dir
        self._credentials = (username, password)
        self._lock = threading.Lock()
        self._sessions: dict[str, str] = {}
        self._log: list[tuple[str, str]] = []
        self._connections = 0
        self._server: Optional[EmulatorServer] = None

    def __enter__(self) -> DocumentedEM:
        self._server = EmulatorServer(self._app, "127.0.0.1", 0, server_certificate(self.state_dir), self._connection_opened)
        self._server.start()
        return self

    def __exit__(self, *_exc_info: object) -> None:
        if self._server is not None:
            self._server.stop()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"https://127.0.0.1:{self._server.port}"

    @property
    def ca_path(self) -> str:
        return str(self.state_dir / CA_CERT)

    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every request since the last ``reset``."""
        with self._lock:
            return list(self._log)

    def connections(self) -> int:
        with self._lock:
            return self._connections

    def live_sessions(self) -> int:
        with self._lock:
            return len(self._sessions)

    def reset(self) -> None:
        with self._lock:
            self._log.clear()
            self._connections = 0

    def _connection_opened(self) -> None:
        with self._lock:
            self._connections += 1

    def _app(self, environ, start_response):
        request = Request(environ)
        with self._lock:
            self._log.append((request.method, request.path))
        return self._respond(request)(environ, start_response)

    def _respond(self, request: Request) -> Response:
        path = request.path.lower().rstrip("/")
        if request.method == "POST" and path == "/api/sessionmngr":
            return self._logon(request)
        if request.method == "DELETE" and path.startswith("/api/logonsessions/"):
            with self._lock:
                known = self._sessions.pop(path.rsplit("/", 1)[1], None)
            return Response(status=204) if known else _error(404, "Logon session was not found.")
        with self._lock:
            if request.headers.get(SESSION_HEADER) not in self._sessions.values():
                return _error(401, "Authorization header expected but not found, or found but expired.")
        segments = path.split("/")[2:]
        if request.method == "GET" and segments == ["query"]:
            return _xml(query_body(_queried(request.args.get("filter"))).encode())
        if request.method == "GET" and len(segments) == 2:
            collection, object_id = segments
            if collection == "backups" and object_id in _BY_ID:
                return _xml(BOM + f"{DECLARATION}{backup_body(_BY_ID[object_id], in_query=False)}".encode())
            if collection == "backupservers" and object_id == SERVER_ID:
                return _xml(BOM + backup_server_body().encode())
            if collection == "repositories" and object_id == REPOSITORY_ID:
                return _xml(repository_body().encode())
            return _error(404, f"Object with ID [{object_id}] was not found.")
        return _error(404, "Endpoint not found.")

    def _logon(self, request: Request) -> Response:
        authorization = request.authorization
        if authorization is None or (authorization.username, authorization.password) != self._credentials:
            return _error(401, "The user name or password is incorrect.")
        session_id, token = secrets.token_hex(16), secrets.token_urlsafe(16)
        with self._lock:
            self._sessions[session_id] = token
        body = (f'{DECLARATION}<LogonSession {SCHEMAS} Href="{EM_BASE}/logonSessions/{session_id}" Type="LogonSession" {NAMESPACE}>'
                f"<Links>{_link(f'{EM_BASE}/logonSessions/{session_id}', 'Delete')}</Links>"
                f"<UserName>{authorization.username}</UserName><SessionId>{session_id}</SessionId></LogonSession>")
        response = _xml(body.encode(), 201)
        response.headers[SESSION_HEADER] = token
        return response


def _queried(query_filter: Optional[str]) -> list[_Backup]:
    """The backups an EM query filter selects: all, UIDs joined by ``,`` (or), or one exact name."""
    if not query_filter:
        return list(BACKUPS)
    uids = {uid.lower() for uid in _UID.findall(query_filter)}
    if uids:
        return [backup for backup in BACKUPS if backup.id in uids]
    name = _NAME.match(query_filter)
    return [backup for backup in BACKUPS if name and backup.name == name.group(1).replace('""', '"')]


def _xml(body: bytes, status: int = 200) -> Response:
    return Response(body, status=status, content_type=XML_TYPE)


def _error(status: int, message: str) -> Response:
    return _xml(f'{DECLARATION}<Error {NAMESPACE} Message="{message}" StatusCode="{status}" />'.encode(), status)
