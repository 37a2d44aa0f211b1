# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restore points by date: bounds given by users, and each backup's newest point.

Private to veeam_em.rest: not a public API, may change without notice.

EM filters restore points on ``CreationTime`` (UTC) itself, so a bound becomes one
``CreationTime>=`` filter instead of a filter after transfer. ``latest_restore_points``
finds each backup's newest point without reading every point of every backup: it
looks back through widening windows, each asking only about the backups that the
narrower one left without a point, the last one without a bound.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Optional

from ansible_collections.veeam_em.rest.plugins.module_utils._errors import InvalidInputError

#: How far back each round looks (None: no bound). Most backups run daily: the first
#: round answers them with one query; the backups it leaves go to the next.
WINDOWS = (timedelta(days=1), timedelta(days=8), None)
#: How far ``CreationTime`` (what EM filters on) and ``BackupDateUTC`` (what it reports)
#: may differ; EM does not document that they are equal. A point found in a window is
#: taken as its backup's newest only when its date lies this far inside the window, so
#: that no point just outside it (by ``CreationTime``) can be newer.
SLACK = timedelta(hours=1)

_DURATION = re.compile(r"([0-9]+)([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DATE_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?Z)?")
_EPOCH = datetime(1, 1, 1, tzinfo=timezone.utc)
#: The earliest moment EM takes in a filter: it answers HTTP 400 to a year before 1000.
EARLIEST = datetime(1000, 1, 1, tzinfo=timezone.utc)

#: ``batches(keys still without an item)``: the batches to ask about in a round (None: every key at once).
Batches = Callable[[list[str]], Iterable[Optional[list[str]]]]
#: ``newest_of(batch or None, bound or None)``: the newest item since the bound of each key of the batch.
NewestOf = Callable[[Optional[list[str]], Optional[datetime]], dict[str, dict[str, Any]]]
#: ``points_of(backup UIDs or None for every backup, bound or None)``: (backup id, point) pairs.
PointsOf = Callable[[Optional[list], Optional[datetime]], Iterable[tuple[Optional[str], dict[str, Any]]]]


def parse_since(value: Any, now: datetime, option: str = "restore_points_since") -> datetime:
    """The UTC moment ``value`` names: a date-time, a date (midnight UTC) or a duration back from ``now``.

    Refused, naming ``option`` and the value, before any request: any other text, and a moment before
    ``EARLIEST`` (EM answers such a filter with HTTP 400).
    """
    text = value if isinstance(value, str) else ""
    moment, well_formed = None, bool(_DURATION.fullmatch(text) or _DATE_TIME.fullmatch(text))
    try:
        duration = parse_duration(text)
        moment = now - duration if duration is not None else parse_utc(text)
    except OverflowError:  # a duration back to before the year 1
        pass
    except ValueError:  # a date that does not exist (month 13)
        well_formed = False
    if moment is not None and moment >= EARLIEST:
        return moment
    shown = repr(value) if len(repr(value)) <= 60 else f"{repr(value)[:60]}..."
    too_early = f"it reaches before the year {EARLIEST.year}, which EM refuses; " if well_formed else ""
    raise InvalidInputError(
        f"Invalid {option} {shown}: {too_early}expected a UTC date-time such as 2026-11-28T06:00:00Z (or a date, 2026-11-28) "
        f"or a duration back from now: a whole number with m, h, d or w, such as 90m, 26h, 7d or 2w."
    )


def parse_duration(text: str) -> Optional[timedelta]:
    """A duration, a whole number with m, h, d or w (``90m``, ``26h``, ``7d``, ``2w``); None for any other text.

    Raises OverflowError for a duration no datetime can hold.
    """
    match = _DURATION.fullmatch(text)
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))}) if match else None


