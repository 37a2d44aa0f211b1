# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""EM's XML entities, as plain data.

Private to veeam_em.rest: not a public API, may change without notice.

Pure functions: parsed EM content in, plain dicts out. Links are picked by
their ``Type``, never by ``Rel`` or position: EM orders links differently in
its two representations, a ChildBackup has three ``Up`` links, and the
child-backups link is ``Up`` in some versions and ``Down`` in others.
Every key produced is a Python identifier and no dict method name, so Jinja's
dot access (``backup.repository.name``) always works. An element that is there
but empty (EM's ``<Description />``) is ``""``; one that is absent is None, so
that ``| length`` works on what EM sent and a missing element still shows.

Ids are what EM's ids are: lower-case UUIDs. They go into URLs, query filters,
host names and every report format, so nothing else is taken for one: an
entity whose own id is not a UUID fails the call (``MalformedEntityError``,
naming the entity by its name, never by the bad text), and a link whose target
id is not a UUID keeps its name and href with the id None.
"""

from __future__ import annotations

import keyword
import re
from sys import intern
from typing import Any, Optional

from ansible_collections.veeam_em.rest.plugins.module_utils._errors import UnreadableResponseError

#: Child elements of ``<Backup>`` that ``normalize_backup`` maps itself.
_BACKUP_ELEMENTS = frozenset({"Links", "Platform", "BackupType"})
_PARENT_LINK_TYPES = frozenset({"Backup", "BackupReference"})
_DICT_METHODS = frozenset(name for name in dir(dict) if not name.startswith("_"))
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_IDENTIFIER = re.compile(r"\W+")
#: An id as EM gives them (``c213fbfa-7b9e-4772-9ddc-3ecbdcc3fc70``), in any case.
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


class MalformedEntityError(UnreadableResponseError):
    """EM sent an entity whose own id is not a UUID: the answer is not used."""


def normalize_backup(entity: dict[str, Any]) -> dict[str, Any]:
    """Normalize the content of a ``<Backup>`` entity element."""
    links = [normalize_link(link) for link in _links(entity)]
    href = strip_query(entity.get("@Href"))
    backup_id = _entity_id(entity, "backup")
    repository = backup_server = parent_backup = None
    for link in links:
        link_type = link["type"]
        if link_type == "RepositoryReference":
            repository = repository or _linked(link)
        elif link_type == "BackupServerReference":
            backup_server = backup_server or _linked(link)
        elif link_type in _PARENT_LINK_TYPES and _links_to_other_backup(link["href"], backup_id):
            parent_backup = parent_backup or _linked(link)
    backup = {
        "id": backup_id,
        "uid": f"urn:veeam:Backup:{backup_id}",
        "name": entity.get("@Name"),
        "href": href,
        "platform": _element_text(entity, "Platform"),
        "backup_type": _element_text(entity, "BackupType"),
        "repository": repository,
        "backup_server": backup_server,
        "parent_backup": parent_backup,
        "links": links,
    }
    for element, value in entity.items():
        if element[0] != "@" and element not in _BACKUP_ELEMENTS:
            backup.setdefault(safe_key(element), plain(value))
    return backup


def repository_details(entity: dict[str, Any]) -> dict[str, Any]:
    """What a ``<Repository>`` entity adds to a backup's ``repository``: sizes in bytes and kind."""
    return {"capacity": _integer(entity.get("Capacity")), "free_space": _integer(entity.get("FreeSpace")), "kind": _element_text(entity, "Kind")}


def backup_server_details(entity: dict[str, Any]) -> dict[str, Any]:
    """What a ``<BackupServer>`` entity adds to a backup's ``backup_server``."""
    return {"description": _element_text(entity, "Description"), "port": _integer(entity.get("Port")), "version": _element_text(entity, "Version")}


def normalize_restore_point(entity: dict[str, Any]) -> dict[str, Optional[str]]:
    """A ``<RestorePoint>`` entity: ``{id, uid, name, href, backup_date_utc}``."""
    point_id = _entity_id(entity, "restore point")
    return {
        "id": point_id,
        "uid": f"urn:veeam:RestorePoint:{point_id}",
        "name": entity.get("@Name"),
        "href": strip_query(entity.get("@Href")),
        "backup_date_utc": _element_text(entity, "BackupDateUTC"),
    }


def restore_point_backup_id(entity: dict[str, Any]) -> Optional[str]:
    """The id of the backup a ``<RestorePoint>`` belongs to, from its link of that type."""
    return _linked_id(entity, _PARENT_LINK_TYPES)


def restore_point_backup(entity: dict[str, Any]) -> Optional[dict[str, Optional[str]]]:
    """``{id, name, href}`` of the backup a ``<RestorePoint>`` belongs to, from its link of that type."""
    return _first_linked(entity, _PARENT_LINK_TYPES)


def normalize_vm_restore_point(entity: dict[str, Any]) -> dict[str, Any]:
    """A ``<VmRestorePoint>`` entity; its ``backup`` is None here: no link of a VM point names the
    backup, its restore point's does (``restore_point_backup``).

    The VM's name is the ``VmDisplayName`` attribute (what EM's query filters on), else the
    ``VmName`` element of versions without that attribute.
    """
    point_id = _entity_id(entity, "VM restore point")
    vm_name = entity.get("@VmDisplayName")
    return {
        "id": point_id,
        "uid": f"urn:veeam:VmRestorePoint:{point_id}",
        "name": entity.get("@Name"),
        "vm_name": _element_text(entity, "VmName") if vm_name is None else vm_name,
        "creation_time_utc": _element_text(entity, "CreationTimeUTC"),
        "algorithm": _element_text(entity, "Algorithm"),
        "point_type": _element_text(entity, "PointType"),
        "hierarchy_obj_ref": _element_text(entity, "HierarchyObjRef"),
        "backup_server": _first_linked(entity, frozenset({"BackupServerReference"})),
        "restore_point": _first_linked(entity, frozenset({"RestorePointReference"})),
        "backup": None,
        "href": strip_query(entity.get("@Href")),
    }


#: EM's ``EndTimeUTC`` of a task (or session) that has not ended, where it sends one.
_NOT_ENDED = "1900-01-01"


def normalize_job_session(entity: dict[str, Any]) -> dict[str, Any]:
    """A ``<BackupJobSession>`` entity (one run of a job).

    A session that has not ended has ``result`` None (EM sends ``None``) and ``end_time_utc``
    None (EM sends no ``EndTimeUTC``, or a ``1900-01-01`` placeholder). The job's id comes
    from ``JobUid``, else from the job's link.
    """
    session_id = _entity_id(entity, "job session")
    job = _first_linked(entity, frozenset({"JobReference"})) or {"id": None, "name": None, "href": None}
    job_uid = _element_text(entity, "JobUid")
    job_name = _element_text(entity, "JobName")
    return {
        "id": session_id,
        "uid": f"urn:veeam:BackupJobSession:{session_id}",
        "name": entity.get("@Name"),
        "job": {"id": uuid_or_none(_last_segment(job_uid, ":")) or job["id"], "name": job["name"] if job_name is None else job_name,
                "href": job["href"]},
        "job_type": _element_text(entity, "JobType"),
        "backup_server": _first_linked(entity, frozenset({"BackupServerReference"})),
        "creation_time_utc": _element_text(entity, "CreationTimeUTC"),
        "end_time_utc": _end_time(entity),
        "state": _element_text(entity, "State"),
        "result": _result(entity),
        "progress": _integer(entity.get("Progress")),
        "is_retry": _boolean(entity.get("IsRetry")),
        "href": strip_query(entity.get("@Href")),
    }


def normalize_task_session(entity: dict[str, Any]) -> dict[str, Any]:
    """A ``<BackupTaskSession>`` entity (one VM of a run): ``reason`` is EM's text exactly, ``""`` when it sends none."""
    vm_name = entity.get("@VmDisplayName")
    return {
        "id": _entity_id(entity, "task session"),
        "vm_name": vm_name if isinstance(vm_name, str) else _name_before_at(entity.get("@Name")),
        "state": _element_text(entity, "State"),
        "result": _result(entity),
        "reason": _element_text(entity, "Reason") or "",
        "creation_time_utc": _element_text(entity, "CreationTimeUTC"),
        "end_time_utc": _end_time(entity),
        "total_size": _integer(entity.get("TotalSize")),
    }


def task_session_job_session_id(entity: dict[str, Any]) -> Optional[str]:
    """The id of the job session a ``<BackupTaskSession>`` belongs to, from ``JobSessionUid`` or else its link."""
    return uuid_or_none(_last_segment(_element_text(entity, "JobSessionUid"), ":")) or _linked_id(entity, frozenset({"BackupJobSessionReference"}))


def task_session_job_session(entity: dict[str, Any]) -> Optional[dict[str, Optional[str]]]:
    """``{id, name, href}`` of the job session a ``<BackupTaskSession>`` belongs to, from its link."""
    return _first_linked(entity, frozenset({"BackupJobSessionReference"}))


def normalize_job(entity: dict[str, Any]) -> dict[str, Any]:
    """A ``<Job>`` entity: ``{id, name, href, backup_server}``, what finding its sessions needs."""
    return {
        "id": _entity_id(entity, "job"),
        "name": entity.get("@Name"),
        "href": strip_query(entity.get("@Href")),
        "backup_server": _first_linked(entity, frozenset({"BackupServerReference"})),
    }


def _end_time(entity: dict[str, Any]) -> Optional[str]:
    """``EndTimeUTC``, None when absent, empty or EM's ``1900-01-01`` placeholder of a run that has not ended."""
    text = _element_text(entity, "EndTimeUTC")
    return None if not text or text.startswith(_NOT_ENDED) else text


def _result(entity: dict[str, Any]) -> Optional[str]:
    """``Result``, None while the run goes on (EM sends ``None``)."""
    text = _element_text(entity, "Result")
    return None if not text or text == "None" else text


def _boolean(value: Any) -> Optional[bool]:
    text = _text(value)
    return None if text is None else text.strip().lower() == "true"


def _name_before_at(name: Any) -> Optional[str]:
    """The VM's name from a task session's ``<VM name>@<time>`` name, for versions without ``VmDisplayName``."""
    return name.rpartition("@")[0] or name if isinstance(name, str) else None


def normalize_backup_server(entity: dict[str, Any]) -> dict[str, Any]:
    """A ``<BackupServer>`` entity: what a backup's ``backup_server`` holds after ``expand``, plus its ``uid``."""
    server_id = _entity_id(entity, "backup server")
    return {
        "id": server_id,
        "uid": f"urn:veeam:BackupServer:{server_id}",
        "name": entity.get("@Name"),
        "href": strip_query(entity.get("@Href")),
        **backup_server_details(entity),
    }


def normalize_repository(entity: dict[str, Any]) -> dict[str, Any]:
    """A ``<Repository>`` entity: what a backup's ``repository`` holds after ``expand``."""
    return {"id": _entity_id(entity, "repository"), "name": entity.get("@Name"), "href": strip_query(entity.get("@Href")), **repository_details(entity)}


def repository_server_id(entity: dict[str, Any]) -> Optional[str]:
    """The id of the backup server a ``<Repository>`` belongs to, from its link of that type."""
    return _linked_id(entity, frozenset({"BackupServerReference"}))


def query_entities(content: dict[str, Any], plural: str, singular: str) -> list[dict[str, Any]]:
    """The entities of one ``<QueryResult>`` page (``format=Entities``)."""
    entities = content.get("Entities")
    container = entities.get(plural) if isinstance(entities, dict) else None
    items = container.get(singular, []) if isinstance(container, dict) else []
    return [item for item in items if isinstance(item, dict)]


def query_pages(content: dict[str, Any]) -> tuple[int, int]:
    """``(PageNum, PagesCount)`` of a ``<QueryResult>``; one page when EM sends no ``PagingInfo``."""
    paging = content.get("PagingInfo")
    if not isinstance(paging, dict):
        return 1, 1
    return _integer(paging.get("@PageNum")) or 1, _integer(paging.get("@PagesCount")) or 1


def normalize_link(link: dict[str, Any]) -> dict[str, Optional[str]]:
    """A ``<Link>`` with its attributes as EM gives them (None when absent).

    ``rel`` and ``type`` come from a small vocabulary, repeated in every backup:
    interned, a listing of 10,000 backups holds each once instead of 40,000 times.
    """
    rel, link_type = link.get("@Rel"), link.get("@Type")
    return {
        "rel": intern(rel) if rel else rel,
        "type": intern(link_type) if link_type else link_type,
        "name": link.get("@Name"),
        "href": link.get("@Href"),
    }


def strip_query(href: Optional[str]) -> Optional[str]:
    """``href`` without query string or fragment (EM appends ``?format=Entity`` to some)."""
    if not href:
        return href
    return href.partition("?")[0].partition("#")[0]


def safe_key(name: str) -> str:
    """``BackupDateUTC`` -> ``backup_date_utc``; made a Python identifier that is no dict method."""
    key = _NOT_IDENTIFIER.sub("_", _CAMEL_BOUNDARY.sub("_", name.lstrip("@#"))).strip("_").lower() or "value"
    if key[0].isdigit():
        key = f"_{key}"
    if keyword.iskeyword(key) or key in _DICT_METHODS:
        key = f"{key}_"
    return key


def plain(value: Any) -> Any:
    """Any parsed XML value as plain data with safe keys; element text of mixed content is ``text``.

    xmltodict gives None only for an empty element (``<Tag />``), which is ``""`` here.
    """
    if value is None:
        return ""
    if isinstance(value, dict):
        return {("text" if key == "#text" else safe_key(key)): plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def _links(entity: dict[str, Any]) -> list[dict[str, Any]]:
    container = entity.get("Links")
    links = container.get("Link", []) if isinstance(container, dict) else []
    return [link for link in links if isinstance(link, dict)]


def _linked(link: dict[str, Optional[str]]) -> dict[str, Optional[str]]:
    """``{id, name, href}`` of the entity a link points to; ``id`` None unless the href ends in a UUID."""
    href = strip_query(link["href"])
    return {"id": uuid_or_none(_last_segment(href, "/")), "name": link["name"], "href": href}


def _linked_id(entity: dict[str, Any], link_types: frozenset[str]) -> Optional[str]:
    """The id of the entity that the first of ``entity``'s links of one of ``link_types`` points to."""
    linked = _first_linked(entity, link_types)
    return linked["id"] if linked else None


def _first_linked(entity: dict[str, Any], link_types: frozenset[str]) -> Optional[dict[str, Optional[str]]]:
    """``{id, name, href}`` of what the first of ``entity``'s links of one of ``link_types`` points to."""
    for link in map(normalize_link, _links(entity)):
        if link["type"] in link_types and link["href"]:
            return _linked(link)
    return None


def _links_to_other_backup(href: Optional[str], backup_id: str) -> bool:
    """A link to another backup itself (``.../backups/<other id>``), not to a list below one."""
    head, _slash, last = (strip_query(href) or "").rstrip("/").rpartition("/")
    return head.lower().endswith("/backups") and last.lower() != backup_id


def uuid_or_none(text: Optional[str]) -> Optional[str]:
    """``text`` in lower case when it is a UUID, else None."""
    return text.lower() if text and UUID_PATTERN.fullmatch(text) else None


def _entity_id(entity: dict[str, Any], kind: str) -> str:
    """An entity's lower-case UUID, from its ``UID`` (``urn:veeam:<Type>:<id>``) or else its ``Href``.

    Anything else fails: the message names the entity by ``kind`` and name, not
    by the text EM sent as its id (which may be made to look like other output).
    """
    found = uuid_or_none(_last_segment(entity.get("@UID"), ":") or _last_segment(strip_query(entity.get("@Href")), "/"))
    if found is None:
        name = entity.get("@Name")
        named = f"named {name!r}" if isinstance(name, str) and name else "without a name"
        raise MalformedEntityError(
            f"EM sent a {kind} {named} whose id is not a UUID, as EM's ids are: the answer is not used "
            "(is something between Ansible and EM changing EM's answers?)."
        )
    return found


def _last_segment(value: Optional[str], separator: str) -> Optional[str]:
    if not value:
        return None
    return value.rstrip(separator).rsplit(separator, 1)[-1] or None


def _element_text(entity: dict[str, Any], element: str) -> Optional[str]:
    """Text of a simple child element: ``""`` when it is empty (``<Description />``), None when absent."""
    if element not in entity:
        return None
    return _text(entity[element]) or ""


def _text(value: Any) -> Optional[str]:
    """Text of a simple element; None for ``<Platform />`` (which xmltodict gives as None)."""
    if isinstance(value, dict):
        value = value.get("#text")
    return value if isinstance(value, str) else None


def _integer(value: Any) -> Optional[int]:
    text = _text(value)
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
