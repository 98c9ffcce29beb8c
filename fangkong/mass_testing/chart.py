"""The progress chart as server-rendered SVG geometry (no script: the CSP forbids inline
code, and a government intranet has no CDN). Pure: figures in, coordinates out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from fangkong.core import clock

WIDTH, HEIGHT, PAD = 640, 240, 36


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    sampled_points: str  # "x,y x,y ..." for <polyline>
    target_points: str  # straight line from 0 at the start to `due` at the deadline
    deadline_x: float
    now_x: float | None
    due: int
    ticks: list[tuple[float, str]]  # x and local time label
    top_y: float
    base_y: float
    left_x: float


def progress_chart(
    points: Sequence[tuple[dt.datetime, int]],
    *,
    due: int,
    starts_at: dt.datetime,
    deadline: dt.datetime,
    now: dt.datetime,
) -> Chart:
    """Cumulative residents sampled over time against the straight line to the deadline."""
    end = max(deadline, points[-1][0] if points else deadline)
    span = max((end - starts_at).total_seconds(), 1.0)
    top = max(due, points[-1][1] if points else 0, 1)

    def x(t: dt.datetime) -> float:
        return round(PAD + (WIDTH - 2 * PAD) * max(0.0, (t - starts_at).total_seconds()) / span, 1)

    def y(v: int) -> float:
        return round(HEIGHT - PAD - (HEIGHT - 2 * PAD) * v / top, 1)

    series = [(x(starts_at), y(0))] + [(x(t + dt.timedelta(hours=1)), y(v)) for t, v in points]
    ticks = []
    steps = 4
    for i in range(steps + 1):
        t = starts_at + (end - starts_at) * i / steps
        ticks.append((x(t), t.astimezone(clock.LOCAL_TZ).strftime("%m-%d %H:%M")))
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        sampled_points=" ".join(f"{a},{b}" for a, b in series),
        target_points=f"{x(starts_at)},{y(0)} {x(deadline)},{y(due)}",
        deadline_x=x(deadline),
        now_x=x(now) if starts_at <= now <= end else None,
        due=due,
        ticks=ticks,
        top_y=y(top),
        base_y=y(0),
        left_x=PAD,
    )
