# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile networks and hostile input, through real ansible-playbook runs.

Each case asserts what the user sees (outcome and message), a time bound, and
(through the ``em`` fixture) that no EM session is left open. Short timeouts
and few retries, set through the normal options, keep the suite fast.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
import requests

from conftest import BIN_DIR, EM_PASSWORD, EM_USERNAME, connection_to
from emulator import Emulator, SilentPort, TunnelProxy, closed_port

SEED_ID = "c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70"
TIMEOUT, RETRIES = 2, 2
#: urllib3's backoff with factor 0.5: no sleep before the first retry, then 0.5 * 2 ** (n - 1).
BACKOFF = sum(0.5 * 2 ** (n - 1) for n in range(2, RETRIES + 1))
#: What ansible-playbook itself takes around a task (start-up, fork, module transfer), generously.
ANSIBLE_OVERHEAD = 8.0
PLUGINS = ["module", "lookup"]


class Outcome:
    """What one playbook run of the module or the lookup gave, and how long it took."""

    def __init__(self, run, seconds):
        self.run, self.seconds = run, seconds
        self.failed = bool(run.result and run.result.get("failed"))
        self.msg = (run.result or {}).get("msg", "")
        self.backups = (run.result or {}).get("backups")
        self.warnings = (run.result or {}).get("warnings", [])


@pytest.fixture
def fetch(em, run_playbook):
    """Get backups through the module or the lookup with the emulator's connection and overrides."""

    def run(plugin, ids=(SEED_ID,), *args, target=None, env=None, **overrides):
        options = {**connection_to(target or em), "timeout": TIMEOUT, "retries": RETRIES, **overrides}
        options = {key: value for key, value in options.items() if value is not None}
        started = time.monotonic()
        if plugin == "module":
            [backup_id] = ids
            result = run_playbook("backup_info.yml", {"module_args": {**options, "id": backup_id}}, *args, env=env)
        else:
            result = run_playbook("lookup.yml", {"backup_ids": list(ids), "lookup_options": options}, *args, env=env)
        outcome = Outcome(result, time.monotonic() - started)
        assert result.result is not None, result.output
        assert "Traceback" not in result.output, result.output
        return outcome

    return run


def methods(em):
    return [(entry["method"], entry["status"]) for entry in em.request_log()]


@pytest.mark.parametrize("plugin", PLUGINS)
def test_503_twice_then_ok_succeeds_quietly(em, fetch, plugin):
    em.inject("status", method="GET", status=503, times=2)
    outcome = fetch(plugin)
    assert not outcome.failed, outcome.msg
    assert [backup["id"] for backup in outcome.backups] == [SEED_ID]
    assert outcome.warnings == [] and "[WARNING]" not in outcome.run.output
    assert methods(em) == [("POST", 201), ("GET", 503), ("GET", 503), ("GET", 200), ("DELETE", 204)]


@pytest.mark.parametrize("plugin", PLUGINS)
def test_503_on_every_get_fails_with_status_and_em_message_in_time(em, fetch, plugin):
    em.inject("status", method="GET", status=503, message="The service is restarting.", times=None)
    outcome = fetch(plugin)
    assert outcome.failed
    assert "EM answered HTTP 503 for GET https://" in outcome.msg
    assert "The service is restarting." in outcome.msg
    assert [status for method, status in methods(em) if method == "GET"] == [503] * (RETRIES + 1)
    assert outcome.seconds < (RETRIES + 1) * TIMEOUT + BACKOFF + ANSIBLE_OVERHEAD


@pytest.mark.parametrize("fault", ["reset", "cut"], ids=["reset-before-answer", "closed-mid-body"])
def test_connection_lost_once_is_retried(em, fetch, fault):
    em.inject(fault, method="GET", times=1)
    outcome = fetch("module")
    assert not outcome.failed, outcome.msg
    assert [backup["id"] for backup in outcome.backups] == [SEED_ID]


