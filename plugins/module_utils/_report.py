# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup health and the backup_report role's data, as plain data.

Private to veeam_em.rest: not a public API, may change without notice.

Pure functions in the style of ``_normalize``: the module's (or the lookup's)
normalized backups in, plain dicts out; no Ansible objects, no I/O. The filter
plugins (plugins/filter/) wire them into playbooks and the role; the role's
templates only lay out what ``build_report`` returns. Names from EM are kept
exactly; everything shown is sorted (by name, then id), so that the order in
which EM lists the backups changes neither the report nor its fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from collections.abc import Mapping
from typing import Any, Iterable, Optional
from urllib.parse import urlsplit

from ansible.module_utils.common.text.formatters import bytes_to_human

from ansible_collections.veeam_em.rest.plugins.module_utils._job_health import job_findings
from ansible_collections.veeam_em.rest.plugins.module_utils._restore_points import parse_duration, parse_utc

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
#: The report's fingerprint and time, written into every format in a line text from EM cannot forge
#: (names are escaped, line breaks in Markdown become spaces, JSON strings hold no line break).
_MARKER = re.compile(r"(?m)^<!-- veeam_em\.rest\.backup_report fingerprint=([0-9a-f]{40}) generated_at=([0-9TZ:-]+) -->$")
MARKER_PATTERNS = {
    "json": re.compile(r'(?s)^\{.*?\n  "fingerprint": "([0-9a-f]{40})",\n  "generated_at": "([0-9TZ:-]+)",?\n'),
    "markdown": _MARKER,
    "html": _MARKER,
    "junit": _MARKER,
}
_BACKUP_FIELDS = ("id", "uid", "name", "platform", "backup_type", "parent_backup")
_FINDING_KINDS = ("missing", "stale", "low_space", "failed_job", "warning_job")
#: The findings over the jobs' newest sessions: kind, and the session results that make one.
JOB_FINDINGS = (("failed_job", ("Failed",)), ("warning_job", ("Warning",)))
_WHOLE_SECONDS = re.compile(r"[0-9]+")


class ReportError(ValueError):
    """Input the health checks cannot judge; the message names the input and what to do."""


# --- small pieces ---------------------------------------------------------------------------
def duration_seconds(max_age: Any) -> int:
    """Seconds of a duration such as ``26h`` (m, h, d or w), or of a whole number of seconds (``3600`` or ``"3600"``)."""
    if isinstance(max_age, int) and not isinstance(max_age, bool) and max_age >= 0:
        return max_age
    if isinstance(max_age, str) and _WHOLE_SECONDS.fullmatch(max_age):
        return int(max_age)
    try:
        duration = parse_duration(max_age) if isinstance(max_age, str) else None
    except OverflowError:
        duration = None
    if duration is None:
        raise ReportError(f"max_age takes a duration, a whole number followed by m, h, d or w (such as 26h or 7d), "
                          f"or a whole number of seconds (such as 3600), not {max_age!r}")
    return int(duration.total_seconds())


def duration_text(max_age: Any) -> str:
    """``max_age`` as the findings show it: ``26h`` as given, whole seconds as ``3600 s``."""
    text = str(max_age)
    return f"{text} s" if _WHOLE_SECONDS.fullmatch(text) else text


def percent(value: Any, name: str) -> float:
    """A percentage from 0 to 100 as a float, or a ReportError naming the option."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if isinstance(value, bool) or not 0 <= number <= 100:
        raise ReportError(f"{name} takes a number from 0 to 100, not {value!r}")
    return number


def parse_time(text: str) -> datetime:
    """A UTC time as EM (``2024-05-01T22:00:05.123Z``) or the report (``2024-05-01T22:00:05Z``) writes it,
    to the second (ages are whole seconds)."""
    moment = parse_utc(text)
    if moment is None:
        raise ReportError(f"{text!r} is no UTC time such as 2024-05-01T22:00:05Z")
    return moment.replace(microsecond=0)


def utc_moment(value: Any, name: str) -> datetime:
    """A time given to a filter, to the second: a UTC text such as ``2024-05-01T22:00:05Z``, or a datetime
    (``now(utc=true)`` gives one without a time zone: such a datetime is UTC)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
        return aware.astimezone(timezone.utc).replace(microsecond=0)
    if isinstance(value, str):
        try:
            return parse_time(value)
        except ValueError:  # ReportError, or a date that does not exist (month 13)
            pass
    raise ReportError(f"{name} takes a UTC time such as 2024-05-01T22:00:05Z or a datetime such as now(utc=true), not {value!r}")


