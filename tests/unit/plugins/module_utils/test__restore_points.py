# Copyright: contributors to veeam_em.rest
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounds for restore points are refused before any request unless they name a moment; the
newest point of each backup is found through widening windows, asking only about open backups."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.veeam_em.rest.plugins.module_utils._backups import backup_selection
from ansible_collections.veeam_em.rest.plugins.module_utils._errors import InvalidInputError
from ansible_collections.veeam_em.rest.plugins.module_utils._restore_points import (
    creation_time_filter,
    latest_restore_points,
    newest,
    parse_since,
    parse_utc,
)

NOW = datetime(2026, 11, 30, 23, 0, 30, 500000, tzinfo=timezone.utc)


@pytest.mark.parametrize("value, expected", [
    ("90m", NOW - timedelta(minutes=90)),
    ("26h", NOW - timedelta(hours=26)),
    ("7d", NOW - timedelta(days=7)),
    ("2w", NOW - timedelta(weeks=2)),
    ("2026-11-28T06:00:00Z", datetime(2026, 11, 28, 6, tzinfo=timezone.utc)),
    ("2026-11-28T06:00:00.25Z", datetime(2026, 11, 28, 6, 0, 0, 250000, tzinfo=timezone.utc)),
    ("2026-11-28", datetime(2026, 11, 28, tzinfo=timezone.utc)),
])
def test_durations_and_utc_date_times(value, expected):
    assert parse_since(value, NOW) == expected


@pytest.mark.parametrize("value", [
    "yesterday", "26", "-3h", "2026-13-01", "26 h", "26H", "1.5h", "h", "", None, 26, "2026-11-28T06:00:00",
    "2026-11-28T06:00:00+02:00", "2026-02-30T00:00:00Z", "99999999999999w", "26h\n",
])
def test_anything_else_is_refused_naming_the_value_and_both_forms(value):
    with pytest.raises(InvalidInputError) as error:
        parse_since(value, NOW)
    message = str(error.value)
    assert f"Invalid restore_points_since {value!r}" in message
    assert "2026-11-28T06:00:00Z" in message and "26h" in message


@pytest.mark.parametrize("value", ["0999-12-31", "0999-12-31T23:59:59Z", "0001-01-01", f"{(NOW - datetime(999, 12, 31, tzinfo=timezone.utc)).days}d",
                                   "60000w", "99999999999999w"])
def test_moments_before_the_year_1000_are_refused_naming_the_option_and_the_value(value):
    # EM answers HTTP 400 to them; a duration too long for any date is refused alike.
    with pytest.raises(InvalidInputError) as error:
        parse_since(value, NOW, option="since")
    assert str(error.value).startswith(f"Invalid since {value!r}: it reaches before the year 1000, which EM refuses; expected ")


def test_the_year_1000_itself_is_taken():
    assert parse_since("1000-01-01", NOW) == datetime(1000, 1, 1, tzinfo=timezone.utc)
    days = (NOW - datetime(1000, 1, 1, tzinfo=timezone.utc)).days
    assert parse_since(f"{days}d", NOW).year == 1000


def test_since_needs_restore_points_and_is_parsed_with_the_selection():
    selection = backup_selection([], {"restore_points": True, "restore_points_since": "26h"}, now=NOW)
    assert selection.restore_points_since == NOW - timedelta(hours=26)
    with pytest.raises(InvalidInputError, match="set restore_points too"):
        backup_selection([], {"restore_points_since": "26h"}, now=NOW)
    with pytest.raises(InvalidInputError, match="'-3h'"):
        backup_selection([], {"restore_points": True, "restore_points_since": "-3h"}, now=NOW)


def test_filter_is_utc_to_the_second_rounded_down():
    assert creation_time_filter(NOW - timedelta(hours=26)) == 'CreationTime>="2026-11-29T21:00:30Z"'


@pytest.mark.parametrize("text, expected", [
    ("2025-10-14T20:00:31.23Z", datetime(2025, 10, 14, 20, 0, 31, 230000, tzinfo=timezone.utc)),
    ("2025-10-14T20:00:31.1234567Z", datetime(2025, 10, 14, 20, 0, 31, 123456, tzinfo=timezone.utc)),
    ("2025-10-14T20:00:31Z", datetime(2025, 10, 14, 20, 0, 31, tzinfo=timezone.utc)),
    (None, None), ("", None), ("soon", None),
])
def test_em_dates_with_any_fraction(text, expected):
    assert parse_utc(text) == expected


def _point(name, date):
    return {"id": name, "backup_date_utc": date}


def test_newest_by_date_not_by_order_nor_text():
    points = [_point("b", "2025-10-14T20:00:31.9Z"), _point("c", "2025-10-14T20:00:32Z"), _point("a", None)]
    assert newest(points)["id"] == "c"
    assert newest([]) is None


def _backup(index, backup_type="Standard"):
    return {"id": f"b{index}", "uid": f"urn:veeam:Backup:b{index}", "backup_type": backup_type}


def _iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeEM:
    """Points by backup id, answered as the query service would: by UID and CreationTime."""

    def __init__(self, points):
        self.points = points
        self.calls = []

    def __call__(self, uids, since):
        self.calls.append((None if uids is None else sorted(uids), since))
        for backup_id, point in self.points:
            if (uids is None or f"urn:veeam:Backup:{backup_id}" in uids) and (since is None or parse_utc(point["backup_date_utc"]) >= since):
                yield backup_id, point


def test_windows_ask_only_about_backups_still_open():
    backups = [_backup(index) for index in range(10)] + [_backup("parent", "ParentBackup")]
    points = [(f"b{index}", _point(f"p{index}-{age}", _iso(NOW - timedelta(hours=age))))
              for index in range(8) for age in (2 + index, 26 + index)]
    points.append(("b8", _point("old", _iso(NOW - timedelta(days=30)))))  # b9 has none
    em = FakeEM(points)
    latest = latest_restore_points(backups, em, every_backup=True, now=NOW)
    assert {backup_id: point["id"] for backup_id, point in latest.items()} == {
        **{f"b{index}": f"p{index}-{2 + index}" for index in range(8)}, "b8": "old"}
    assert em.calls == [(None, NOW - timedelta(days=1)),
                        (["urn:veeam:Backup:b8", "urn:veeam:Backup:b9"], NOW - timedelta(days=8)),
                        (["urn:veeam:Backup:b8", "urn:veeam:Backup:b9"], None)]


def test_a_point_near_the_window_edge_is_checked_again():
    """CreationTime may differ from BackupDateUTC: a point dated within SLACK of the bound is
    not trusted as the newest, the next round looks further back."""
    backups = [_backup(0)]
    near_edge = _point("edge", _iso(NOW - timedelta(hours=23, minutes=30)))
    em = FakeEM([("b0", near_edge)])
    assert latest_restore_points(backups, em, every_backup=False, now=NOW) == {"b0": near_edge}
    assert [since for _uids, since in em.calls] == [NOW - timedelta(days=1), NOW - timedelta(days=8)]
