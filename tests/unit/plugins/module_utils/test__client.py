# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client against the emulator: sessions, retries, TLS and error mapping."""

from __future__ import annotations

import time

import pytest

from ansible_collections.veeam_em.rest.plugins.module_utils import _client
from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient
from ansible_collections.veeam_em.rest.plugins.module_utils._connection_options import connection_settings
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import (
    APIError,
    AuthenticationError,
    CertificateError,
    CommunicationError,
    NotFoundError,
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
    assert methods(em) == [("POST", 201), ("GET", 200), ("GET", 401), ("POST", 201), ("GET", 200), ("DELETE", 204)]


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


def test_logon_is_never_retried(em, client_for):
    em.inject("status", method="POST", status=503, times=1)
    with pytest.raises(APIError, match="HTTP 503 for POST"):
        with client_for(retries=3):
            pass
    assert methods(em) == [("POST", 503)]


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
