# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP client of EM: one connection, one session, and a logoff in any case.

Private to veeam_em.rest: not a public API, may change without notice.

The client knows HTTP and EM sessions, nothing of Ansible. Use it as a context
manager: entering logs on (unless a session id was given), leaving logs off in
all cases, so no plugin leaves open a session whose id it received. (A logon that
misses its deadline may still open one on EM, which EM expires when it is idle:
see the troubleshooting guide.)
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
import traceback
import warnings
from functools import partial
from http.cookiejar import DefaultCookiePolicy
from typing import Any, Optional
from urllib.parse import urljoin, urlsplit

from ansible_collections.veeam_em.rest.plugins.module_utils._connection_options import ConnectionSettings
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import (
    APIError,
    AuthenticationError,
    CertificateError,
    CommunicationError,
    MalformedXMLError,
    NotFoundError,
    RedirectError,
    UnreadableResponseError,
    VeeamEMError,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._xml import XMLTODICT_IMPORT_ERROR, error_message, parse_document

try:
    import requests
    from requests.adapters import HTTPAdapter
    from requests.utils import get_environ_proxies, select_proxy
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.exceptions import InsecureRequestWarning, NewConnectionError, TimeoutError as Urllib3Timeout
except ImportError:
    REQUESTS_IMPORT_ERROR: Optional[str] = traceback.format_exc()
    HTTPAdapter = HTTPConnectionPool = HTTPSConnectionPool = object  # the classes below must still define
else:
    REQUESTS_IMPORT_ERROR = None

SESSION_HEADER = "X-RestSvcSessionId"
#: Largest body read into memory; EM's largest pages are a few MB.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
RETRY_STATUSES = (502, 503, 504)
#: Backoff between retries, as urllib3 schedules it: none before the first retry,
#: then BACKOFF_FACTOR * 2 ** (n - 1) seconds before retry n, at most BACKOFF_MAX.
BACKOFF_FACTOR = 0.5
BACKOFF_MAX = 5.0
_INVALID_HEADER = "a request header is not valid (it holds a line break or another control character)"


def missing_libraries() -> list[tuple[str, str]]:
    """(name, traceback) of each required Python library that cannot be imported."""
    missing = [("requests", REQUESTS_IMPORT_ERROR), ("xmltodict", XMLTODICT_IMPORT_ERROR)]
    return [(name, error) for name, error in missing if error]


def backoff_seconds(retry: int) -> float:
    """Seconds to wait before retry number ``retry`` (1 for the first)."""
    return 0.0 if retry <= 1 else min(BACKOFF_MAX, BACKOFF_FACTOR * 2 ** (retry - 1))


class _NoCookies(DefaultCookiePolicy):
    """Refuse every cookie: EM prefers a session cookie over the header, so a kept one could win."""

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Any, request: Any) -> bool:
        return False


