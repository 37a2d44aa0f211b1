# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Job sessions (one per run of a job) and their task sessions (one per VM of a run): one code
path for module, lookup and report.

Private to veeam_em.rest: not a public API, may change without notice.

Never a GET per session or task: everything comes from EM's query service. A job's newest
session is found without reading its years of sessions: the jobs' UIDs go 40 per OR filter,
sorted newest first on ``CreationTime`` so that paging stops once every job of the batch has
one, through the same widening windows as a VM's newest point (one day, eight days, no bound),
each round asking only about the jobs the narrower one left without a session. While more
than half of every job is still open, a round asks about all sessions of its window instead,
without a filter on jobs. Names become jobs through the ``Job`` query, 40 names per request
(fewer when long names would make a request line over 8 KiB); EM's filter ignores case, so
only exact matches are kept, and two jobs of one name on two servers are both kept. An
account that may not list jobs still gets every job's newest session, from the sessions
themselves. Task sessions come from ``BackupTaskSession`` queries on ``JobSessionUid``, 40
sessions per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Optional

from ansible_collections.veeam_em.rest.plugins.module_utils._backups import _or_filters, _query, _shown, filter_length, value_batches
from ansible_collections.veeam_em.rest.plugins.module_utils._client import EMClient
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import APIError, InvalidInputError, UnreadableResponseError
from ansible_collections.veeam_em.rest.plugins.module_utils._normalize import (
    UUID_PATTERN,
    normalize_job,
    normalize_job_session,
    normalize_task_session,
    task_session_job_session_id,
)
from ansible_collections.veeam_em.rest.plugins.module_utils._restore_points import (
    creation_time_filter,
    newest_in_windows,
    parse_since,
    point_date,
    window_bounds,
)

JOB_URN_PREFIX = "urn:veeam:Job:"
SESSION_URN_PREFIX = "urn:veeam:BackupJobSession:"

#: Options of every plugin that reads job sessions, besides how the jobs are given.
SESSION_SELECTION_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "latest": {"type": "bool", "default": True},
    "since": {"type": "str"},
    "tasks": {"type": "bool", "default": False},
}


@dataclass(frozen=True)
class SessionSelection:
    """Which jobs' sessions to read, and which of them; checked before any request."""

    job_names: tuple[str, ...]
    #: The ids as given (a UUID or ``urn:veeam:Job:<uuid>``), each known to be valid.
    job_ids: tuple[str, ...]
    latest: bool
    #: Only sessions created at this moment or later (None: no bound).
    since: Optional[datetime]
    tasks: bool


def session_selection(job_names: Iterable[Any], job_ids: Iterable[Any], options: dict[str, Any], now: datetime) -> SessionSelection:
    """Check the job names, ids and options of any plugin; ``since`` is a moment by then."""
    names = tuple(job_names or ())
    for name in names:
        if not isinstance(name, str) or not name.strip() or any(ord(character) < 32 or ord(character) == 127 for character in name):
            raise InvalidInputError(
                f"Invalid job name {_shown(name)}: expected the job's name as EM shows it, "
                "a non-empty text without line breaks or other control characters."
            )
        filter_length("JobName", name)
    ids = tuple(job_ids or ())
    for value in ids:
        parse_job_id(value)
    latest = bool(options.get("latest", True))
    since = options.get("since")
    if not latest and since is None:
        raise InvalidInputError("latest=false returns every session of the jobs, and a job keeps years of them: "
                                "set since too, such as since=7d.")
    return SessionSelection(names, ids, latest, parse_since(since, now, option="since") if since is not None else None,
                            bool(options.get("tasks")))


def parse_job_id(value: Any) -> str:
    """The lower-case UUID of a job id or UID (``urn:veeam:Job:<uuid>``), validated before it goes near a query."""
    text = value if isinstance(value, str) else ""
    candidate = text[len(JOB_URN_PREFIX):] if text[: len(JOB_URN_PREFIX)].lower() == JOB_URN_PREFIX.lower() else text
    if not UUID_PATTERN.fullmatch(candidate):
        raise InvalidInputError(
            f"Invalid job id {_shown(value)} in job_ids: expected a UUID such as 4856ab37-2235-45e8-affe-d515878b01a9 "
            f"or a UID such as {JOB_URN_PREFIX}4856ab37-2235-45e8-affe-d515878b01a9."
        )
    return candidate.lower()


