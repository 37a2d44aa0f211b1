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

import re
import ssl
import time
import traceback
import warnings
from contextlib import suppress
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
    from urllib3.exceptions import HTTPError as Urllib3Error, InsecureRequestWarning, NewConnectionError, TimeoutError as Urllib3Timeout
except ImportError:
    REQUESTS_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    REQUESTS_IMPORT_ERROR = None

SESSION_HEADER = "X-RestSvcSessionId"
#: Where a logon answer that does not parse names its session (the root's Href, the
#: Delete link, the SessionId element or field): EM's session ids are GUIDs.
_SESSION_ID_IN_BODY = re.compile(rb"(?:logonSessions/|SessionId\W{1,4})([0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})\b", re.IGNORECASE)
#: How much of such an answer is searched (a logon answer is a few kB).
MAX_LOGON_SCAN = 64 * 1024
#: Largest body read into memory; EM's largest pages are a few MB.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
#: A body is read in pieces sized to the server's pace (see ``_read_bounded``): a read that
#: takes less than QUICK_READ seconds doubles the next one, up to LARGEST_READ bytes.
QUICK_READ = 0.05
LARGEST_READ = 256 * 1024
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
        self._http = requests.Session()
        self._http.cookies.set_policy(_NoCookies())
        self._http.headers.update({"Accept": "application/xml", "User-Agent": "veeam_em.rest"})
        # No retries of requests' own (the client retries) and one connection: EM is one host.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=1)
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
        if parts.scheme == "http":
            credentials = "the password" if settings.password else "the session id"
            self.warnings.append(
                f"url {_origin(settings.base_url)} is plain HTTP: {credentials} and EM's answers cross the network "
                f"unencrypted. Use https:// (EM serves its API over HTTPS on port 9398)."
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
        """GET an EM resource and parse it; a session refused on the way is renewed once.

        A 401 may come while EM still holds the session (a restarted node behind a
        load balancer, say): the refused session is logged off before the new logon,
        so that no session is left behind either way.
        """
        url = self.url(path)
        response, body = self._send("GET", url, params=params)
        if response.status_code == 401 and self._session_id:
            self._logoff(quietly=True)
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
        """Log on; a session EM opened is logged off again when its answer cannot be used."""
        url = self.url("sessionMngr/")
        self._http.headers.pop(SESSION_HEADER, None)
        auth = (self.settings.username.encode("utf-8"), self.settings.password.encode("utf-8"))
        response, body = self._send("POST", url, params={"v": self.settings.api_version}, auth=auth)
        if response.status_code == 401:
            raise AuthenticationError(
                f"EM at {self._address} refused the logon of user {self.settings.username!r} (HTTP 401): "
                "check username and password, and that the account has an Enterprise Manager role."
            )
        token = response.headers.get(SESSION_HEADER)
        try:
            session_id = self._document(response, body, "POST", url).content.get("SessionId")
            if not token or not session_id:
                raise UnreadableResponseError(f"EM's logon answer from {url} carries no session (HTTP {response.status_code}).")
        except VeeamEMError:
            if token and response.status_code < 300:
                self._abandon(token, body)
            raise
        self._http.headers[SESSION_HEADER] = token
        self._session_id = session_id

    def _abandon(self, token: str, body: bytes) -> None:
        """Log off a session whose logon answer cannot be used, found by the id its body shows."""
        match = _SESSION_ID_IN_BODY.search(body[:MAX_LOGON_SCAN])
        if not match:
            self.warnings.append(
                "EM opened a session but its logon answer does not name it: the session stays open until EM expires it."
            )
            return
        self._http.headers[SESSION_HEADER] = token
        self._session_id = match.group(1).decode("ascii")
        self._logoff()

    def _logoff(self, quietly: bool = False) -> None:
        """Close the session; a failure is a warning, since the data fetched is still good.

        ``quietly``: one attempt and no warning, for a session EM refused, which it has
        most likely dropped already (its logoff then fails, as expected).
        """
        url = self.url(f"logonSessions/{self._session_id}")
        try:
            response, body = self._send("DELETE", url, max_retries=0 if quietly else None)
            if response.status_code not in (200, 204) and not quietly:
                self._document(response, body, "DELETE", url)
        except VeeamEMError as exc:
            if not quietly:
                self.warnings.append(f"Could not log off from EM, the session stays open until EM expires it: {exc}")
        finally:
            self._session_id = None
            self._http.headers.pop(SESSION_HEADER, None)

    def _send(self, method: str, url: str, max_retries: Optional[int] = None, **kwargs: Any) -> tuple[requests.Response, bytes]:
        """One request, with up to ``retries`` retries and a deadline of ``timeout`` seconds each.

        A GET is retried after any failure to get an answer (refused, reset, cut
        off mid-body, over its deadline) and after HTTP 502/503/504. The logon
        (POST) and the logoff (DELETE) are retried only when no connection could
        be made, so nothing was sent: a logon EM may have received is never sent
        twice. A call so takes at most ``timeout * (retries + 1)`` seconds plus the
        backoff between the attempts. ``max_retries`` lowers ``retries`` for one call.
        """
        max_retries = self.settings.retries if max_retries is None else max_retries
        retries = 0
        while True:
            try:
                response, body = self._attempt(method, url, retries, **kwargs)
            except _Retryable as failure:
                if retries == max_retries or not (method == "GET" or failure.before_sending):
                    raise failure.error from None
            else:
                if method != "GET" or response.status_code not in RETRY_STATUSES or retries == max_retries:
                    return response, body
            retries += 1
            time.sleep(backoff_seconds(retries))

    def _attempt(self, method: str, url: str, retries: int, **kwargs: Any) -> tuple[requests.Response, bytes]:
        """Send a request and read its body within ``timeout``, with TLS settings passed explicitly.

        ``timeout`` is a deadline for the whole answer, not only for each socket
        operation as requests has it (a server or proxy that sends a byte now and
        then would hold a call as long as it likes): connecting and each read of the
        answer's head wait at most ``timeout``, and the body is read in pieces, each
        read waiting at most the time left, with the deadline checked between them
        (``_read_bounded``). Nothing of urllib3's private API is involved, so any
        proxy that requests supports (HTTP, HTTPS, SOCKS through PySocks) works.

        ``verify`` goes on every request: a ``Session.verify`` value would lose
        against ``REQUESTS_CA_BUNDLE`` in the environment. Redirects are never
        followed: EM does not redirect its API, and requests would send the
        session header to wherever the redirect points.
        """
        tried = f"{method} {url}" + (f", after {retries} {'retry' if retries == 1 else 'retries'}" if retries else "")
        timeout = self.settings.timeout
        deadline = time.monotonic() + timeout
        response: Optional[requests.Response] = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InsecureRequestWarning)
                response = self._http.request(
                    method, url, verify=self.settings.verify, timeout=timeout, stream=True, allow_redirects=False, **kwargs
                )
            body = _read_bounded(response, f"{method} {url}", deadline)
        except (_DeadlinePassed, Urllib3Timeout):
            raise _Retryable(self._timed_out(tried), before_sending=False) from None
        except Urllib3Error as exc:
            # Raised by urllib3 while reading the body: the answer had begun.
            raise _Retryable(
                CommunicationError(f"EM at {self._address} broke off its answer to {tried}: {_reason(exc)}."),
                before_sending=False,
            ) from None
        except requests.exceptions.SSLError as exc:
            if time.monotonic() >= deadline:
                raise _Retryable(self._timed_out(tried), before_sending=False) from None
            raise CertificateError(
                f"Could not verify the TLS certificate of EM at {self._address} ({_reason(exc)}). "
                "Set ca_path to the CA certificate that signed EM's certificate, or, only for a test system, "
                "validate_certs=false."
            ) from None
        except requests.exceptions.RequestException as exc:
            if time.monotonic() >= deadline or _caused_by_timeout(exc):
                raise _Retryable(self._timed_out(tried), before_sending=_not_connected(exc)) from None
            raise _Retryable(self._unreachable(exc, tried), before_sending=_not_connected(exc)) from None
        except ValueError:
            # http.client's check of header values (requests 2.25 does not check them itself);
            # its text quotes the value, which may be a session token.
            raise CommunicationError(f"Could not send {tried} to EM at {self._address}: {_INVALID_HEADER}.") from None
        finally:
            if response is not None and not response.raw.closed:
                response.close()  # a connection left in the middle of an answer is of no further use
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
        if self._proxy and _proxy_failed(exc):
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


