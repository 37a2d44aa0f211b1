# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The query service (``GET /api/query``): types, filter grammar, sorting, paging.

Filter grammar (EM docs: filter, query_comparison, query_and_or, query_grouping):
``Field<op>value`` with ``== != < > <= >=``; ``;`` is AND and binds tighter than ``,``
(OR); parentheses group. A value is any mix of bare characters (unquoted spaces are
dropped) and double-quoted parts in which ``""`` stands for one literal quote. Field
names are case-insensitive and strings compare without regard to case. Date-time
fields (``CreationTime``) take UTC values, quoted or not, with or without a time of day
(``"2026-11-28T06:00:00Z"``, ``2026-11-28``).

Cost model: EM answers filters from its database, so the emulator does not scan every
object for them either. Equality comparisons are looked up in an index of their field,
date-time ranges in a sorted one (both built once, on first use); an AND uses the
smallest such candidate set, an OR the union of its parts' (when each has one); the
full filter then runs over the candidates only. Anything else scans, as before.
"""
from __future__ import annotations

import bisect
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, NoReturn

from .data import (
    END_PLACEHOLDER,
    Backup,
    BackupServer,
    DataSet,
    Job,
    JobSession,
    Repository,
    RestorePoint,
    TaskSession,
    VmRestorePoint,
)

DEFAULT_PAGE_SIZE = 100

Predicate = Callable[[DataSet, Any], bool]
#: The objects a filter can match, from an index; None when it has to scan.
Candidates = Callable[[DataSet], "list | None"]

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<=": operator.le, ">=": operator.ge,
    "<": operator.lt, ">": operator.gt,
}


class QueryError(ValueError):
    """A query EM would answer with 400 Bad Request; the text is the Error message."""


@dataclass(frozen=True)
class Field:
    """A filter/sort parameter: its value for one object, and how it compares."""

    get: Callable[[DataSet, Any], str | int | datetime]
    numeric: bool = False
    moment: bool = False  # a UTC date-time

    @property
    def ordered(self) -> bool:
        """Compared and sorted by value, not as case-folded text."""
        return self.numeric or self.moment


@dataclass(frozen=True)
class QueryType:
    """One ``type=`` value: the objects it searches and the parameters it knows."""

    name: str
    kind: type
    items: Callable[[DataSet], Iterable]
    fields: Mapping[str, Field]  # keys in lower case


def _repository_name(data: DataSet, backup: Backup) -> str:
    repository = data.repositories.get(backup.repository_id or "")
    return repository.name if repository else ""


def _uid(type_name: str) -> Field:
    return Field(lambda _data, obj: f"urn:veeam:{type_name}:{obj.id}")


_NAME = Field(lambda _data, obj: obj.name)


def _backup_job_uid(data: DataSet, backup: Backup) -> str:
    job = data.job_of_backup(backup)
    return f"urn:veeam:Job:{job.id}" if job else ""


def _task_job(data: DataSet, task: TaskSession) -> Job:
    return data.jobs[data.job_sessions[task.session_id].job_id]


_SESSION_SERVER_UID = Field(lambda data, s: f"urn:veeam:BackupServer:{data.session_server(s).id}")
_SESSION_SERVER_NAME = Field(lambda data, s: data.session_server(s).name)

QUERY_TYPES: dict[str, QueryType] = {
    query_type.name.lower(): query_type for query_type in (
        QueryType("Backup", Backup, lambda data: data.backups.values(), {
            "uid": _uid("Backup"),
            "name": _NAME,
            "jobname": _NAME,  # a backup is named after its job
            "jobuid": Field(_backup_job_uid),
            "platform": Field(lambda _data, b: b.platform),
            "backuptype": Field(lambda _data, b: b.backup_type),
            "repositoryuid": Field(lambda _data, b: f"urn:veeam:Repository:{b.repository_id}"
                                   if b.repository_id else ""),
            "repositoryname": Field(_repository_name),
        }),
        QueryType("Repository", Repository, lambda data: data.repositories.values(), {
            "uid": _uid("Repository"),
            "name": _NAME,
            "backupserveruid": Field(lambda _data, r: f"urn:veeam:BackupServer:{r.server_id}"),
            "backupservername": Field(lambda data, r: data.backup_servers[r.server_id].name),
            "capacity": Field(lambda _data, r: r.capacity, numeric=True),
            "freespace": Field(lambda _data, r: r.free_space, numeric=True),
        }),
        QueryType("BackupServer", BackupServer, lambda data: data.backup_servers.values(), {
            "uid": _uid("BackupServer"),
            "name": _NAME,
            "description": Field(lambda _data, s: s.description),
            "port": Field(lambda _data, s: s.port, numeric=True),
            "version": Field(lambda _data, s: s.version),
        }),
        QueryType("RestorePoint", RestorePoint, lambda data: data.restore_points.values(), {
            "uid": _uid("RestorePoint"),
            "name": _NAME,
            "backupuid": Field(lambda _data, p: f"urn:veeam:Backup:{p.backup_id}"),
            "backupname": Field(lambda data, p: data.backups[p.backup_id].name),
            "creationtime": Field(lambda _data, p: p.backup_date, moment=True),
        }),
        # EM has no VmName field: the VM's name is VmDisplayName; Type is the point type.
        QueryType("VmRestorePoint", VmRestorePoint, lambda data: data.vm_restore_points.values(), {
            "uid": _uid("VmRestorePoint"),
            "name": _NAME,
            "creationtime": Field(lambda _data, p: p.creation_time, moment=True),
            "type": Field(lambda _data, p: p.point_type),
            "algorithm": Field(lambda _data, p: p.algorithm),
            "restorepointid": Field(lambda _data, p: f"urn:veeam:RestorePoint:{p.restore_point_id}"),
            "restorepointname": Field(lambda data, p: data.restore_points[p.restore_point_id].name),
            "vmdisplayname": Field(lambda _data, p: p.vm_name),
            "backupserveruid": Field(lambda data, p: f"urn:veeam:BackupServer:{data.backup_of_vm_point(p).server_id}"),
            "backupservername": Field(lambda data, p: data.backup_servers[data.backup_of_vm_point(p).server_id].name),
        }),
        QueryType("Job", Job, lambda data: data.jobs.values(), {
            "uid": _uid("Job"),
            "name": _NAME,
            "description": Field(lambda _data, j: j.description),
        }),
        # A running session has no EndTime: it compares as EM's 1900-01-01 placeholder.
        QueryType("BackupJobSession", JobSession, lambda data: data.job_sessions.values(), {
            "uid": _uid("BackupJobSession"),
            "name": Field(lambda data, s: data.session_name(s)),
            "jobtype": Field(lambda data, s: data.jobs[s.job_id].job_type),
            "jobuid": Field(lambda _data, s: f"urn:veeam:Job:{s.job_id}"),
            "jobname": Field(lambda data, s: data.jobs[s.job_id].name),
            "creationtime": Field(lambda _data, s: s.creation_time, moment=True),
            "endtime": Field(lambda _data, s: s.end_time or END_PLACEHOLDER, moment=True),
            "state": Field(lambda _data, s: s.state),
            "result": Field(lambda _data, s: s.result),
            "isretry": Field(lambda _data, s: str(s.is_retry).lower()),
            "backupserveruid": _SESSION_SERVER_UID,
            "backupservername": _SESSION_SERVER_NAME,
        }),
        QueryType("BackupTaskSession", TaskSession, lambda data: data.task_sessions.values(), {
            "uid": _uid("BackupTaskSession"),
            "name": Field(lambda _data, t: f"{t.vm_name}@{t.creation_time:%Y-%m-%d %H:%M:%S}"),
            "jobsessionuid": Field(lambda _data, t: f"urn:veeam:BackupJobSession:{t.session_id}"),
            "creationtime": Field(lambda _data, t: t.creation_time, moment=True),
            "endtime": Field(lambda _data, t: t.end_time, moment=True),
            "state": Field(lambda _data, t: t.state),
            "result": Field(lambda _data, t: t.result),
            "vmdisplayname": Field(lambda _data, t: t.vm_name),
            "jobuid": Field(lambda data, t: f"urn:veeam:Job:{data.job_sessions[t.session_id].job_id}"),
            "jobname": Field(lambda data, t: _task_job(data, t).name),
            "backupserveruid": Field(lambda data, t: f"urn:veeam:BackupServer:{_task_job(data, t).server_id}"),
            "backupservername": Field(lambda data, t: data.backup_servers[_task_job(data, t).server_id].name),
        }),
    )
}


@dataclass(frozen=True)
class Query:
    """A parsed ``/api/query`` request."""

    type: QueryType
    entities: bool
    predicate: Filter | None
    sort_field: Field | None
    descending: bool
    page: int
    page_size: int


@dataclass(frozen=True)
class QueryPage:
    """One page of results and the numbers ``PagingInfo`` reports."""

    items: list
    page: int
    page_size: int
    pages_count: int


def parse_query(params: Mapping[str, str]) -> Query:
    """Parse query parameters (keys already lower-cased: EM ignores their case)."""
    type_name = params.get("type")
    if not type_name:
        raise QueryError("Query type is not specified.")
    query_type = QUERY_TYPES.get(type_name.lower())
    if query_type is None:
        raise QueryError(f"Unknown query type: {type_name}")
    fmt = params.get("format", "references").lower()
    if fmt not in ("entities", "references"):
        raise QueryError(f"Unknown format: {params['format']}")
    if "sortasc" in params and "sortdesc" in params:
        raise QueryError("Only one of sortAsc and sortDesc can be specified.")
    sort_name = params.get("sortasc") or params.get("sortdesc")
    return Query(
        type=query_type,
        entities=fmt == "entities",
        predicate=parse_filter(params["filter"], query_type) if "filter" in params else None,
        sort_field=_field(query_type, sort_name) if sort_name else None,
        descending="sortdesc" in params,
        page=_positive(params, "page", 1),
        page_size=_positive(params, "pagesize", DEFAULT_PAGE_SIZE),
    )


def _positive(params: Mapping[str, str], key: str, default: int) -> int:
    text = params.get(key)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise QueryError(f"Invalid value of {key}: {text}") from None
    if value < 1:
        raise QueryError(f"Invalid value of {key}: {text}")
    return value


def _field(query_type: QueryType, name: str) -> Field:
    field = query_type.fields.get(name.lower())
    if field is None:
        raise QueryError(f"Unknown parameter {name} for query type {query_type.name}")
    return field


def run_query(data: DataSet, query: Query) -> QueryPage:
    """Filter (through the indexes where it can), sort and cut out the requested page."""
    if query.predicate is not None:
        candidates = query.predicate.candidates(data)
        if candidates is None:
            candidates = list(query.type.items(data))
        else:
            position = _positions(data, query.type)
            candidates.sort(key=lambda item: position[id(item)])
        matches = query.predicate.matches
        items = [item for item in candidates if matches(data, item)]
    else:
        items = list(query.type.items(data))
    if query.sort_field is not None:
        get, ordered = query.sort_field.get, query.sort_field.ordered
        items.sort(key=(lambda item: get(data, item)) if ordered else
                   (lambda item: str(get(data, item)).casefold()),
                   reverse=query.descending)
    pages_count = max(1, math.ceil(len(items) / query.page_size))
    start = (query.page - 1) * query.page_size
    return QueryPage(items[start:start + query.page_size], query.page, query.page_size,
                     pages_count)


@dataclass(frozen=True)
class Filter:
    """A compiled filter: what it matches, and where an index narrows the search."""

    matches: Predicate
    candidates: Candidates


def _no_index(_data: DataSet) -> None:
    return None


def _cached(data: DataSet, key: tuple, build: Callable[[], Any]) -> Any:
    """An index of ``data``, built on first use (the data set never changes)."""
    indexes = data.__dict__.setdefault("_query_indexes", {})
    if key not in indexes:
        indexes[key] = build()
    return indexes[key]


def _positions(data: DataSet, query_type: QueryType) -> dict[int, int]:
    """Listing order of a type's objects, to give index hits in that order."""
    return _cached(data, ("position", query_type.name),
                   lambda: {id(item): index for index, item in enumerate(query_type.items(data))})


