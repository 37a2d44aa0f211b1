# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""EM documents parse with namespaces folded away; hostile XML is refused."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from ansible_collections.veeam_em.rest.plugins.module_utils._errors import MalformedXMLError
from ansible_collections.veeam_em.rest.plugins.module_utils._xml import error_message, parse_document

FIXTURES = Path(__file__).parent / "fixtures"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Backup xmlns="http://www.veeam.com/ent/v1.0" Name="&lol3;"/>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE b [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Backup Name="&xxe;"/>"""
DTD_ONLY = b"""<?xml version="1.0"?><!DOCTYPE Backup SYSTEM "http://example.invalid/x.dtd"><Backup/>"""


def test_logon_session_parses_without_namespace_prefixes():
    root, content = parse_document((FIXTURES / "logon_session.xml").read_bytes())
    assert root == "LogonSession"
    assert content["SessionId"] == "0f4c2a6e-3b1d-4c8e-9a55-2d7e1b9c4a10"
    assert [link["@Rel"] for link in content["Links"]["Link"]] == ["Up", "Delete"]


def test_single_link_is_still_a_list():
    _root, content = parse_document((FIXTURES / "backup_escaped_names.xml").read_bytes())
    assert isinstance(content["Links"]["Link"], list)


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, DTD_ONLY], ids=["billion-laughs", "external-entity", "dtd"])
def test_dtds_and_entities_are_refused_quickly(body):
    started = time.monotonic()
    with pytest.raises(MalformedXMLError):
        parse_document(body)
    assert time.monotonic() - started < 1


def test_entity_expansion_is_refused_without_allocating():
    levels = "".join(f'<!ENTITY e{n} "{f"&e{n - 1};" * 10}">' for n in range(1, 10))
    bomb = f'<?xml version="1.0"?><!DOCTYPE b [<!ENTITY e0 "0123456789">{levels}]><Backup Name="&e9;"/>'.encode()
    tracemalloc.start()
    try:
        with pytest.raises(MalformedXMLError):
            parse_document(bomb)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 1024 * 1024


@pytest.mark.parametrize("body", [b"", b"   ", b"<Backup", b"<html><body>502 Bad Gateway</body>", b"not xml", b"<a></b>"])
def test_unreadable_bodies_raise_malformed_xml(body):
    with pytest.raises(MalformedXMLError):
        parse_document(body)


def test_error_message_of_em_error_body():
    assert error_message((FIXTURES / "error_404.xml").read_bytes()) == "Backup with id [00000000-0000-0000-0000-000000000000] was not found."


@pytest.mark.parametrize("body", [b"", b"<html>Bad gateway</html>", (FIXTURES / "logon_session.xml").read_bytes()])
def test_error_message_is_none_for_other_bodies(body):
    assert error_message(body) is None