def format_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(TIME_FORMAT)


def age_text(seconds: int) -> str:
    """``45 min``, ``30.0 h``, ``9.0 d``."""
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def human_size(size: Optional[int]) -> Optional[str]:
    """``10.91 TB``, as Ansible's ``human_readable`` filter writes it; None for an unknown size."""
    return bytes_to_human(size) if _is_number(size) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _by_name(item: dict) -> tuple:
    """Sort key: the name without regard to case, then exactly, then the id, then the href (stable under EM's order,
    also for linked entities whose id is no UUID)."""
    name = item.get("name") or ""
    return (name.lower(), name, item.get("id") or "", urlsplit(item.get("href") or "").path)


def _plain(value: Any) -> Any:
    """A copy of nested mappings and lists as plain dicts and lists (a playbook's values may be
    containers of Ansible's own that serialize differently)."""
    if isinstance(value, Mapping):
        return {key: _plain(value[key]) for key in value}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def entity_key(entity: Optional[Mapping]) -> Optional[tuple]:
    """What tells a backup, repository or backup server apart: its id, or, for a linked entity whose id
    is no UUID (id None), the path of its href (EM may spell one entity's href with different hosts),
    else its name; None for no entity. Two repositories without ids are two repositories: keyed by id
    alone they were one, and the second one's finding was lost."""
    if not entity:
        return None
    if entity.get("id"):
        return ("id", entity["id"])
    if entity.get("href"):
        return ("href", urlsplit(entity["href"]).path)
    return ("name", entity.get("name"))


def _unique(items: Iterable[Optional[dict]]) -> list[dict]:
    """Each entity once (by ``entity_key``), in the order first seen; Nones left out."""
    seen: dict[Any, dict] = {}
    for item in items:
        if item and entity_key(item) not in seen:
            seen[entity_key(item)] = item
    return list(seen.values())


def _label(entity: Mapping) -> Optional[str]:
    """How a finding names an entity besides its name: its id, or its href when EM's id is no UUID."""
    return entity.get("id") or entity.get("href")


# --- health checks --------------------------------------------------------------------------
def backup_ages(backups: list[dict], at: datetime) -> list[Optional[int]]:
    """Seconds from each backup's latest restore point to ``at``; None without a point."""
    ages = []
    for backup in backups:
        if "latest_restore_point" not in backup:
            raise ReportError(f"backup {backup.get('name')!r} has no latest_restore_point: get the backups with latest_restore_point: true")
        point = backup["latest_restore_point"]
        date = point.get("backup_date_utc") if point else None
        ages.append(int((at - parse_time(date)).total_seconds()) if date else None)
    return ages


def is_stale(backup: dict, age: Optional[int], max_age_seconds: int) -> Optional[bool]:
    """A ParentBackup holds no restore points of its own: not judged (None); its ChildBackups are."""
    if backup.get("backup_type") == "ParentBackup":
        return None
    return age is None or age > max_age_seconds


def stale_finding(backup: dict, age: Optional[int], max_age: str) -> dict:
    point = backup.get("latest_restore_point")
    reason = (f"latest restore point {point['backup_date_utc']} is {age_text(age)} old, more than {max_age}"
              if age is not None else "no restore point")
    return {"kind": "stale", "id": backup.get("id"), "name": backup.get("name"),
            "message": f"backup '{backup.get('name')}' ({backup.get('id')}): {reason}"}