def _equality_index(data: DataSet, query_type: QueryType, name: str, field: Field) -> dict:
    def build() -> dict:
        index: dict = {}
        for item in query_type.items(data):
            value = field.get(data, item)
            index.setdefault(value if field.ordered else str(value).casefold(), []).append(item)
        return index
    return _cached(data, ("equal", query_type.name, name), build)


def _range_index(data: DataSet, query_type: QueryType, name: str,
                 field: Field) -> tuple[list, list]:
    def build() -> tuple[list, list]:
        pairs = sorted(((field.get(data, item), index, item)
                        for index, item in enumerate(query_type.items(data))),
                       key=lambda pair: (pair[0], pair[1]))
        return [pair[0] for pair in pairs], [pair[2] for pair in pairs]
    return _cached(data, ("range", query_type.name, name), build)


def _index_candidates(query_type: QueryType, name: str, field: Field, symbol: str,
                      value: Any) -> Candidates:
    if symbol == "==":
        return lambda data: list(_equality_index(data, query_type, name, field).get(value, ()))
    if symbol == "!=" or not field.ordered:
        return _no_index

    def in_range(data: DataSet) -> list:
        keys, items = _range_index(data, query_type, name, field)
        if symbol in ("<", "<="):
            return items[:(bisect.bisect_left if symbol == "<" else bisect.bisect_right)(keys, value)]
        return items[(bisect.bisect_right if symbol == ">" else bisect.bisect_left)(keys, value):]
    return in_range


