"""Brute-force references for the co-presence rules: nested loops over every record, written
from the definitions in the issue and engine.py, with no shared code. Small inputs only."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from fangkong.lake.engine import CaseWindow, CellCopresence, VenueCopresence

Checkin = tuple[int, int, int]  # person_id, venue_id, ts
Dwell = tuple[int, int, int, int]  # person_id, cell_id, start_ts, end_ts


def venue_reference(
    checkins: Iterable[Checkin],
    cases: Iterable[CaseWindow],
    *,
    window: int,
    venue_windows: Mapping[int, int] | None = None,
) -> list[VenueCopresence]:
    records = set(checkins)
    own: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for case in cases:
        for person, venue, ts in records:
            if person == case.case_person_id and case.window_start <= ts <= case.window_end:
                own[case.case_person_id].add((venue, ts))
    out = []
    for case_id, scans in own.items():
        pairs: dict[int, set[tuple[int, int, int]]] = defaultdict(set)
        for venue, case_ts in scans:
            win = (venue_windows or {}).get(venue, window)
            for person, other_venue, ts in records:
                if other_venue == venue and person != case_id and abs(ts - case_ts) <= win:
                    pairs[person].add((case_ts, ts, venue))
        for person, found in pairs.items():
            case_ts, contact_ts, venue = min(found)
            gap = min(abs(b - a) for a, b, _ in found)
            out.append(
                VenueCopresence(case_id, person, venue, case_ts, contact_ts, len(found), gap)
            )
    return sorted(out, key=lambda r: (r.case_person_id, r.person_id))


def cell_reference(
    dwell: Iterable[Dwell],
    cases: Iterable[CaseWindow],
    *,
    min_overlap: int,
    cumulative: int | None,
    lookback: int,
) -> list[CellCopresence]:
    records = set(dwell)
    out = []
    for case in cases:
        cid = case.case_person_id
        shared: dict[tuple[int, int], int] = defaultdict(int)
        first: dict[tuple[int, int], int] = {}
        for person, cell, start, end in records:
            if person != cid:
                continue
            s, e = max(start, case.window_start), min(end, case.window_end)
            if e <= s:
                continue
            for other, other_cell, o_start, o_end in records:
                if other == cid or other_cell != cell:
                    continue
                lo, hi = max(s, o_start), min(e, o_end)
                if hi > lo:
                    shared[other, cell] += hi - lo
                    first[other, cell] = min(first.get((other, cell), lo), lo)

        def stay(who: int, cell: int, end: int = case.window_end) -> int:
            total = 0
            for person, c, start, stop in records:
                if person == who and c == cell:
                    total += max(0, min(stop, end) - max(start, end - lookback))
            return total

        kept: dict[int, list[tuple[int, int, int, int]]] = defaultdict(list)
        for (other, cell), seconds in shared.items():
            if seconds <= min_overlap:
                continue
            longest = max(stay(other, cell), stay(cid, cell))
            if cumulative is not None and longest <= cumulative:
                continue
            kept[other].append((seconds, cell, first[other, cell], longest))
        for other, cells in kept.items():
            best = min(cells, key=lambda c: (-c[0], c[1]))
            out.append(
                CellCopresence(
                    cid,
                    other,
                    best[1],
                    min(c[2] for c in cells),
                    sum(c[0] for c in cells),
                    len(cells),
                    best[3],
                )
            )
    return sorted(out, key=lambda r: (r.case_person_id, r.person_id))