def stale_backups(backups: list[dict], max_age: Any, now: Optional[datetime] = None) -> list[dict]:
    """The stale findings over backups with ``latest_restore_point``, sorted by name: what the role reports."""
    seconds = duration_seconds(max_age)
    now = now or datetime.now(timezone.utc)
    ages = backup_ages(backups, now)
    found = [(backup, age) for backup, age in zip(backups, ages) if is_stale(backup, age, seconds)]
    return [stale_finding(backup, age, duration_text(max_age)) for backup, age in sorted(found, key=lambda pair: _by_name(pair[0]))]


def repository_space(repository: dict, min_free_percent: float) -> Optional[dict]:
    """``{free_percent, low_space}`` of a repository; None when its size is unknown (not judged)."""
    if "capacity" not in repository or "free_space" not in repository:
        raise ReportError(f"repository {repository.get('name')!r} has no capacity: get the backups with expand: [repository]")
    capacity, free_space = repository["capacity"], repository["free_space"]
    if not (_is_number(capacity) and _is_number(free_space) and capacity > 0):
        return None
    return {"free_percent": round(free_space * 100 / capacity, 1), "low_space": free_space * 100 / capacity < min_free_percent}


def low_space_finding(repository: dict, space: dict, min_free_percent: Any) -> dict:
    message = (f"repository '{repository.get('name')}' ({_label(repository)}): {space['free_percent']} % free "
               f"({human_size(repository['free_space'])} of {human_size(repository['capacity'])}), less than {min_free_percent} %")
    return {"kind": "low_space", "id": repository.get("id"), "name": repository.get("name"), "message": message}


def check_space(backups: list[dict], min_free_percent: Any) -> tuple[dict, list[dict]]:
    """Free space of the backups' repositories: ``({entity_key: {free_percent, low_space}}, low_space findings by name)``."""
    threshold = percent(min_free_percent, "min_free_percent")
    spaces, findings = {}, []
    for repository in sorted(_unique(backup.get("repository") for backup in backups), key=_by_name):
        space = repository_space(repository, threshold)
        if space is not None:
            spaces[entity_key(repository)] = space
            if space["low_space"]:
                findings.append(low_space_finding(repository, space, min_free_percent))
    return spaces, findings


def low_space_repositories(backups: list[dict], min_free_percent: Any) -> list[dict]:
    """The low_space findings over the backups' repositories (with ``expand: [repository]``): what the role reports."""
    return check_space(backups, min_free_percent)[1]


# --- expectations ---------------------------------------------------------------------------
def _place(backup: dict) -> str:
    """``repository 'R' on backup server 'S'``"""
    repository, server = backup.get("repository"), backup.get("backup_server")
    return ((f"repository '{repository.get('name')}'" if repository else "no repository")
            + (f" on backup server '{server.get('name')}'" if server else " on no backup server"))


def _names_or_ids(entity: Optional[dict]) -> tuple:
    return (entity.get("name"), entity.get("id"), (entity.get("id") or "").upper()) if entity else ()


def check_expectations(backups: list[dict], expect: list[dict]) -> list[dict]:
    """Each expected backup (by id or UID, or by exact name; in a repository and on a backup server, each by
    name or id) checked against the backups found, in the order given."""
    results = []
    for expected in expect:
        backup_id = re.sub(r"^urn:veeam:backup:", "", (expected.get("id") or "").lower())
        repository, server = expected.get("repository"), expected.get("backup_server")
        if backup_id:
            label, candidates = f"backup {backup_id}", [backup for backup in backups if backup.get("id") == backup_id]
        else:
            label = f"backup '{expected.get('name')}'"
            candidates = [backup for backup in backups if backup.get("name") == expected.get("name")]
        wanted = (label + (f" in repository '{repository}'" if repository else "")
                  + (f" on backup server '{server}'" if server else ""))
        found = [backup for backup in candidates
                 if (not repository or repository in _names_or_ids(backup.get("repository")))
                 and (not server or server in _names_or_ids(backup.get("backup_server")))]
        if found:
            reason = None
        elif not candidates:
            reason = "not found"
        else:
            reason = "found only in " + "; ".join(dict.fromkeys(_place(backup) for backup in candidates))
        results.append({"expectation": _plain(expected), "description": wanted, "met": bool(found), "reason": reason,
                        "message": f"{wanted}: {reason or 'found'}"})
    return results