@pytest.mark.parametrize("fault, message", [
    ("reset", "Could not reach EM at 127.0.0.1:{port} (GET https://127.0.0.1:{port}/api/backups/"),
    ("cut", "EM at 127.0.0.1:{port} broke off its answer to GET https://127.0.0.1:{port}/api/backups/"),
], ids=["reset-before-answer", "closed-mid-body"])
@pytest.mark.parametrize("plugin", PLUGINS)
def test_connection_lost_every_time_gives_a_clear_message(em, fetch, plugin, fault, message):
    em.inject(fault, method="GET", times=None)
    outcome = fetch(plugin)
    assert outcome.failed
    assert message.format(port=em.port) in outcome.msg
    assert f"{RETRIES} retries" in outcome.msg and "Connection reset by peer" in outcome.msg
    assert len([method for method, _status in methods(em) if method == "GET"]) == RETRIES + 1


@pytest.mark.parametrize("plugin", PLUGINS)
def test_server_slower_than_timeout(em, fetch, plugin):
    em.inject("delay", method="GET", seconds=TIMEOUT + 1.5, times=None)
    outcome = fetch(plugin, retries=1)
    assert outcome.failed
    assert f"EM at 127.0.0.1:{em.port} did not answer within the timeout of {TIMEOUT} seconds" in outcome.msg
    assert outcome.seconds < 2 * TIMEOUT + ANSIBLE_OVERHEAD


def test_connection_refused_names_host_and_port(em, fetch):
    closed = closed_port()
    outcome = fetch("module", url=f"https://127.0.0.1:{closed}")
    assert outcome.failed
    assert f"Could not reach EM at 127.0.0.1:{closed}" in outcome.msg and "Connection refused" in outcome.msg
    assert outcome.seconds < ANSIBLE_OVERHEAD + BACKOFF


def test_unresolvable_name_names_host_and_port(em, fetch):
    outcome = fetch("lookup", url="em01.does-not-exist.invalid")
    assert outcome.failed
    assert "Could not reach EM at em01.does-not-exist.invalid:9398" in outcome.msg
    assert outcome.seconds < ANSIBLE_OVERHEAD + BACKOFF


@pytest.mark.parametrize("plugin", PLUGINS)
def test_session_expired_between_requests_logs_on_again_once(em, fetch, plugin):
    em.inject("expire_session", method="GET", times=1)
    outcome = fetch(plugin)
    assert not outcome.failed, outcome.msg
    assert [backup["id"] for backup in outcome.backups] == [SEED_ID]
    # The refused session is logged off first: EM had dropped it, so that answers 401.
    assert methods(em) == [("POST", 201), ("GET", 401), ("DELETE", 401), ("POST", 201), ("GET", 200), ("DELETE", 204)]
    assert em.stats()["logons"] == 2
    assert outcome.warnings == []


@pytest.mark.parametrize("plugin", PLUGINS)
def test_401_on_the_retry_too_is_an_authentication_failure(em, fetch, plugin):
    em.inject("expire_session", method="GET", times=2)
    outcome = fetch(plugin)
    assert outcome.failed
    assert "EM refused the session for GET https://" in outcome.msg and "(HTTP 401)" in outcome.msg
    assert methods(em)[:5] == [("POST", 201), ("GET", 401), ("DELETE", 401), ("POST", 201), ("GET", 401)]


@pytest.mark.parametrize("username, password", [(EM_USERNAME, "Wrong-Passw0rd!"), ("nobody", EM_PASSWORD)], ids=["wrong-password", "unknown-user"])
@pytest.mark.parametrize("plugin", PLUGINS)
def test_bad_credentials_fail_as_authentication_without_the_password(em, fetch, plugin, username, password):
    outcome = fetch(plugin, (SEED_ID,), "-vvvv", username=username, password=password)
    assert outcome.failed
    assert f"EM at 127.0.0.1:{em.port} refused the logon of user {username!r} (HTTP 401)" in outcome.msg
    assert password not in outcome.run.output
    assert methods(em) == [("POST", 401)]


