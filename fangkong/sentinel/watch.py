"""The detection run: for one day, every watched series whose count could raise an alert is
evaluated by the method and parameters the rulebook names for its kind
(`sentinel.detection`), using the detection methods of fangkong.sentinel.detection; each alarm
becomes an alert (services.alerts.alert_raise).

Candidates first: a series whose count that day is below the rule's `min_count` cannot raise
an alert, so only the others load their history (one query per level). Histories are dense:
a day without a row counts zero, except that a unit's own series starts after the last day the
unit did not file (a missing report is not a zero: the method sees only the days it knows).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q

from fangkong.jurisdictions.models import Jurisdiction
from fangkong.policy.sections.sentinel import DetectionRule
from fangkong.policy.selectors import rulebook_in_force
from fangkong.sentinel.detection import DetectionError, detect
from fangkong.sentinel.models import DailyReport, SeriesCount, Unit
from fangkong.sentinel.rules import SeriesLevel, Stream
from fangkong.sentinel.services.alerts import alert_raise

EVIDENCE_DAYS = 28
logger = logging.getLogger("fangkong.sentinel")


@dataclass(slots=True)
class RunSummary:
    day: dt.date
    evaluated: int = 0
    alarms: int = 0
    errors: int = 0
    alerts: list[int] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"detection {self.day.isoformat()}: {self.evaluated} series evaluated, "
            f"{self.alarms} alarms, {len(self.alerts)} new alerts"
        )


def _weekly(points: list[tuple[dt.date, int]]) -> list[tuple[dt.date, int]]:
    """Weekly sums of 7-day blocks ending on the last day (Farrington works on weeks); a
    leading partial week is dropped."""
    full = len(points) - len(points) % 7
    tail = points[len(points) - full :]
    return [(tail[i + 6][0], sum(n for _, n in tail[i : i + 7])) for i in range(0, full, 7)]


def _filed_days(unit_codes: set[str], start: dt.date, day: dt.date) -> dict[str, set[dt.date]]:
    out: dict[str, set[dt.date]] = defaultdict(set)
    rows = DailyReport.objects.filter(
        unit__code__in=unit_codes, day__gte=start, day__lte=day
    ).values_list("unit__code", "day")
    for code, d in rows:
        out[code].add(d)
    return out


def _names(level: str, refs: set[str]) -> dict[str, str]:
    if level == SeriesLevel.UNIT:
        return dict(Unit.objects.filter(code__in=refs).values_list("code", "name"))
    return dict(Jurisdiction.objects.filter(code__in=refs).values_list("code", "name"))


def _run_level(
    level: str,
    rules_by_stream: dict[str, DetectionRule],
    day: dt.date,
    version: int,
    out: RunSummary,
) -> None:
    q = Q()
    for stream, rule in rules_by_stream.items():
        q |= Q(stream=stream, count__gte=max(rule.min_count, 1))
    candidates = list(
        SeriesCount.objects.filter(q, level=level, day=day).values_list(
            "ref", "stream", "jurisdiction_path"
        )
    )
    if not candidates:
        return
    longest = max(rules_by_stream[s].history_days for _, s, _ in candidates)
    start = day - dt.timedelta(days=longest - 1)
    wanted = {(ref, stream) for ref, stream, _ in candidates}
    history: dict[tuple[str, str], dict[dt.date, int]] = defaultdict(dict)
    rows = SeriesCount.objects.filter(
        level=level,
        ref__in={r for r, _ in wanted},
        stream__in={s for _, s in wanted},
        day__gte=start,
        day__lte=day,
    ).values_list("ref", "stream", "day", "count")
    for ref, stream, d, n in rows:
        if (ref, stream) in wanted:
            history[(ref, stream)][d] = n
    filed = _filed_days({r for r, _ in wanted}, start, day) if level == SeriesLevel.UNIT else {}
    names = _names(level, {r for r, _ in wanted})
    for ref, stream, path in candidates:
        rule = rules_by_stream[stream]
        first = day - dt.timedelta(days=rule.history_days - 1)
        days = [first + dt.timedelta(days=i) for i in range(rule.history_days)]
        if level == SeriesLevel.UNIT:
            known = filed.get(ref, set())
            gaps = [d for d in days if d not in known]
            if gaps:
                days = [d for d in days if d > max(gaps)]
        counts = history[(ref, stream)]
        points = [(d, counts.get(d, 0)) for d in days]
        if rule.method == "farrington":
            points = _weekly(points)
        try:
            evaluations = detect(points, method=rule.method, **rule.params)
        except DetectionError as exc:  # a rulebook parameter the method refuses
            out.errors += 1
            logger.warning("sentinel detection %s %s %s: %s", level, ref, stream, exc.message)
            continue
        out.evaluated += 1
        if not evaluations:
            continue
        last = evaluations[-1]
        if last.date != day or not last.alarm or last.threshold is None:
            continue
        out.alarms += 1
        evidence = [
            (e.date.isoformat(), int(e.count), e.threshold) for e in evaluations[-EVIDENCE_DAYS:]
        ]
        alert = alert_raise(
            level=level,
            ref=ref,
            name=names.get(ref, ref),
            path=path,
            stream=stream,
            day=day,
            count=int(last.count),
            threshold=float(last.threshold),
            method=rule.method,
            params=dict(rule.params),
            policy_version=version,
            evidence=evidence,
        )
        if alert is not None:
            out.alerts.append(alert.pk)


def detection_run(*, day: dt.date) -> RunSummary:
    """Evaluate every watched series on `day` (a past or the current local day)."""
    # The rulebook in force when the run happens: a rerun of a past day uses today's methods.
    in_force = rulebook_in_force()
    book = in_force.book.sentinel
    out = RunSummary(day=day)
    for level in SeriesLevel:
        by_stream = {
            s.value: rule
            for s in Stream
            if (rule := book.rule_for(level=level.value, stream=s.value)) is not None
        }
        if by_stream:
            _run_level(level.value, by_stream, day, in_force.version, out)
    return out