# --- the role's report ----------------------------------------------------------------------
#: What the report reads of a backup.
_REPORT_FIELDS = _BACKUP_FIELDS + ("repository", "backup_server", "latest_restore_point")


def _report_fields(backup: Mapping) -> dict:
    """A plain copy of what the report reads of a backup, taken once: a playbook's containers cost a
    lookup through Ansible's variable machinery at every access."""
    return {key: _plain(backup[key]) for key in _REPORT_FIELDS if key in backup}


def collect_backups(calls: dict) -> dict:
    """The backups of the role's module calls, each once: ``{backups, missing_ids, missing_names}``.

    ``calls`` holds the registered results ``all``, ``by_id``, ``by_name`` (a loop's) and ``children``
    (every backup, to add the ChildBackups of selected ParentBackups).
    """
    by_id = calls.get("by_id") or {}
    by_name = (calls.get("by_name") or {}).get("results") or []
    selected = [_report_fields(backup) for backup in list(by_id.get("backups") or [])
                + [backup for result in by_name for backup in result.get("backups") or []]]
    backups = _unique([_report_fields(backup) for backup in (calls.get("all") or {}).get("backups") or []] + selected)
    parents = {backup.get("id") for backup in selected if backup.get("backup_type") == "ParentBackup"}
    children = [_report_fields(backup) for backup in (calls.get("children") or {}).get("backups") or []
                if backup.get("parent_backup") and backup["parent_backup"].get("id") in parents]
    return {"backups": _unique(backups + children), "missing_ids": list(by_id.get("missing") or []),
            "missing_names": [result.get("item") for result in by_name if not result.get("backups")]}


def jobs_of_backups(sessions: Iterable[dict], backups: Iterable[dict]) -> list[dict]:
    """The sessions of the jobs the backups are named after, in the order given. EM names a backup after its
    job, so a backup's job is the job of the backup's name on the backup's server (a server told by its id,
    or by its name when EM's id is no UUID)."""
    wanted = {(backup.get("name"), _server_key(backup.get("backup_server"))) for backup in backups}
    return [session for session in sessions if (session["job"].get("name"), _server_key(session.get("backup_server"))) in wanted]


def _server_key(server: Optional[Mapping]) -> Optional[str]:
    return (server.get("id") or server.get("name")) if server else None


def _counts(backups: list[dict], key: str) -> dict:
    """``{value: number of backups}``, sorted by value; ``Unknown`` stands for no value."""
    counts: dict[str, int] = {}
    for backup in backups:
        value = backup.get(key) or "Unknown"
        counts[value] = counts.get(value, 0) + 1
    return {value: counts[value] for value in sorted(counts, key=lambda value: (value.lower(), value))}


def _repository_group(repository: Optional[dict], backups: list[dict], spaces: dict, freshness: bool) -> dict:
    """One repository of a backup server with its backups; repository None is "No repository"
    (``no_repository`` true: a repository whose id is no UUID has no id either)."""
    space = spaces.get(entity_key(repository), {})
    repository = repository or {}
    capacity, free_space = repository.get("capacity"), repository.get("free_space")
    sized = _is_number(capacity) and _is_number(free_space) and capacity > 0
    return {
        "id": repository.get("id"),
        "name": repository.get("name") if repository else "No repository",
        "no_repository": not repository,
        "kind": repository.get("kind"),
        "capacity": capacity,
        "free_space": free_space,
        "used_space": capacity - free_space if sized else None,
        "used_percent": round((capacity - free_space) * 100 / capacity, 1) if sized else None,
        "capacity_human": human_size(capacity),
        "free_space_human": human_size(free_space),
        "used_space_human": human_size(capacity - free_space) if sized else None,
        "free_percent": space.get("free_percent"),
        "low_space": space.get("low_space"),
        "backup_count": len(backups),
        "stale_count": sum(1 for backup in backups if backup["stale"]) if freshness else None,
        "platforms": _counts(backups, "platform"),
        "backup_types": _counts(backups, "backup_type"),
        "backups": sorted(backups, key=_by_name),
    }


