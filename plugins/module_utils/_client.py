# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP client of EM: one connection, one session, and a logoff in any case.

Private to veeam_em.rest: not a public API, may change without notice.

The client knows HTTP and EM sessions, nothing of Ansible. Use it as a context
manager: entering logs on (unless a session id was given), leaving logs off in
all cases, so no plugin leaves a session open on EM, on success or failure.
"""

from __future__ import annotations

import re
import time
import traceback
import warnings
from http.cookiejar import DefaultCookiePolicy
from typing import Any, Optional
from urllib.parse import urlsplit

from ansible_collections.veeam_em.rest.plugins.module_utils._connection_options import ConnectionSettings
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import (
    APIError,
    AuthenticationError,
    CertificateError,
    CommunicationError,
    MalformedXMLError,
    NotFoundError,
    UnreadableResponseError,
    VeeamEMError,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._xml import XMLTODICT_IMPORT_ERROR, error_message, parse_document

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.exceptions import InsecureRequestWarning, NewConnectionError, TimeoutError as Urllib3Timeout
    from urllib3.util.retry import Retry
except ImportError:
    REQUESTS_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    REQUESTS_IMPORT_ERROR = None

SESSION_HEADER = "X-RestSvcSessionId"
#: Largest body read into memory; EM's largest pages are a few MB.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
RETRY_STATUSES = (502, 503, 504)
BACKOFF_FACTOR = 0.5
BACKOFF_MAX = 5.0


def missing_libraries() -> list[tuple[str, str]]:
    """(name, traceback) of each required Python library that cannot be imported."""
    missing = [("requests", REQUESTS_IMPORT_ERROR), ("xmltodict", XMLTODICT_IMPORT_ERROR)]
    return [(name, error) for name, error in missing if error]


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
        retry = Retry(
            total=settings.retries,
            other=0,
            allowed_methods=frozenset({"GET"}),
            status_forcelist=RETRY_STATUSES,
            backoff_factor=BACKOFF_FACTOR,
            backoff_max=BACKOFF_MAX,
            raise_on_status=False,
            respect_retry_after_header=False,
        )
        adapter = HTTPAdapter(max_retries=retry, pool_connections=1, pool_maxsize=1)
        self._http.mount("https://", adapter)
        self._http.mount("http://", adapter)
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
        """One request; a GET whose body is cut off is sent again, up to ``retries`` times.

        urllib3's ``Retry`` covers what fails before the body arrives (refused
        connections, resets, 502/503/504); a connection lost in the middle of
        the body is retried here.
        """
        retries_left = self.settings.retries if method == "GET" else 0
        while True:
            try:
                return self._exchange(method, url, **kwargs)
            except requests.exceptions.ChunkedEncodingError as exc:
                if retries_left == 0:
                    raise CommunicationError(
                        f"EM at {self._address} broke off its answer to {method} {url} "
                        f"({self.settings.retries} retries): {_reason(exc)}."
                    ) from None
                retries_left -= 1
                time.sleep(BACKOFF_FACTOR)

    def _exchange(self, method: str, url: str, **kwargs: Any) -> tuple[requests.Response, bytes]:
        """Send a request and read its body within bounds, with TLS settings passed explicitly.

        ``verify`` goes on every request: a ``Session.verify`` value would lose
        against ``REQUESTS_CA_BUNDLE`` in the environment.
        """
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InsecureRequestWarning)
                response = self._http.request(
                    method, url, verify=self.settings.verify, timeout=self.settings.timeout, stream=True, **kwargs
                )
                body = _read_bounded(response, f"{method} {url}")
        except requests.exceptions.ChunkedEncodingError:
            raise
        except requests.exceptions.SSLError as exc:
            raise CertificateError(
                f"Could not verify the TLS certificate of EM at {self._address} ({_reason(exc)}). "
                "Set ca_path to the CA certificate that signed EM's certificate, or, only for a test system, "
                "validate_certs=false."
            ) from None
        except requests.exceptions.RequestException as exc:
            tried = f"{method} {url}, {self.settings.retries} retries" if method == "GET" else f"{method} {url}"
            if not _caused_by_timeout(exc):
                raise CommunicationError(f"Could not reach EM at {self._address} ({tried}): {_reason(exc)}.") from None
            raise CommunicationError(
                f"EM at {self._address} did not answer within the timeout of {self.settings.timeout} seconds ({tried})."
            ) from None
        return response, body

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
    """requests reports a read timeout after exhausted retries as a ConnectionError.

    urllib3 files "connection refused" under its timeouts too (NewConnectionError).
    """
    return any(
        isinstance(cause, (Urllib3Timeout, TimeoutError)) and not isinstance(cause, NewConnectionError)
        for cause in _causes(exc)
    )


def _reason(exc: BaseException) -> str:
    """The innermost human-readable cause of a requests/urllib3 error, without object reprs."""
    chain = _causes(exc)
    for cause in reversed(chain):
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
    return re.sub(r"<[^>]* object at 0x[0-9a-f]+>:?\s*", "", str(chain[-1])).strip() or type(exc).__name__