class _Deadline:
    """Cuts off the connection of a request that outlives its deadline.

    requests' ``timeout`` bounds each socket operation, not the answer: a server
    (or proxy) that sends a byte now and then holds a call as long as it likes.
    A timer shuts the socket of the request's connection down at the deadline,
    which ends whatever read is waiting; ``expired`` then tells the client why.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connection: Any = None
        self._running = False
        self.expired = False

    def track(self, connection: Any) -> None:
        """Called by the connection pool with the connection a request is about to use."""
        with self._lock:
            self._connection = connection
            if self.expired:
                _shut_down(connection)

    def start(self, seconds: float) -> threading.Timer:
        with self._lock:
            self._connection, self._running, self.expired = None, True, False
        timer = threading.Timer(seconds, self._expire)
        timer.daemon = True
        timer.start()
        return timer

    def stop(self, timer: threading.Timer) -> None:
        with self._lock:
            self._connection, self._running = None, False
        timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            if self._running:
                self.expired = True
                if self._connection is not None:
                    _shut_down(self._connection)


def _shut_down(connection: Any) -> None:
    """Shut a connection's socket down for both directions; a blocked read returns at once.

    ``socket.socket.shutdown`` on the socket itself, also for a TLS socket, whose own
    ``shutdown`` would drop its TLS state under the reading thread's feet.
    """
    sock = getattr(connection, "sock", None)
    if sock is not None:
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass


class _TrackedPoolMixin:
    """A urllib3 connection pool that hands each connection it gives out to a ``_Deadline``."""

    deadline: _Deadline

    def _get_conn(self, timeout: Any = None) -> Any:
        connection = super()._get_conn(timeout)  # type: ignore[misc]
        self.deadline.track(connection)
        return connection


class _TrackedHTTPPool(_TrackedPoolMixin, HTTPConnectionPool):  # type: ignore[misc,valid-type]
    pass


class _TrackedHTTPSPool(_TrackedPoolMixin, HTTPSConnectionPool):  # type: ignore[misc,valid-type]
    pass


def _tracked_pool(pool_class: type, deadline: _Deadline, *args: Any, **kwargs: Any) -> Any:
    pool = pool_class(*args, **kwargs)
    pool.deadline = deadline
    return pool


class _DeadlineAdapter(HTTPAdapter):  # type: ignore[misc,valid-type]
    """An ``HTTPAdapter`` without retries of its own (the client retries) whose pools,
    direct or through a proxy, report their connections to a ``_Deadline``.

    ``pool_classes_by_scheme`` is public in urllib3 1.26 and 2.x alike.
    """

    def __init__(self, deadline: _Deadline) -> None:
        self._deadline = deadline  # before super().__init__, which builds the pool manager
        super().__init__(pool_connections=1, pool_maxsize=1)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self._track(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        self._track(manager)
        return manager

    def _track(self, manager: Any) -> None:
        manager.pool_classes_by_scheme = {
            "http": partial(_tracked_pool, _TrackedHTTPPool, self._deadline),
            "https": partial(_tracked_pool, _TrackedHTTPSPool, self._deadline),
        }


class Document:
    """An EM response that parsed: its status, URL, root element and content."""

    def __init__(self, status: int, url: str, root: str, content: dict[str, Any]) -> None:
        self.status, self.url, self.root, self.content = status, url, root, content


class _Retryable(Exception):
    """An attempt failed in a way that another attempt may not; carries the final error."""

    def __init__(self, error: VeeamEMError, before_sending: bool) -> None:
        super().__init__(str(error))
        self.error, self.before_sending = error, before_sending


class EMClient:
    """A conversation with EM over one ``requests.Session``."""

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self.warnings: list[str] = []
        parts = urlsplit(settings.base_url)
        self._address = f"{parts.hostname}:{parts.port}"
        self._session_id: Optional[str] = None
        self._deadline = _Deadline()
        self._http = requests.Session()
        self._http.cookies.set_policy(_NoCookies())
        self._http.headers.update({"Accept": "application/xml", "User-Agent": "veeam_em.rest"})
        adapter = _DeadlineAdapter(self._deadline)
        self._http.mount("https://", adapter)
        self._http.mount("http://", adapter)
        self._proxy = _proxy_for(settings.base_url)
        if settings.session_id:
            self._http.headers[SESSION_HEADER] = settings.session_id
        if settings.verify is False:
            self.warnings.append(
                f"validate_certs is false: the TLS certificate of EM at {self._address} is not verified. "
                "Set ca_path to EM's CA certificate instead."
            )

    def __enter__(self) -> EMClient:
        try:
            if not self.settings.session_id:
                self._logon()
        except BaseException:
            self._http.close()
            raise
        return self

    def __exit__(self, *_exc_info: Any) -> None:
        try:
            if self._session_id:
                self._logoff()
        finally:
            self._http.close()

    def url(self, path: str) -> str:
        """The absolute URL of a path below EM's ``/api``."""
        return f"{self.settings.base_url}/{path.lstrip('/')}"

    def get(self, path: str, params: Optional[dict[str, str]] = None) -> Document:
        """GET an EM resource and parse it; a session expired on the way is renewed once."""
        url = self.url(path)
        response, body = self._send("GET", url, params=params)
        if response.status_code == 401 and self._session_id:
            self._session_id = None  # EM dropped it: there is nothing to log off.
            self._logon()
            response, body = self._send("GET", url, params=params)
        return self._document(response, body, "GET", url)

    def post(self, path: str, body: bytes, params: Optional[dict[str, str]] = None) -> Document:
        """POST an XML document to an EM action and parse the answer (``202 Accepted`` and a ``Task``).

        Sent at most once: an action EM may have received is never sent again, so it
        is retried only when no connection could be made. A 401 means EM refused the
        session before acting: the session is renewed and the request sent once more.
        """
        url = self.url(path)
        headers = {"Content-Type": "application/xml; charset=utf-8"}
        response, answer = self._send("POST", url, params=params, data=body, headers=headers)
        if response.status_code == 401 and self._session_id:
            self._session_id = None
            self._logon()
            response, answer = self._send("POST", url, params=params, data=body, headers=headers)
        return self._document(response, answer, "POST", url)

    def get_link(self, href: str, params: Optional[dict[str, str]] = None) -> Document:
        """GET a resource EM linked to, rebased onto the configured URL.

        EM builds hrefs from its own idea of its name, scheme and port
        (``http://local.host:9399/api/...``); only the part below ``/api/`` is kept.
        """
        path = urlsplit(href).path
        if "/api/" not in path:
            raise UnreadableResponseError(f"EM linked to {href!r}, which is not below its /api.")
        return self.get(path.split("/api/", 1)[1], params=params)

    def _logon(self) -> None:
        url = self.url("sessionMngr/")
        self._http.headers.pop(SESSION_HEADER, None)
        auth = (self.settings.username.encode("utf-8"), self.settings.password.encode("utf-8"))
        response, body = self._send("POST", url, params={"v": self.settings.api_version}, auth=auth)
        if response.status_code == 401:
            raise AuthenticationError(
                f"EM at {self._address} refused the logon of user {self.settings.username!r} (HTTP 401): "
                "check username and password, and that the account has an Enterprise Manager role."
            )
        document = self._document(response, body, "POST", url)
        token = response.headers.get(SESSION_HEADER)
        session_id = document.content.get("SessionId")
        if not token or not session_id:
            raise UnreadableResponseError(f"EM's logon answer from {url} carries no session (HTTP {response.status_code}).")
        self._http.headers[SESSION_HEADER] = token
        self._session_id = session_id

    def _logoff(self) -> None:
        """Close the session; a failure is a warning, since the data fetched is still good."""
        url = self.url(f"logonSessions/{self._session_id}")
        try:
            response, body = self._send("DELETE", url)
            if response.status_code not in (200, 204):
                self._document(response, body, "DELETE", url)
        except VeeamEMError as exc:
            self.warnings.append(f"Could not log off from EM, the session stays open until EM expires it: {exc}")
        finally:
            self._session_id = None
            self._http.headers.pop(SESSION_HEADER, None)

    def _send(self, method: str, url: str, **kwargs: Any) -> tuple[requests.Response, bytes]:
        """One request, with up to ``retries`` retries and a deadline of ``timeout`` seconds each.

        A GET is retried after any failure to get an answer (refused, reset, cut
        off mid-body, over its deadline) and after HTTP 502/503/504. The logon
        (POST) and the logoff (DELETE) are retried only when no connection could
        be made, so nothing was sent: a logon EM may have received is never sent
        twice. A call so takes at most ``timeout * (retries + 1)`` seconds plus the
        backoff between the attempts.
        """
        retries = 0
        while True:
            try:
                response, body = self._attempt(method, url, retries, **kwargs)
            except _Retryable as failure:
                if retries == self.settings.retries or not (method == "GET" or failure.before_sending):
                    raise failure.error from None
            else:
                if method != "GET" or response.status_code not in RETRY_STATUSES or retries == self.settings.retries:
                    return response, body
            retries += 1
            time.sleep(backoff_seconds(retries))

    def _attempt(self, method: str, url: str, retries: int, **kwargs: Any) -> tuple[requests.Response, bytes]:
        """Send a request and read its body within ``timeout``, with TLS settings passed explicitly.

        ``verify`` goes on every request: a ``Session.verify`` value would lose
        against ``REQUESTS_CA_BUNDLE`` in the environment. Redirects are never
        followed: EM does not redirect its API, and requests would send the
        session header to wherever the redirect points.
        """
        tried = f"{method} {url}" + (f", after {retries} {'retry' if retries == 1 else 'retries'}" if retries else "")
        timeout = self.settings.timeout
        timer = self._deadline.start(timeout)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InsecureRequestWarning)
                response = self._http.request(
                    method, url, verify=self.settings.verify, timeout=timeout, stream=True, allow_redirects=False, **kwargs
                )
                body = _read_bounded(response, f"{method} {url}")
        except requests.exceptions.SSLError as exc:
            if self._deadline.expired:
                raise _Retryable(self._timed_out(tried), before_sending=False) from None
            raise CertificateError(
                f"Could not verify the TLS certificate of EM at {self._address} ({_reason(exc)}). "
                "Set ca_path to the CA certificate that signed EM's certificate, or, only for a test system, "
                "validate_certs=false."
            ) from None
        except requests.exceptions.ChunkedEncodingError as exc:
            if self._deadline.expired:
                raise _Retryable(self._timed_out(tried), before_sending=False) from None
            raise _Retryable(
                CommunicationError(f"EM at {self._address} broke off its answer to {tried}: {_reason(exc)}."),
                before_sending=False,
            ) from None
        except requests.exceptions.RequestException as exc:
            if self._deadline.expired or _caused_by_timeout(exc):
                raise _Retryable(self._timed_out(tried), before_sending=_not_connected(exc)) from None
            raise _Retryable(self._unreachable(exc, tried), before_sending=_not_connected(exc)) from None
        except ValueError:
            # http.client's check of header values (requests 2.25 does not check them itself);
            # its text quotes the value, which may be a session token.
            raise CommunicationError(f"Could not send {tried} to EM at {self._address}: {_INVALID_HEADER}.") from None
        finally:
            self._deadline.stop(timer)
        if self._deadline.expired:
            raise _Retryable(self._timed_out(tried), before_sending=False)
        if 300 <= response.status_code < 400:
            raise RedirectError(
                f"EM at {self._address} answered {method} {url} with a redirect (HTTP {response.status_code}) to "
                f"{_origin(urljoin(url, response.headers.get('Location', '')))}, which this collection does not follow: "
                "EM does not redirect its API, and a redirect would carry the session to another host. "
                "Set url to EM's own address (not that of a proxy or load balancer that redirects)."
            )
        return response, body

    def _timed_out(self, tried: str) -> CommunicationError:
        return CommunicationError(
            f"EM at {self._address} did not answer within the timeout of {self.settings.timeout} seconds ({tried})."
            + (f" The request went through the proxy {self._proxy}." if self._proxy else "")
        )

    def _unreachable(self, exc: BaseException, tried: str) -> CommunicationError:
        if self._proxy and isinstance(exc, requests.exceptions.ProxyError):
            return CommunicationError(
                f"Could not reach EM at {self._address} through the proxy {self._proxy} ({tried}): the proxy "
                f"failed: {_reason(exc)}. The proxy comes from the environment (HTTPS_PROXY, HTTP_PROXY, "
                "ALL_PROXY): check it, or add EM's host name to NO_PROXY to connect directly."
            )
        via = f" through the proxy {self._proxy}" if self._proxy else ""
        return CommunicationError(f"Could not reach EM at {self._address}{via} ({tried}): {_reason(exc)}.")

    def _document(self, response: requests.Response, body: bytes, method: str, url: str) -> Document:
        """Parse a response, or raise the error it stands for."""
        status = response.status_code
        if status >= 400:
            message = error_message(body) or response.reason or "no error message"
            error_class = NotFoundError if status == 404 else AuthenticationError if status == 401 else APIError
            if error_class is AuthenticationError:
                raise AuthenticationError(f"EM refused the session for {method} {url} (HTTP 401): {message}")
            raise error_class(f"EM answered HTTP {status} for {method} {url}: {message}", status)
        content_type = response.headers.get("Content-Type", "")
        try:
            if "xml" not in content_type.lower():
                raise MalformedXMLError(f"expected XML, got content type {content_type or 'none'!r}")
            root, content = parse_document(body)
        except MalformedXMLError as exc:
            raise UnreadableResponseError(
                f"EM returned an unreadable response (HTTP {status}) for {method} {url}: {exc}."
            ) from None
        return Document(status, url, root, content)


