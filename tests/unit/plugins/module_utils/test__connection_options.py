# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options: one spec, URL forms, credentials, and docs that match the spec."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.veeam_em.rest.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.veeam_em.rest.plugins.module_utils._connection_options import (
    CONNECTION_ARGUMENT_SPEC,
    connection_settings,
    normalize_base_url,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import InvalidInputError

CREDENTIALS = {"url": "em01", "username": "svc", "password": "s3cret-Pa55"}


@pytest.mark.parametrize("url, base", [
    ("em01", "https://em01:9398/api"),
    ("em01:9398", "https://em01:9398/api"),
    ("https://em01:9398", "https://em01:9398/api"),
    ("https://em01:9398/api/", "https://em01:9398/api"),
    ("https://em01:9398/api", "https://em01:9398/api"),
    ("http://em01", "http://em01:9399/api"),
    ("https://em01", "https://em01:9398/api"),
    ("em01.example.com:443", "https://em01.example.com:443/api"),
    ("  https://EM01:9398/  ", "https://em01:9398/api"),
    ("[::1]:9398", "https://[::1]:9398/api"),
    ("https://proxy.example.com/veeam/api/", "https://proxy.example.com:9398/veeam/api"),
    ("https://em01:9398/API", "https://em01:9398/API"),
    ("https://em01:9398/Api/", "https://em01:9398/Api"),
    ("em01/aPI", "https://em01:9398/aPI"),
])
def test_url_forms(url, base):
    assert normalize_base_url(url) == base


@pytest.mark.parametrize("url", ["", None, "ftp://em01", "https://", "em01:notaport", "https://em01:9398/api?x=1", "https://user:pw@em01"])
def test_bad_urls_name_the_value(url):
    with pytest.raises(InvalidInputError, match="url"):
        normalize_base_url(url)


def test_password_is_not_echoed_for_a_url_with_credentials():
    with pytest.raises(InvalidInputError) as error:
        connection_settings({**CREDENTIALS, "url": "https://svc:s3cret-Pa55@em01"})
    assert "s3cret-Pa55" not in str(error.value)


@pytest.mark.parametrize("options", [{"url": "em01"}, {"url": "em01", "username": "svc"}, {"url": "em01", "password": "x"}])
def test_credentials_or_session_are_required(options):
    with pytest.raises(InvalidInputError, match="username and password.*session_id"):
        connection_settings(options)


def test_session_id_wins_over_credentials():
    settings = connection_settings({**CREDENTIALS, "session_id": "tok+en/=="})
    assert (settings.session_id, settings.username, settings.password) == ("tok+en/==", None, None)


def test_session_id_loses_surrounding_white_space():
    settings = connection_settings({"url": "em01", "session_id": " \tvalue-1==\r\n"})
    assert settings.session_id == "value-1=="


@pytest.mark.parametrize("name", ["username", "password"])
@pytest.mark.parametrize("value", [" \tPa55 word\r\n", " leading and trailing ", "tab\there", "\x1b[31m"])
def test_user_name_and_password_are_kept_exactly_as_given(name, value):
    """Basic authentication carries any character: a valid password may begin or end with a space."""
    assert getattr(connection_settings({**CREDENTIALS, name: value}), name) == value


@pytest.mark.parametrize("character", ["\n", "\x00", "\x1b", "\x7f"])
def test_control_characters_in_the_session_id_are_refused_without_the_value(character):
    with pytest.raises(InvalidInputError, match="^session_id holds a control character") as error:
        connection_settings({"url": "em01", "session_id": f"s3cret{character}Pa55"})
    assert "s3cret" not in str(error.value) and "Pa55" not in str(error.value)


@pytest.mark.parametrize("validate_certs, ca_path, verify", [(True, None, True), (True, "/ca.pem", "/ca.pem"), (False, "/ca.pem", False), (False, None, False)])
def test_verify_folds_validate_certs_and_ca_path(validate_certs, ca_path, verify):
    assert connection_settings({**CREDENTIALS, "validate_certs": validate_certs, "ca_path": ca_path}).verify == verify


def test_defaults_and_repr_without_secrets():
    settings = connection_settings(CREDENTIALS)
    assert (settings.verify, settings.timeout, settings.retries, settings.api_version) == (True, 30, 3, "latest")
    assert "s3cret-Pa55" not in repr(settings)


@pytest.mark.parametrize("option, value", [("timeout", 0), ("retries", -1), ("api_version", "v1_7&x=1")])
def test_bad_numbers_and_versions_name_the_option(option, value):
    with pytest.raises(InvalidInputError, match=option):
        connection_settings({**CREDENTIALS, option: value})


def test_doc_fragment_documents_exactly_the_argument_spec():
    module_docs = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    plugin_docs = yaml.safe_load(ModuleDocFragment.PLUGINS)["options"]
    assert set(module_docs) == set(plugin_docs) == set(CONNECTION_ARGUMENT_SPEC)
    for name, spec in CONNECTION_ARGUMENT_SPEC.items():
        assert module_docs[name]["type"] == spec["type"]
        assert module_docs[name].get("default") == spec.get("default")
        assert module_docs[name].get("required", False) == spec.get("required", False)
        env_var = f"VEEAM_EM_{name.upper()}"
        assert spec["fallback"][1] == [env_var]
        assert plugin_docs[name] == {"env": [{"name": env_var}], "vars": [{"name": f"veeam_em_{name}"}]}
