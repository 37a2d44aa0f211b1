# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client against the emulator: sessions, retries, TLS and error mapping."""

from __future__ import annotations

import time

import pytest
import requests
from emulator import SilentPort, TunnelProxy, closed_port

from ansible_collections.veeam_em.rest.plugins.module_utils import _client
from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient
from ansible_collections.veeam_em.rest.plugins.module_utils._connection_options import connection_settings
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import (
    APIError,
    AuthenticationError,
    CertificateError,
    CommunicationError,
    NotFoundError,
    RedirectError,
    UnreadableResponseError,
)

SEED = "backups/c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70"
ENTITY = {"format": "Entity"}


def methods(em):
    return [(entry["method"], entry["status"]) for entry in em.request_log()]


def test_logon_get_logoff_on_one_connection(em, client_for):
    with client_for() as client:
        document = client.get(SEED, params=ENTITY)
        client.get(SEED, params=ENTITY)
    assert (document.root, document.status) == ("Backup", 200)
    assert document.content["@Name"] == "Simple backup_1"
    assert methods(em) == [("POST", 201), ("GET", 200), ("GET", 200), ("DELETE", 204)]
    assert em.stats()["connections"] == 1
    assert not client._http.cookies, "EM's session cookie must never be kept"  # pylint: disable=protected-access


def test_session_id_is_used_as_is_and_never_logged_off(em, client_for):
    with client_for() as owner:
        token = owner._http.headers[_client.SESSION_HEADER]  # pylint: disable=protected-access
        em.reset_stats()
        with client_for(session_id=token) as borrower:
            borrower.get(SEED, params=ENTITY)
        assert methods(em) == [("GET", 200)]
        assert em.stats()["live_sessions"] == 1


def test_expired_session_is_renewed_once(em, client_for):
    with client_for() as client:
        client.get(SEED, params=ENTITY)
        em.expire_all_sessions()
        client.get(SEED, params=ENTITY)
    # The refused session is logged off first: EM had dropped it, so that answers 401.
    assert methods(em) == [("POST", 201), ("GET", 200), ("GET", 401), ("DELETE", 401), ("POST", 201), ("GET", 200), ("DELETE", 204)]
    assert not client.warnings


def test_a_401_on_a_session_em_still_holds_closes_it_before_the_new_logon(em, client_for):
    em.inject("status", method="GET", status=401, message="Authorization header expected but not found, or found but expired.")
    with client_for() as client:
        assert client.get(SEED, params=ENTITY).status == 200
    assert methods(em) == [("POST", 201), ("GET", 401), ("DELETE", 204), ("POST", 201), ("GET", 200), ("DELETE", 204)]
    assert (em.stats()["logons"], em.stats()["logoffs"]) == (2, 2) and not client.warnings


def test_the_logoff_of_a_refused_session_is_one_attempt_within_the_timeout(em, client_for):
    em.inject("status", method="GET", status=401)
    em.inject("delay", method="DELETE", seconds=2.5)
    started = time.monotonic()
    with client_for(timeout=1, retries=2) as client:
        assert client.get(SEED, params=ENTITY).status == 200
    assert time.monotonic() - started < 2.5
    assert [method for method, _status in methods(em)] == ["POST", "GET", "POST", "GET", "DELETE"]
    assert not client.warnings
    em.wait_idle()  # the delayed logoff of the refused session still ends it on EM
    assert [method for method, _status in methods(em)][-1] == "DELETE"


def test_a_logon_answer_that_does_not_parse_is_logged_off_by_the_id_it_shows(em, client_for):
    em.inject("truncate", method="POST", size=300)
    with pytest.raises(UnreadableResponseError, match=r"EM returned an unreadable response \(HTTP 201\) for POST"):
        with client_for():
            pass
    assert methods(em) == [("POST", 201), ("DELETE", 204)]


def test_a_logon_answer_that_names_no_session_is_reported(em, client_for):
    em.inject("body", method="POST", body=b"<html><body>Welcome</body></html>", content_type="text/html")
    client = client_for()
    with pytest.raises(UnreadableResponseError, match="expected XML, got content type 'text/html'"):
        with client:
            pass
    assert client.warnings == ["EM opened a session but its logon answer does not name it: the session stays open until EM expires it."]
    assert em.stats()["live_sessions"] == 1
    em.expire_all_sessions()