_MOMENT = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?Z?)?",
                     re.IGNORECASE)


def _moment(name: str, value: str) -> datetime:
    """A UTC date-time filter value, with or without a time of day."""
    match = _MOMENT.fullmatch(value)
    try:
        if match:
            year, month, day, hour, minute, second, fraction = match.groups()
            return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                            int(second or 0), int(((fraction or "") + "000000")[:6]),
                            tzinfo=timezone.utc)
    except ValueError:
        pass
    raise QueryError(f"Parameter {name} needs a UTC date-time, not {value!r}")


def parse_filter(text: str, query_type: QueryType) -> Filter:
    """Compile a filter expression into a predicate over (data set, object) and its index use."""
    return _FilterParser(text, query_type).parse()


class _FilterParser:
    """Recursive descent over the filter text: or := and (',' and)*;
    and := term (';' term)*; term := '(' or ')' | comparison."""

    def __init__(self, text: str, query_type: QueryType) -> None:
        self.text = text
        self.pos = 0
        self.query_type = query_type

    def parse(self) -> Filter:
        predicate = self._or()
        self._skip_spaces()
        if self.pos != len(self.text):
            self._fail(f"unexpected {self.text[self.pos]!r}")
        return predicate

    def _fail(self, reason: str) -> NoReturn:
        raise QueryError(f"Invalid filter {self.text!r} at position {self.pos}: {reason}")

    def _skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1

    def _eat(self, char: str) -> bool:
        self._skip_spaces()
        if self.text.startswith(char, self.pos):
            self.pos += 1
            return True
        return False

    def _or(self) -> Filter:
        parts = [self._and()]
        while self._eat(","):
            parts.append(self._and())
        if len(parts) == 1:
            return parts[0]

        def union(data: DataSet) -> list | None:
            found: dict[int, Any] = {}
            for part in parts:
                items = part.candidates(data)
                if items is None:
                    return None
                found.update((id(item), item) for item in items)
            return list(found.values())
        return Filter(lambda data, item: any(part.matches(data, item) for part in parts), union)

    def _and(self) -> Filter:
        parts = [self._term()]
        while self._eat(";"):
            parts.append(self._term())
        if len(parts) == 1:
            return parts[0]

        def smallest(data: DataSet) -> list | None:
            found = [items for items in (part.candidates(data) for part in parts) if items is not None]
            return min(found, key=len) if found else None
        return Filter(lambda data, item: all(part.matches(data, item) for part in parts), smallest)

    def _term(self) -> Filter:
        if self._eat("("):
            predicate = self._or()
            if not self._eat(")"):
                self._fail("missing ')'")
            return predicate
        return self._comparison()

    def _comparison(self) -> Filter:
        self._skip_spaces()
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum()
                                             or self.text[self.pos] == "_"):
            self.pos += 1
        name = self.text[start:self.pos]
        if not name:
            self._fail("parameter name expected")
        field = _field(self.query_type, name)
        symbol = self._operator()
        compare = _OPERATORS[symbol]
        value = self._value()
        if field.moment:
            key: Any = _moment(name, value)
        elif field.numeric:
            try:
                key = int(value)
            except ValueError:
                raise QueryError(f"Parameter {name} needs a number, not {value!r}") from None
        else:
            key = value.casefold()
        candidates = _index_candidates(self.query_type, name.lower(), field, symbol, key)
        if field.ordered:
            return Filter(lambda data, item: compare(field.get(data, item), key), candidates)
        return Filter(lambda data, item: compare(str(field.get(data, item)).casefold(), key), candidates)

    def _operator(self) -> str:
        self._skip_spaces()
        for symbol in _OPERATORS:  # two-character operators are listed first
            if self.text.startswith(symbol, self.pos):
                self.pos += len(symbol)
                return symbol
        self._fail("comparison operator expected")

    def _value(self) -> str:
        chars: list[str] = []
        seen = False
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '"':
                chars.append(self._quoted())
                seen = True
            elif char in ";,)":
                break
            else:
                if char != " ":
                    chars.append(char)
                    seen = True
                self.pos += 1
        if not seen:
            self._fail("value expected")
        return "".join(chars)

    def _quoted(self) -> str:
        """A double-quoted part starting at ``pos``; ``""`` inside is one quote."""
        chars: list[str] = []
        self.pos += 1
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '"':
                if self.text.startswith('""', self.pos):
                    chars.append('"')
                    self.pos += 2
                    continue
                self.pos += 1
                return "".join(chars)
            chars.append(char)
            self.pos += 1
        self._fail("unterminated quoted string")
