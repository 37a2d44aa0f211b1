# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backups as the plugins return them: one code path for module and lookup.

Private to veeam_em.rest: not a public API, may change without notice.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import (
    InvalidInputError,
    NotFoundError,
    UnreadableResponseError,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._normalize import normalize_backup

BACKUP_URN_PREFIX = "urn:veeam:Backup:"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_SHOWN_CHARACTERS = 80


def parse_backup_id(value: Any) -> str:
    """The lower-case UUID of a backup id or UID, validated before it goes near a URL."""
    text = value if isinstance(value, str) else ""
    candidate = text[len(BACKUP_URN_PREFIX):] if text[: len(BACKUP_URN_PREFIX)].lower() == BACKUP_URN_PREFIX.lower() else text
    if not _UUID.fullmatch(candidate):
        raise InvalidInputError(
            f"Invalid backup id {_shown(value)}: expected a UUID such as c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70 "
            f"or a UID such as {BACKUP_URN_PREFIX}c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70."
        )
    return candidate.lower()


def fetch_backup(client: EMClient, backup_id: str) -> Optional[dict[str, Any]]:
    """The normalized backup with this (parsed) id, or None when EM does not know it."""
    try:
        document = client.get(f"backups/{backup_id}", params={"format": "Entity"})
    except NotFoundError:
        return None
    if document.root != "Backup":
        raise UnreadableResponseError(
            f"EM answered GET {document.url} with a <{document.root}> document where a <Backup> entity was expected."
        )
    return normalize_backup(document.content)


def _shown(value: Any) -> str:
    """``repr`` of a value for a message, cut short so a 10 kB id does not flood the output."""
    text = repr(value)
    if len(text) <= _SHOWN_CHARACTERS:
        return text
    return f"{text[:_SHOWN_CHARACTERS]}... ({len(value) if isinstance(value, str) else len(text)} characters)"
