"""Single intakes: the public self-report (主动报备) and the grid worker's canvass
registration (外来人员摸排). Both make the same arrival as an imported list row would."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.db import transaction
from django.utils.translation import gettext_noop

from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor, require, system_actor
from fangkong.core.errors import Invalid, NotAllowed
from fangkong.core.perms import Perm
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.policy.selectors import rulebook_in_force
from fangkong.screening.models import Arrival, SelfReportHit, SourceKind
from fangkong.screening.services._common import Entry, home_node, intake

SELF_REPORT_LABEL = "self-report"
RATE_LIMITED = gettext_noop("Too many reports from this address; try again later")


def _check_date(day: dt.date | None) -> None:
    if day is None:
        raise Invalid(
            "screening.arrival_date_required", "Arrival date is required", field="arrival_date"
        )
    today = clock.local_date()
    if day > today + dt.timedelta(days=7) or day < today - dt.timedelta(days=60):
        raise Invalid(
            "screening.arrival_date_range",
            "Arrival date must lie within the last 60 days or the next 7",
            field="arrival_date",
        )


def client_key(ip: str) -> str:
    """The rate limit's key for a client address (hashed: the table keeps no addresses)."""
    return hashlib.sha256(f"screening-self-report:{ip}".encode()).hexdigest()[:32]


@transaction.atomic
def self_report_submit(*, entry: Entry, root: Jurisdiction, ip: str) -> Arrival:
    """A returnee reports themselves (no account). Limited per client address and hour by
    the rulebook; the same person reporting again the same day changes nothing.
    Raises NotAllowed (limit reached) or Invalid."""
    _check_date(entry.arrival_date)
    in_force = rulebook_in_force()
    key, now = client_key(ip), clock.now()
    recent = SelfReportHit.objects.filter(
        client_key=key, at__gte=now - dt.timedelta(hours=1)
    ).count()
    if recent >= in_force.book.screening.self_report_per_hour:
        raise NotAllowed("screening.rate_limited", RATE_LIMITED)
    SelfReportHit.objects.create(client_key=key, at=now)
    got = intake(
        entry=entry,
        root=root,
        kind=SourceKind.SELF_REPORT,
        source_name=SELF_REPORT_LABEL,
        source_key=f"self:{clock.local_date().isoformat()}",
        in_force=in_force,
    )
    actor = system_actor(SELF_REPORT_LABEL)
    record(
        actor=actor,
        action="screening.self_report",
        target=got.arrival,
        detail={"outcome": got.outcome},
    )
    return got.arrival


@transaction.atomic
def canvass_register(*, actor: Actor, entry: Entry) -> Arrival:
    """A grid worker registers a newcomer found in their grid; the arrival lands there."""
    require(actor, Perm.SCREENING_VERIFY)
    _check_date(entry.arrival_date)
    node = home_node(actor)
    got = intake(
        entry=entry,
        root=node,
        kind=SourceKind.CANVASS,
        source_name=f"canvass {node.name}",
        source_key=f"canvass:{node.code}",
    )
    record(
        actor=actor, action="screening.canvass", target=got.arrival, detail={"outcome": got.outcome}
    )
    return got.arrival
