# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WSGI application: EM's routes, authentication, faults and bookkeeping.

Paths are matched in lower case: EM (a WCF service) routes without regard to case,
and ids are lower-case GUIDs, so ``/api/BackupServers/8C88...`` finds the same object.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .data import (
    Backup,
    BackupServer,
    DataSet,
    Job,
    JobSession,
    Repository,
    RestorePoint,
    TaskSession,
    VmRestorePoint,
)
from .faults import Fault, FaultRegistry
from .query import QueryError, QueryPage, parse_query, run_query
from .recorder import Recorder
from .render import ROOT_NS, SUPPORTED_VERSIONS, Renderer, document, error_document
from .sessions import Session, SessionStore

# Set in the WSGI environ when the server must reset the connection without answering.
ABORT_CONNECTION = "emulator.abort_connection"
# Set when the server must send the headers and half the body, then reset the connection.
CUT_CONNECTION = "emulator.cut_connection"

SESSION_HEADER = "X-RestSvcSessionId"
DOMAIN = "EMULATOR"
XML_TYPE = "application/xml; charset=utf-8"
# Accepted ?v= values of POST /api/sessionMngr/ (any case); the emulator serves every
# version alike.
LOGON_VERSIONS = ("latest", *SUPPORTED_VERSIONS)
EXPIRED_MESSAGE = "Authorization header expected but not found, or found but expired."
_HUGE_CHUNK = 64 * 1024
#: HTTP.sys, which serves EM, refuses a longer request line by default (MaxFieldLength, 16 kB)
#: with 414 and a page of its own, before EM sees the request.
REQUEST_LINE_LIMIT = 16 * 1024


def _get(path: str, endpoint: str) -> Rule:
    return Rule(path, endpoint=endpoint, methods=["GET"])


_URL_MAP = Map(
    [
        _get("/api/", "root"),
        Rule("/api/sessionmngr/", endpoint="logon", methods=["POST"]),
        _get("/api/logonsessions", "logon_sessions"),
        _get("/api/logonsessions/<session_id>", "logon_session"),
        Rule("/api/logonsessions/<session_id>", endpoint="logoff", methods=["DELETE"]),
        _get("/api/backups", "backups"),
        _get("/api/backups/<object_id>", "backup"),
        _get("/api/backups/<object_id>/restorepoints", "backup_restore_points"),
        _get("/api/backups/<object_id>/childbackups", "child_backups"),
        _get("/api/repositories", "repositories"),
        _get("/api/repositories/<object_id>", "repository"),
        _get("/api/repositories/<object_id>/backups", "repository_backups"),
        _get("/api/backupservers", "backup_servers"),
        _get("/api/backupservers/<object_id>", "backup_server"),
        _get("/api/backupservers/<object_id>/repositories", "server_repositories"),
        _get("/api/restorepoints", "restore_points"),
        _get("/api/restorepoints/<object_id>", "restore_point"),
        _get("/api/restorepoints/<object_id>/vmrestorepoints", "restore_point_vm_points"),
        _get("/api/vmrestorepoints", "vm_restore_points"),
        _get("/api/vmrestorepoints/<object_id>", "vm_restore_point"),
        _get("/api/jobs", "jobs"),
        _get("/api/jobs/<object_id>", "job"),
        _get("/api/jobs/<object_id>/backupsessions", "job_sessions"),
        _get("/api/backupsessions", "backup_sessions"),
        _get("/api/backupsessions/<object_id>", "backup_session"),
        _get("/api/backupsessions/<object_id>/tasksessions", "session_tasks"),
        _get("/api/backuptasksessions/<object_id>", "task_session"),
        _get("/api/query", "query"),
    ],
    strict_slashes=False,
)
_PUBLIC_ENDPOINTS = frozenset({"root", "logon"})


