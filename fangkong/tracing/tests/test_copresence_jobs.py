"""Co-presence from the page: a run is queued (one job), the worker carries it out, the run's
page shows the progress while it waits and the strongest candidates once done."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.test import Client
from pytest_django.fixtures import DjangoAssertNumQueries
from pytest_django.fixtures import Settings as SettingsWrapper

from conftest import Tree, actor_of, signed_in
from fangkong.accounts.models import User
from fangkong.audit.models import AuditEntry
from fangkong.control.tests.factories import NOW
from fangkong.core.actor import Actor
from fangkong.core.errors import NotAllowed
from fangkong.jobs.models import Job
from fangkong.jobs.services import run_due
from fangkong.people.models import Person
from fangkong.tracing import services
from fangkong.tracing.models import Case, Contact, CopresenceRun
from fangkong.tracing.services.copresence import COPRESENCE_JOB
from fangkong.tracing.tests import factories
from fangkong.tracing.tests.lakes import lake_with

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)


@pytest.fixture
def scene(
    resident: Person, system: Actor, two_districts: Tree, settings: SettingsWrapper, tmp_path: Path
) -> tuple[Case, list[Person]]:
    """A case in district A and a lake (the platform's, settings.LAKE_DIR) where two persons
    scanned the case's venue within the window and one did not."""
    settings.DATA_DIR = tmp_path / "data"
    settings.LAKE_DIR = tmp_path / "lake"
    case = factories.case(system, resident)
    near = [factories.person_in(system, two_districts.grid_a2) for _ in range(3)]
    when = NOW - 30 * H
    lake_with(
        settings.LAKE_DIR,
        [
            (resident.pk, 7001, when),
            (near[0].pk, 7001, when + dt.timedelta(minutes=5)),
            (near[1].pk, 7001, when - dt.timedelta(minutes=20)),
            (near[2].pk, 7001, when + 2 * H),
        ],
    )
    return case, near


def _jobs() -> int:
    return Job.objects.filter(name=COPRESENCE_JOB).count()


def test_a_request_queues_one_run_and_one_job_until_the_worker_takes_it(
    scene: tuple[Case, list[Person]], personas: dict[str, User]
) -> None:
    case, _near = scene
    officer = actor_of(personas["district_officer"])
    run = services.copresence_request(officer, case=case)
    assert (run.status, run.candidates) == ("queued", 0)
    again = services.copresence_request(officer, case=case)
    assert again.pk == run.pk, "a queued run of the same degree is not asked for twice"
    assert _jobs() == 1
    assert not Contact.objects.filter(case=case).exists(), "nothing is found inside the request"
    assert AuditEntry.objects.filter(action="tracing.copresence_request").count() == 1


def test_the_worker_finds_the_candidates_once(
    scene: tuple[Case, list[Person]], personas: dict[str, User], settings: SettingsWrapper
) -> None:
    case, near = scene
    officer = actor_of(personas["district_officer"])
    run = services.copresence_request(officer, case=case)
    run_due(worker="test")
    assert Job.objects.get(name=COPRESENCE_JOB).status == "done"
    run.refresh_from_db()
    assert (run.status, run.candidates, run.created) == ("done", 2, 2)
    assert run.finished_at is not None
    found = set(Contact.objects.filter(case=case).values_list("person_id", flat=True))
    assert found == {near[0].pk, near[1].pk}
    assert services.run_progress(run) == {}
    assert not list((Path(settings.DATA_DIR) / "tracing").glob("copresence-*.json"))
    # the job again (a worker that died after committing): nothing twice
    services.copresence_perform(run_id=run.pk, actor=officer)
    assert Contact.objects.filter(case=case).count() == 2
    assert AuditEntry.objects.filter(action="tracing.copresence_run").count() == 1
    # a new request after a finished run is a new run
    assert services.copresence_request(officer, case=case).pk != run.pk


def test_a_run_the_job_could_not_finish_is_replaced_by_the_next_request(
    scene: tuple[Case, list[Person]], personas: dict[str, User], settings: SettingsWrapper
) -> None:
    case, _near = scene
    officer = actor_of(personas["district_officer"])
    run = services.copresence_request(officer, case=case)
    for day in (Path(settings.LAKE_DIR) / "checkins").iterdir():  # a damaged file
        (day / "batch-damaged.parquet").write_bytes(b"not parquet")
    run_due(worker="test")
    run.refresh_from_db()
    assert run.status == "queued"
    assert services.run_progress(run) == {"stage": "failed", "found": 0}
    replacement = services.copresence_request(officer, case=case)
    run.refresh_from_db()
    assert replacement.pk != run.pk
    assert (run.status, run.error) == ("failed", "worker error")


def test_a_request_without_the_write_permission_changes_nothing(
    scene: tuple[Case, list[Person]], personas: dict[str, User]
) -> None:
    case, _near = scene
    with pytest.raises(NotAllowed):
        services.copresence_request(actor_of(personas["other_role"]), case=case)
    assert not CopresenceRun.objects.exists()
    assert _jobs() == 0


def test_the_run_page_polls_while_queued_and_lists_the_strongest_candidates_when_done(
    scene: tuple[Case, list[Person]],
    personas: dict[str, User],
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    case, near = scene
    client = signed_in(Client(), personas["district_officer"], verified=True)
    answer = client.post(f"/tracing/cases/{case.pk}/copresence/", {"degree": "1"})
    run = CopresenceRun.objects.get(case=case)
    assert answer.status_code == 302
    assert answer["Location"] == f"/tracing/cases/{case.pk}/copresence/{run.pk}/"
    waiting = client.get(answer["Location"]).content.decode()
    assert 'hx-trigger="every 2s"' in waiting
    assert "<table" not in waiting
    run_due(worker="test")
    with django_assert_max_num_queries(16):
        done = client.get(answer["Location"], HTTP_HX_REQUEST="true")
    text = done.content.decode()
    assert done.status_code == 200
    assert "hx-trigger" not in text
    edges = list(Contact.objects.filter(case=case).order_by("-score", "pk"))
    assert len(edges) == 2
    assert text.index(f"#{edges[0].pk}") < text.index(f"#{edges[1].pk}"), "strongest first"
    assert near[0].name not in text, "names are masked"


def test_the_api_queues_the_run_and_answers_its_state_until_done(
    scene: tuple[Case, list[Person]], personas: dict[str, User]
) -> None:
    case, near = scene
    client = signed_in(Client(), personas["district_officer"], verified=True)
    url = f"/api/tracing/cases/{case.pk}/copresence"
    first = client.post(url, {"degree": 1}, content_type="application/json")
    again = client.post(url, {"degree": 1}, content_type="application/json")
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["status"] == "queued"
    assert again.json()["id"] == first.json()["id"]  # still queued: the same run, one job
    assert _jobs() == 1
    assert not Contact.objects.filter(case=case).exists()  # nothing ran in the request
    run_due(worker="test")
    done = client.get(f"{url}/{first.json()['id']}").json()
    assert (done["status"], done["candidates"], done["created"]) == ("done", 2, 2)
    assert done["finished_at"] is not None
    assert sorted(Contact.objects.filter(case=case).values_list("person_id", flat=True)) == sorted(
        p.pk for p in near[:2]
    )
    sibling = signed_in(Client(), personas["sibling_district_officer"], verified=True)
    assert sibling.get(f"{url}/{first.json()['id']}").status_code == 404