def _proxy_for(url: str) -> Optional[str]:
    """The proxy the environment sets for ``url`` (honouring NO_PROXY), as scheme://host:port.

    Never with the user and password a proxy URL may carry.
    """
    proxy = select_proxy(url, get_environ_proxies(url))
    return _origin(proxy) if proxy else None


def _origin(url: str) -> str:
    """``scheme://host:port`` of a URL: no user information, path or query string."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(an unreadable address)"
    return f"{parts.scheme}://{parts.hostname}{port}" if parts.hostname else "(no address)"


def _read_bounded(response: requests.Response, request: str) -> bytes:
    """Read the body, refusing bodies above ``MAX_RESPONSE_BYTES`` instead of buffering without bound."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        response.close()
        raise UnreadableResponseError(
            f"EM's response to {request} is {int(declared)} bytes, more than the {MAX_RESPONSE_BYTES} bytes this collection reads."
        )
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=256 * 1024):
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            response.close()
            raise UnreadableResponseError(
                f"EM's response to {request} is larger than the {MAX_RESPONSE_BYTES} bytes this collection reads."
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and the errors it wraps, outermost first (requests and urllib3 nest them)."""
    chain: list[BaseException] = []
    cause: Optional[BaseException] = exc
    while cause is not None and cause not in chain:
        chain.append(cause)
        reason = getattr(cause, "reason", None)
        wrapped = [arg for arg in (reason, *cause.args) if isinstance(arg, BaseException)]
        cause = wrapped[0] if wrapped else cause.__context__
    return chain


def _caused_by_timeout(exc: BaseException) -> bool:
    """requests reports a read timeout as a ConnectionError at times.

    urllib3 files "connection refused" under its timeouts too (NewConnectionError).
    """
    return any(
        isinstance(cause, (Urllib3Timeout, TimeoutError)) and not isinstance(cause, NewConnectionError)
        for cause in _causes(exc)
    )


def _not_connected(exc: BaseException) -> bool:
    """True when no connection was made, so nothing of the request was sent."""
    return isinstance(exc, requests.exceptions.ConnectTimeout) or any(
        isinstance(cause, NewConnectionError) for cause in _causes(exc)
    )


def _reason(exc: BaseException) -> str:
    """A human-readable cause of a requests/urllib3 error that cannot hold a secret.

    Only the operating system's error text and TLS's verification text are taken
    over: exception texts of requests and urllib3 may quote a header value (an
    invalid session token, say) or a proxy URL with its password.
    """
    chain = _causes(exc)
    for cause in reversed(chain):
        if isinstance(cause, ssl.SSLCertVerificationError) and cause.verify_message:
            return f"certificate verify failed: {cause.verify_message}"
        if isinstance(cause, OSError) and cause.strerror and not isinstance(cause, ssl.SSLError):
            return cause.strerror
        if isinstance(cause, ssl.SSLError) and cause.reason:
            return f"TLS error {cause.reason}"
    if any(isinstance(cause, requests.exceptions.InvalidHeader) for cause in chain):
        return _INVALID_HEADER
    if any(type(cause).__name__ in ("IncompleteRead", "ProtocolError", "RemoteDisconnected") for cause in chain):
        return "the connection was closed before the answer was complete"
    return f"{type(chain[-1]).__name__}"
