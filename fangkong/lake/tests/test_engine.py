"""The engine against the brute-force reference on small random lakes: identical rows, window
edges included (pairs exactly one window apart), windows and scans across city midnight, fresh
batch files and compacted day partitions, and duplicate records."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import pytest

from fangkong.lake import inmemory
from fangkong.lake.engine import (
    CaseWindow,
    cell_copresence,
    rank_venue,
    venue_copresence,
)
from fangkong.lake.layout import CHECKINS, DWELL, Lake, day_of, day_start
from fangkong.lake.rules import as_table
from fangkong.lake.slicing import read_all
from fangkong.lake.tests.reference import Checkin, Dwell, cell_reference, venue_reference

MIDNIGHT = day_start(day_of(1_700_000_000))  # a city midnight (16:00 UTC)


def random_checkins(rng: random.Random, n: int, persons: int, venues: int) -> list[Checkin]:
    # Times on a 5-minute grid around a midnight, so that pairs exactly 1800 s apart are common.
    return [
        (
            rng.randrange(persons),
            rng.randrange(venues),
            MIDNIGHT + 300 * rng.randrange(-100, 100),
        )
        for _ in range(n)
    ]


def write_lake(
    root: Path, spec_rows: Sequence[Sequence[int]], *, dwell: bool, compact: str
) -> Lake:
    """Write rows as three batches (with a repeated slice), then compact none, some or all days."""
    lake = Lake(root)
    spec = DWELL if dwell else CHECKINS
    third = len(spec_rows) // 3
    for chunk in (spec_rows[:third], spec_rows[third : 2 * third], spec_rows[third - 5 :]):
        lake.write_batch(spec, as_table(spec, chunk))
    days = lake.days(spec)
    if compact == "all":
        for day in days:
            lake.compact_day(spec, day)
    elif compact == "some":
        for day in days[::2]:
            lake.compact_day(spec, day)
        # another batch after compaction: a day with generation files and fresh batches
        lake.write_batch(spec, as_table(spec, spec_rows[:7]))
    return lake


def random_cases(rng: random.Random, persons: int, k: int) -> list[CaseWindow]:
    chosen = rng.sample(range(persons), k)
    cases = []
    for person in chosen:
        start = MIDNIGHT + 300 * rng.randrange(-120, 60)
        cases.append(CaseWindow(person, start, start + 300 * rng.randrange(0, 120)))
    return cases


@pytest.fixture(params=["numpy", "sql"])
def venue_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a venue test on both paths of the DuckDB backend: the numpy one for small slices and
    the SQL text (forced by a pair bound that every slice exceeds)."""
    if request.param == "sql":
        monkeypatch.setattr(inmemory, "MAX_PAIRS", -1)
    return str(request.param)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("compact", ["none", "some", "all"])
def test_venue_copresence_matches_the_reference(
    tmp_path: Path, seed: int, compact: str, venue_path: str
) -> None:
    rng = random.Random(seed)
    rows = random_checkins(rng, 600, persons=40, venues=6)
    lake = write_lake(tmp_path / "lake", rows, dwell=False, compact=compact)
    cases = random_cases(rng, 40, 5)
    window = rng.choice([600, 1800, 3600])
    venue_windows = {0: 7200, 3: 300} if seed % 2 else None
    expected = venue_reference(rows, cases, window=window, venue_windows=venue_windows)
    got = venue_copresence(lake, cases, window_seconds=window, venue_windows=venue_windows)
    assert got == expected
    assert expected, "a lake this dense has co-presences"
    # the same answer from the plain files the lake holds
    assert (
        venue_copresence(
            tmp_path / "lake" / "checkins",
            cases,
            window_seconds=window,
            venue_windows=venue_windows,
        )
        == expected
    )


def test_window_edges_are_inclusive_and_cross_midnight(tmp_path: Path, venue_path: str) -> None:
    case, exact, beyond, early = 1, 2, 3, 4
    rows = [
        (case, 10, MIDNIGHT - 600),  # the case's scan 10 minutes before midnight
        (exact, 10, MIDNIGHT + 1200),  # 1800 s later, the next city day: counts
        (beyond, 10, MIDNIGHT + 1201),  # 1801 s: does not
        (early, 10, MIDNIGHT - 2400),  # 1800 s earlier: counts
        (case, 11, MIDNIGHT + 5000),  # outside the case's window: not a case scan
        (beyond, 11, MIDNIGHT + 5000),
    ]
    lake = write_lake(tmp_path / "lake", rows, dwell=False, compact="all")
    window = CaseWindow(case, MIDNIGHT - 600, MIDNIGHT + 4999)
    got = venue_copresence(lake, [window])
    assert [(r.person_id, r.case_ts, r.contact_ts) for r in got] == [
        (exact, MIDNIGHT - 600, MIDNIGHT + 1200),
        (early, MIDNIGHT - 600, MIDNIGHT - 2400),
    ]
    # the case's window ends are inclusive too
    assert venue_copresence(lake, [CaseWindow(case, MIDNIGHT - 600, MIDNIGHT - 600)]) == got
    assert venue_copresence(lake, [CaseWindow(case, MIDNIGHT - 599, MIDNIGHT + 4999)]) == []