def test_a_second_401_is_an_authentication_error(em, client_for):
    em.inject("expire_session", method="GET", times=2)
    with pytest.raises(AuthenticationError, match=r"EM refused the session for GET .*\(HTTP 401\)"):
        with client_for() as client:
            client.get(SEED, params=ENTITY)


def test_wrong_password_is_an_authentication_error_without_the_password(em, client_for):
    with pytest.raises(AuthenticationError) as error:
        with client_for(password="wrong-Password-1"):
            pass
    assert "refused the logon of user 'svc-ansible' (HTTP 401)" in str(error.value)
    assert "wrong-Password-1" not in str(error.value)
    assert methods(em) == [("POST", 401)]


def test_get_is_retried_on_503_then_succeeds(em, client_for):
    em.inject("status", method="GET", status=503, times=2)
    with client_for() as client:
        assert client.get(SEED, params=ENTITY).status == 200
    assert methods(em) == [("POST", 201), ("GET", 503), ("GET", 503), ("GET", 200), ("DELETE", 204)]


def test_persistent_503_names_status_and_em_message_and_still_logs_off(em, client_for):
    em.inject("status", method="GET", status=503, message="EM is restarting", times=None)
    with pytest.raises(APIError, match=r"HTTP 503 for GET https://.*: EM is restarting") as error:
        with client_for(retries=1) as client:
            client.get(SEED, params=ENTITY)
    assert error.value.status == 503
    assert methods(em)[-1] == ("DELETE", 204)


def test_logon_is_not_retried_once_sent(em, client_for):
    em.inject("status", method="POST", status=503, times=1)
    with pytest.raises(APIError, match="HTTP 503 for POST"):
        with client_for(retries=3):
            pass
    assert methods(em) == [("POST", 503)]


QUICK_BACKUP = "backupServers/d48b9c09-d954-4515-9b75-57bc65ddbfdb"
START_SPEC = b'<QuickBackupStartupSpec xmlns="http://www.veeam.com/ent/v1.0"><VmRef>urn:x</VmRef></QuickBackupStartupSpec>'


def test_an_action_is_posted_as_xml_and_its_202_task_parsed(em, client_for):
    with client_for() as client:
        document = client.post(QUICK_BACKUP, START_SPEC, params={"action": "quickbackup"})
    assert (document.status, document.root, document.content["State"]) == (202, "Task", "Running")
    assert methods(em) == [("POST", 201), ("POST", 202), ("DELETE", 204)]


def test_an_action_em_may_have_received_is_never_sent_twice(em, client_for):
    em.inject("status", method="POST", path="^/api/backupServers/", status=503, times=1)
    with pytest.raises(APIError, match="HTTP 503 for POST"):
        with client_for(retries=3) as client:
            client.post(QUICK_BACKUP, START_SPEC, params={"action": "quickbackup"})
    assert methods(em) == [("POST", 201), ("POST", 503), ("DELETE", 204)]


def test_an_action_refused_for_an_expired_session_is_sent_again_after_a_new_logon(em, client_for):
    em.inject("expire_session", method="POST", path="^/api/backupServers/", times=1)
    with client_for() as client:
        assert client.post(QUICK_BACKUP, START_SPEC, params={"action": "quickbackup"}).status == 202
    assert methods(em) == [("POST", 201), ("POST", 401), ("POST", 201), ("POST", 202), ("DELETE", 204)]


def test_em_error_message_of_a_404(em, client_for):
    with pytest.raises(NotFoundError, match=r"HTTP 404 for GET .*/backups/00000000-1111-4222-8333-444444444444") as error:
        with client_for() as client:
            client.get("backups/00000000-1111-4222-8333-444444444444", params=ENTITY)
    assert error.value.status == 404


@pytest.mark.parametrize("body, content_type, detail", [
    (b"<Backup><Links>", "application/xml", "no element found"),
    (b"", "application/xml", "the body is empty"),
    (b"<html><body>Bad gateway</body></html>", "text/html", "expected XML, got content type 'text/html'"),
])
def test_unreadable_responses_name_status_and_url(em, client_for, body, content_type, detail):
    em.inject("body", method="GET", body=body, content_type=content_type)
    with pytest.raises(UnreadableResponseError) as error:
        with client_for() as client:
            client.get(SEED, params=ENTITY)
    assert "EM returned an unreadable response (HTTP 200) for GET https://" in str(error.value)
    assert detail in str(error.value)


