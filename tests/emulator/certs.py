# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A private test CA and the emulator's server certificates.

Clients under test verify the emulator against ``ca.pem`` (never with verification
off), so TLS code paths are exercised as with a real EM. The CA key is kept in the
state directory so that later runs, and the fault certificates (wrong host name,
expired), are signed by the same CA.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import trustme

CA_CERT = "ca.pem"
CA_KEY = "ca-key.pem"
SERVER_IDENTITIES = ("127.0.0.1", "localhost", "::1")
WRONG_HOST = "wrong.example"
# "valid": for 127.0.0.1, localhost and ::1; "wrong_host": only for wrong.example;
# "expired": right names, validity ended yesterday.
CERT_KINDS = ("valid", "wrong_host", "expired")


def _load_or_create_ca(state_dir: Path) -> trustme.CA:
    cert_path, key_path = state_dir / CA_CERT, state_dir / CA_KEY
    if cert_path.is_file() and key_path.is_file():
        return trustme.CA.from_pem(cert_path.read_bytes(), key_path.read_bytes())
    state_dir.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="veeam_em.rest test CA")
    ca.private_key_pem.write_to_path(str(key_path))
    key_path.chmod(0o600)
    ca.cert_pem.write_to_path(str(cert_path))
    return ca


def _issue(ca: trustme.CA, kind: str) -> trustme.LeafCert:
    if kind == "valid":
        return ca.issue_cert(*SERVER_IDENTITIES)
    if kind == "wrong_host":
        return ca.issue_cert(WRONG_HOST)
    if kind == "expired":
        now = datetime.now(timezone.utc)
        return ca.issue_cert(*SERVER_IDENTITIES, not_before=now - timedelta(days=30),
                             not_after=now - timedelta(days=1))
    raise ValueError(f"unknown certificate kind {kind!r}; known: {', '.join(CERT_KINDS)}")


def server_certificate(state_dir: Path | str, kind: str = "valid") -> Path:
    """Path of ``server.pem`` (kind "valid") or ``server-<kind>.pem``: certificate
    chain and private key, made by the state directory's CA unless already there."""
    state_dir = Path(state_dir)
    if kind not in CERT_KINDS:
        raise ValueError(f"unknown certificate kind {kind!r}; known: {', '.join(CERT_KINDS)}")
    path = state_dir / ("server.pem" if kind == "valid" else f"server-{kind}.pem")
    ca_exists = (state_dir / CA_CERT).is_file() and (state_dir / CA_KEY).is_file()
    if ca_exists and path.is_file():
        return path
    leaf = _issue(_load_or_create_ca(state_dir), kind)
    leaf.private_key_and_cert_chain_pem.write_to_path(str(path))
    path.chmod(0o600)
    return path
