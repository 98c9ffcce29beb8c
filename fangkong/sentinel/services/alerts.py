"""Alerts: an alarm of the detection run becomes an alert with its evidence, assigned for
verification to the staff of its town (a district series: its district) with the rulebook's
deadline; the verifier closes it as a false alarm, a suspected cluster (which opens an
investigation in tracing) or explained."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction

from fangkong.assignments import services as assignments
from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor, require, system_actor
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.core.perms import Perm
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.policy.schema import Duty
from fangkong.sentinel import rules
from fangkong.sentinel.models import Alert, Registration, Unit
from fangkong.tracing.services import cluster_open

VERIFY_KIND = Duty.VERIFY_SENTINEL_ALERT.value
SUBJECT = "sentinel_alert"
REASON_MAX = 500
CLUSTER_PERSONS_MAX = 1000


def verifying_node(*, level: str, ref: str) -> Jurisdiction | None:
    """Where an alert's verification lands: the town of a unit, the town itself, the district."""
    if level == rules.SeriesLevel.UNIT:
        unit = Unit.objects.filter(code=ref).only("town_code", "jurisdiction_id").first()
        if unit is None:
            return None
        code = unit.town_code
        if not code:
            return Jurisdiction.objects.filter(pk=unit.jurisdiction_id).first()
    else:
        code = ref
    return Jurisdiction.objects.filter(code=code).first()


@transaction.atomic
def alert_raise(
    *,
    level: str,
    ref: str,
    name: str,
    path: str,
    stream: str,
    day: dt.date,
    count: int,
    threshold: float,
    method: str,
    params: dict[str, Any],
    policy_version: int,
    evidence: Sequence[tuple[str, int, float | None]],
) -> Alert | None:
    """Record an alarm as an alert and assign its verification (system work, called by the
    detection run). Returns None when that series and day already has an alert."""
    if Alert.objects.filter(level=level, ref=ref, stream=stream, day=day).exists():
        return None
    now = clock.now()
    alert = Alert(
        level=level,
        ref=ref,
        name=name[:120],
        jurisdiction_path=path,
        stream=stream,
        day=day,
        count=count,
        threshold=threshold,
        method=method,
        params=params,
        policy_version=policy_version,
        evidence=[list(e) for e in evidence],
        created_at=now,
    )
    try:
        with transaction.atomic():
            alert.save(force_insert=True)
    except IntegrityError:
        return None
    system = system_actor("sentinel detection")
    node = verifying_node(level=level, ref=ref)
    if node is not None:
        item = assignments.assignment_create(
            actor=system,
            kind=VERIFY_KIND,
            jurisdiction=node,
            title=f"Verify sentinel alert: {alert.name} {stream} {day.isoformat()}"[:200],
            subject_type=SUBJECT,
            subject_id=alert.pk,
            duty=Duty.VERIFY_SENTINEL_ALERT,
            dedupe_key=f"sentinel:alert:{alert.pk}",
            detail={"level": level, "ref": ref, "stream": stream, "day": day.isoformat()},
        )
        alert.assignment_id, alert.due_at = item.pk, item.due_at
        alert.save(update_fields=["assignment_id", "due_at"])
    record(
        actor=system,
        action="sentinel.alert_raise",
        target=alert,
        detail={"method": method, "count": count, "threshold": threshold},
    )
    return alert


def behind_alert(alert: Alert) -> Any:
    """The register lines behind an alert's count (its series on its day)."""
    qs = Registration.objects.filter(day=alert.day, stream=alert.stream)
    if alert.level == rules.SeriesLevel.UNIT:
        return qs.filter(unit__code=alert.ref)
    if alert.level == rules.SeriesLevel.TOWN:
        return qs.filter(unit__town_code=alert.ref)
    return qs.filter(unit__district_code=alert.ref)


@transaction.atomic
def alert_close(*, actor: Actor, alert: Alert, outcome: str, reason: str) -> Alert:
    """Close an alert with the verification's outcome.

    A false alarm and an explained alert need a reason; a suspected cluster opens a cluster
    investigation in tracing for the registered persons behind the count (done by the
    system on the verifier's word: the buyers often live outside the verifier's town).
    Raises Invalid, NotFound (outside scope), Conflict (already closed).
    """
    require(actor, Perm.SENTINEL_MANAGE)
    if not actor.scope.covers(alert.jurisdiction_path):
        raise NotFound("sentinel.alert_not_found", "Alert not found")
    if outcome not in Alert.Outcome.values:
        raise Invalid(
            "sentinel.outcome",
            "Outcome must be false_alarm, cluster_suspected or explained",
            field="outcome",
        )
    text = " ".join((reason or "").split())
    if not text:
        raise Invalid("sentinel.reason_required", "A reason is required", field="reason")
    if len(text) > REASON_MAX:
        raise Invalid("sentinel.reason_too_long", "The reason is too long", field="reason")
    locked = Alert.objects.select_for_update().filter(pk=alert.pk).first()
    if locked is None:
        raise NotFound("sentinel.alert_not_found", "Alert not found")
    if locked.status != Alert.Status.OPEN:
        raise Conflict("sentinel.alert_closed", "This alert is already closed")
    if outcome == Alert.Outcome.CLUSTER_SUSPECTED:
        person_ids = sorted(
            set(
                behind_alert(locked)
                .filter(person__isnull=False)
                .values_list("person_id", flat=True)[:CLUSTER_PERSONS_MAX]
            )
        )
        node = verifying_node(level=locked.level, ref=locked.ref)
        if node is None:
            raise Conflict("sentinel.alert_node", "The alert's jurisdiction no longer exists")
        cluster = cluster_open(
            system_actor(f"sentinel for {actor.label}"[:150]),
            jurisdiction_code=node.code,
            name=f"{locked.name} {locked.day.isoformat()}"[:120],
            person_ids=person_ids,
            basis_type=SUBJECT,
            basis_id=str(locked.pk),
            reason=text,
        )
        locked.cluster_ref = str(cluster.pk)
    locked.status, locked.outcome, locked.outcome_reason = Alert.Status.CLOSED, outcome, text
    locked.closed_at, locked.closed_by = clock.now(), actor.label[:150]
    locked.save(
        update_fields=[
            "status",
            "outcome",
            "outcome_reason",
            "cluster_ref",
            "closed_at",
            "closed_by",
        ]
    )
    assignments.assignments_close_for_subject(
        actor=system_actor("sentinel"),
        subject_type=SUBJECT,
        subject_id=locked.pk,
        kind=VERIFY_KIND,
        outcome=f"{outcome}: {text}"[:2000],
    )
    record(
        actor=actor,
        action="sentinel.alert_close",
        target=locked,
        reason=text,
        detail={"outcome": outcome, "cluster": locked.cluster_ref},
    )
    return locked
