"""Clusters: opened by an investigator or by a verified sentinel alert, named and tracked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from fangkong.assignments import services as assignments
from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.core.perms import Perm
from fangkong.jurisdictions.selectors import jurisdiction_get
from fangkong.people.models import Person
from fangkong.policy.schema import Duty
from fangkong.tracing.models import Case, Cluster, ClusterMember
from fangkong.tracing.services._common import (
    CLUSTER_KIND,
    CLUSTER_SUBJECT,
    clean_basis,
    clean_reason,
    covered,
    work_node,
)

MAX_PERSONS = 1000


def _clean_name(name: str) -> str:
    text = " ".join((name or "").split())
    if not text or len(text) > 120:
        raise Invalid(
            "tracing.cluster_name", "Name the cluster (at most 120 characters)", field="name"
        )
    return text


@transaction.atomic
def cluster_open(
    actor: Actor,
    *,
    jurisdiction_code: str,
    name: str,
    person_ids: Sequence[int],
    basis_type: str,
    basis_id: str,
    reason: str,
) -> Cluster:
    """Open a named cluster for the persons behind it (cases or suspected), with its
    investigation assigned to the jurisdiction. The persons' open cases join it.

    Idempotent by basis: opening again for the same (basis_type, basis_id) returns the
    cluster already opened, adding any person not yet in it.
    Raises NotFound (node or a person missing or outside the scope), Invalid, NotAllowed.
    """
    require(actor, Perm.TRACING_WRITE)
    node = jurisdiction_get(scope=actor.scope, code=str(jurisdiction_code))
    covered(actor, node.path)
    clean = _clean_name(name)
    reason = clean_reason(reason)
    b_type, b_id = clean_basis(basis_type, basis_id)
    ids = sorted({int(i) for i in person_ids})
    if len(ids) > MAX_PERSONS:
        raise Invalid(
            "tracing.too_many_persons", f"At most {MAX_PERSONS} persons", field="person_ids"
        )
    persons = list(Person.objects.filter(pk__in=ids, merged_into__isnull=True).order_by("pk"))
    if len(persons) != len(ids) or any(
        not actor.scope.covers(p.jurisdiction_path) for p in persons
    ):
        raise NotFound("person.not_found", "Person not found")

    now = clock.now()
    cluster = Cluster.objects.select_for_update().filter(basis_type=b_type, basis_id=b_id).first()
    created = cluster is None
    if cluster is None:
        cluster = Cluster.objects.create(
            name=clean,
            jurisdiction=node,
            jurisdiction_path=node.path,
            basis_type=b_type,
            basis_id=b_id,
            reason=reason,
            created_by=actor.label[:150],
            opened_at=now,
        )
    elif not actor.scope.covers(cluster.jurisdiction_path):
        raise NotFound("tracing.not_found", "Not found")
    added = _add_members(cluster, persons, now=now)
    if created:
        with translation.override(settings.LANGUAGE_CODE):
            title = _("Investigate cluster: %(name)s") % {"name": clean}
        assignments.assignment_create(
            actor=actor,
            kind=CLUSTER_KIND,
            jurisdiction=node,
            title=title,
            subject_type=CLUSTER_SUBJECT,
            subject_id=cluster.pk,
            duty=Duty.FIRST_INVESTIGATION_REPORT,
            dedupe_key=f"{CLUSTER_SUBJECT}:{cluster.pk}",
        )
    if created or added:
        record(
            actor=actor,
            action="tracing.cluster_open" if created else "tracing.cluster_add",
            target=cluster,
            reason=reason,
            detail={"basis": f"{b_type}:{b_id}", "persons": len(ids), "added": added},
        )
    return cluster


def _add_members(cluster: Cluster, persons: Sequence[Person], *, now: dt.datetime) -> int:
    known = set(
        ClusterMember.objects.filter(cluster=cluster, person__in=persons).values_list(
            "person_id", flat=True
        )
    )
    open_cases = dict(
        Case.objects.filter(person__in=persons, status=Case.Status.OPEN).values_list(
            "person_id", "pk"
        )
    )
    new = [p for p in persons if p.pk not in known]
    ClusterMember.objects.bulk_create(
        [
            ClusterMember(
                cluster=cluster,
                person=p,
                jurisdiction_path=cluster.jurisdiction_path,
                case_id=open_cases.get(p.pk),
                added_at=now,
            )
            for p in new
        ]
    )
    # Open cases not yet in a cluster join this one.
    Case.objects.filter(pk__in=list(open_cases.values()), cluster__isnull=True).update(
        cluster=cluster
    )
    return len(new)


@transaction.atomic
def cluster_close(actor: Actor, *, cluster: Cluster, reason: str) -> Cluster:
    """Close a cluster (no new case for the rulebook's period). Raises NotFound, Conflict."""
    require(actor, Perm.TRACING_WRITE)
    covered(actor, cluster.jurisdiction_path)
    reason = clean_reason(reason)
    locked = Cluster.objects.select_for_update().get(pk=cluster.pk)
    if locked.status != Cluster.Status.ACTIVE:
        raise Conflict("tracing.cluster_closed", "The cluster is already closed")
    locked.status, locked.closed_at = Cluster.Status.CLOSED, clock.now()
    locked.save(update_fields=["status", "closed_at"])
    assignments.assignments_close_for_subject(
        actor=actor, subject_type=CLUSTER_SUBJECT, subject_id=locked.pk, outcome="cluster closed"
    )
    record(actor=actor, action="tracing.cluster_close", target=locked, reason=reason)
    return locked


@transaction.atomic
def cluster_add_case(actor: Actor, *, cluster: Cluster, case: Case) -> Cluster:
    """Link a case to a cluster (an investigator's finding). Raises NotFound, Conflict."""
    require(actor, Perm.TRACING_WRITE)
    covered(actor, cluster.jurisdiction_path)
    covered(actor, case.jurisdiction_path)
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.cluster_id not in (None, cluster.pk):
        raise Conflict("tracing.case_in_cluster", "The case belongs to another cluster")
    locked.cluster = cluster
    locked.save(update_fields=["cluster"])
    ClusterMember.objects.update_or_create(
        cluster=cluster,
        person_id=locked.person_id,
        defaults={
            "jurisdiction_path": cluster.jurisdiction_path,
            "case": locked,
            "added_at": clock.now(),
        },
    )
    record(actor=actor, action="tracing.cluster_add_case", target=cluster, detail={"case": case.pk})
    return cluster


def cluster_open_for_case(actor: Actor, *, case: Case, name: str, reason: str) -> Cluster:
    """Open a cluster around a case, at the case's district (or the highest node of it the
    actor covers). Idempotent per case. Raises NotFound, Invalid, NotAllowed."""
    covered(actor, case.jurisdiction_path)
    node = work_node(actor, case.jurisdiction_path)
    return cluster_open(
        actor,
        jurisdiction_code=node.code,
        name=name,
        person_ids=[case.person_id],
        basis_type="tracing.case",
        basis_id=str(case.pk),
        reason=reason,
    )
