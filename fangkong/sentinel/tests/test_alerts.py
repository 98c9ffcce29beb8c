"""The series, the detection run (method and parameters from the rulebook) and the alerts
workflow: assignment to the town with the deadline, the three outcomes, the evidence."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.assignments.models import Assignment
from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.people.tests.factories import person as make_person
from fangkong.policy.editions import edition_text
from fangkong.policy.models import RulebookVersion
from fangkong.policy.services import rulebook_publish
from fangkong.sentinel import selectors, services
from fangkong.sentinel.models import Alert, SeriesCount, Unit
from fangkong.sentinel.series import series_refresh
from fangkong.sentinel.tests import factories
from fangkong.sentinel.tests.factories import NOW, purchase
from fangkong.sentinel.watch import detection_run
from fangkong.tracing.models import Cluster, ClusterMember

pytestmark = pytest.mark.django_db
DAY = NOW.date()
BASELINE = [2, 3, 1, 2, 2, 3, 2, 1, 2, 3, 2, 2, 1, 2]  # the 14 days before DAY


def _fill(system: Actor, unit: Unit, counts: list[int], *, buyers: list[str] | None = None) -> None:
    """`counts[i]` purchases on the i-th of the days ending on DAY; zero reports elsewhere."""
    start = DAY - dt.timedelta(days=len(counts) - 1)
    for i, n in enumerate(counts):
        day = start + dt.timedelta(days=i)
        at = dt.datetime.combine(day, dt.time(9), tzinfo=NOW.tzinfo)
        if n == 0:
            services.zero_report_file(actor=system, unit=unit, day=day)
            continue
        docs: list[str | None] = list(buyers) if buyers and day == DAY else [None] * n
        items = [
            purchase(occurred_at=at.isoformat(), **({"doc_number": d} if d else {}))
            for d in (docs + [None] * n)[:n]
        ]
        services.registrations_submit(actor=system, unit=unit, items=items, source="api")
    series_refresh(days=[start + dt.timedelta(days=i) for i in range(len(counts))])


def test_series_are_counted_per_unit_town_and_district(
    pharmacy: Unit, two_districts: Tree, system: Actor
) -> None:
    other = factories.unit(system, two_districts.grid_a2)
    services.registrations_submit(
        actor=system, unit=pharmacy, items=[purchase(), purchase(drug_class="cough")], source="api"
    )
    services.registrations_submit(actor=system, unit=other, items=[purchase()], source="api")
    series_refresh(days=[DAY])
    rows = set(SeriesCount.objects.values_list("level", "ref", "stream", "count"))
    assert rows == {
        ("unit", pharmacy.code, "antipyretic", 1),
        ("unit", pharmacy.code, "cough", 1),
        ("unit", other.code, "antipyretic", 1),
        ("town", two_districts.town_a.code, "antipyretic", 2),
        ("town", two_districts.town_a.code, "cough", 1),
        ("district", two_districts.district_a.code, "antipyretic", 2),
        ("district", two_districts.district_a.code, "cough", 1),
    }
    series_refresh(days=[DAY])  # idempotent
    assert SeriesCount.objects.count() == 7


def test_a_spike_raises_alerts_assigned_to_the_town_with_the_rulebook_deadline(
    pharmacy: Unit, two_districts: Tree, system: Actor
) -> None:
    _fill(system, pharmacy, [*BASELINE, 15])
    summary = detection_run(day=DAY)
    alerts = {(a.level, a.stream): a for a in Alert.objects.all()}
    # EARS C2 at unit and town level alarms on a one-day spike; C3 at district level waits
    # for a sustained rise (its threshold adds the two days before).
    assert set(alerts) == {("unit", "antipyretic"), ("town", "antipyretic")}
    unit_alert = alerts[("unit", "antipyretic")]
    assert (unit_alert.count, unit_alert.method, unit_alert.params) == (
        15,
        "ears-c2",
        {"alpha": 0.001},
    )
    assert unit_alert.threshold < 15
    assert unit_alert.evidence[-1][:2] == [DAY.isoformat(), 15]
    work = Assignment.objects.get(pk=unit_alert.assignment_id or 0)
    assert work.kind == "verify_sentinel_alert"
    assert work.jurisdiction_path == two_districts.town_a.path  # the town's staff verify
    assert work.due_at == NOW + dt.timedelta(hours=24)  # ninth edition: 24 h
    assert alerts[("town", "antipyretic")].jurisdiction_path == two_districts.town_a.path
    assert summary.alerts
    assert summary.errors == 0
    # A second run adds nothing.
    detection_run(day=DAY)
    assert Alert.objects.count() == 2


def test_no_alert_without_a_spike_nor_under_the_minimum_count(
    pharmacy: Unit, system: Actor
) -> None:
    _fill(system, pharmacy, [*BASELINE, 3])
    detection_run(day=DAY)
    assert not Alert.objects.filter(level="unit").exists()


def test_a_missing_report_cuts_the_unit_history(pharmacy: Unit, system: Actor) -> None:
    # A gap three days ago: EARS C2 needs 7 baseline days after a 2-day lag, so the unit's
    # own series cannot be evaluated (the town's and district's still are).
    counts = [*BASELINE, 15]
    _fill(system, pharmacy, counts)
    gap = DAY - dt.timedelta(days=3)
    from fangkong.sentinel.models import DailyReport, Registration

    Registration.objects.filter(day=gap).delete()
    DailyReport.objects.filter(day=gap).delete()
    series_refresh(days=[gap])
    detection_run(day=DAY)
    assert not Alert.objects.filter(level="unit").exists()
    assert Alert.objects.filter(level="town").exists()


def test_the_rulebook_names_the_method_per_series_kind(
    pharmacy: Unit, system: Actor, book: RulebookVersion
) -> None:
    text = edition_text("ninth-edition-2022")
    start, end = text.index("  detection:"), text.index("\ntracing:")
    text = (
        text[:start]
        + "  detection:\n"
        + "    - {level: district, method: cusum, params: {baseline: 14}, history_days: 15}"
        + text[end:]
    )
    rulebook_publish(
        actor=system, text=text, note="cusum only", effective_from=NOW - dt.timedelta(hours=1)
    )
    _fill(system, pharmacy, [*BASELINE, 15])
    detection_run(day=DAY)
    assert list(Alert.objects.values_list("level", "method")) == [("district", "cusum")]


@pytest.fixture
def alert(pharmacy: Unit, system: Actor, two_districts: Tree) -> Alert:
    buyers = [make_person(system, two_districts.grid_a2).doc_number for _ in range(3)]
    _fill(system, pharmacy, [*BASELINE, 15], buyers=buyers)
    detection_run(day=DAY)
    return Alert.objects.get(level="unit")


@pytest.fixture
def town_staff(two_districts: Tree) -> User:
    user = User.objects.create(username="town_staff", role="town_staff")
    user.jurisdictions.set([two_districts.town_a])
    return user


def test_the_evidence_shows_the_records_and_their_grids(
    alert: Alert, town_staff: User, two_districts: Tree
) -> None:
    evidence = selectors.alert_evidence(scope=actor_of(town_staff).scope, alert=alert)
    assert evidence.total == 15
    assert [(g.code, g.count) for g in evidence.grids] == [(two_districts.grid_a2.code, 3)]
    assert evidence.unknown_home == 12


@pytest.mark.parametrize("outcome", ["false_alarm", "explained"])
def test_false_alarm_and_explained_need_a_reason_and_close_the_work(
    alert: Alert, town_staff: User, outcome: str
) -> None:
    actor = actor_of(town_staff)
    with pytest.raises(Invalid, match="A reason is required"):
        services.alert_close(actor=actor, alert=alert, outcome=outcome, reason=" ")
    closed = services.alert_close(actor=actor, alert=alert, outcome=outcome, reason="春节前备药")
    assert (closed.status, closed.outcome, closed.outcome_reason) == (
        "closed",
        outcome,
        "春节前备药",
    )
    assert Assignment.objects.get(pk=alert.assignment_id or 0).status == "done"
    with pytest.raises(Conflict):
        services.alert_close(actor=actor, alert=alert, outcome=outcome, reason="again")
    assert not Cluster.objects.exists()


def test_a_suspected_cluster_opens_an_investigation_for_the_registered_buyers(
    alert: Alert, town_staff: User, two_districts: Tree
) -> None:
    closed = services.alert_close(
        actor=actor_of(town_staff),
        alert=alert,
        outcome="cluster_suspected",
        reason="同一小区多人发热",
    )
    cluster = Cluster.objects.get(basis_type="sentinel_alert", basis_id=str(alert.pk))
    assert closed.cluster_ref == str(cluster.pk)
    assert ClusterMember.objects.filter(cluster=cluster).count() == 3


def test_an_unknown_outcome_is_refused(alert: Alert, town_staff: User) -> None:
    with pytest.raises(
        Invalid, match="Outcome must be false_alarm, cluster_suspected or explained"
    ):
        services.alert_close(actor=actor_of(town_staff), alert=alert, outcome="maybe", reason="x")


def test_the_sibling_district_cannot_close_the_alert(
    alert: Alert, personas: dict[str, User]
) -> None:
    with pytest.raises(NotFound):
        services.alert_close(
            actor=actor_of(personas["sibling_district_officer"]),
            alert=alert,
            outcome="explained",
            reason="x",
        )
    alert.refresh_from_db()
    assert alert.status == "open"


def test_alerts_feed_the_dashboard_summary(
    alert: Alert, town_staff: User, personas: dict[str, User]
) -> None:
    actor = actor_of(personas["city_commander"])
    before = selectors.sentinel_summary(scope=actor.scope, day=DAY, now=NOW)
    assert before.open_alerts == 2
    assert before.streams == {"antipyretic": 15}
    services.alert_close(
        actor=actor_of(town_staff), alert=alert, outcome="false_alarm", reason="补货"
    )
    after = selectors.sentinel_summary(scope=actor.scope, day=DAY, now=NOW + dt.timedelta(hours=25))
    assert (after.open_alerts, after.overdue_alerts, after.outcomes) == (1, 1, {"false_alarm": 1})