def job_sessions(client: EMClient, job_names: Iterable[str] = (), job_ids: Iterable[str] = (), latest: bool = True,
                 since: Optional[datetime] = None, tasks: bool = False, now: Optional[datetime] = None) -> tuple[list[dict[str, Any]], list[str]]:
    """(sessions, missing): the sessions of the jobs named exactly ``job_names`` and of ``job_ids`` (neither:
    of every job), only each job's newest with ``latest``, created ``since`` then when given, each with its
    ``tasks`` when asked; ordered by job name (without regard to case), backup server name and job id, a job's
    sessions newest first. ``missing``: the names and ids given without a session, as given, in that order."""
    names, ids = list(dict.fromkeys(job_names)), list(dict.fromkeys(job_ids))
    parsed = {value: parse_job_id(value) for value in ids}
    now = now or datetime.now(timezone.utc)
    if latest:
        found = _latest_sessions(client, names, list(dict.fromkeys(parsed.values())), since, now)
    else:
        found = _every_session(client, names, list(dict.fromkeys(parsed.values())), since)
    sessions = sort_sessions(found)
    if tasks:
        add_tasks(client, sessions)
    named = {session["job"]["name"] for session in sessions}
    with_session = {session["job"]["id"] for session in sessions}
    missing = [name for name in names if name not in named] + [value for value in ids if parsed[value] not in with_session]
    return sessions, missing


def job_session(client: EMClient, session_id: str, tasks: bool = True) -> dict[str, Any]:
    """One job session by its id (a UUID), as ``job_sessions`` returns them, with its ``tasks`` unless told
    otherwise: one GET and one query. Raises ``NotFoundError`` when EM does not know it."""
    document = client.get(f"backupSessions/{session_id}", params={"format": "Entity"})
    if document.root != "BackupJobSession":
        raise UnreadableResponseError(
            f"EM answered GET {document.url} with a <{document.root}> document where a <BackupJobSession> entity was expected."
        )
    session = normalize_job_session(document.content)
    if tasks:
        add_tasks(client, [session])
    return session


def add_tasks(client: EMClient, sessions: list[dict[str, Any]]) -> None:
    """Set each session's ``tasks`` (ordered by VM name), one ``BackupTaskSession`` query per 40 sessions."""
    by_session: dict[str, list[dict[str, Any]]] = {session["id"]: [] for session in sessions}
    uids = [f"{SESSION_URN_PREFIX}{session_id}" for session_id in by_session]
    for uid_filter in _or_filters("JobSessionUid", uids):
        for entity in _query(client, {"type": "BackupTaskSession", "format": "Entities", "filter": uid_filter},
                             "BackupTaskSessions", "BackupTaskSession"):
            tasks = by_session.get(task_session_job_session_id(entity) or "")
            if tasks is not None:
                tasks.append(normalize_task_session(entity))
    for session in sessions:
        session["tasks"] = sorted(by_session[session["id"]], key=lambda task: ((task["vm_name"] or "").casefold(), task["vm_name"] or ""))


