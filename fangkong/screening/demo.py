"""The screening module's part of the demo city (called by `fangkong demo`, after the city,
the rulebook and the demo control orders exist). Idempotent: a second run adds nothing.

Over the last few simulated days each district receives a push list (an xlsx as the provincial
platform sends it: a title row, Chinese headers, residents of the city and newcomers), returnees
report themselves on the public page, the grids verify most of the earlier arrivals (reached and
sampled, some put under the rulebook's measure, some not reached), and one district sends an
assist request to another. Everything goes through the services, so the board, the trails and
the assignments are real.
"""

from __future__ import annotations

import datetime as dt
import io
import random

from openpyxl import Workbook

from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.idnumbers import check_char
from fangkong.core.scope import Scope, within
from fangkong.jurisdictions.models import Jurisdiction, Level
from fangkong.people.models import Person
from fangkong.screening import imports, services
from fangkong.screening.models import Arrival, ImportBatch
from fangkong.screening.services import Verification

DAYS = 4
SOURCE = "省大数据平台推送"
ORIGINS = (
    "北京市朝阳区",
    "上海市浦东新区",
    "广州市天河区",
    "深圳市南山区",
    "西安市雁塔区",
    "武汉市",
)
CLASSES = ("务工", "学生", "司机", "其他", "境外")
HEADERS = (
    "序号",
    "姓名",
    "证件号码",
    "手机号码",
    "来源地",
    "途经地",
    "抵达日期",
    "现住址",
    "人员类别",
)


def _newcomer_id(rng: random.Random, n: int) -> str:
    area = rng.choice(("110105", "310115", "440106", "610113", "420106"))
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randint(0, 20000))
    body = f"{area}{birth:%Y%m%d}{n % 1000:03d}"
    return body + check_char(body)


def _list_file(
    rng: random.Random, district: Jurisdiction, day: dt.date, residents: list[Person], n: int
) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([f"{district.name}落地排查推送名单（{day:%Y年%m月%d日}）"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    sheet.append(list(HEADERS))
    for i in range(n):
        if residents and rng.random() < 0.7:
            p = residents[rng.randrange(len(residents))]
            name, doc, phone, address = p.name, p.doc_number, p.phone, p.address
        else:
            name = rng.choice("赵钱孙李周吴郑王") + rng.choice(("伟", "芳", "娜", "强", "磊", "洋"))
            doc = _newcomer_id(rng, rng.randint(0, 999))
            phone, address = f"139{rng.randint(10_000_000, 99_999_999)}", f"{district.name}"
        sheet.append(
            [
                i + 1, name, doc, phone, rng.choice(ORIGINS), "", f"{day:%Y年%-m月%-d日}",
                address, rng.choice(CLASSES),
            ]
        )  # fmt: skip
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _verify_some(actor: Actor, rng: random.Random, *, share: float) -> int:
    done = 0
    open_ids = list(
        Arrival.objects.filter(status="received", closed_at__isnull=True, placed=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in open_ids:
        if rng.random() > share:
            continue
        a = Arrival.objects.select_related("jurisdiction").get(pk=pk)
        roll = rng.random()
        if roll < 0.75:
            result = Verification(
                reached=True,
                sample_ref=f"DEMO{pk:07d}",
                apply_measure=bool(a.category) and roll < 0.5,
            )
        else:
            reason = rng.choice(("wrong_number", "not_in_city", "left", "refused"))
            result = Verification(reached=False, reason=reason)
        try:
            services.arrival_verify(actor=actor, arrival=a, result=result)
        except Exception:  # noqa: S112 - a demo person registered elsewhere: skip them
            continue
        done += 1
    return done


def demo_run(*, actor: Actor, seed: int) -> list[str]:
    """Build this module's demo data; return one summary line per thing made."""
    if ImportBatch.objects.filter(source_name__startswith=SOURCE).exists():
        return []
    rng = random.Random(seed + 5)  # noqa: S311 - a reproducible demo, not a secret
    districts = list(Jurisdiction.objects.filter(level=Level.DISTRICT).order_by("code"))
    city = Jurisdiction.objects.filter(parent__isnull=True).order_by("code").first()
    if not districts or city is None:
        return []
    today = clock.now()
    created = merged = reports = verified = 0
    for back in range(DAYS, 0, -1):
        when = today - dt.timedelta(days=back)
        with clock.frozen(when):
            day = clock.local_date()
            for d in districts:
                residents = list(
                    within(
                        Person.objects.filter(merged_into__isnull=True), Scope(paths=(d.path,))
                    ).order_by("pk")[:400]
                )
                data = _list_file(rng, d, day, residents, n=25)
                result = imports.import_file(
                    actor=actor,
                    file=data,
                    root=d,
                    source_name=f"{SOURCE} {day:%m-%d}",
                    filename=f"push-{d.code}-{day:%Y%m%d}.xlsx",
                )
                created, merged = created + result.created, merged + result.merged
            for i in range(6):
                entry = services.entry_of(
                    doc_type="resident_id",
                    doc_number=_newcomer_id(rng, 500 + i + back * 10),
                    name="返乡人员",
                    phone=f"137{rng.randint(10_000_000, 99_999_999)}",
                    origin=rng.choice(ORIGINS),
                    arrival_date=day,
                    address=rng.choice(districts).name,
                    returnee_class="student",
                )
                services.self_report_submit(entry=entry, root=city, ip=f"10.0.{back}.{i}")
                reports += 1
            while services.hand_out_pending(limit=500):
                pass
            verified += _verify_some(actor, rng, share=0.6 if back > 1 else 0.3)
    lines = [
        f"screening: {created} arrivals from push lists over {DAYS} days ({merged} merged)",
        f"screening: {reports} self-reports, {verified} verifications",
    ]
    if len(districts) > 1:
        with clock.frozen(today):
            residents = list(
                within(
                    Person.objects.filter(merged_into__isnull=True),
                    Scope(paths=(districts[0].path,)),
                ).order_by("-pk")[:3]
            )
            if residents:
                services.assist_request_send(
                    actor,
                    to_code=districts[1].code,
                    persons=[
                        services.AssistPerson(
                            name=p.name,
                            doc_type=p.doc_type,
                            doc_number=p.doc_number,
                            phone=p.phone,
                            category="close_contact",
                            person_id=p.pk,
                        )
                        for p in residents
                    ],
                    reason="demo: close contacts staying in another district",
                    basis_type="demo",
                    basis_id="screening-assist-1",
                )
                lines.append(
                    f"screening: assist request {districts[0].name} -> {districts[1].name}"
                )
    return lines