@pytest.mark.parametrize("plugin", PLUGINS)
def test_em_500_error_body_is_the_message(em, fetch, plugin):
    em.inject("status", method="GET", status=500, message="Object reference not set to an instance of an object.", times=None)
    outcome = fetch(plugin)
    assert outcome.failed
    assert "EM answered HTTP 500 for GET https://" in outcome.msg
    assert outcome.msg.endswith("Object reference not set to an instance of an object.")


UNREADABLE = {
    "malformed-xml": (b"<Backup><Links><Link Href=</Backup>", "application/xml; charset=utf-8", "not well-formed"),
    "truncated": (None, "application/xml; charset=utf-8", "unclosed token"),
    "html-proxy-page": (b"<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>", "text/html", "expected XML, got content type 'text/html'"),
    "empty-body": (b"", "application/xml", "the body is empty"),
    "wrong-content-type": (b'{"Name": "Simple backup_1"}', "application/json", "expected XML, got content type 'application/json'"),
}


@pytest.mark.parametrize("case", UNREADABLE, ids=UNREADABLE.keys())
@pytest.mark.parametrize("plugin", PLUGINS)
def test_unreadable_responses_are_named_with_status_and_url(em, fetch, plugin, case):
    body, content_type, detail = UNREADABLE[case]
    if body is None:
        body = SEED_ENTITY_HALF
    em.inject("body", method="GET", body=body, content_type=content_type, times=None)
    outcome = fetch(plugin)
    assert outcome.failed
    assert f"EM returned an unreadable response (HTTP 200) for GET https://127.0.0.1:{em.port}/api/backups/{SEED_ID}" in outcome.msg
    assert detail in outcome.msg


SEED_ENTITY_HALF = (
    b'<?xml version="1.0" encoding="utf-8"?><Backup xmlns="http://www.veeam.com/ent/v1.0" Type="Backup" '
    b'Name="Simple backup_1" UID="urn:veeam:Backup:c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70"><Links><Link Rel="Up" '
)
HOSTILE_XML = {
    "dtd": b'<?xml version="1.0"?><!DOCTYPE Backup SYSTEM "http://attacker.invalid/b.dtd"><Backup/>',
    "billion-laughs": b'<?xml version="1.0"?><!DOCTYPE b [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                      b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
                      b'<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">'
                      b'<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">]><Backup Name="&h;"/>',
    "external-entity": b'<?xml version="1.0"?><!DOCTYPE b [<!ENTITY x SYSTEM "file:///etc/passwd">]><Backup Name="&x;"/>',
}


@pytest.mark.parametrize("case", HOSTILE_XML, ids=HOSTILE_XML.keys())
def test_hostile_xml_is_refused_fast(em, fetch, case):
    em.inject("body", method="GET", body=HOSTILE_XML[case], times=None)
    outcome = fetch("module")
    assert outcome.failed
    assert "EM returned an unreadable response (HTTP 200)" in outcome.msg
    assert "a document type declaration (DTD) is not allowed" in outcome.msg
    assert outcome.seconds < 1 + ANSIBLE_OVERHEAD


def test_100_mb_body_is_refused_not_buffered(em, fetch):
    em.inject("huge", method="GET", size=100 * 1024 * 1024, times=None)
    outcome = fetch("module")
    assert outcome.failed
    assert f"EM's response to GET https://127.0.0.1:{em.port}/api/backups/{SEED_ID}" in outcome.msg
    assert "more than the 67108864 bytes this collection reads" in outcome.msg
    assert outcome.seconds < ANSIBLE_OVERHEAD


