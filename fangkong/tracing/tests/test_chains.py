"""KPIs against hand-computed values; the cluster's graph, epidemic curve and sources."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from conftest import Tree
from fangkong.control.tests.factories import NOW
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.scope import Scope
from fangkong.people.models import Person
from fangkong.tracing import chains, services
from fangkong.tracing.models import Case, Cluster
from fangkong.tracing.tests import factories
from fangkong.tracing.tests.lakes import lake_with

D = dt.timedelta(days=1)
H = dt.timedelta(hours=1)
TZ = NOW.tzinfo


@pytest.fixture
def history(resident: Person, system: Actor, two_districts: Tree) -> dict[str, Case]:
    """Three chains. Chain 0: one case 40 days ago. Chain 1: case 1 twenty days ago with
    household contact A and meal contact B; A turned positive 5 days ago (case 2). Chain 2:
    case 3 five days ago with contacts C and D (confirmed) and E (a candidate); C was
    followed up 12 hours ago, D never."""
    grid = two_districts.grid_a
    people = {k: factories.person_in(system, grid) for k in ("p0", "p3", "a", "b", "c", "d", "e")}

    def contact(case: Case, who: str, kind: str, last: dt.datetime) -> None:
        services.contact_add(
            system,
            case=case,
            person_id=people[who].pk,
            exposure=kind,
            first_exposure_at=last - H,
            last_exposure_at=last,
        )

    with clock.frozen(NOW - 40 * D):
        case0 = factories.case(system, people["p0"], sampled_at=NOW - 41 * D)
    with clock.frozen(NOW - 20 * D):
        case1 = factories.case(system, resident, sampled_at=NOW - 21 * D)
        contact(case1, "a", "household", NOW - 21 * D)
        contact(case1, "b", "meal", NOW - 21 * D)
    with clock.frozen(NOW - 5 * D):
        case2 = factories.case(system, people["a"], sampled_at=NOW - 5 * D - H)
        case3 = factories.case(system, people["p3"], sampled_at=NOW - 6 * D)
        contact(case3, "c", "household", NOW - 5 * D - H)
        contact(case3, "d", "care", NOW - 5 * D - H)
        contact(case3, "e", "venue", NOW - 5 * D - H)
    with clock.frozen(NOW - 12 * H):
        c_edge = case3.contacts.get(person=people["c"])
        services.contact_follow_up(system, contact=c_edge, note="fine")
    return {"case0": case0, "case1": case1, "case2": case2, "case3": case3}


def test_kpis_over_28_days_match_the_hand_count(history: dict[str, Case]) -> None:
    k = chains.kpis(scope=Scope.system(), days=28)
    assert (k.cases, k.contacts, k.contacts_per_case) == (3, 4, 1.33)
    assert (k.known_contact_cases, k.known_contact_share) == (1, 0.333)
    assert (k.under_follow_up, k.not_followed_up) == (2, 1)  # C and D; D never followed up
    assert (k.chains_active, k.chains_closed) == (2, 0)


def test_kpis_over_60_days_count_the_closed_chain(history: dict[str, Case]) -> None:
    k = chains.kpis(scope=Scope.system(), days=60)
    assert (k.cases, k.contacts, k.contacts_per_case, k.known_contact_cases) == (4, 4, 1.0, 1)
    assert (k.chains_active, k.chains_closed) == (2, 1)


def test_kpis_see_only_the_scope(history: dict[str, Case], two_districts: Tree) -> None:
    sibling = Scope(paths=(two_districts.district_b.path,), perms=Scope.system().perms)
    k = chains.kpis(scope=sibling, days=60)
    assert (k.cases, k.contacts, k.chains_active, k.chains_closed) == (0, 0, 0, 0)


def test_graph_shows_the_chain_through_one_node_per_person(
    history: dict[str, Case], system: Actor
) -> None:
    case1, case2 = history["case1"], history["case2"]
    cluster = services.cluster_open(
        system,
        jurisdiction_code="440902",
        name="c",
        person_ids=[case1.person_id],
        basis_type="manual",
        basis_id="x",
        reason="r",
    )
    services.cluster_add_case(system, cluster=cluster, case=case2)
    graph = chains.cluster_graph(scope=Scope.system(), cluster=cluster)
    nodes = {n["id"]: n for n in graph["nodes"]}
    a = f"p{case2.person_id}"
    assert nodes[a]["type"] == "case"  # contact A who became case 2: one node
    assert {"source": f"p{case1.person_id}", "target": a, "kind": "infection"} in graph["links"]
    assert {"source": f"p{case1.person_id}", "target": a, "kind": "household"} in graph["links"]
    assert sum(1 for n in nodes.values() if n["type"] == "contact") == 1  # B
    assert "*" in nodes[a]["label"] or len(nodes[a]["label"]) > 0


def test_epidemic_curve_fills_empty_days(
    resident: Person, system: Actor, two_districts: Tree
) -> None:
    people = [resident] + [factories.person_in(system, two_districts.grid_a) for _ in range(2)]
    cluster = services.cluster_open(
        system,
        jurisdiction_code="440902",
        name="c",
        person_ids=[p.pk for p in people],
        basis_type="manual",
        basis_id="y",
        reason="r",
    )
    factories.case(system, people[0], sampled_at=dt.datetime(2022, 1, 3, 10, tzinfo=TZ))
    factories.case(
        system, people[1], kind="asymptomatic", sampled_at=dt.datetime(2022, 1, 5, 10, tzinfo=TZ)
    )
    factories.case(
        system,
        people[2],
        sampled_at=dt.datetime(2022, 1, 9, 10, tzinfo=TZ),
        onset_date=dt.date(2022, 1, 5),
    )
    curve = chains.cluster_curve(scope=Scope.system(), cluster=cluster)
    assert [(c.day.day, c.confirmed, c.asymptomatic) for c in curve] == [
        (3, 1, 0),
        (4, 0, 0),
        (5, 1, 1),
    ]


def test_sources_rank_venues_shared_before_onset(
    resident: Person, system: Actor, two_districts: Tree, tmp_path: Path, settings: SettingsWrapper
) -> None:
    settings.LAKE_DIR = tmp_path
    other = factories.person_in(system, two_districts.grid_a)
    third = factories.person_in(system, two_districts.grid_a)

    def at(day: int, hour: int) -> dt.datetime:
        return dt.datetime(2022, 1, day, hour, tzinfo=TZ)

    lake_with(
        tmp_path,
        [
            (resident.pk, 7001, at(2, 10)),
            (other.pk, 7001, at(3, 18)),
            (third.pk, 7001, at(4, 9)),
            (resident.pk, 7002, at(2, 12)),
            (other.pk, 7004, at(3, 8)),
            (third.pk, 7004, at(3, 9)),
            (resident.pk, 7003, at(8, 12)),  # after onset: not a source
            (other.pk, 7003, at(8, 12)),
        ],
    )
    cluster = services.cluster_open(
        system,
        jurisdiction_code="440902",
        name="c",
        person_ids=[resident.pk, other.pk, third.pk],
        basis_type="manual",
        basis_id="z",
        reason="r",
    )
    first = factories.case(system, resident, onset_date=dt.date(2022, 1, 6), imported=True)
    factories.case(system, other, onset_date=dt.date(2022, 1, 7))
    factories.case(system, third, onset_date=dt.date(2022, 1, 8))
    found = chains.cluster_sources(scope=Scope.system(), cluster=cluster)
    assert [(s.venue_id, s.cases) for s in found.shared] == [(7001, 3), (7004, 2)]
    assert found.shared[0].first_at == at(2, 10)
    assert found.earliest_case is not None
    assert found.earliest_case.pk == first.pk
    assert [c.pk for c in found.imported] == [first.pk]
    assert Cluster.objects.get(pk=cluster.pk).cases.count() == 3
