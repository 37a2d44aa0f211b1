# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The query service (``GET /api/query``): types, filter grammar, sorting, paging.

Filter grammar (EM docs: filter, query_comparison, query_and_or, query_grouping):
``Field<op>value`` with ``== != < > <= >=``; ``;`` is AND and binds tighter than ``,``
(OR); parentheses group. A value is any mix of bare characters (unquoted spaces are
dropped) and double-quoted parts in which ``""`` stands for one literal quote. Field
names are case-insensitive and strings compare without regard to case.
"""
from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from .data import Backup, BackupServer, DataSet, Repository, RestorePoint

DEFAULT_PAGE_SIZE = 100

Predicate = Callable[[DataSet, Any], bool]

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<=": operator.le, ">=": operator.ge,
    "<": operator.lt, ">": operator.gt,
}


class QueryError(ValueError):
    """A query EM would answer with 400 Bad Request; the text is the Error message."""


@dataclass(frozen=True)
class Field:
    """A filter/sort parameter: its value for one object, and how it compares."""

    get: Callable[[DataSet, Any], str | int]
    numeric: bool = False


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

QUERY_TYPES: dict[str, QueryType] = {
    query_type.name.lower(): query_type for query_type in (
        QueryType("Backup", Backup, lambda data: data.backups.values(), {
            "uid": _uid("Backup"),
            "name": _NAME,
            "jobname": _NAME,  # the emulator has no jobs: a backup is named after its job
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
        }),
    )
}


@dataclass(frozen=True)
class Query:
    """A parsed ``/api/query`` request."""

    type: QueryType
    entities: bool
    predicate: Predicate | None
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
    """Filter, sort and cut out the requested page."""
    items = list(query.type.items(data))
    if query.predicate is not None:
        predicate = query.predicate
        items = [item for item in items if predicate(data, item)]
    if query.sort_field is not None:
        get, numeric = query.sort_field.get, query.sort_field.numeric
        items.sort(key=(lambda item: get(data, item)) if numeric else
                   (lambda item: str(get(data, item)).casefold()),
                   reverse=query.descending)
    pages_count = max(1, math.ceil(len(items) / query.page_size))
    start = (query.page - 1) * query.page_size
    return QueryPage(items[start:start + query.page_size], query.page, query.page_size,
                     pages_count)


def parse_filter(text: str, query_type: QueryType) -> Predicate:
    """Compile a filter expression into a predicate over (data set, object)."""
    return _FilterParser(text, query_type).parse()


class _FilterParser:
    """Recursive descent over the filter text: or := and (',' and)*;
    and := term (';' term)*; term := '(' or ')' | comparison."""

    def __init__(self, text: str, query_type: QueryType) -> None:
        self.text = text
        self.pos = 0
        self.query_type = query_type

    def parse(self) -> Predicate:
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

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._eat(","):
            parts.append(self._and())
        if len(parts) == 1:
            return parts[0]
        return lambda data, item: any(part(data, item) for part in parts)

    def _and(self) -> Predicate:
        parts = [self._term()]
        while self._eat(";"):
            parts.append(self._term())
        if len(parts) == 1:
            return parts[0]
        return lambda data, item: all(part(data, item) for part in parts)

    def _term(self) -> Predicate:
        if self._eat("("):
            predicate = self._or()
            if not self._eat(")"):
                self._fail("missing ')'")
            return predicate
        return self._comparison()

    def _comparison(self) -> Predicate:
        self._skip_spaces()
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum()
                                             or self.text[self.pos] == "_"):
            self.pos += 1
        name = self.text[start:self.pos]
        if not name:
            self._fail("parameter name expected")
        field = _field(self.query_type, name)
        compare = _OPERATORS[self._operator()]
        value = self._value()
        if field.numeric:
            try:
                number = int(value)
            except ValueError:
                raise QueryError(f"Parameter {name} needs a number, not {value!r}") from None
            return lambda data, item: compare(field.get(data, item), number)
        folded = value.casefold()
        return lambda data, item: compare(str(field.get(data, item)).casefold(), folded)

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
