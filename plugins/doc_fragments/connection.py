# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Connection options of every plugin; the argument spec is in module_utils/_connection_options.py."""

    # Modules: each option falls back to its VEEAM_EM_* environment variable.
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Address of Veeam Backup Enterprise Manager (EM).
      - Accepts V(em01), V(em01:9398), V(https://em01:9398) or V(https://em01:9398/api/).
        Without a scheme, C(https) is used; without a port, 9398 for C(https) and 9399 for C(http);
        C(/api) is appended when missing (a path that ends in C(/api) in any case is kept).
      - A C(http://) URL sends the password and EM's answers unencrypted, with a warning that names the URL.
      - Requests go through the proxy that the environment sets (E(HTTPS_PROXY), E(HTTP_PROXY),
        E(ALL_PROXY)) unless E(NO_PROXY) names EM's host. HTTP proxies work as they are; SOCKS proxies
        (C(socks5h://), C(socks5://)) need the Python library C(PySocks) (C(requests[socks])).
      - Redirects are never followed, and fail the call. EM does not redirect its API, and a redirect
        would carry the session to another host.
      - Modules read E(VEEAM_EM_URL) when this is not set.
    type: str
    required: true
  username:
    description:
      - EM user to log on with, for example V(DOMAIN\\user). Needs an EM role
        (Portal Administrator, Portal User or Restore Operator).
      - Required with O(password) unless O(session_id) is set.
      - O(username) and O(password) reach EM exactly as given, white space included.
      - Modules read E(VEEAM_EM_USERNAME) when this is not set.
    type: str
  password:
    description:
      - Password of O(username).
      - Modules read E(VEEAM_EM_PASSWORD) when this is not set.
    type: str
  session_id:
    description:
      - The token (C(X-RestSvcSessionId)) of an EM session that is already open.
        When set, no logon and no logoff happen, and O(username) and O(password) are ignored.
      - Modules read E(VEEAM_EM_SESSION_ID) when this is not set.
    type: str
  validate_certs:
    description:
      - Verify EM's TLS certificate. Only set this to V(false) on test systems;
        set O(ca_path) for a certificate signed by a private CA.
      - Modules read E(VEEAM_EM_VALIDATE_CERTS) when this is not set.
    type: bool
    default: true
  ca_path:
    description:
      - CA certificate file (PEM) to verify EM's certificate against, instead of the system's CA bundle.
      - Modules read E(VEEAM_EM_CA_PATH) when this is not set.
    type: path
  timeout:
    description:
      - The most seconds one request may take, from connecting to the last byte of the answer
        (a deadline, not a limit per read, so an answer whose body trickles in is cut off too).
        Connecting and each read of the answer's status line and headers wait at most O(timeout) seconds.
      - A call with its own logon makes at least three requests (logon, read, logoff), each with
        this deadline and its retries, so one request takes at most O(timeout) times (O(retries) + 1)
        seconds plus the backoff between the tries (0, 1, 2, 4, 5, 5... seconds).
      - Modules read E(VEEAM_EM_TIMEOUT) when this is not set.
    type: int
    default: 30
  retries:
    description:
      - How often a GET is retried after a connection error, a timeout, an answer cut off, or an
        HTTP 502, 503 or 504, with backoff.
      - Logon and logoff are retried only when no connection could be made (nothing was sent), so
        EM never receives a logon twice.
      - Modules read E(VEEAM_EM_RETRIES) when this is not set.
    type: int
    default: 3
  api_version:
    description:
      - EM REST API version to log on with, V(latest) or a version such as V(v1_7).
      - Modules read E(VEEAM_EM_API_VERSION) when this is not set.
    type: str
    default: latest
notes:
  - Every request uses one TCP/TLS connection; a session opened by the plugin is logged off at the end, also after a failure,
    a timeout or Ctrl-C. For modules and lookups, SIGINT (Ctrl-C) and SIGTERM end the process only once the logoff is done.
  - A session that EM refuses during the call (HTTP 401) is logged off (one try) before the plugin logs on again.
"""

    # Lookups and other plugins: the same options, also from variables and the environment.
    PLUGINS = r"""
options:
  url:
    env:
      - name: VEEAM_EM_URL
    vars:
      - name: veeam_em_url
  username:
    env:
      - name: VEEAM_EM_USERNAME
    vars:
      - name: veeam_em_username
  password:
    env:
      - name: VEEAM_EM_PASSWORD
    vars:
      - name: veeam_em_password
  session_id:
    env:
      - name: VEEAM_EM_SESSION_ID
    vars:
      - name: veeam_em_session_id
  validate_certs:
    env:
      - name: VEEAM_EM_VALIDATE_CERTS
    vars:
      - name: veeam_em_validate_certs
  ca_path:
    env:
      - name: VEEAM_EM_CA_PATH
    vars:
      - name: veeam_em_ca_path
  timeout:
    env:
      - name: VEEAM_EM_TIMEOUT
    vars:
      - name: veeam_em_timeout
  retries:
    env:
      - name: VEEAM_EM_RETRIES
    vars:
      - name: veeam_em_retries
  api_version:
    env:
      - name: VEEAM_EM_API_VERSION
    vars:
      - name: veeam_em_api_version
"""

    # Inventory plugins: the same options from the environment only (an inventory source has no variables yet).
    INVENTORY = r"""
options:
  url:
    env:
      - name: VEEAM_EM_URL
  username:
    env:
      - name: VEEAM_EM_USERNAME
  password:
    env:
      - name: VEEAM_EM_PASSWORD
  session_id:
    env:
      - name: VEEAM_EM_SESSION_ID
  validate_certs:
    env:
      - name: VEEAM_EM_VALIDATE_CERTS
  ca_path:
    env:
      - name: VEEAM_EM_CA_PATH
  timeout:
    env:
      - name: VEEAM_EM_TIMEOUT
  retries:
    env:
      - name: VEEAM_EM_RETRIES
  api_version:
    env:
      - name: VEEAM_EM_API_VERSION
"""
