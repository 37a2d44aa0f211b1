# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options shared by every plugin, declared once.

Private to veeam_em.rest: not a public API, may change without notice.

Modules build their argument spec from ``CONNECTION_ARGUMENT_SPEC``; lookups
read the same options through the ``plugins`` part of the
``veeam_em.rest.connection`` doc fragment. Both then hand their option values
to ``connection_settings``, so checks and messages are the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Union
from urllib.parse import urlsplit

from ansible.module_utils.common.parameters import env_fallback

from ansible_collections.veeam_em.rest.plugins.module_utils._errors import InvalidInputError

DEFAULT_HTTPS_PORT = 9398
DEFAULT_HTTP_PORT = 9399

CONNECTION_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "url": {"type": "str", "required": True, "fallback": (env_fallback, ["VEEAM_EM_URL"])},
    "username": {"type": "str", "fallback": (env_fallback, ["VEEAM_EM_USERNAME"])},
    "password": {"type": "str", "no_log": True, "fallback": (env_fallback, ["VEEAM_EM_PASSWORD"])},
    "session_id": {"type": "str", "no_log": True, "fallback": (env_fallback, ["VEEAM_EM_SESSION_ID"])},
    "validate_certs": {"type": "bool", "default": True, "fallback": (env_fallback, ["VEEAM_EM_VALIDATE_CERTS"])},
    "ca_path": {"type": "path", "fallback": (env_fallback, ["VEEAM_EM_CA_PATH"])},
    "timeout": {"type": "int", "default": 30, "fallback": (env_fallback, ["VEEAM_EM_TIMEOUT"])},
    "retries": {"type": "int", "default": 3, "fallback": (env_fallback, ["VEEAM_EM_RETRIES"])},
    "api_version": {"type": "str", "default": "latest", "fallback": (env_fallback, ["VEEAM_EM_API_VERSION"])},
}


@dataclass(frozen=True, repr=False)
class ConnectionSettings:
    """Checked connection settings; ``repr`` hides the secrets."""

    base_url: str
    username: Optional[str]
    password: Optional[str]
    session_id: Optional[str]
    verify: Union[bool, str]
    timeout: int
    retries: int
    api_version: str

    def __repr__(self) -> str:
        return f"ConnectionSettings(base_url={self.base_url!r}, username={self.username!r}, ...)"


def connection_settings(options: dict[str, Any]) -> ConnectionSettings:
    """Check the connection options of any plugin and fold them into settings."""
    # Basic authentication carries any character: user name and password reach EM exactly as given.
    username, password = options.get("username") or None, options.get("password") or None
    session_id = session_token(options.get("session_id"))
    if not session_id and not (username and password):
        raise InvalidInputError(
            "EM credentials are missing: set username and password (or VEEAM_EM_USERNAME and "
            "VEEAM_EM_PASSWORD), or the session_id of an existing EM session (VEEAM_EM_SESSION_ID)."
        )
    timeout, retries = options.get("timeout", 30), options.get("retries", 3)
    if timeout is None or timeout <= 0:
        raise InvalidInputError(f"timeout must be a positive number of seconds, got {timeout!r}.")
    if retries is None or retries < 0:
        raise InvalidInputError(f"retries must be 0 or more, got {retries!r}.")
    api_version = options.get("api_version") or "latest"
    if not api_version.replace("_", "").isalnum():
        raise InvalidInputError(f"api_version must look like 'latest' or 'v1_7', got {api_version!r}.")
    verify: Union[bool, str] = bool(options.get("validate_certs", True))
    if verify and options.get("ca_path"):
        verify = options["ca_path"]
    return ConnectionSettings(
        base_url=normalize_base_url(options.get("url")),
        username=None if session_id else username,
        password=None if session_id else password,
        session_id=session_id or None,
        verify=verify,
        timeout=timeout,
        retries=retries,
        api_version=api_version,
    )


def session_token(value: Optional[str]) -> Optional[str]:
    """``session_id`` without surrounding white space; one holding a control character is refused.

    The token travels in a header: one read from a file often ends with a line
    break, which would make an invalid header whose error text quotes the token.
    The message names the option and the position, never the value.
    """
    if value is None:
        return None
    text = str(value).strip()
    for position, character in enumerate(text, start=1):
        if ord(character) < 32 or ord(character) == 127:
            raise InvalidInputError(
                f"session_id holds a control character (code {ord(character)}) at position {position}: "
                "give the session_id without line breaks, tabs or other control characters."
            )
    return text or None


def normalize_base_url(url: Optional[str]) -> str:
    """Turn ``em01``, ``em01:9398``, ``https://em01:9398/api/`` alike into ``https://em01:9398/api``.

    No scheme means https; no port means EM's default for the scheme; ``/api``
    is appended when the path does not end with it already, in any case (EM routes
    paths without regard to case).
    """
    text = (url or "").strip()
    if not text:
        raise InvalidInputError("url is required: the address of Enterprise Manager, such as https://em01:9398 (or VEEAM_EM_URL).")
    parts = urlsplit(text if "://" in text else f"https://{text}")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1 or parts.query or parts.fragment or parts.netloc.count("@"):
        shown = "(a URL with user information)" if parts.username or parts.password else repr(url)
        raise InvalidInputError(
            f"url {shown} is not an EM address: expected a host name with an optional https:// or http:// "
            "scheme, port and /api path, such as em01, em01:9398 or https://em01:9398/api."
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = port or (DEFAULT_HTTPS_PORT if parts.scheme == "https" else DEFAULT_HTTP_PORT)
    path = parts.path.rstrip("/")
    if not path.lower().endswith("/api"):
        path = f"{path}/api"
    return f"{parts.scheme}://{host}:{port}{path}"