def test_bodies_over_the_limit_are_refused(em, client_for, monkeypatch):
    monkeypatch.setattr(_client, "MAX_RESPONSE_BYTES", 1024 * 1024)
    em.inject("huge", method="GET", size=4 * 1024 * 1024)
    with pytest.raises(UnreadableResponseError, match="more than the 1048576 bytes|larger than the 1048576 bytes"):
        with client_for() as client:
            client.get(SEED, params=ENTITY)


def test_timeout_is_named(em, client_for):
    em.inject("delay", method="GET", seconds=1.5, times=None)
    started = time.monotonic()
    with pytest.raises(CommunicationError, match=r"did not answer within the timeout of 1 seconds"):
        with client_for(timeout=1, retries=0) as client:
            client.get(SEED, params=ENTITY)
    assert time.monotonic() - started < 5


def test_certificate_is_verified_by_default_even_with_a_ca_bundle_in_the_environment(em, client_for, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    with pytest.raises(CertificateError, match=r"Could not verify the TLS certificate of EM at 127\.0\.0\.1:\d+ .*ca_path"):
        with client_for(ca_path=None):
            pass


def test_ca_path_and_validate_certs_win_over_the_environment(em, client_for, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    with client_for() as client:
        client.get(SEED, params=ENTITY)
    with client_for(ca_path=None, validate_certs=False) as client:
        client.get(SEED, params=ENTITY)
    assert client.warnings == [w for w in client.warnings if "validate_certs is false" in w] and len(client.warnings) == 1


def test_unreachable_em_names_host_and_port():
    settings = connection_settings({"url": "https://127.0.0.1:1", "username": "u", "password": "p", "retries": 0})
    with pytest.raises(CommunicationError, match=r"Could not reach EM at 127\.0\.0\.1:1 .*Connection refused"):
        with EMClient(settings):
            pass


@pytest.fixture
def listener():
    """A port that never answers, as ``(port, accepted)``: ``accepted()`` counts its connections."""
    with SilentPort() as silent:
        yield silent.port, silent.accepted


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_redirects_are_refused_and_never_followed(em, client_for, listener, scheme):
    port, accepted = listener
    em.inject("redirect", method="GET", location=f"{scheme}://127.0.0.1:{port}/api/{SEED}?format=Entity&token=x")
    with pytest.raises(RedirectError) as error:
        with client_for() as client:
            client.get(SEED, params=ENTITY)
    message = str(error.value)
    assert f"with a redirect (HTTP 302) to {scheme}://127.0.0.1:{port}," in message
    assert "format=Entity" not in message.split(" to ", 1)[1] and "token" not in message
    assert accepted() == 0
    assert methods(em) == [("POST", 201), ("GET", 302), ("DELETE", 204)]


def test_a_redirected_logon_opens_no_session(em, client_for, listener):
    port, accepted = listener
    em.inject("redirect", method="POST", status=307, location=f"http://127.0.0.1:{port}/api/sessionMngr/")
    with pytest.raises(RedirectError, match="HTTP 307"):
        with client_for():
            pass
    assert accepted() == 0 and methods(em) == [("POST", 307)]


def test_timeout_bounds_a_trickling_answer(em, client_for):
    em.inject("trickle", method="GET", interval=0.2, times=None)
    started = time.monotonic()
    with pytest.raises(CommunicationError, match=r"did not answer within the timeout of 1 seconds \(GET [^,]*\)\.$"):
        with client_for(timeout=1, retries=0) as client:
            client.get(SEED, params=ENTITY)
    assert time.monotonic() - started < 2.5  # 1 s for the GET, the rest for logon and logoff


def test_a_trickling_answer_is_retried_with_a_deadline_each(em, client_for):
    em.inject("trickle", method="GET", interval=0.2, times=None)
    with pytest.raises(CommunicationError, match=r"timeout of 1 seconds \(GET .*, after 1 retry\)"):
        with client_for(timeout=1, retries=1) as client:
            client.get(SEED, params=ENTITY)
    assert [status for method, status in methods(em) if method == "GET"] == [200, 200]


def test_a_slow_but_complete_answer_within_the_deadline_is_read(em, client_for):
    em.inject("trickle", method="GET", interval=0.0005, times=1)
    with client_for(timeout=5, retries=0) as client:
        assert client.get(SEED, params=ENTITY).root == "Backup"


@pytest.mark.parametrize("retries, wording", [(0, r"\(GET [^,)]*\)"), (1, r"after 1 retry\)"), (2, r"after 2 retries\)")])
def test_messages_count_the_retries_that_happened(em, client_for, retries, wording):
    em.inject("reset", method="GET", times=None)
    with pytest.raises(CommunicationError, match=wording):
        with client_for(retries=retries) as client:
            client.get(SEED, params=ENTITY)
    assert len([method for method, _status in methods(em) if method == "GET"]) == retries + 1


def test_logon_is_retried_when_no_connection_could_be_made(monkeypatch):
    settings = connection_settings({"url": "https://127.0.0.1:1", "username": "u", "password": "p", "retries": 2})
    attempts = []
    original = _client.EMClient._attempt  # pylint: disable=protected-access

    def counting(self, *args, **kwargs):
        attempts.append(args[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_client.EMClient, "_attempt", counting)
    with pytest.raises(CommunicationError, match=r"\(POST https://127\.0\.0\.1:1/api/sessionMngr/, after 2 retries\): Connection refused"):
        with EMClient(settings):
            pass
    assert attempts == ["POST"] * 3


def test_backoff_is_urllib3s_schedule_with_a_cap():
    assert [_client.backoff_seconds(retry) for retry in range(1, 7)] == [0.0, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_session_id_with_a_line_break_is_used_stripped_and_never_shown(em, client_for):
    with client_for() as owner:
        token = owner._http.headers[_client.SESSION_HEADER]  # pylint: disable=protected-access
        em.reset_stats()
        with client_for(session_id=f"{token}\n") as borrower:
            assert borrower.get(SEED, params=ENTITY).status == 200


def test_an_invalid_header_is_described_without_its_value(em, client_for):
    with client_for() as client:
        client._http.headers["X-Probe"] = "s3cret-token\n"  # pylint: disable=protected-access
        with pytest.raises(CommunicationError) as error:
            client.get(SEED, params=ENTITY)
        del client._http.headers["X-Probe"]  # pylint: disable=protected-access
    assert "s3cret-token" not in str(error.value) and "header is not valid" in str(error.value)


def test_a_dead_proxy_is_named_without_its_credentials(monkeypatch, listener):
    port, _accepted = listener
    dead_port = closed_port()
    for name in ("NO_PROXY", "no_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", f"http://proxyuser:pr0xy-Secret@127.0.0.1:{dead_port}")
    settings = connection_settings({"url": f"https://127.0.0.1:{port}", "username": "u", "password": "p", "retries": 0})
    with pytest.raises(CommunicationError) as error:
        with EMClient(settings):
            pass
    message = str(error.value)
    assert f"through the proxy http://127.0.0.1:{dead_port}" in message and "NO_PROXY" in message
    assert "pr0xy-Secret" not in message and "proxyuser" not in message


def test_no_proxy_bypasses_the_proxy(monkeypatch, em, client_for):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with client_for() as client:
        assert client.get(SEED, params=ENTITY).status == 200


PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy")


@pytest.fixture
def through_proxy(em, monkeypatch):
    """Set HTTPS_PROXY to a tunnelling proxy to the emulator, as ``scheme``; yields the proxy."""

    def use(scheme, username=None, password=None):
        proxy = TunnelProxy(allowed=(em.port,), username=username, password=password)
        for name in PROXY_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        credentials = f"{username}:{password}@" if username else ""
        monkeypatch.setenv("HTTPS_PROXY", f"{scheme}://{credentials}127.0.0.1:{proxy.port}")
        return proxy

    return use


@pytest.mark.parametrize("scheme", ["socks5h", "socks5", "http"])
def test_em_through_a_proxy(em, client_for, through_proxy, scheme):
    with through_proxy(scheme, "proxy-user", "pr0xy-Pa55") as proxy:
        with client_for() as client:
            assert client.get(SEED, params=ENTITY).root == "Backup"
    assert proxy.targets == [f"127.0.0.1:{em.port}"], "one connection, through the proxy"
    assert methods(em) == [("POST", 201), ("GET", 200), ("DELETE", 204)]


@pytest.mark.parametrize("scheme", ["socks5h", "http"])
def test_the_deadline_holds_through_a_proxy(em, client_for, through_proxy, scheme):
    em.inject("trickle", method="GET", interval=0.2, times=None)
    with through_proxy(scheme):
        started = time.monotonic()
        with pytest.raises(CommunicationError, match=rf"timeout of 1 seconds .*through the proxy {scheme}://127\.0\.0\.1:\d+\.$"):
            with client_for(timeout=1, retries=0) as client:
                client.get(SEED, params=ENTITY)
        assert time.monotonic() - started < 2.5


def test_a_socks_proxy_that_refuses_is_named_without_its_credentials(em, client_for, through_proxy):
    with through_proxy("socks5h", "proxy-user", "pr0xy-Pa55") as proxy:
        proxy.allowed = ()
        with pytest.raises(CommunicationError) as error:
            with client_for(retries=0):
                pass
    message = str(error.value)
    assert f"through the proxy socks5h://127.0.0.1:{proxy.port}" in message and "NO_PROXY" in message
    assert "pr0xy-Pa55" not in message and "proxy-user" not in message
    assert em.stats()["requests"] == 0


def test_a_socks_proxy_without_pysocks_says_what_to_install(em, client_for, through_proxy, monkeypatch):
    def without_pysocks(*_args, **_kwargs):
        raise requests.exceptions.InvalidSchema("Missing dependencies for SOCKS support.")

    monkeypatch.setattr(requests.adapters, "SOCKSProxyManager", without_pysocks)  # as requests has it when PySocks is missing
    with through_proxy("socks5h") as proxy:
        with pytest.raises(CommunicationError) as error:
            with client_for(retries=0):
                pass
    assert f"through the proxy socks5h://127.0.0.1:{proxy.port}" in str(error.value)
    assert "a SOCKS proxy needs the Python library PySocks (pip install requests[socks]) where the plugin runs" in str(error.value)
    assert proxy.targets == [] and em.stats()["requests"] == 0


def test_plain_http_warns_naming_the_url_without_user_information():
    settings = connection_settings({"url": "http://em01.example.com", "username": "u", "password": "p"})
    assert EMClient(settings).warnings == [
        "url http://em01.example.com:9399 is plain HTTP: the password and EM's answers cross the network unencrypted. "
        "Use https:// (EM serves its API over HTTPS on port 9398)."
    ]
    assert not EMClient(connection_settings({"url": "em01.example.com", "username": "u", "password": "p"})).warnings


class _TricklingBody:
    """The raw body of a response as urllib3 1.26 reads it: ``read(n)`` returns once n bytes
    have come. The first ``burst`` bytes come at once, then one every ``interval`` seconds."""

    connection = None

    def __init__(self, size, burst, interval):
        self.body, self.burst, self.interval, self.position, self.reads = b"x" * size, burst, interval, 0, 0

    @property
    def closed(self):
        return self.position >= len(self.body)

    def _take(self, amount):
        end = min(len(self.body), self.position + amount)
        time.sleep(self.interval * max(0, end - max(self.position, self.burst)))
        data, self.position = self.body[self.position:end], end
        self.reads += 1
        return data

    def read(self, amount, decode_content=True):
        return self._take(amount)


class _ReceivingBody(_TricklingBody):
    """As urllib3 2.3+ reads it: ``read1`` returns after one receive, what has come."""

    def read1(self, amount, decode_content=True):
        waiting = self.position >= self.burst
        return self._take(1 if waiting else min(amount, self.burst - self.position))


def _response_of(raw):
    class Response:
        headers = {}

    Response.raw = raw
    return Response()


@pytest.mark.parametrize("body_class", [_TricklingBody, _ReceivingBody])
def test_a_body_that_trickles_from_the_start_meets_the_deadline(body_class):
    raw = body_class(size=1000, burst=0, interval=0.1)
    started = time.monotonic()
    with pytest.raises(_client._DeadlinePassed):  # pylint: disable=protected-access
        _client._read_bounded(_response_of(raw), "GET x", started + 1)  # pylint: disable=protected-access
    assert time.monotonic() - started < 1.3


def test_a_body_that_slows_to_a_trickle_meets_the_deadline_with_one_receive_per_read():
    raw = _ReceivingBody(size=1_000_000, burst=100_000, interval=0.1)
    started = time.monotonic()
    with pytest.raises(_client._DeadlinePassed):  # pylint: disable=protected-access
        _client._read_bounded(_response_of(raw), "GET x", started + 1)  # pylint: disable=protected-access
    assert time.monotonic() - started < 1.3


@pytest.mark.parametrize("body_class", [_TricklingBody, _ReceivingBody])
def test_a_fast_body_is_read_in_few_large_pieces(body_class):
    raw = body_class(size=8 * 1024 * 1024, burst=8 * 1024 * 1024, interval=0)
    body = _client._read_bounded(_response_of(raw), "GET x", time.monotonic() + 5)  # pylint: disable=protected-access
    assert len(body) == 8 * 1024 * 1024
    assert raw.reads <= 18 + 32 + 1, "1, 2, 4 ... 128 KiB, then 256 KiB pieces"