@pytest.fixture(scope="module")
def bad_certificates(tmp_path_factory, emulator):
    """Emulators whose certificates fail in other ways, signed by the same test CA."""
    state_dir = emulator.state_dir
    with Emulator(state_dir, username=EM_USERNAME, password=EM_PASSWORD, cert_kind="wrong_host") as wrong_host, \
            Emulator(state_dir, username=EM_USERNAME, password=EM_PASSWORD, cert_kind="expired") as expired:
        yield {"wrong-host": wrong_host, "expired": expired}


@pytest.mark.parametrize("plugin", PLUGINS)
def test_self_signed_certificate_fails_by_default_and_ca_path_fixes_it(em, fetch, plugin):
    outcome = fetch(plugin, ca_path=None)
    assert outcome.failed
    assert f"Could not verify the TLS certificate of EM at 127.0.0.1:{em.port}" in outcome.msg
    assert "certificate verify failed" in outcome.msg and "Set ca_path" in outcome.msg
    assert not fetch(plugin).failed


@pytest.mark.parametrize("kind, reason", [("wrong-host", "IP address mismatch"), ("expired", "certificate has expired")])
def test_wrong_host_and_expired_certificates_fail_even_with_ca_path(em, fetch, bad_certificates, kind, reason):
    target = bad_certificates[kind]
    outcome = fetch("module", target=target)
    assert outcome.failed
    assert f"Could not verify the TLS certificate of EM at 127.0.0.1:{target.port}" in outcome.msg
    assert reason in outcome.msg
    assert target.stats()["live_sessions"] == 0


@pytest.mark.parametrize("kind", ["self-signed", "wrong-host", "expired"])
def test_validate_certs_false_works_and_warns_once(em, fetch, bad_certificates, kind):
    target = em if kind == "self-signed" else bad_certificates[kind]
    outcome = fetch("module", target=target, ca_path=None, validate_certs=False)
    assert not outcome.failed, outcome.msg
    assert [backup["id"] for backup in outcome.backups] == [SEED_ID]
    assert len([warning for warning in outcome.warnings if "validate_certs is false" in warning]) == 1
    assert target.stats()["live_sessions"] == 0


INJECTIONS = {
    "dot-dot": "../sessionMngr",
    "encoded-dot-dot": "%2e%2e%2fsessionMngr",
    "query": f"{SEED_ID}?format=Entity",
    "slash": f"{SEED_ID}/restorePoints",
    "nul": f"{SEED_ID}\u0000",
    "10-kB": "c" * 10_240,
}


@pytest.mark.parametrize("plugin", PLUGINS)
def test_path_injection_ids_are_refused_before_any_request(em, fetch, plugin):
    for label, bad_id in INJECTIONS.items():
        outcome = fetch(plugin, ids=(bad_id,))
        assert outcome.failed, label
        assert f"Invalid backup id {bad_id[:20]!r}"[:-1] in outcome.msg, label
        assert len(outcome.msg) < 500, label
    assert em.stats()["requests"] == 0 and em.stats()["connections"] == 0


def test_no_secret_in_vvvv_output_results_or_the_emulator_log(em, fetch):
    em.inject("status", method="GET", status=500, message="Boom", times=1)
    failing = fetch("lookup", (SEED_ID,), "-vvvv")
    succeeding = fetch("module", (SEED_ID,), "-vvvv")
    assert failing.failed and not succeeding.failed
    secrets = [EM_PASSWORD, *em.issued_tokens(), "Authorization", "Basic "]
    for outcome in (failing, succeeding):
        for secret in secrets:
            assert secret not in outcome.run.output
            assert secret not in str(outcome.run.result)
    assert not any(secret in str(em.request_log()) for secret in [EM_PASSWORD, *em.issued_tokens()])