def test_encounters_count_pairs_and_the_row_shows_the_earliest(
    tmp_path: Path, venue_path: str
) -> None:
    rows = [(1, 5, 1000), (1, 6, 5000), (2, 5, 1100), (2, 5, 2000), (2, 6, 4000), (3, 6, 5000)]
    lake = write_lake(tmp_path / "lake", rows, dwell=False, compact="none")
    got = venue_copresence(lake, [CaseWindow(1, 0, 10_000)])
    assert [(r.person_id, r.venue_id, r.case_ts, r.contact_ts, r.encounters) for r in got] == [
        (2, 5, 1000, 1100, 3),
        (3, 6, 5000, 5000, 1),
    ]
    assert venue_copresence(lake, [CaseWindow(1, 0, 10_000)], exclude={1: {2}})[0].person_id == 3
    ranked = rank_venue(got)
    assert ranked[0].person_id == 2  # three encounters outrank one


def random_dwell(rng: random.Random, n: int, persons: int, cells: int) -> list[Dwell]:
    rows = []
    for _ in range(n):
        start = MIDNIGHT + 60 * rng.randrange(-3000, 1500)
        rows.append(
            (
                rng.randrange(persons),
                rng.randrange(cells),
                start,
                start + 60 * rng.randrange(1, 300),
            )
        )
    return rows


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("cumulative", [None, 3 * 3600])
def test_cell_copresence_matches_the_reference(
    tmp_path: Path, seed: int, cumulative: int | None
) -> None:
    rng = random.Random(seed)
    rows = random_dwell(rng, 400, persons=30, cells=5)
    lake = write_lake(
        tmp_path / "lake", rows, dwell=True, compact=["none", "some", "all"][seed % 3]
    )
    cases = [CaseWindow(p, MIDNIGHT - 86_400, MIDNIGHT + 36_000) for p in rng.sample(range(30), 4)]
    lookback = 2 * 86_400
    expected = cell_reference(
        rows, cases, min_overlap=600, cumulative=cumulative, lookback=lookback
    )
    got = cell_copresence(
        lake, cases, cumulative_seconds=cumulative, cumulative_lookback_seconds=lookback
    )
    assert got == expected
    assert expected


def test_the_ten_minute_threshold_and_the_cumulative_stay_rule(tmp_path: Path) -> None:
    case, ten, eleven, resident = 1, 2, 3, 4
    t = MIDNIGHT
    rows = [
        (case, 7, t, t + 3600),
        (ten, 7, t + 3000, t + 4000),  # 600 s of overlap: not more than 10 minutes
        (eleven, 7, t + 2940, t + 5000),  # 660 s
        (resident, 7, t - 40 * 3600, t + 3600),  # lives in the cell: 41 h there
    ]
    lake = write_lake(tmp_path / "lake", rows, dwell=True, compact="all")
    window = [CaseWindow(case, t - 86_400, t + 86_400)]
    no_rule = cell_copresence(lake, window, cumulative_seconds=None)
    assert [(r.person_id, r.shared_seconds) for r in no_rule] == [(eleven, 660), (resident, 3600)]
    # 30 hours of cumulative stay: only the resident's own stay qualifies the pair
    ruled = cell_copresence(lake, window, cumulative_seconds=30 * 3600)
    assert [(r.person_id, r.cumulative_seconds) for r in ruled] == [(resident, 41 * 3600)]
    # the case's window clips its stays
    clipped = cell_copresence(lake, [CaseWindow(case, t, t + 1800)], cumulative_seconds=None)
    assert [(r.person_id, r.shared_seconds) for r in clipped] == [(resident, 1800)]


def test_numpy_and_sql_paths_agree_on_repeated_persons_and_long_windows(tmp_path: Path) -> None:
    rng = random.Random(99)
    rows = random_checkins(rng, 3000, persons=60, venues=4)
    lake = write_lake(tmp_path / "lake", rows, dwell=False, compact="some")
    # the same person twice with different windows, and venue windows longer than a day's half
    cases = [*random_cases(rng, 60, 8), CaseWindow(rows[0][0], MIDNIGHT - 9000, MIDNIGHT)]
    venue_windows = {0: 50_000, 2: 0}
    expected = venue_reference(rows, cases, window=1800, venue_windows=venue_windows)
    assert venue_copresence(lake, cases, venue_windows=venue_windows) == expected
    # over whole files (duplicates included) rather than a slice
    everything = read_all(lake.all_files(CHECKINS, 0, 10**6), CHECKINS)
    whole = inmemory.venue_pairs(
        everything, cases, window_seconds=1800, venue_windows=venue_windows
    )
    assert whole is not None
    assert whole.num_rows == len(expected)
    assert whole.column("encounters").to_pylist() == [r.encounters for r in expected]
    over = inmemory.venue_pairs(
        everything, cases, window_seconds=1800, venue_windows={}, max_pairs=10
    )
    assert over is None, "over the bound, the caller runs the SQL"


def test_sidecars_are_written_by_compaction_and_optional_for_readers(tmp_path: Path) -> None:
    rng = random.Random(5)
    rows = random_checkins(rng, 2000, persons=50, venues=5)
    lake = write_lake(tmp_path / "lake", rows, dwell=False, compact="all")
    cases = random_cases(rng, 50, 6)
    expected = venue_reference(rows, cases, window=1800)
    day = lake.days(CHECKINS)[0]
    files = lake.day_files(CHECKINS, day)
    assert files is not None
    assert set(files.indexes) == {"place", "person"}
    assert venue_copresence(lake, cases) == expected
    # a generation from before the sidecars: the footers serve, and compaction backfills
    for path in files.indexes.values():
        path.unlink()
    bare = lake.day_files(CHECKINS, day)
    assert bare is not None
    assert bare.indexes == {}
    assert venue_copresence(lake, cases) == expected
    lake.compact_day(CHECKINS, day)
    again = lake.day_files(CHECKINS, day)
    assert again is not None
    assert set(again.indexes) == {"place", "person"}
    assert again.generation == files.generation, "backfilling rewrites no data"
    assert venue_copresence(lake, cases) == expected
