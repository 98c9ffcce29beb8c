"""Pure rules: paths, levels, transitions, and the escalation windows against the rulebook's
own definition of the escalation level."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from fangkong.assignments import rules
from fangkong.jurisdictions import rules as jrules
from fangkong.policy import rules as policy_rules
from fangkong.policy.editions import edition_text
from fangkong.policy.schema import parse_rulebook

BOOK = parse_rulebook(edition_text("ninth-edition-2022"))
NOW = dt.datetime(2022, 1, 20, 12, 0, tzinfo=dt.UTC)
GRID = "440902001001001001"


def test_path_lengths_are_those_of_real_paths() -> None:
    for code in jrules.ancestor_codes(GRID):
        path = jrules.path_of(code)
        assert rules.PATH_LENGTH[jrules.level_of(code)] == len(path)


def test_ancestor_paths_walk_down_from_the_city() -> None:
    assert rules.ancestor_paths("/4409/440902/440902001/") == [
        "/4409/",
        "/4409/440902/",
        "/4409/440902/440902001/",
    ]
    assert rules.parent_path("/4409/440902/") == "/4409/"
    assert rules.parent_path("/4409/") == ""


def test_work_climbs_to_the_city_and_stops() -> None:
    assert rules.max_escalation(6) == 5
    assert rules.max_escalation(2) == 1
    assert rules.max_escalation(1) == 1  # the city's own overdue work stays there, overdue
    assert rules.holder_level(6, 1) == 5
    assert rules.holder_level(6, 2) == 4
    assert rules.holder_level(2, 1) == 1
    assert rules.holder_level(1, 1) == 1


def test_closed_work_stays_closed() -> None:
    assert rules.can_move("open", "in_progress")
    assert rules.can_move("in_progress", "done")
    assert not rules.can_move("in_progress", "open")
    assert not rules.can_move("in_progress", "in_progress")
    for closed in ("done", "rejected", "reassigned"):
        assert not rules.can_move(closed, "in_progress")
        assert not rules.can_move(closed, "done")


def test_kinds_are_lowercase_words() -> None:
    assert rules.valid_kind("isolate_close_contact")
    assert not rules.valid_kind("Isolate")
    assert not rules.valid_kind("x")
    assert not rules.valid_kind("drop table;")


def _level_by_windows(due: dt.datetime, cap: int) -> int:
    interval = dt.timedelta(hours=BOOK.escalation_interval_hours)
    for w in rules.escalation_windows(now=NOW, interval=interval, cap=cap):
        below = due <= w.until if w.until_inclusive else due < w.until
        if below and (w.after is None or due > w.after):
            return w.level
    return 0


@given(
    minutes=st.integers(min_value=-600, max_value=40 * 60),
    cap=st.integers(min_value=1, max_value=5),
)
def test_windows_match_the_rulebook_escalation_level(minutes: int, cap: int) -> None:
    due = NOW - dt.timedelta(minutes=minutes)
    expected = min(policy_rules.escalation_level(BOOK, due_at=due, now=NOW), cap)
    assert _level_by_windows(due, cap) == expected


def test_window_edges() -> None:
    interval = dt.timedelta(hours=BOOK.escalation_interval_hours)
    assert _level_by_windows(NOW, 5) == 0  # due this instant: not yet overdue
    assert _level_by_windows(NOW - dt.timedelta(microseconds=1), 5) == 1
    assert _level_by_windows(NOW - interval, 5) == 2
    assert _level_by_windows(NOW - 100 * interval, 3) == 3