def test_1000_lookups_in_8_parallel_forks(em, tmp_path, ansible_env):
    hosts, per_host = 8, 125
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("\n".join(f"host{n} ansible_connection=local" for n in range(hosts)) + "\n")
    options = {**connection_to(em), "timeout": 10, "retries": RETRIES}
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps({"backup_id": SEED_ID, "lookups_per_host": per_host, "lookup_options": options}))
    started = time.monotonic()
    process = subprocess.run(
        [str(BIN_DIR / "ansible-playbook"), "-i", str(inventory), "--forks", str(hosts), "-e", f"@{vars_file}",
         str(Path(__file__).parent / "playbooks" / "parallel_lookups.yml")],
        env=ansible_env, capture_output=True, text=True, timeout=600, check=False)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    stats = em.stats()
    assert (stats["logons"], stats["logoffs"]) == (hosts * per_host, hosts * per_host)
    assert stats["requests"] == 3 * hosts * per_host
    print(f"1000 lookups in {time.monotonic() - started:.1f} s")


# Hostile networks, part two: redirects, tokens in messages, paging, deadlines, proxies.

@pytest.fixture
def silent_port():
    """A port that never answers, as ``(port, accepted)``: ``accepted()`` counts its connections."""
    with SilentPort() as silent:
        yield silent.port, silent.accepted


@pytest.mark.parametrize("scheme", ["https", "http"], ids=["other-host", "https-to-http"])
@pytest.mark.parametrize("plugin", PLUGINS)
def test_a_redirect_fails_the_call_and_is_never_followed(em, fetch, silent_port, plugin, scheme):
    port, accepted = silent_port
    em.inject("redirect", method="GET", location=f"{scheme}://127.0.0.1:{port}/api/backups/{SEED_ID}?format=Entity&sig=abc")
    outcome = fetch(plugin)
    assert outcome.failed
    assert f"with a redirect (HTTP 302) to {scheme}://127.0.0.1:{port}, which this collection does not follow" in outcome.msg
    assert "sig=abc" not in outcome.msg
    assert accepted() == 0, "the redirect's target must receive nothing"
    assert methods(em) == [("POST", 201), ("GET", 302), ("DELETE", 204)]


@pytest.mark.parametrize("plugin", PLUGINS)
def test_a_session_id_with_a_line_break_never_shows_at_vvv(em, fetch, plugin):
    logon = requests.post(f"{em.url}/api/sessionMngr/?v=latest", auth=(EM_USERNAME, EM_PASSWORD.encode()), verify=em.ca_path, timeout=5)
    token = logon.headers["X-RestSvcSessionId"]
    try:
        outcome = fetch(plugin, (SEED_ID,), "-vvv",
                        username=None, password=None, session_id=f"{token}\n")
        assert not outcome.failed, outcome.msg
        assert [backup["id"] for backup in outcome.backups] == [SEED_ID]
        for shown in (token, repr(f"{token}\n")[1:-1], token[:16]):
            assert shown not in outcome.run.output and shown not in str(outcome.run.result)
    finally:
        session_id = logon.text.split("<SessionId>")[1].split("<")[0]
        requests.delete(f"{em.url}/api/logonSessions/{session_id}", headers={"X-RestSvcSessionId": token}, verify=em.ca_path, timeout=5)


#: A valid password that begins and ends with a space and holds a tab: Basic authentication carries it.
SPACED_PASSWORD = " Pa55\tword "


@pytest.fixture(scope="module")
def spaced_password_em(tmp_path_factory):
    with Emulator(tmp_path_factory.mktemp("spaced"), username=EM_USERNAME, password=SPACED_PASSWORD) as em:
        yield em


@pytest.mark.parametrize("plugin", PLUGINS)
def test_a_password_that_begins_and_ends_with_a_space_logs_on(em, spaced_password_em, fetch, plugin):
    with spaced_password_em.test_scope():
        outcome = fetch(plugin, target=spaced_password_em, password=SPACED_PASSWORD)
        assert not outcome.failed, outcome.msg
        assert [backup["id"] for backup in outcome.backups] == [SEED_ID]
        assert [entry["method"] for entry in spaced_password_em.request_log()] == ["POST", "GET", "DELETE"]
        # The same password without its spaces is another password.
        outcome = fetch(plugin, target=spaced_password_em, password=SPACED_PASSWORD.strip())
        assert outcome.failed and "refused the logon" in outcome.msg