def parse_utc(text: Optional[str]) -> Optional[datetime]:
    """An EM UTC date-time (``2025-10-14T20:00:31.23Z``, 0 to 7 fractional digits) or date; None if it is none.

    Raises ValueError for a well-formed text that names no moment (month 13).
    """
    match = _DATE_TIME.fullmatch(text or "")
    if not match:
        return None
    year, month, day, hour, minute, second, fraction = match.groups()
    return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                    int(((fraction or "") + "000000")[:6]), tzinfo=timezone.utc)


def creation_time_filter(since: datetime) -> str:
    """EM's filter for points created at ``since`` or later, to the second (rounded down: never fewer points)."""
    return f'CreationTime>="{since.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%SZ}"'


def newest(points: Iterable[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """The point with the greatest ``backup_date_utc`` (the first of equals); None for no points."""
    found, found_date = None, None
    for point in points:
        date = point_date(point)
        if found is None or date > found_date:
            found, found_date = point, date
    return found


def latest_restore_points(backups: list[dict[str, Any]], points_of: PointsOf, every_backup: bool,
                          now: datetime) -> dict[str, dict[str, Any]]:
    """Each backup's newest restore point, by backup id; backups without one are left out.

    A ``ParentBackup`` holds no points of its own (its children do) and is not asked
    about. While more than half the backups are still open (always in the first round
    of a listing of every backup), a round asks about every backup; later, only about
    the open ones, by UID.
    """
    latest: dict[str, dict[str, Any]] = {}
    pending = [backup for backup in backups if backup.get("backup_type") != "ParentBackup"]
    for window in WINDOWS:
        if not pending:
            break
        bound = now - window if window is not None else None
        uids = None if every_backup and len(pending) * 2 > len(backups) else list(dict.fromkeys(backup["uid"] for backup in pending))
        found: dict[str, list[dict[str, Any]]] = {backup["id"]: [] for backup in pending}
        for backup_id, point in points_of(uids, bound):
            if backup_id in found:
                found[backup_id].append(point)
        for backup_id, points in found.items():
            point = newest(points)
            if point is not None and (bound is None or point_date(point) >= bound + SLACK):
                latest[backup_id] = point
        pending = [backup for backup in pending if backup["id"] not in latest]
    return latest


def window_bounds(now: datetime, since: Optional[datetime]) -> list[Optional[datetime]]:
    """The lower bounds of the rounds: the windows back from ``now`` that end after ``since``, then ``since``."""
    bounds: list[Optional[datetime]] = []
    for window in WINDOWS:
        bound = now - window if window is not None else None
        if since is not None and (bound is None or bound <= since):
            bound = since
        bounds.append(bound)
        if bound == since:
            break
    return bounds


def newest_in_windows(keys: list[str], bounds: list[Optional[datetime]], batches: Batches, newest_of: NewestOf) -> dict[str, dict[str, Any]]:
    """The newest item (a VM's point or task, a job's session) of each key, not older than the last bound;
    keys without one are left out. Each round asks, batch by batch, only about the keys the narrower
    window left without an item; a single key goes straight to the last bound.

    An item found in a window that is not the last is taken only when its ``creation_time_utc``
    lies ``SLACK`` inside it, as for a backup's newest point: EM filters on ``CreationTime`` and
    does not document that it equals what it reports.
    """
    latest: dict[str, dict[str, Any]] = {}
    pending = list(keys)
    for round_number, bound in enumerate(bounds):
        if not pending:
            break
        last = round_number == len(bounds) - 1 or len(pending) == 1
        if last:
            bound = bounds[-1]
        asked = set(pending)
        for batch in batches(pending):
            for key, item in newest_of(batch, bound).items():
                if key in asked and (last or bound is None or point_date(item, "creation_time_utc") >= bound + SLACK):
                    latest[key] = item
        if last:
            break
        pending = [key for key in pending if key not in latest]
    return latest


def point_date(point: dict[str, Any], key: str = "backup_date_utc") -> datetime:
    """A point's date (``backup_date_utc``, or ``key``) as a datetime; the earliest one when EM gave none or nonsense."""
    try:
        return parse_utc(point.get(key)) or _EPOCH
    except ValueError:
        return _EPOCH