@dataclass
class _Call:
    """One request being served: its parameters (keys lower-cased, as EM ignores their
    case), a renderer bound to the caller's base URL, and the session once verified."""

    request: Request
    renderer: Renderer
    params: dict[str, str] = field(init=False)
    session: Session | None = None

    def __post_init__(self) -> None:
        self.params = {key.lower(): value for key, value in self.request.args.items()}

    @property
    def entity_format(self) -> bool:
        return self.params.get("format", "").lower() == "entity"


def xml_response(body: bytes, status: int = 200) -> Response:
    return Response(body, status=status, content_type=XML_TYPE)


def error_response(status: int, message: str, first_chance: str | None = None) -> Response:
    return xml_response(error_document(status, message, first_chance), status)


def _request_line_length(request: Request) -> int:
    """Bytes of the request line as the client sent it (method, URL-encoded path and query, protocol)."""
    target = request.environ.get("REQUEST_URI") or request.environ.get("RAW_URI") or request.full_path
    return len(f"{request.method} {target} {request.environ.get('SERVER_PROTOCOL', 'HTTP/1.1')}".encode("latin-1", "replace"))


def _session_token(request: Request) -> str | None:
    """EM uses the cookie when both the cookie and the header are sent."""
    return request.cookies.get(SESSION_HEADER) or request.headers.get(SESSION_HEADER)


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(user, password) of a Basic Authorization header. UTF-8 is tried first (curl,
    Ansible), then Latin-1 (what ``requests`` sends for non-ASCII characters)."""
    scheme, _separator, data = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        raw = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    user, colon, password = text.partition(":")
    return (user, password) if colon else None


def _dotnet_url_encode(value: str) -> str:
    """Encode like .NET's ``HttpUtility.UrlEncode`` (``+`` for space, lower-case hex),
    which is how EM re-encodes parameters in its paging links."""
    encoded = quote_plus(value, safe="()!*")
    return re.sub(r"%[0-9A-F]{2}", lambda match: match.group(0).lower(), encoded)


def _trickled(body: bytes, interval: float) -> Iterator[bytes]:
    """``body`` one byte at a time, ``interval`` seconds apart: an answer that never times out a read."""
    for index in range(len(body)):
        if index:
            time.sleep(interval)
        yield body[index:index + 1]


def _huge_body(size: int) -> Iterator[bytes]:
    """``size`` bytes of EntityReferences-looking XML, produced chunk by chunk."""
    head = document(f"<EntityReferences{ROOT_NS}>")
    ref = (b'<Ref UID="urn:veeam:Backup:00000000-0000-0000-0000-000000000000" Name="Huge"'
           b' Href="https://emulator.invalid/api/backups/00000000-0000-0000-0000-000000000000"'
           b' Type="BackupReference"/>')
    block = ref * (_HUGE_CHUNK // len(ref) + 1)
    first = (head + block)[:min(size, _HUGE_CHUNK)]
    yield first
    left = size - len(first)
    while left > 0:
        chunk = block[:min(left, _HUGE_CHUNK)]
        yield chunk
        left -= len(chunk)


class EmulatorApp:
    """EM's REST API over one data set, plus ``GET /_emulator/stats`` (no auth, not
    counted) for tests that run the emulator in another process."""

    def __init__(self, data: DataSet, sessions: SessionStore, faults: FaultRegistry,
                 recorder: Recorder, username: str, password: str) -> None:
        self.data = data
        self.sessions = sessions
        self.faults = faults
        self.recorder = recorder
        self._in_flight = threading.Condition()
        self._busy = 0
        self._username = username
        self._password = password.encode()
        self._handlers: dict[str, Callable[..., Response]] = {
            "root": self._root,
            "logon": self._logon,
            "logon_sessions": self._logon_sessions,
            "logon_session": self._logon_session,
            "logoff": self._logoff,
            "backups": lambda call: self._list(call, Backup, self.data.backups.values()),
            "backup": lambda call, object_id: self._item(call, self.data.backups, object_id),
            "backup_restore_points": lambda call, object_id: self._sub_list(
                call, self.data.backups, object_id, RestorePoint, self.data.restore_points_of),
            "child_backups": lambda call, object_id: self._sub_list(
                call, self.data.backups, object_id, Backup, self.data.children_of),
            "repositories": lambda call: self._list(
                call, Repository, self.data.repositories.values()),
            "repository": lambda call, object_id: self._item(
                call, self.data.repositories, object_id),
            "repository_backups": lambda call, object_id: self._sub_list(
                call, self.data.repositories, object_id, Backup, self.data.backups_in),
            "backup_servers": lambda call: self._list(
                call, BackupServer, self.data.backup_servers.values()),
            "backup_server": lambda call, object_id: self._item(
                call, self.data.backup_servers, object_id),
            "server_repositories": lambda call, object_id: self._sub_list(
                call, self.data.backup_servers, object_id, Repository,
                self.data.repositories_of),
            "restore_points": lambda call: self._list(
                call, RestorePoint, self.data.restore_points.values()),
            "restore_point": lambda call, object_id: self._item(
                call, self.data.restore_points, object_id),
            "restore_point_vm_points": lambda call, object_id: self._sub_list(
                call, self.data.restore_points, object_id, VmRestorePoint,
                self.data.vm_restore_points_of),
            "vm_restore_points": lambda call: self._list(
                call, VmRestorePoint, self.data.vm_restore_points.values()),
            "vm_restore_point": lambda call, object_id: self._item(
                call, self.data.vm_restore_points, object_id),
            "jobs": lambda call: self._list(call, Job, self.data.jobs.values()),
            "job": lambda call, object_id: self._item(call, self.data.jobs, object_id),
            "job_sessions": lambda call, object_id: self._sub_list(
                call, self.data.jobs, object_id, JobSession, self.data.sessions_of_job),
            "backup_sessions": lambda call: self._list(call, JobSession, self.data.recent_sessions()),
            "backup_session": lambda call, object_id: self._item(call, self.data.job_sessions, object_id),
            "session_tasks": lambda call, object_id: self._sub_list(
                call, self.data.job_sessions, object_id, TaskSession, self.data.tasks_of_session),
            "task_session": lambda call, object_id: self._item(call, self.data.task_sessions, object_id),
            "query": self._query,
        }

    def stats(self) -> dict[str, Any]:
        """Counters plus the number of sessions still live."""
        return {**self.recorder.counters(), "live_sessions": len(self.sessions.live())}

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
        request = Request(environ)
        with self._in_flight:
            self._busy += 1
        try:
            return self._respond(request)(environ, start_response)
        finally:
            with self._in_flight:
                self._busy -= 1
                self._in_flight.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request is being handled (a delayed one may outlive its test)."""
        with self._in_flight:
            return self._in_flight.wait_for(lambda: self._busy == 0, timeout)

    # --- request pipeline ----------------------------------------------------------------
    def _respond(self, request: Request) -> Response:
        path = request.path.lower()
        if path == "/_emulator/stats":
            return Response(json.dumps(self.stats()), content_type="application/json")
        if path != "/api" and not path.startswith("/api/"):
            return error_response(404, "Endpoint not found.")
        if _request_line_length(request) > REQUEST_LINE_LIMIT:
            self.recorder.request(request.method, request.path, request.query_string.decode("latin-1"),
                                  "(request line too long)", 414, False)
            return Response("<h2>Bad Request - Request URL Too Long</h2>", status=414, content_type="text/html")
        call = _Call(request, Renderer(self.data, request.host_url.rstrip("/")))
        route = "(unmatched)"
        status: int | None = None
        body_bytes = 0
        try:
            fault = self.faults.take(request.method, request.path)
            response, route = self._serve(call, fault)
            status = None if request.environ.get(ABORT_CONNECTION) else response.status_code
            body_bytes = (response.calculate_content_length() or 0) if status is not None else 0
        finally:
            self.recorder.request(request.method, request.path,
                                  request.query_string.decode("latin-1"), route, status,
                                  call.session is not None, body_bytes)
        return response

    def _serve(self, call: _Call, fault: Fault | None) -> tuple[Response, str]:
        """Apply the fault (if any) around the routed handler; returns the response and
        the route pattern for the per-route counters."""
        rule, args, routing_status = self._route(call.request)
        route = rule.rule if rule is not None else "(unmatched)"
        kind = fault.kind if fault else None
        if kind == "status":
            return error_response(fault.params["status"], fault.params["message"]), route
        if kind == "reset":
            # The server drops the connection instead of sending this response.
            call.request.environ[ABORT_CONNECTION] = True
            return Response(b""), route
        if kind == "redirect":
            response = Response(b"", status=fault.params["status"])
            response.headers["Location"] = fault.params["location"]
            return response, route
        if kind == "fixed_page":
            call.params["page"] = str(fault.params["page"])
        if kind == "huge":
            size = fault.params["size"]
            return Response(_huge_body(size), content_type=XML_TYPE, direct_passthrough=True,
                            headers={"Content-Length": str(size)}), route
        if kind == "delay":
            time.sleep(fault.params["seconds"])
        if kind == "expire_session":
            token = _session_token(call.request)
            if token:
                self.sessions.expire(token)
        if rule is None:
            response = error_response(routing_status, "Endpoint not found."
                                      if routing_status == 404 else "Method not allowed.")
        else:
            response = self._dispatch(call, rule.endpoint, args)
        if kind == "body":
            self._replace_body(response, fault)
        if kind == "cut":
            call.request.environ[CUT_CONNECTION] = True
        if kind == "trickle":
            body = response.get_data()
            response = Response(_trickled(body, fault.params["interval"]), status=response.status_code,
                                content_type=response.content_type, direct_passthrough=True,
                                headers={"Content-Length": str(len(body))})
        return response, route

    @staticmethod
    def _route(request: Request) -> tuple[Rule | None, dict[str, str], int]:
        """(rule, arguments, 200), or (None, {}, 404 or 405) when nothing matches."""
        adapter = _URL_MAP.bind_to_environ(request.environ)
        try:
            rule, args = adapter.match(request.path.lower(), request.method, return_rule=True)
        except MethodNotAllowed:
            return None, {}, 405
        except NotFound:
            return None, {}, 404
        return rule, args, 200

    def _dispatch(self, call: _Call, endpoint: str, args: dict[str, str]) -> Response:
        if endpoint not in _PUBLIC_ENDPOINTS:
            token = _session_token(call.request)
            call.session = self.sessions.touch(token) if token else None
            if call.session is None:
                return error_response(401, EXPIRED_MESSAGE)
        try:
            return self._handlers[endpoint](call, **args)
        except Exception as exc:  # an emulator bug: answer like EM's 500 and show it
            traceback.print_exc()
            return error_response(500, "Internal error in the EM emulator.", repr(exc))

    @staticmethod
    def _replace_body(response: Response, fault: Fault) -> None:
        response.set_data(fault.params["body"])
        if fault.params["content_type"] is not None:
            response.content_type = fault.params["content_type"]
        if fault.params["status"] is not None:
            response.status_code = fault.params["status"]

    # --- session endpoints ---------------------------------------------------------------
    def _root(self, call: _Call) -> Response:
        return xml_response(call.renderer.enterprise_manager())

    def _logon(self, call: _Call) -> Response:
        requested = call.params.get("v", "latest")
        if requested.lower() not in LOGON_VERSIONS:
            return error_response(400, f"API version {requested} is not supported. "
                                       f"Supported versions: {', '.join(LOGON_VERSIONS)}.")
        user = self._authenticate(call.request.headers.get("Authorization"))
        if user is None:
            response = error_response(401, "The user name or password is incorrect.")
            response.headers["WWW-Authenticate"] = "Basic Realm=RestSvc"
            return response
        session = self.sessions.create(f"{DOMAIN}\\{user}")
        self.recorder.logon()
        body = call.renderer.logon_session(session.session_id, session.user_name)
        response = xml_response(document(body), 201)
        response.headers[SESSION_HEADER] = session.token
        response.headers.add("Set-Cookie", f"{SESSION_HEADER}={session.token}; Path=/api;")
        return response

    def _authenticate(self, header: str | None) -> str | None:
        """The configured user name if the Basic credentials match (the user name without
        regard to case, optionally as ``EMULATOR\\user``), else None."""
        credentials = _basic_credentials(header)
        if credentials is None:
            return None
        user, password = credentials
        if user.upper().startswith(f"{DOMAIN}\\"):
            user = user[len(DOMAIN) + 1:]
        user_ok = user.casefold() == self._username.casefold()
        password_ok = hmac.compare_digest(password.encode(), self._password)
        return self._username if user_ok and password_ok else None

    def _logon_sessions(self, call: _Call) -> Response:
        live = [(s.session_id, s.user_name) for s in self.sessions.live()]
        return xml_response(call.renderer.logon_sessions(live))

    def _logon_session(self, call: _Call, session_id: str) -> Response:
        session = self.sessions.find(session_id)
        if session is None:
            return error_response(404, f"Logon session {session_id} was not found.")
        return xml_response(document(call.renderer.logon_session(session.session_id,
                                                                 session.user_name)))

    def _logoff(self, call: _Call, session_id: str) -> Response:
        if not self.sessions.remove(session_id):
            return error_response(404, f"Logon session {session_id} was not found.")
        self.recorder.logoff()
        response = Response(status=204)
        del response.headers["Content-Type"]
        return response

    # --- resources -----------------------------------------------------------------------
    def _list(self, call: _Call, kind: type, objects: Any) -> Response:
        renderer = call.renderer
        if call.entity_format:
            return xml_response(renderer.entity_list(kind, objects))
        return xml_response(renderer.entity_references(objects))

    def _item(self, call: _Call, objects: dict[str, Any], object_id: str) -> Response:
        obj = objects.get(object_id)
        if obj is None:
            return self._not_found(object_id)
        renderer = call.renderer
        if call.entity_format:
            return xml_response(document(renderer.entity(obj, ROOT_NS), bom=True))
        return xml_response(document(renderer.ref(obj, "EntityRef", ROOT_NS), bom=True))

    def _sub_list(self, call: _Call, parents: dict[str, Any], object_id: str, kind: type,
                  children: Callable[[str], list]) -> Response:
        if object_id not in parents:
            return self._not_found(object_id)
        return self._list(call, kind, children(object_id))

    @staticmethod
    def _not_found(object_id: str) -> Response:
        return error_response(404, f"Object with ID [{object_id}] was not found.")

    def _query(self, call: _Call) -> Response:
        try:
            query = parse_query(call.params)
        except QueryError as exc:
            return error_response(400, str(exc))
        page = run_query(self.data, query)
        body = call.renderer.query_result(
            query.type.kind, page.items, query.entities,
            (page.page, page.page_size, page.pages_count), self._page_links(call, page))
        return xml_response(body)

    @staticmethod
    def _page_links(call: _Call, page: QueryPage) -> list[tuple[str, str]]:
        """First/Previous/Next/Last, repeating the caller's parameters as EM does."""
        kept = [(key, value) for key, value in call.request.args.items(multi=True)
                if key.lower() not in ("page", "pagesize")]
        base = f"{call.request.host_url.rstrip('/')}/api/query?"

        def href(number: int) -> str:
            params = [*kept, ("pageSize", str(page.page_size)), ("page", str(number))]
            return base + "&".join(f"{_dotnet_url_encode(key)}={_dotnet_url_encode(value)}"
                                   for key, value in params)

        links = [("First", href(1))]
        if page.page > 1:
            links.append(("Previous", href(page.page - 1)))
        if page.page < page.pages_count:
            links.append(("Next", href(page.page + 1)))
        links.append(("Last", href(page.pages_count)))
        return links