def _server_groups(entries: list[dict], sources: dict, spaces: dict, freshness: bool) -> tuple[list[dict], int, int]:
    """Backup servers by name, each with its repositories by name ("No repository" last), and "No backup
    server" last; and the numbers of distinct backup servers and repositories. Servers and repositories
    are told apart by ``entity_key``: those whose ids are no UUIDs stay apart too."""
    servers = sorted(_unique(sources[entry["id"]].get("backup_server") for entry in entries), key=_by_name)
    by_server: dict[Any, list[dict]] = {}
    for entry in entries:
        by_server.setdefault(entity_key(sources[entry["id"]].get("backup_server")), []).append(entry)
    groups, repository_keys = [], set()
    for server in servers + ([None] if None in by_server else []):
        server_entries = by_server[entity_key(server)]
        repositories = sorted(_unique(sources[entry["id"]].get("repository") for entry in server_entries), key=_by_name)
        by_repository: dict[Any, list[dict]] = {}
        for entry in server_entries:
            by_repository.setdefault(entity_key(sources[entry["id"]].get("repository")), []).append(entry)
        repository_keys.update(entity_key(repository) for repository in repositories)
        server = server or {}
        groups.append({
            "id": server.get("id"),
            "name": server.get("name") if server else "No backup server",
            "version": server.get("version"),
            "port": server.get("port"),
            "description": server.get("description"),
            "backup_count": len(server_entries),
            "repository_count": len(repositories),
            "platforms": _counts(server_entries, "platform"),
            "backup_types": _counts(server_entries, "backup_type"),
            "repositories": [_repository_group(repository, by_repository[entity_key(repository)], spaces, freshness)
                             for repository in repositories]
            + ([_repository_group(None, by_repository[None], spaces, freshness)] if None in by_repository else []),
        })
    return groups, len(servers), len(repository_keys)


def earlier_marker(text: str, report_format: str) -> tuple[Optional[str], Optional[str]]:
    """``(fingerprint, generated_at)`` of a report file written earlier in ``report_format``, or Nones."""
    match = MARKER_PATTERNS[report_format].search(text or "")
    return match.groups() if match else (None, None)


