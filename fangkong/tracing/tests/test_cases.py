"""Case registration, its investigation clocks and order; clusters opened for a sentinel."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.assignments.models import Assignment
from fangkong.audit.models import AuditEntry
from fangkong.control.models import ControlOrder
from fangkong.control.tests.factories import NOW
from fangkong.core.actor import Actor
from fangkong.core.errors import Invalid, NotAllowed, NotFound
from fangkong.people.models import Person
from fangkong.tracing import services
from fangkong.tracing.models import Case, Cluster, ClusterMember, Investigation
from fangkong.tracing.tests import factories

H = dt.timedelta(hours=1)


def _counts() -> tuple[int, ...]:
    return (
        Case.objects.count(),
        Investigation.objects.count(),
        Assignment.objects.count(),
        ControlOrder.objects.count(),
        AuditEntry.objects.count(),
        Cluster.objects.count(),
        ClusterMember.objects.count(),
    )


def test_register_opens_investigation_with_rulebook_clocks_and_issues_the_case_order(
    resident: Person, personas: dict[str, User], two_districts: Tree
) -> None:
    actor = actor_of(personas["district_officer"])
    case = factories.case(actor, resident, onset_date=dt.date(2022, 1, 8))

    inv = case.investigation
    # ninth edition: first report and contact list in 24 h, full report in 72 h.
    assert (inv.first_report_due, inv.contact_list_due, inv.full_report_due) == (
        NOW + 24 * H,
        NOW + 24 * H,
        NOW + 72 * H,
    )
    work = Assignment.objects.filter(subject_type="tracing.investigation", subject_id=str(inv.pk))
    assert sorted(work.values_list("kind", flat=True)) == [
        "contact_list",
        "first_investigation_report",
        "full_investigation_report",
    ]
    assert {a.jurisdiction_id for a in work} == {two_districts.district_a.pk}
    order = ControlOrder.objects.get(pk=int(case.order_id or 0))
    assert (order.category, order.basis_type, order.basis_id) == (
        "confirmed_case",
        "case",
        str(case.pk),
    )
    assert order.measure == "hospital_treatment"
    # The infectious window: 4 days before onset (local midnight) until isolation (now).
    assert case.window_start == dt.datetime(2022, 1, 4, tzinfo=NOW.tzinfo)
    assert case.window_end == NOW
    assert case.chain_root_id == case.pk
    assert AuditEntry.objects.filter(
        action="tracing.case_register", target_id=str(case.pk)
    ).exists()


def test_asymptomatic_window_counts_from_sampling(resident: Person, system: Actor) -> None:
    case = factories.case(system, resident, kind="asymptomatic", sampled_at=NOW - 30 * H)
    assert case.window_start == dt.datetime(2022, 1, 5, tzinfo=NOW.tzinfo)  # sampled on the 9th
    assert ControlOrder.objects.get(pk=int(case.order_id or 0)).category == "asymptomatic_infection"


def test_register_is_idempotent_while_the_case_is_open(resident: Person, system: Actor) -> None:
    first = factories.case(system, resident)
    before = _counts()
    again = factories.case(system, resident, basis_id="another-tube")
    assert again.pk == first.pk
    assert _counts() == before


def test_register_outside_scope_looks_missing_and_changes_nothing(
    resident_b: Person, personas: dict[str, User]
) -> None:
    actor = actor_of(personas["district_officer"])
    before = _counts()
    with pytest.raises(NotFound):
        factories.case(actor, resident_b)
    with pytest.raises(NotFound):
        factories.case(actor, resident_b, person_id=999_999)
    assert _counts() == before


def test_register_needs_the_permission(resident: Person, personas: dict[str, User]) -> None:
    before = _counts()
    with pytest.raises(NotAllowed):
        factories.case(actor_of(personas["grid_worker"]), resident)
    assert _counts() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kind", "suspected"),
        ("found_by", "rumour"),
        ("sampled_at", NOW.replace(tzinfo=None)),  # naive
        ("sampled_at", NOW + 2 * H),
        ("onset_date", dt.date(2022, 1, 11)),
        ("reason", "  "),
        ("basis_id", ""),
    ],
)
def test_register_refuses_bad_input(
    resident: Person, system: Actor, field: str, value: object
) -> None:
    before = _counts()
    with pytest.raises(Invalid):
        factories.case(system, resident, **{field: value})
    assert _counts() == before


def test_completing_a_step_stops_its_clock_and_closes_its_assignment(
    resident: Person, system: Actor
) -> None:
    case = factories.case(system, resident)
    inv = services.investigation_step_complete(
        system, investigation=case.investigation, step="first_report"
    )
    assert inv.first_report_at == NOW
    open_kinds = set(
        Assignment.objects.filter(
            subject_type="tracing.investigation", subject_id=str(inv.pk), closed_at__isnull=True
        ).values_list("kind", flat=True)
    )
    assert open_kinds == {"contact_list", "full_investigation_report"}
    with pytest.raises(Invalid):
        services.investigation_step_complete(system, investigation=inv, step="full_report")
    done = services.investigation_step_complete(
        system, investigation=inv, step="full_report", report="Went to the market on the 7th."
    )
    assert done.full_report_at == NOW


def test_cluster_open_for_a_sentinel_alert_is_idempotent_and_takes_open_cases(
    resident: Person, system: Actor, two_districts: Tree
) -> None:
    case = factories.case(system, resident)
    other = factories.person_in(system, two_districts.grid_a2)
    cluster = services.cluster_open(
        system,
        jurisdiction_code=two_districts.district_a.code,
        name="站南社区发热聚集",
        person_ids=[resident.pk, other.pk],
        basis_type="sentinel.alert",
        basis_id="17",
        reason="alert verified as a suspected cluster",
    )
    assert cluster.jurisdiction_id == two_districts.district_a.pk
    assert Case.objects.get(pk=case.pk).cluster_id == cluster.pk
    members = dict(
        ClusterMember.objects.filter(cluster=cluster).values_list("person_id", "case_id")
    )
    assert members == {resident.pk: case.pk, other.pk: None}
    work = Assignment.objects.get(subject_type="tracing.cluster", subject_id=str(cluster.pk))
    assert work.jurisdiction_id == two_districts.district_a.pk
    before = _counts()
    again = services.cluster_open(
        system,
        jurisdiction_code=two_districts.district_a.code,
        name="站南社区发热聚集",
        person_ids=[other.pk],
        basis_type="sentinel.alert",
        basis_id="17",
        reason="retried",
    )
    assert again.pk == cluster.pk
    assert _counts() == before
    # The suspected member turns positive: their case joins the cluster.
    later = factories.case(system, other)
    assert later.cluster_id == cluster.pk
    assert ClusterMember.objects.get(cluster=cluster, person=other).case_id == later.pk


def test_cluster_open_refuses_nodes_and_persons_outside_scope(
    resident: Person, resident_b: Person, personas: dict[str, User], two_districts: Tree
) -> None:
    actor = actor_of(personas["district_officer"])
    before = _counts()
    with pytest.raises(NotFound):
        services.cluster_open(
            actor,
            jurisdiction_code=two_districts.district_b.code,
            name="x",
            person_ids=[resident_b.pk],
            basis_type="sentinel.alert",
            basis_id="1",
            reason="r",
        )
    with pytest.raises(NotFound):
        services.cluster_open(
            actor,
            jurisdiction_code=two_districts.district_a.code,
            name="x",
            person_ids=[resident.pk, resident_b.pk],
            basis_type="sentinel.alert",
            basis_id="2",
            reason="r",
        )
    assert _counts() == before


def test_a_cluster_opened_around_a_case_is_tracked_until_closed(
    resident: Person, system: Actor, two_districts: Tree
) -> None:
    case = factories.case(system, resident)
    cluster = services.cluster_open_for_case(
        system, case=case, name="菜市场聚集", reason="two linked cases"
    )
    assert cluster.jurisdiction_id == two_districts.district_a.pk
    assert Case.objects.get(pk=case.pk).cluster_id == cluster.pk
    again = services.cluster_open_for_case(system, case=case, name="菜市场聚集", reason="retry")
    assert again.pk == cluster.pk
    other = factories.case(system, factories.person_in(system, two_districts.grid_a2))
    services.cluster_add_case(system, cluster=cluster, case=other)
    assert set(Case.objects.filter(cluster=cluster).values_list("pk", flat=True)) == {
        case.pk,
        other.pk,
    }
    closed = services.cluster_close(system, cluster=cluster, reason="no new case for 28 days")
    assert closed.status == "closed"
    assert not Assignment.objects.filter(
        subject_type="tracing.cluster", subject_id=str(cluster.pk), closed_at__isnull=True
    ).exists()
