"""The key_populations module's part of the demo city (called by `fangkong demo`, after the city,
the rulebook, the demo control orders and the mass-testing round exist). Idempotent: a second
run adds no employer and no member (the same member files import as unchanged).

Per district: employers of different key-population groups in its first town, each with a
member list drawn from the district's residents and imported through the real importer (with
sampling days spread over the last week, some never tested, so that the ninth edition's daily
groups have overdue members). A recompute then reads the mass-testing round, marks due and
overdue and hands the overdue to their grids. The `demo_employer` account, when it exists, is
linked to the first employer (of the town the demo accounts use).
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from fangkong.accounts.models import User
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, DomainError
from fangkong.core.scope import Scope, within
from fangkong.jurisdictions.models import Jurisdiction, Level
from fangkong.jurisdictions.selectors import jurisdiction_children, jurisdiction_roots
from fangkong.key_populations import selectors, services
from fangkong.key_populations.imports import member_import
from fangkong.key_populations.models import Employer, EmployerAccount
from fangkong.key_populations.recompute import keypop_recompute
from fangkong.people.models import Person
from fangkong.policy.sections.key_populations import GroupKind

EMPLOYERS_PER_DISTRICT = 3
MEMBERS_PER_EMPLOYER = 30
DEMO_EMPLOYER_USERNAME = "demo_employer"
_NAMES = {
    GroupKind.MAIL_EXPRESS: "国际快递分拨中心",
    GroupKind.COLD_CHAIN: "冷链物流园",
    GroupKind.PORT_AIRPORT: "港口码头公司",
    GroupKind.MEDICAL: "人民医院",
    GroupKind.QUARANTINE_STAFF: "集中隔离酒店",
    GroupKind.DRIVER: "货运车队",
}
_GROUPS = list(GroupKind)


def _credit_code(district: Jurisdiction, seed: int, k: int) -> str:
    body = f"91{district.code[-6:]}MA{seed % 1000:03d}{k:04d}"
    return body + services.credit_check_char(body)


def _first_town(district: Jurisdiction) -> Jurisdiction | None:
    return (
        Jurisdiction.objects.filter(level=Level.TOWN, path__startswith=district.path)
        .order_by("code")
        .first()
    )


def _member_file(persons: list[Person], today: dt.date) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["姓名", "证件类型", "证件号码", "居住网格编码", "采样日期"])
    for i, p in enumerate(persons):
        # Spread over the last week; every seventh never tested (due since joining).
        sampled = "" if i % 7 == 6 else (today - dt.timedelta(days=i % 6)).isoformat()
        writer.writerow([p.name, p.doc_type, p.doc_number, p.grid.code if p.grid else "", sampled])
    return out.getvalue().encode("utf-8")


def _employer(
    actor: Actor, district: Jurisdiction, town: Jurisdiction, seed: int, k: int
) -> Employer:
    code = _credit_code(district, seed, k)
    found = selectors.employer_by_credit_code(scope=Scope.system(), credit_code=code)
    if found is not None:
        return found
    group = _GROUPS[(k + int(district.code[-2:])) % len(_GROUPS)]
    return services.employer_create(
        actor=actor,
        name=f"{district.name}{_NAMES[group]}",
        credit_code=code,
        group=group.value,
        jurisdiction=town,
    )


def demo_run(*, actor: Actor, seed: int) -> list[str]:
    """Build this module's demo data; return one summary line per thing made."""
    today = clock.local_date()
    system = Scope.system()
    employers = created = tests = 0
    first: Employer | None = None
    for city in jurisdiction_roots(scope=system):
        for district in jurisdiction_children(scope=system, node=city):
            town = _first_town(district)
            if town is None:
                continue
            persons = list(
                within(
                    Person.objects.filter(merged_into__isnull=True), Scope(paths=(district.path,))
                )
                .select_related("grid")
                .order_by("-pk")[: EMPLOYERS_PER_DISTRICT * MEMBERS_PER_EMPLOYER]
            )
            size = max(len(persons) // EMPLOYERS_PER_DISTRICT, 1)  # a small city: fewer each
            for k in range(EMPLOYERS_PER_DISTRICT):
                staff = persons[k * size : (k + 1) * size]
                if not staff:
                    break
                employer = _employer(actor, district, town, seed, k)
                first = first or employer
                employers += 1
                result = member_import(
                    actor=actor,
                    employer=employer,
                    data=_member_file(staff, today),
                    filename=f"demo-{employer.credit_code}.csv",
                )
                created += result.created
                tests += result.tests
    lines = [
        f"Key populations: {employers} employers, {created} new members, {tests} samplings "
        "from the employers' lists"
    ]
    if first is not None:
        user = User.objects.filter(username=DEMO_EMPLOYER_USERNAME).first()
        if user is not None and not EmployerAccount.objects.filter(user=user).exists():
            try:
                services.employer_account_link(actor=actor, employer=first, user=user)
                lines.append(f"Key populations: {DEMO_EMPLOYER_USERNAME} sees {first.name}")
            except DomainError as exc:  # the demo goes on without the link
                lines.append(f"Key populations: {DEMO_EMPLOYER_USERNAME} not linked ({exc.code})")
    try:
        run = keypop_recompute(actor=actor)
    except Conflict:
        return [*lines, "Key populations: no rulebook in force, nothing recomputed"]
    lines.append(
        f"Key populations: {run.members} members, {run.overdue} overdue, "
        f"{run.work_created} overdue members handed to their grids"
    )
    return lines