class _DeadlinePassed(Exception):
    """The answer was not complete when its deadline came."""


def _read_bounded(response: requests.Response, request: str, deadline: float) -> bytes:
    """Read the body by ``deadline``, refusing bodies above ``MAX_RESPONSE_BYTES`` instead of buffering without bound.

    Each read waits at most the time left (the socket's timeout), and the deadline
    is checked between reads. urllib3 2.3 and later read with one receive at most
    (``read1``), so that bounds the call. urllib3 1.26's ``read`` of n bytes
    returns only once n bytes have come, each receive with the socket's timeout:
    the pieces are sized to the server's pace, one byte at first, doubled while
    reads are quick and cut to what QUICK_READ seconds bring when they are not. A
    server trickling a byte now and then so meets the deadline check at each byte
    there too (one that sends fast and then slows to a trickle within a piece can
    hold that piece's read), while a fast one is read in pieces of up to
    LARGEST_READ bytes.
    """
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        raise UnreadableResponseError(
            f"EM's response to {request} is {int(declared)} bytes, more than the {MAX_RESPONSE_BYTES} bytes this collection reads."
        )
    raw = response.raw
    read = getattr(raw, "read1", None) or raw.read
    sock = getattr(raw.connection, "sock", None)
    timeout = sock.gettimeout() if sock is not None else None
    chunks, size, piece = [], 0, 1
    while True:
        started = time.monotonic()
        if started >= deadline:
            raise _DeadlinePassed()
        if sock is not None:
            sock.settimeout(deadline - started)
        chunk = read(piece, decode_content=True) or b""
        if not chunk and raw.closed:
            break  # urllib3 1.26 may return nothing before the end while it decompresses
        took = time.monotonic() - started
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise UnreadableResponseError(
                f"EM's response to {request} is larger than the {MAX_RESPONSE_BYTES} bytes this collection reads."
            )
        chunks.append(chunk)
        piece = min(LARGEST_READ, piece * 2) if took < QUICK_READ else max(1, int(len(chunk) * QUICK_READ / took))
    if sock is not None:
        with suppress(OSError):
            sock.settimeout(timeout)  # the connection goes back to the pool, for the next request
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


