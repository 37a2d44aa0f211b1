# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup servers EM knows, each with its repositories and backups: what the inventory plugin turns into hosts.

Private to veeam_em.rest: not a public API, may change without notice.

Three listings of the query service, whole pages at a time (backup servers,
repositories, backups), grouped here by backup server: the cost is a request
per page of each listing, never a request per server or per repository.
Backups come from ``get_backups``, the code path of module and lookup, so a
host's backups are exactly what the module returns for them.
"""

from __future__ import annotations

from typing import Any, Optional

from ansible_collections.veeam_em.rest.plugins.module_utils._backups import BackupSelection, _query, get_backups
from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient
from ansible_collections.veeam_em.rest.plugins.module_utils._normalize import (
    normalize_backup_server,
    normalize_repository,
    repository_server_id,
)


def backup_servers(client: EMClient, selection: BackupSelection, with_backups: bool) -> list[dict[str, Any]]:
    """Each backup server, in EM's order, as ``{backup_server, repositories, backup_count[, backups]}``.

    ``selection`` (all backups: no ids, no name) says what each backup carries;
    the backups are counted per server in any case, and kept when ``with_backups``.
    """
    servers = [
        normalize_backup_server(entity)
        for entity in _query(client, {"type": "BackupServer", "format": "Entities"}, "BackupServers", "BackupServer")
    ]
    repositories: dict[Optional[str], list[dict[str, Any]]] = {server["id"]: [] for server in servers}
    for entity in _query(client, {"type": "Repository", "format": "Entities"}, "Repositories", "Repository"):
        owned = repositories.get(repository_server_id(entity))
        if owned is not None:
            owned.append(with_free_percent(normalize_repository(entity)))
    backups: dict[Optional[str], list[dict[str, Any]]] = {server["id"]: [] for server in servers}
    for backup in get_backups(client, selection, on_missing=lambda backup_id: None):
        owned = backups.get((backup["backup_server"] or {}).get("id"))
        if owned is not None:
            owned.append(backup)
    result = []
    for server in servers:
        entry = {"backup_server": server, "repositories": repositories[server["id"]], "backup_count": len(backups[server["id"]])}
        if with_backups:
            entry["backups"] = backups[server["id"]]
        result.append(entry)
    return result


def with_free_percent(repository: dict[str, Any]) -> dict[str, Any]:
    """The repository with ``free_percent``: free space in percent of capacity, one decimal; None when unknown."""
    capacity, free_space = repository["capacity"], repository["free_space"]
    percent = round(100 * free_space / capacity, 1) if capacity and free_space is not None else None
    return {**repository, "free_percent": percent}