@pytest.mark.parametrize("plugin", PLUGINS)
def test_paging_that_never_advances_ends_without_duplicates(bulk_em, run_playbook, plugin):
    bulk_em.inject("fixed_page", method="GET", path="/api/query", page=1, times=None)
    options = {**connection_to(bulk_em), "timeout": TIMEOUT, "retries": RETRIES}
    if plugin == "module":
        run = run_playbook("backup_info.yml", {"module_args": options})
    else:
        run = run_playbook("lookup.yml", {"backup_ids": [], "lookup_options": options})
    assert "Traceback" not in run.output
    assert run.result["failed"]
    assert "paging does not advance" in run.result["msg"] and "the listing would be incomplete" in run.result["msg"]
    pages_count = -(-len(bulk_em.data.backups) // 1000)
    queries = [entry for entry in bulk_em.request_log() if entry["path"] == "/api/query"]
    assert len(queries) == 2 and bulk_em.stats()["requests"] <= pages_count + 3


@pytest.mark.parametrize("plugin", PLUGINS)
def test_timeout_is_a_deadline_for_a_trickling_answer(em, fetch, plugin):
    em.inject("trickle", method="GET", interval=0.2, times=None)
    outcome = fetch(plugin, timeout=2, retries=0)
    assert outcome.failed
    assert f"EM at 127.0.0.1:{em.port} did not answer within the timeout of 2 seconds (GET https://" in outcome.msg
    assert "retr" not in outcome.msg
    assert outcome.seconds < 2 + ANSIBLE_OVERHEAD


@pytest.mark.parametrize("plugin", PLUGINS)
def test_a_dead_proxy_is_named_instead_of_em(em, fetch, plugin):
    dead_port = closed_port()
    proxy = {"HTTPS_PROXY": f"http://proxy-user:pr0xy-Pa55@127.0.0.1:{dead_port}", "NO_PROXY": "", "no_proxy": ""}
    outcome = fetch(plugin, retries=0, env=proxy)
    assert outcome.failed
    assert f"through the proxy http://127.0.0.1:{dead_port}" in outcome.msg and "NO_PROXY" in outcome.msg
    assert "pr0xy-Pa55" not in outcome.run.output
    assert em.stats()["requests"] == 0


@pytest.mark.parametrize("scheme", ["socks5h", "http"])
@pytest.mark.parametrize("plugin", PLUGINS)
def test_em_through_a_proxy_from_the_environment(em, fetch, plugin, scheme):
    with TunnelProxy(allowed=(em.port,), username="proxy-user", password="pr0xy-Pa55") as proxy:
        env = {"HTTPS_PROXY": f"{scheme}://proxy-user:pr0xy-Pa55@127.0.0.1:{proxy.port}", "NO_PROXY": "", "no_proxy": ""}
        outcome = fetch(plugin, env=env)
    assert not outcome.failed, outcome.msg
    assert [backup["id"] for backup in outcome.backups] == [SEED_ID]
    assert proxy.targets == [f"127.0.0.1:{em.port}"]
    assert methods(em) == [("POST", 201), ("GET", 200), ("DELETE", 204)]


@pytest.mark.parametrize("plugin", PLUGINS)
def test_plain_http_warns_naming_the_url(em, fetch, plugin):
    closed = closed_port()
    outcome = fetch(plugin, retries=0, url=f"http://127.0.0.1:{closed}")
    assert outcome.failed and f"Could not reach EM at 127.0.0.1:{closed}" in outcome.msg
    warning = f"url http://127.0.0.1:{closed} is plain HTTP: the password and EM's answers cross the network unencrypted."
    shown = outcome.warnings if plugin == "module" else [outcome.run.unwrapped]
    assert any(warning in text for text in shown), outcome.run.output