def _from_pysocks(error: BaseException) -> bool:
    """An error of PySocks, through which requests talks to a SOCKS proxy."""
    return type(error).__module__ == "socks"


def _proxy_failed(exc: BaseException) -> bool:
    """The proxy refused or failed the request (requests files SOCKS failures as mere connection errors)."""
    return isinstance(exc, requests.exceptions.ProxyError) or any(_from_pysocks(cause) for cause in _causes(exc))


def _not_connected(exc: BaseException) -> bool:
    """True when no connection was made, so nothing of the request was sent."""
    return isinstance(exc, requests.exceptions.ConnectTimeout) or any(
        isinstance(cause, NewConnectionError) for cause in _causes(exc)
    )


def _reason(exc: BaseException) -> str:
    """A human-readable cause of a requests/urllib3 error that cannot hold a secret.

    Only the operating system's error text, TLS's verification text and PySocks'
    text (a SOCKS status, or the proxy's host and port) are taken over: exception texts of requests and urllib3 may quote a header value (an
    invalid session token, say) or a proxy URL with its password.
    """
    chain = _causes(exc)
    for cause in reversed(chain):
        if isinstance(cause, ssl.SSLCertVerificationError) and cause.verify_message:
            return f"certificate verify failed: {cause.verify_message}"
        if isinstance(cause, OSError) and cause.strerror and not isinstance(cause, ssl.SSLError):
            return cause.strerror
        if _from_pysocks(cause) and getattr(cause, "msg", None):
            return str(cause.msg)  # such as "0x02: Connection not allowed by ruleset"; it never holds the proxy's credentials
        if isinstance(cause, ssl.SSLError) and cause.reason:
            return f"TLS error {cause.reason}"
    if any(isinstance(cause, requests.exceptions.InvalidHeader) for cause in chain):
        return _INVALID_HEADER
    if any(isinstance(cause, requests.exceptions.InvalidSchema) and "SOCKS" in str(cause) for cause in chain):
        return "a SOCKS proxy needs the Python library PySocks (pip install requests[socks]) where the plugin runs"
    if any(type(cause).__name__ in ("IncompleteRead", "ProtocolError", "RemoteDisconnected") for cause in chain):
        return "the connection was closed before the answer was complete"
    return f"{type(chain[-1]).__name__}"