def sort_sessions(sessions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each session once, by job name (without regard to case), backup server name and job id; a job's newest first."""
    unique = list({session["id"]: session for session in sessions}.values())
    unique.sort(key=_created, reverse=True)
    unique.sort(key=lambda session: (_folded(session["job"]["name"]), _folded((session["backup_server"] or {}).get("name")),
                                     session["job"]["id"] or ""))
    return unique


def _latest_sessions(client: EMClient, names: list[str], ids: list[str], since: Optional[datetime], now: datetime) -> list[dict[str, Any]]:
    """The newest session of each job named or given (neither: of every job), not older than ``since``."""
    every_job = not names and not ids
    found: list[dict[str, Any]] = []
    job_ids = ids
    if names or every_job:
        wanted = set(names)
        jobs = _list_jobs(client, _or_filters("Name", names) if names else [None])
        if jobs is None or (every_job and not jobs):
            # The account may not list jobs (or EM lists none): the sessions themselves tell.
            found = _newest_per_job(session for session in _sessions_of(client, "JobName" if names else None, names, since)
                                    if every_job or session["job"]["name"] in wanted)
        else:
            job_ids = list(dict.fromkeys([*(job["id"] for job in jobs if every_job or job["name"] in wanted), *ids]))
    return found + list(_windowed(client, job_ids, every_job, since, now).values())


def _windowed(client: EMClient, job_ids: list[str], every_job: bool, since: Optional[datetime], now: datetime) -> dict[str, dict[str, Any]]:
    """The newest session per job id through the widening windows (``newest_in_windows``). While more than half
    of every job is still without a session, a round reads its window without a job filter."""

    def batches(pending: list[str]) -> list[Optional[list[str]]]:
        if every_job and len(pending) * 2 > len(job_ids):
            return [None]
        return [[uid[len(JOB_URN_PREFIX):] for uid in batch]
                for batch in value_batches("JobUid", [f"{JOB_URN_PREFIX}{job_id}" for job_id in pending])]

    return newest_in_windows(job_ids, window_bounds(now, since), batches, lambda batch, bound: _newest_of(client, batch, bound))


def _newest_of(client: EMClient, batch: Optional[list[str]], bound: Optional[datetime]) -> dict[str, dict[str, Any]]:
    """The newest session since ``bound`` of each job of ``batch`` (None: of every job), newest first from EM;
    stops reading once every job of the batch has one. One job takes a page of one session."""
    newest: dict[str, dict[str, Any]] = {}
    uids = None if batch is None else [f"{JOB_URN_PREFIX}{job_id}" for job_id in batch]
    page_size = 1 if batch is not None and len(batch) == 1 else None
    for session in _sessions_of(client, "JobUid" if uids else None, uids or [], bound, page_size):
        job_id = session["job"]["id"]
        if job_id is not None and (batch is None or job_id in batch) and job_id not in newest:
            newest[job_id] = session
        if batch is not None and len(newest) == len(batch):
            break
    return newest


def _every_session(client: EMClient, names: list[str], ids: list[str], since: Optional[datetime]) -> list[dict[str, Any]]:
    """Every session since ``since`` of the jobs named (exactly) or given; neither: of every job."""
    sessions: list[dict[str, Any]] = []
    if names:
        wanted = set(names)
        sessions += [session for session in _sessions_of(client, "JobName", names, since) if session["job"]["name"] in wanted]
    if ids:
        sessions += _sessions_of(client, "JobUid", [f"{JOB_URN_PREFIX}{job_id}" for job_id in ids], since)
    if not names and not ids:
        sessions = list(_sessions_of(client, None, [], since))
    return sessions


def _sessions_of(client: EMClient, field: Optional[str], values: list[str], bound: Optional[datetime],
                 page_size: Optional[int] = None) -> Iterator[dict[str, Any]]:
    """Normalized sessions whose ``field`` is one of ``values`` (no ``field``: every session), created since
    ``bound``, newest first; one query per batch of values."""
    since_filter = creation_time_filter(bound) if bound is not None else None
    if field is None:
        filters: list[Optional[str]] = [since_filter]
    else:
        filters = [f"({value_filter});{since_filter}" if since_filter else value_filter
                   for value_filter in _or_filters(field, values)]
    params = {"type": "BackupJobSession", "format": "Entities", "sortDesc": "CreationTime"}
    for query_filter in filters:
        query = params if query_filter is None else {**params, "filter": query_filter}
        for entity in _query(client, query, "BackupJobSessions", "BackupJobSession", page_size):
            yield normalize_job_session(entity)


def _newest_per_job(sessions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest of the sessions given per job (by id, else by name)."""
    newest: dict[str, dict[str, Any]] = {}
    for session in sessions:
        key = session["job"]["id"] or session["job"]["name"] or ""
        if key not in newest or _created(session) > _created(newest[key]):
            newest[key] = session
    return list(newest.values())


def _list_jobs(client: EMClient, filters: list[Optional[str]]) -> Optional[list[dict[str, Any]]]:
    """The jobs of the ``Job`` queries with these filters (None: every job); None when EM refuses to list jobs
    (HTTP 403: the account lacks the role)."""
    jobs = []
    try:
        for query_filter in filters:
            params = {"type": "Job", "format": "Entities"}
            for entity in _query(client, params if query_filter is None else {**params, "filter": query_filter}, "Jobs", "Job"):
                jobs.append(normalize_job(entity))
    except APIError as error:
        if error.status == 403:
            return None
        raise
    return jobs


def _created(session: dict[str, Any]) -> datetime:
    return point_date(session, "creation_time_utc")


def _folded(text: Optional[str]) -> str:
    return (text or "").casefold()
