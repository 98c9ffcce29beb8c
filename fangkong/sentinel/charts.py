"""A series chart drawn on the server as SVG coordinates (no chart library, no inline style:
the template draws polylines and circles from these numbers)."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT, PAD = 640, 200, 24


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    height: float
    day: str
    count: int
    alarm: bool


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    bar_width: float
    threshold: str  # polyline points of the threshold line
    top: int  # the y-axis maximum
    baseline: float


def series_chart(points: list[tuple[str, int, float | None]], *, alarm_day: str) -> Chart:
    """Bars of daily counts with the method's threshold as a line; the alarm day stands out."""
    n = max(len(points), 1)
    top = max([1, *[c for _, c, _ in points], *[int(t) + 1 for _, _, t in points if t is not None]])
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    step = inner_w / n
    bars, line = [], []
    for i, (day, count, threshold) in enumerate(points):
        h = inner_h * count / top
        x = PAD + i * step
        bars.append(
            Bar(
                x=round(x + step * 0.1, 1),
                y=round(PAD + inner_h - h, 1),
                height=round(h, 1),
                day=day,
                count=count,
                alarm=day == alarm_day,
            )
        )
        if threshold is not None:
            ty = PAD + inner_h - inner_h * min(threshold, top) / top
            line.append(f"{x + step / 2:.1f},{ty:.1f}")
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        bar_width=round(step * 0.8, 1),
        threshold=" ".join(line),
        top=top,
        baseline=PAD + inner_h,
    )
