"""The daily count series, pre-aggregated: per unit, town and district, and per stream (drug
class or visit kind). Rebuilt per day from the registers with GROUP BY queries: the database
counts, Python only moves the grouped rows (at most units x streams per day). Idempotent: a
day's rows are replaced as a whole, in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count

from fangkong.jurisdictions.models import Jurisdiction
from fangkong.sentinel.models import Registration, SeriesCount
from fangkong.sentinel.rules import SeriesLevel

_BATCH = 5000


def _rows_for_day(day: dt.date) -> list[SeriesCount]:
    regs = Registration.objects.filter(day=day)
    out: list[SeriesCount] = []
    for code, path, stream, n in (
        regs.values_list("unit__code", "unit__jurisdiction_path", "stream")
        .annotate(n=Count("id"))
        .order_by()
    ):
        out.append(
            SeriesCount(
                level=SeriesLevel.UNIT,
                ref=code,
                jurisdiction_path=path,
                stream=stream,
                day=day,
                count=n,
            )
        )
    for level, column in (
        (SeriesLevel.TOWN, "unit__town_code"),
        (SeriesLevel.DISTRICT, "unit__district_code"),
    ):
        grouped = list(
            regs.exclude(**{column: ""})
            .values_list(column, "stream")
            .annotate(n=Count("id"))
            .order_by()
        )
        paths = dict(
            Jurisdiction.objects.filter(code__in={c for c, _, _ in grouped}).values_list(
                "code", "path"
            )
        )
        out.extend(
            SeriesCount(
                level=level,
                ref=code,
                jurisdiction_path=paths[code],
                stream=stream,
                day=day,
                count=n,
            )
            for code, stream, n in grouped
            if code in paths
        )
    return out


@transaction.atomic
def series_refresh(*, days: Iterable[dt.date]) -> int:
    """Recount the series of each day from the registers; returns the rows written."""
    written = 0
    for day in sorted(set(days)):
        rows = _rows_for_day(day)
        SeriesCount.objects.filter(day=day).delete()
        for start in range(0, len(rows), _BATCH):
            SeriesCount.objects.bulk_create(rows[start : start + _BATCH])
        written += len(rows)
    return written
