# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An EM emulator over real HTTPS on loopback, for the client's tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from emulator import Emulator  # noqa: E402  (needs tests/ on sys.path)

from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient  # noqa: E402
from ansible_collections.veeam_em.rest.plugins.module_utils._connection_options import connection_settings  # noqa: E402

EM_USERNAME = "svc-ansible"
EM_PASSWORD = "Pa55:w0rd & ü"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    with Emulator(state_dir=tmp_path_factory.mktemp("emulator"), username=EM_USERNAME, password=EM_PASSWORD) as em:
        yield em


@pytest.fixture
def em(emulator):
    """The shared emulator, fresh for this test; the test fails if it leaves an EM session open."""
    with emulator.test_scope():
        yield emulator


@pytest.fixture
def client_for(em):
    """A client for the emulator; keyword arguments override its connection options."""

    def make(**options) -> EMClient:
        base = {"url": em.url, "username": EM_USERNAME, "password": EM_PASSWORD, "ca_path": em.ca_path, "timeout": 5, "retries": 2}
        return EMClient(connection_settings({**base, **options}))

    return make