def fingerprint(report: dict) -> str:
    """SHA-1 of what the report shows, but for its time and the ages measured from it."""
    return hashlib.sha1(json.dumps(report, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")).hexdigest()


def report_result(report: dict, read_at: str, files: list[str]) -> dict:
    """The role's ``backup_report_result``: the report with the files written, the time it was read,
    its findings and the expectations it did not meet."""
    return {"files": files, "report": report, "read_at": read_at, "findings": report["findings"],
            "unmet": [expectation for expectation in report["expectations"]["results"] if not expectation["met"]]}


def build_report(collected: dict, settings: dict, read_at: datetime, earlier: Optional[tuple] = None) -> dict:
    """The role's report (the JSON report's schema) from ``collect_backups``' result.

    ``settings``: title, ids, names, expect, max_age, min_free_percent, fail_on (the role's variables).
    ``collected["jobs"]``, when given (None or absent: the jobs were not read): the newest session of each
    job, as ``_sessions.job_sessions`` returns them, with their tasks; their Failed and Warning results are
    ``failed_job`` and ``warning_job`` findings.
    ``earlier``: ``earlier_marker`` of the report written before. When it shows the same data, the
    report keeps its time and measures ages from it, so that the files stay the same.
    """
    backups = collected["backups"]
    max_age, min_free = settings.get("max_age"), settings.get("min_free_percent")
    max_age_seconds = duration_seconds(max_age) if max_age is not None else None
    freshness = max_age_seconds is not None
    ages = backup_ages(backups, read_at) if freshness else [None] * len(backups)
    spaces, low_space = check_space(backups, min_free) if min_free is not None else ({}, [])
    expectations = check_expectations(backups, settings.get("expect") or [])

    sources = {backup.get("id"): backup for backup in backups}
    entries, stale = [], []
    for backup, age in zip(backups, ages):
        entry = {key: _plain(backup.get(key)) for key in _BACKUP_FIELDS}
        entry.update(latest_restore_point=_plain(backup.get("latest_restore_point")) if freshness else None, age_seconds=None, age=None,
                     stale=is_stale(backup, age, max_age_seconds) if freshness else None)
        entries.append(entry)
        if entry["stale"]:
            stale.append((entry, age))
    stale.sort(key=lambda pair: _by_name(pair[0]))
    stale_findings = [{"kind": "stale", "id": entry["id"], "name": entry["name"], "message": None} for entry, _age in stale]
    missing = [{"kind": "missing", "id": result["expectation"].get("id"), "name": result["expectation"].get("name"),
                "message": result["message"]} for result in expectations if not result["met"]]
    jobs = _plain(collected.get("jobs"))
    failed_jobs = [finding for kind, results in JOB_FINDINGS for finding in job_findings(jobs or [], results, kind)]
    findings = missing + stale_findings + low_space + failed_jobs
    servers, server_count, repository_count = _server_groups(entries, sources, spaces, freshness)
    unmet = sum(1 for result in expectations if not result["met"])
    report = {
        "title": settings.get("title"),
        "selection": {"all": not (settings.get("ids") or settings.get("names")), "ids": settings.get("ids") or [], "names": settings.get("names") or []},
        "missing": {"ids": collected["missing_ids"], "names": collected["missing_names"]},
        "checks": {"max_age": max_age, "max_age_seconds": max_age_seconds, "min_free_percent": min_free, "jobs": jobs is not None,
                   "fail_on": settings.get("fail_on") or []},
        "findings": findings,
        "totals": {"backup_servers": server_count,
                   "repositories": repository_count, "backups": len(entries),
                   "platforms": _counts(entries, "platform"), "backup_types": _counts(entries, "backup_type"),
                   "stale": len(stale_findings), "low_space": len(low_space), "jobs": len(jobs or []),
                   "failed_jobs": sum(1 for finding in failed_jobs if finding["kind"] == "failed_job"),
                   "warning_jobs": sum(1 for finding in failed_jobs if finding["kind"] == "warning_job")},
        "backup_servers": servers,
        "jobs": jobs,
        "expectations": {"total": len(expectations), "met": len(expectations) - unmet, "unmet": unmet, "results": expectations},
    }
    report["fingerprint"] = fingerprint(report)
    generated_at = read_at
    if earlier and earlier[0] == report["fingerprint"] and earlier[1]:
        generated_at = parse_time(earlier[1])
    report["generated_at"] = format_time(generated_at)
    # The ages, measured from the report's time: each date was read once, above.
    shift = int((read_at - generated_at).total_seconds())
    for entry, age in zip(entries, ages):
        if age is not None:
            entry["age_seconds"] = age - shift
            entry["age"] = age_text(entry["age_seconds"])
    for finding, (entry, _age) in zip(stale_findings, stale):
        finding["message"] = stale_finding(sources[entry["id"]], entry["age_seconds"], duration_text(max_age))["message"]
    return report


_MARKDOWN_LINE_BREAKS = re.compile("[\r\n\v\f\x85\u2028\u2029]+")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
_MARKDOWN_EDGE_SPACE = re.compile(r"(?<![^ ]) | (?![^ ])")
#: What starts a block at the start of a line: a heading (``# x``), a list item (``- x``, ``+ x``, ``1. x``,
#: ``1) x``), a setext underline or thematic break (``===``, ``---``). ``*``, ``_``, ``>``, ``|``, backticks and
#: ``~`` are escaped wherever they are; ``10.0.0.15`` or ``-x`` start no block and stay as they are.
_MARKDOWN_LINE_START = re.compile(r"^(?:#{1,6}(?=[ \t]|$)|[+-](?=[ \t]|$)|[0-9]{1,9}(?=[.)](?:[ \t]|$))|=+(?=[ \t]*$)|-+(?=[ \t]*$))")
#: What GitHub links by itself: ``scheme://``, ``www.`` and e-mail addresses (``a@b.c``).
_MARKDOWN_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=\bwww)(?=\.)|(?<=[0-9A-Za-z])(?=@)", re.IGNORECASE)
#: U+2060 WORD JOINER: invisible, and no autolink pattern matches across it.
WORD_JOINER = "\u2060"


def markdown_text(text: Any) -> str:
    """Text for a Markdown table cell or line, shown as the text it is:

    - line breaks (which would start a heading, a list or a new table row) made spaces;
    - Markdown's special characters (the table's ``|`` among them) backslash-escaped, and so is what
      would start a block where the text starts a line (``# x`` a heading, ``1. x`` or ``- x`` a list);
    - leading, trailing and repeated spaces kept as ``&nbsp;``, tabs as ``&#9;`` (at the start of a line,
      either would make the line a code block);
    - an invisible word joiner (U+2060) put into what GitHub would link by itself: after the ``:`` of
      ``https://``, after the ``www`` of ``www.``, before the ``@`` of an e-mail address. A backslash
      cannot do that: GitHub also links in the text once escapes are resolved.
    """
    text = _MARKDOWN_LINE_BREAKS.sub(" ", str(text))
    text = _MARKDOWN_AUTOLINK.sub(WORD_JOINER, _MARKDOWN_SPECIAL.sub(r"\\\1", text))
    text = _MARKDOWN_LINE_START.sub(lambda match: match.group() + "\\" if match.group().isdigit() else "\\" + match.group(), text)
    return _MARKDOWN_EDGE_SPACE.sub("&nbsp;", text).replace("\t", "&#9;")


#: Characters XML 1.0 has no place for, not even as a reference.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
_XML_SPECIAL = re.compile("[&<>\"'\t\n\r]")


def xml_text(text: Any) -> str:
    """Text for an XML attribute value or element: ``& < > " '`` escaped; tabs and line breaks as character
    references (a parser turns them into spaces in an attribute, and a carriage return into a line feed
    anywhere); each character XML forbids (``\\x00``, ``\\x1b``, ``\\x0c``...) replaced by U+FFFD, so that
    the document stays well-formed whatever a title or a name holds."""
    text = _XML_FORBIDDEN.sub("\ufffd", str(text))
    return _XML_SPECIAL.sub(lambda match: _XML_ESCAPES[match.group()], text)


def failure_message(report: dict) -> Optional[str]:
    """The findings of the kinds in ``checks.fail_on``, a heading per kind and a line each; None without any."""
    checks = report["checks"]
    headings = {
        "missing": f"%d of {report['expectations']['total']} expected backups are not there:",
        "stale": f"%d backups have no restore point within {duration_text(checks['max_age'])}:",
        "low_space": f"%d repositories have less than {checks['min_free_percent']} %% free space:",
        "failed_job": "%d jobs failed in their last run:",
        "warning_job": "%d jobs ended with a warning in their last run:",
    }
    lines = []
    for kind in _FINDING_KINDS:
        found = [finding for finding in report["findings"] if finding["kind"] == kind and kind in checks["fail_on"]]
        if found:
            lines.append(headings[kind] % len(found))
            lines.extend(f"- {finding['message']}" for finding in found)
    return "\n".join(lines) or None
