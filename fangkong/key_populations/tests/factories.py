"""Minimal valid key-population data for tests: employers, member files, members."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from collections.abc import Sequence

from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.key_populations import services
from fangkong.key_populations.imports import member_import
from fangkong.key_populations.models import Employer, Member
from fangkong.people.tests.factories import resident_id

# Tests run at 2022-01-10 09:00 in Shanghai (the control tests' instant).
TODAY = dt.date(2022, 1, 10)
NOW = dt.datetime(2022, 1, 10, 9, 0, tzinfo=clock.LOCAL_TZ)

_seq = itertools.count(1)
HEADER = ["姓名", "证件号码", "手机号", "人群类别", "居住网格编码", "采样日期"]


def credit_code(n: int | None = None) -> str:
    """A valid unified social credit code (check character computed)."""
    body = f"91440902MA{(next(_seq) if n is None else n):07d}"
    return body + services.credit_check_char(body)


def employer(
    actor: Actor, node: Jurisdiction, *, name: str = "茂名顺丰速运", group: str = "mail_express"
) -> Employer:
    return services.employer_create(
        actor=actor, name=name, credit_code=credit_code(), group=group, jurisdiction=node
    )


def csv_bytes(rows: Sequence[Sequence[object]], header: Sequence[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def member_rows(
    n: int, *, grid: str = "", sampled_on: str = "", area: str = "440902"
) -> list[list[str]]:
    return [[f"职工{i}", resident_id(area=area), "", "", grid, sampled_on] for i in range(n)]


def members(actor: Actor, emp: Employer, n: int, **kwargs: str) -> list[Member]:
    result = member_import(
        actor=actor, employer=emp, data=csv_bytes(member_rows(n, **kwargs)), filename="m.csv"
    )
    assert result.outcome == "done", result.errors
    return list(Member.objects.filter(employer=emp).order_by("pk"))
