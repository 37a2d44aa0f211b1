# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup servers EM knows, each with its repositories and backups: what the inventory plugin turns into hosts.

Private to veeam_em.rest: not a public API, may change without notice.

Three listings of the query service, whole pages at a time (backup servers,
repositories, backups), grouped here by backup server: the cost is a request
per page of each listing, never a request per server or per repository.
Backups come from ``get_backups``, the code path of module and lookup, so a
host's backups are exactly what the module returns for them.

``host_names`` decides which of EM's names may name a host: whoever can name a
backup server in EM must not be able to choose a name that means something else
to Ansible (a group, a template, the controller, a host of another source or
another server's).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Collection, Optional

from ansible_collections.veeam_em.rest.plugins.module_utils._backups import BackupSelection, _query, get_backups
from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import VeeamEMError
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


#: What starts a Jinja expression, statement or comment: a host name never holds one.
_TEMPLATE_MARKERS = ("{{", "{%", "{#")

#: The names Ansible gives the controller: its implicit ``localhost`` (ansible.constants.LOCALHOST, which
#: module_utils may not import; the inventory plugin adds that constant's names to these).
CONTROLLER_NAMES = frozenset(("localhost", "127.0.0.1", "::1"))


def host_names(servers: list[dict[str, Any]], groups: Collection[str], hosts: Collection[str],
               controller_names: Collection[str]) -> list[tuple[str, Optional[str]]]:
    """``(host name, why not EM's name or None)`` for each backup server, in order.

    A server is named by EM's name for it unless that name is empty, holds a
    template delimiter, names the controller (``controller_names``, in any case, as
    name resolution ignores case), is one of ``groups`` (``all``, ``ungrouped`` and
    the groups the inventory has: Ansible resolves a name to a group before a host),
    is one of ``hosts`` (defined by an earlier inventory source: EM must not choose
    where Ansible connects for it, nor add it to groups), is another server's id,
    or is shared with another server; then by its id (a UUID, checked by the
    normalizer), with the reason. Servers that share a name are all named by id,
    so that no host name depends on EM's listing order.

    Raises VeeamEMError when a server that must be named by its id finds that id
    taken by a host or group of another source: no name is left that neither
    takes nor loses anything.
    """
    counts = Counter(server["name"] for server in servers)
    ids = {server["id"] for server in servers}
    controller = {name.casefold() for name in controller_names}
    names = []
    for server in servers:
        reason = _why_not_a_host_name(server, groups, hosts, controller, ids, counts)
        if reason and (server["id"] in groups or server["id"] in hosts):
            holder = "group" if server["id"] in groups else "host"
            raise VeeamEMError(
                f"The backup server {server['id']} cannot be a host: its name {server['name']!r} {reason}, and its id "
                f"is the name of a {holder} from another inventory source. Rename that {holder}, or read this EM "
                "through one inventory source only."
            )
        names.append((server["id"], reason) if reason else (server["name"], None))
    return names


def _why_not_a_host_name(server: dict[str, Any], groups: Collection[str], hosts: Collection[str],
                         controller: Collection[str], ids: Collection[str], counts: Counter) -> Optional[str]:
    name = server["name"]
    if not name or not name.strip():
        return "is empty"
    if any(marker in name for marker in _TEMPLATE_MARKERS):
        return "holds a template delimiter"
    if name.casefold() in controller:
        return "is a name of the controller (Ansible's implicit localhost)"
    if name in groups:
        return "is the name of a group"
    if name in hosts:
        return "is the name of a host from another inventory source"
    if name in ids and name != server["id"]:
        return "is the id of another backup server"
    if counts[name] > 1:
        return "is shared with another backup server"
    return None
