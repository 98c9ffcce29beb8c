"""The tracing module's part of the demo city (called by `fangkong demo`, after the city, the
rulebook, the demo control orders and the lake's 14 days of check-ins exist). Idempotent: a
second run finds the demo cluster and adds nothing.

A simulated cluster whose cases are confirmed over several days, all through the services:
an imported index case (onset five days ago) opens the cluster; its household members are
contacts at once; the co-presence engine runs over the lake for its infectious window and the
investigator confirms the strongest candidates in bulk (orders and grid work in the district,
assist requests to other districts); two of those contacts test positive on the following days
and the chain extends; their own co-presence candidates and the index case's secondary
contacts are confirmed in turn.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction

from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.scope import Scope, within
from fangkong.jurisdictions.models import Jurisdiction, Level
from fangkong.people.models import Person
from fangkong.tracing import services
from fangkong.tracing.models import Case, Cluster, Contact
from fangkong.tracing.rules import ContactStatus

BASIS = ("demo", "tracing-cluster-1")
CONFIRM_FIRST = 12
CONFIRM_LATER = 5


def _top_candidates(case: Case, *, degree: int, limit: int) -> list[int]:
    return list(
        Contact.objects.filter(case=case, degree=degree, status=ContactStatus.CANDIDATE)
        .order_by("-score", "first_exposure_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def _index_person(seed: int) -> tuple[Jurisdiction, Person] | None:
    district = Jurisdiction.objects.filter(level=Level.DISTRICT).order_by("code").first()
    if district is None:
        return None
    # Someone who lives with others, so the household shows as direct contacts.
    people = list(
        within(
            Person.objects.filter(merged_into__isnull=True, household__size__gt=1),
            Scope(paths=(district.path,)),
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    ) or list(
        within(Person.objects.filter(merged_into__isnull=True), Scope(paths=(district.path,)))
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
    if not people:
        return None
    # A reproducible demo pick, not a secret.
    return district, Person.objects.get(pk=people[random.Random(seed).randrange(len(people))])  # noqa: S311


def demo_run(*, actor: Actor, seed: int) -> list[str]:
    """Build this module's demo data; return one summary line per thing made."""
    if Cluster.objects.filter(basis_type=BASIS[0], basis_id=BASIS[1]).exists():
        return []
    picked = _index_person(seed)
    if picked is None:
        return []
    district, index = picked
    with transaction.atomic():
        return _outbreak(actor, district, index)


def _outbreak(actor: Actor, district: Jurisdiction, index: Person) -> list[str]:
    now = clock.now()
    today = clock.local_date()
    day = dt.timedelta(days=1)
    cluster = services.cluster_open(
        actor,
        jurisdiction_code=district.code,
        name=f"{district.name}聚集性疫情（演示）",
        person_ids=[index.pk],
        basis_type=BASIS[0],
        basis_id=BASIS[1],
        reason="demo: a fever-clinic case with a travel history opens the cluster",
    )
    first = services.case_register(
        actor,
        person_id=index.pk,
        kind="confirmed",
        found_by="fever_clinic",
        sampled_at=now - 4 * day,
        onset_date=today - 5 * day,
        basis_type="demo",
        basis_id=f"demo-tube-{index.pk}",
        reason="demo: positive at the fever clinic after returning from a risk area",
        imported=True,
    )
    household = 0
    if index.household_id is not None:
        for member in Person.objects.filter(
            household_id=index.household_id, merged_into__isnull=True
        ).exclude(pk=index.pk):
            services.contact_add(
                actor,
                case=first,
                person_id=member.pk,
                exposure="household",
                first_exposure_at=first.window_start,
                last_exposure_at=now - day,
            )
            household += 1
    run1 = services.copresence_run(actor, case=first)
    picked = _top_candidates(first, degree=1, limit=CONFIRM_FIRST)
    confirmed = (
        services.contacts_confirm(
            actor,
            contact_ids=picked,
            reason="demo: shared the venue at the same time",
            category="close",
        )
        if picked
        else services.ConfirmResult()
    )
    services.investigation_step_complete(
        actor, investigation=first.investigation, step="first_report"
    )

    # Two of the confirmed contacts test positive in quarantine on the following days.
    later = list(
        Contact.objects.filter(case=first, status=ContactStatus.CONFIRMED, order_id__isnull=False)
        .order_by("-score", "pk")
        .values_list("person_id", flat=True)[:2]
    )
    cases = [first]
    for i, person_id in enumerate(later):
        case = services.case_register(
            actor,
            person_id=person_id,
            kind="confirmed" if i == 0 else "asymptomatic",
            found_by="contact_testing",
            sampled_at=now - (2 - i) * day,
            onset_date=(today - 2 * day) if i == 0 else None,
            basis_type="demo",
            basis_id=f"demo-tube-{person_id}",
            reason="demo: positive on a quarantine test",
        )
        cases.append(case)
        services.copresence_run(actor, case=case)
        more = _top_candidates(case, degree=1, limit=CONFIRM_LATER)
        if more:
            services.contacts_confirm(
                actor, contact_ids=more, reason="demo: co-present with a new case"
            )
    secondary = services.copresence_run(actor, case=first, degree=2)
    second_ids = _top_candidates(first, degree=2, limit=CONFIRM_LATER)
    if second_ids:
        services.contacts_confirm(
            actor, contact_ids=second_ids, reason="demo: exposed to a close contact"
        )
    edges = Contact.objects.filter(case__cluster=cluster)
    return [
        f"Tracing: cluster {cluster.name} with {len(cases)} cases over {len(cases) + 2} days "
        f"(index case {first.pk}, imported)",
        f"Tracing: {household} household contacts, {run1.candidates} co-presence candidates for the index "
        f"case, {confirmed.confirmed} confirmed ({confirmed.orders} orders, "
        f"{len(confirmed.assist_requests)} assist requests), {secondary.candidates} secondary candidates",
        f"Tracing: {edges.filter(status=ContactStatus.CONFIRMED).count()} contacts confirmed, "
        f"{edges.filter(status=ContactStatus.CANDIDATE).count()} candidates waiting",
    ]
