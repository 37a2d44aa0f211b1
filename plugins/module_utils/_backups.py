# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backups as the plugins return them: one code path for module and lookup.

Private to veeam_em.rest: not a public API, may change without notice.

``get_backups`` fetches by id, by name or all, names the parents of child
backups, then adds linked details and restore points with as few requests as EM
allows: pages of the query service instead of a request per backup, and one
request per distinct linked entity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Optional
from urllib.parse import quote_plus

from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import (
    InvalidInputError,
    NotFoundError,
    UnreadableResponseError,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._normalize import (
    UUID_PATTERN,
    backup_server_details,
    normalize_backup,
    normalize_restore_point,
    query_entities,
    query_pages,
    repository_details,
    restore_point_backup_id,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._restore_points import (
    creation_time_filter,
    latest_restore_points,
    newest,
    parse_since,
)

BACKUP_URN_PREFIX = "urn:veeam:Backup:"
#: Entities per query page; EM's own default is 100.
PAGE_SIZE = 1000
#: Values per OR filter (UIDs of backups, of the backups whose restore points are
#: wanted, VM names): 40 UIDs make about 2.5 kB of query string.
UID_BATCH = 40
#: Longest request line sent to EM. EM is served by HTTP.sys, whose default limit is 16 kB;
#: proxies and load balancers in front of it often allow 8 kB: names of non-Latin letters
#: take 9 bytes a character once URL-encoded, so 40 of them can take far more.
MAX_REQUEST_LINE = 8 * 1024
#: What a query's request line holds besides its OR filter (method, path, type, format,
#: sort, page and page size, a CreationTime bound, the protocol), with room to spare.
REQUEST_LINE_RESERVE = 1024
_FILTER_BUDGET = MAX_REQUEST_LINE - REQUEST_LINE_RESERVE - len("filter=")
EXPANDABLE = {"repository": repository_details, "backup_server": backup_server_details}

#: Options of every plugin that selects backups, besides how ids are given.
BACKUP_SELECTION_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "name": {"type": "str"},
    "expand": {"type": "list", "elements": "str", "choices": sorted(EXPANDABLE), "default": []},
    "restore_points": {"type": "bool", "default": False},
    "restore_points_since": {"type": "str"},
    "latest_restore_point": {"type": "bool", "default": False},
}

_SHOWN_CHARACTERS = 80


@dataclass(frozen=True)
class BackupSelection:
    """Which backups to get and what to add to them; checked before any request."""

    ids: tuple[str, ...]
    name: Optional[str]
    expand: tuple[str, ...]
    restore_points: bool
    #: Only restore points created at this moment or later (None: all of them).
    restore_points_since: Optional[datetime] = None
    latest_restore_point: bool = False


def backup_selection(ids: list[Any], options: dict[str, Any], now: Optional[datetime] = None) -> BackupSelection:
    """Check ids and selection options of any plugin; no ids and no name mean all backups.

    ``restore_points_since`` is a moment by then: a duration counts back from ``now``.
    """
    expand = tuple(dict.fromkeys(options.get("expand") or ()))
    unknown = [item for item in expand if item not in EXPANDABLE]
    if unknown:
        raise InvalidInputError(f"expand takes {' and '.join(sorted(EXPANDABLE))}, not {', '.join(map(repr, unknown))}.")
    name = options.get("name")
    if ids and name is not None:
        raise InvalidInputError("Give backup ids or a name, not both.")
    since = options.get("restore_points_since")
    if since is not None:
        if not options.get("restore_points"):
            raise InvalidInputError("restore_points_since limits the restore points that restore_points=true adds: set restore_points too.")
        since = parse_since(since, now or datetime.now(timezone.utc))
    return BackupSelection(tuple(parse_backup_id(value) for value in ids), name, expand, bool(options.get("restore_points")),
                           since, bool(options.get("latest_restore_point")))


def parse_backup_id(value: Any) -> str:
    """The lower-case UUID of a backup id or UID, validated before it goes near a URL."""
    text = value if isinstance(value, str) else ""
    candidate = text[len(BACKUP_URN_PREFIX):] if text[: len(BACKUP_URN_PREFIX)].lower() == BACKUP_URN_PREFIX.lower() else text
    if not UUID_PATTERN.fullmatch(candidate):
        raise InvalidInputError(
            f"Invalid backup id {_shown(value)}: expected a UUID such as c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70 "
            f"or a UID such as {BACKUP_URN_PREFIX}c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70."
        )
    return candidate.lower()


def get_backups(client: EMClient, selection: BackupSelection, on_missing: Callable[[str], None]) -> list[dict[str, Any]]:
    """The selected backups, normalized, with what ``selection`` adds; ``on_missing(id)`` for unknown ids."""
    if selection.ids:
        found = fetch_by_ids(client, selection.ids)
        backups = []
        for backup_id in selection.ids:
            if found[backup_id] is None:
                on_missing(backup_id)
            else:
                backups.append(found[backup_id])
    else:
        backups = list_backups(client, selection.name)
    name_parent_backups(client, backups)
    for link in selection.expand:
        expand_link(client, backups, link)
    every_backup = not selection.ids and selection.name is None
    if selection.restore_points:
        add_restore_points(client, backups, every_backup, selection.restore_points_since)
    if selection.latest_restore_point:
        if selection.restore_points and selection.restore_points_since is None:
            latest = {backup["id"]: newest(backup["restore_points"]) for backup in backups}
        else:
            latest = latest_restore_points(backups, lambda uids, since: _points_of(client, uids, since), every_backup, datetime.now(timezone.utc))
        for backup in backups:
            backup["latest_restore_point"] = latest.get(backup["id"])
    return backups


def fetch_by_ids(client: EMClient, backup_ids: tuple[str, ...]) -> dict[str, Optional[dict[str, Any]]]:
    """Each (parsed) id's backup, or None where EM does not know it.

    One id is one GET. More ids go to the query service, one request per batch
    of ``UID_BATCH`` UIDs in an OR filter, instead of a GET per id; an id the
    query does not return is confirmed with its own GET (a 404 tells for sure,
    and EM may compare UIDs with regard to case).
    """
    unique = list(dict.fromkeys(backup_ids))
    wanted = set(unique)
    found: dict[str, Optional[dict[str, Any]]] = {}
    if len(unique) > 1:
        for uid_filter in _or_filters("UID", [f"{BACKUP_URN_PREFIX}{backup_id}" for backup_id in unique]):
            for entity in _query(client, {"type": "Backup", "format": "Entities", "filter": uid_filter}, "Backups", "Backup"):
                backup = normalize_backup(entity)
                if backup["id"] in wanted:
                    found[backup["id"]] = backup
    for backup_id in unique:
        if backup_id not in found:
            found[backup_id] = fetch_backup(client, backup_id)
    return found


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


def list_backups(client: EMClient, name: Optional[str] = None) -> list[dict[str, Any]]:
    """Every backup, or those named exactly ``name``, through the query service."""
    params = {"type": "Backup", "format": "Entities"}
    if name is not None:
        params["filter"] = f'Name=="{name.replace(chr(34), chr(34) * 2)}"'
    backups = [normalize_backup(entity) for entity in _query(client, params, "Backups", "Backup")]
    # EM's filter may ignore case; the name must match exactly.
    return backups if name is None else [backup for backup in backups if backup["name"] == name]


def name_parent_backups(client: EMClient, backups: list[dict[str, Any]]) -> None:
    """Give each child backup's ``parent_backup`` the parent's real name.

    EM names the parent link of every ``ChildBackup`` with the placeholder
    "Parent Backup". A parent among ``backups`` lends its name without a request;
    any other is read once, however many of its children there are. A parent EM
    cannot give (HTTP 404: children of a parent outside the listing) keeps its id
    and href, with the name None rather than the placeholder.
    """
    names: dict[str, Optional[str]] = {backup["id"]: backup["name"] for backup in backups}
    for backup in backups:
        parent = backup["parent_backup"]
        if parent is None:
            continue
        parent_id = parent["id"]
        if parent_id not in names:
            names[parent_id] = _parent_name(client, parent_id)
        parent["name"] = names[parent_id]


def _parent_name(client: EMClient, parent_id: Optional[str]) -> Optional[str]:
    """The name of the backup with this id read from EM, or None when EM does not give it (or no UUID to ask by)."""
    if not parent_id:
        return None
    parent = fetch_backup(client, parent_id)
    return parent["name"] if parent is not None else None


def expand_link(client: EMClient, backups: list[dict[str, Any]], link: str) -> None:
    """Merge the linked entity's details into each backup's ``link`` dict, one GET per distinct entity."""
    details_of = EXPANDABLE[link]
    fetched: dict[str, dict[str, Any]] = {}
    for backup in backups:
        linked = backup[link]
        if linked is None or not linked["href"]:
            continue
        # By id: EM may spell one entity's href with different hosts (see EMClient.get_link).
        entity_id = linked["id"] or linked["href"]
        if entity_id not in fetched:
            try:
                fetched[entity_id] = details_of(client.get_link(linked["href"], params={"format": "Entity"}).content)
            except NotFoundError:
                fetched[entity_id] = dict.fromkeys(details_of({}))
        linked.update(fetched[entity_id])


def add_restore_points(client: EMClient, backups: list[dict[str, Any]], every_backup: bool, since: Optional[datetime] = None) -> None:
    """Give each backup its ``restore_points`` (created ``since`` then, when given) from the query service."""
    by_backup: dict[str, list[dict[str, Any]]] = {backup["id"]: [] for backup in backups}
    uids = None if every_backup else list(dict.fromkeys(backup["uid"] for backup in backups))
    for backup_id, point in _points_of(client, uids, since):
        points = by_backup.get(backup_id or "")
        if points is not None:
            points.append(point)
    for backup in backups:
        backup["restore_points"] = by_backup[backup["id"]]


def _points_of(client: EMClient, uids: Optional[list[str]], since: Optional[datetime]) -> Iterator[tuple[Optional[str], dict[str, Any]]]:
    """(backup id, normalized point) of the restore points of the backups with these UIDs (None: of
    every backup, all pages at once; else OR filters in batches), created ``since`` then when given;
    EM applies both filters."""
    since_filter = creation_time_filter(since) if since is not None else None
    if uids is None:
        filters = [since_filter]
    else:
        filters = [f"({uid_filter});{since_filter}" if since_filter else uid_filter for uid_filter in _or_filters("BackupUid", uids)]
    params = {"type": "RestorePoint", "format": "Entities"}
    for query_filter in filters:
        query = params if query_filter is None else {**params, "filter": query_filter}
        for entity in _query(client, query, "RestorePoints", "RestorePoint"):
            yield restore_point_backup_id(entity), normalize_restore_point(entity)


def value_batches(field: str, values: list[str]) -> list[list[str]]:
    """``values`` in batches for OR filters on ``field``: at most ``UID_BATCH`` values each, and a
    URL-encoded filter that keeps the request line within ``MAX_REQUEST_LINE``."""
    separator = len(quote_plus(","))
    batches: list[list[str]] = []
    batch: list[str] = []
    size = 0
    for value in values:
        term = filter_length(field, value)
        if batch and (len(batch) == UID_BATCH or size + separator + term > _FILTER_BUDGET):
            batches.append(batch)
            batch, size = [], 0
        size += term + (separator if batch else 0)
        batch.append(value)
    if batch:
        batches.append(batch)
    return batches


def filter_length(field: str, value: str) -> int:
    """The URL-encoded length of the filter term matching ``value`` in ``field``; a value too long to be
    queried even alone is refused, naming it (plugins check their inputs with it before any request)."""
    length = len(quote_plus(_term(field, value)))
    if length > _FILTER_BUDGET:
        raise InvalidInputError(
            f"{_shown(value)} is too long to be sent to EM as a {field}: its query filter takes {length} bytes "
            f"URL-encoded, more than the {_FILTER_BUDGET} bytes a request line of {MAX_REQUEST_LINE} bytes leaves for it."
        )
    return length


def _or_filters(field: str, values: list[str]) -> list[str]:
    """Query filters matching any of ``values`` in ``field``, one per batch of ``value_batches``."""
    return [or_filter(field, batch) for batch in value_batches(field, values)]


def or_filter(field: str, values: list[str]) -> str:
    """EM's filter matching any of ``values`` in ``field`` (a ``"`` in a value is doubled, as EM reads it)."""
    return ",".join(_term(field, value) for value in values)


def _term(field: str, value: str) -> str:
    return f'{field}=="{value.replace(chr(34), chr(34) * 2)}"'


def _query(client: EMClient, params: dict[str, str], plural: str, singular: str, page_size: Optional[int] = None) -> Iterator[dict[str, Any]]:
    """Entities of a query, page after page (of ``page_size``, default ``PAGE_SIZE``), each entity once;
    a page is asked for only when the caller takes entities beyond the previous one.

    Bounded whatever EM (or a cache between it and us) answers: page N+1 is
    asked for after page N, never the page EM names, and the listing ends after
    the number of pages the first page announced, or at an empty page (backups
    deleted meanwhile). A page that repeats earlier entities only is an error,
    not a quiet end: the listing would be incomplete.
    """
    seen: set[str] = set()
    page, pages_count = 1, None
    while True:
        document = client.get("query", params={**params, "pageSize": str(page_size or PAGE_SIZE), "page": str(page)})
        if document.root != "QueryResult":
            raise UnreadableResponseError(f"EM answered GET {document.url} with a <{document.root}> document where a <QueryResult> was expected.")
        fresh = []
        entities = query_entities(document.content, plural, singular)
        for entity in entities:
            identity = entity.get("@UID") or entity.get("@Href") or repr(entity)
            if identity not in seen:
                seen.add(identity)
                fresh.append(entity)
        if not fresh:
            if entities and page > 1:
                raise UnreadableResponseError(
                    f"EM answered page {page} of {pages_count} of GET {document.url} with entities of earlier pages "
                    "only: its paging does not advance (a cache between Ansible and EM?), so the listing would be incomplete."
                )
            return
        yield from fresh
        pages_count = pages_count or query_pages(document.content)[1]
        if page >= pages_count:
            return
        page += 1


def _shown(value: Any) -> str:
    """``repr`` of a value for a message, cut short so a 10 kB id does not flood the output."""
    text = repr(value)
    if len(text) <= _SHOWN_CHARACTERS:
        return text
    return f"{text[:_SHOWN_CHARACTERS]}... ({len(value) if isinstance(value, str) else len(text)} characters)"
