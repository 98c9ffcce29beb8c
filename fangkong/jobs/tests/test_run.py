"""Running jobs: success, retries with backoff on a fake clock, periodic slots, the worker."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command

from fangkong.core import clock
from fangkong.jobs.models import Job
from fangkong.jobs.selectors import job_counts, job_failed_list
from fangkong.jobs.services import enqueue, enqueue_periodic, requeue_stale, run_due

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2022, 1, 20, 9, 0, tzinfo=clock.UTC)
Calls = list[tuple[str, dict[str, Any]]]


def test_run_due_runs_a_registered_handler_and_marks_it_done(calls: Calls) -> None:
    with clock.frozen(T0):
        enqueue(name="test.record", payload={"n": 7})
        assert run_due(worker="w1") == 1
    assert calls == [("test.record", {"n": 7})]
    job = Job.objects.get()
    assert (job.status, job.attempts, job.finished_at, job.locked_by) == ("done", 1, T0, "")


def test_a_job_is_not_run_before_its_time(calls: Calls) -> None:
    with clock.frozen(T0):
        enqueue(name="test.record", run_after=T0 + dt.timedelta(minutes=5))
        assert run_due(worker="w1") == 0
    with clock.frozen(T0 + dt.timedelta(minutes=5)):
        assert run_due(worker="w1") == 1
    assert len(calls) == 1


def test_a_done_job_does_not_run_again(calls: Calls) -> None:
    with clock.frozen(T0):
        enqueue(name="test.record")
        run_due(worker="w1")
        assert run_due(worker="w1") == 0
    assert len(calls) == 1


def test_failures_retry_with_exponential_backoff_then_fail(calls: Calls) -> None:
    # test.explode: max_attempts=3, backoff_seconds=10 -> retries after 10 s, then 20 s.
    with clock.frozen(T0):
        enqueue(name="test.explode")
        assert run_due(worker="w1") == 1
    job = Job.objects.get()
    assert (job.status, job.attempts, job.run_after) == ("queued", 1, T0 + dt.timedelta(seconds=10))
    assert "boom: the gateway is down" in job.last_error

    with clock.frozen(T0 + dt.timedelta(seconds=9)):
        assert run_due(worker="w1") == 0
    with clock.frozen(T0 + dt.timedelta(seconds=10)):
        assert run_due(worker="w1") == 1
    job.refresh_from_db()
    assert (job.status, job.attempts, job.run_after) == ("queued", 2, T0 + dt.timedelta(seconds=30))

    with clock.frozen(T0 + dt.timedelta(seconds=30)):
        assert run_due(worker="w1") == 1
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("failed", 3)
    assert "RuntimeError: boom" in job.last_error
    assert len(calls) == 3

    with clock.frozen(T0 + dt.timedelta(days=1)):
        assert run_due(worker="w1") == 0
    assert list(job_failed_list()) == [job]
    assert job_counts() == {"queued": 0, "running": 0, "done": 0, "failed": 1}


def test_a_job_whose_worker_died_is_requeued(calls: Calls) -> None:
    with clock.frozen(T0):
        enqueue(name="test.record")
    Job.objects.update(status="running", locked_by="dead", locked_at=T0)
    with clock.frozen(T0 + dt.timedelta(minutes=1)):
        assert run_due(worker="w2") == 0  # still within the lock timeout
    with clock.frozen(T0 + dt.timedelta(hours=1)):
        assert run_due(worker="w2") == 1
    job = Job.objects.get()
    assert (job.status, job.attempts) == ("done", 2)
    assert len(calls) == 1


def test_a_stale_job_on_its_last_attempt_fails() -> None:
    with clock.frozen(T0):
        enqueue(name="test.explode")
    Job.objects.update(status="running", locked_by="dead", locked_at=T0, attempts=2)
    assert requeue_stale(now=T0 + dt.timedelta(hours=1)) == 1
    job = Job.objects.get()
    assert (job.status, job.attempts) == ("failed", 3)
    assert "worker lost the job" in job.last_error


def test_a_job_without_a_handler_fails_at_once() -> None:
    Job.objects.create(name="gone.away", run_after=T0, created_at=T0)
    with clock.frozen(T0):
        assert run_due(worker="w1") == 1
    job = Job.objects.get()
    assert job.status == "failed"
    assert "no handler" in job.last_error


def test_a_periodic_slot_is_enqueued_once(calls: Calls) -> None:
    at = T0 + dt.timedelta(minutes=17)
    assert enqueue_periodic(now=at) >= 1
    enqueue_periodic(now=at + dt.timedelta(minutes=30))  # same hour for test.hourly
    keys = Job.objects.filter(name="test.hourly").values_list("dedupe_key", flat=True)
    assert list(keys) == ["test.hourly@2022-01-20T09:00:00+00:00"]
    enqueue_periodic(now=at + dt.timedelta(hours=1))
    assert list(keys.order_by("id")) == [
        "test.hourly@2022-01-20T09:00:00+00:00",
        "test.hourly@2022-01-20T10:00:00+00:00",
    ]


def test_periodic_daily_slots_start_at_local_midnight() -> None:
    from fangkong.jobs.services import slot_start

    at = dt.datetime(2022, 1, 20, 23, 30, tzinfo=clock.LOCAL_TZ)
    assert slot_start(at, dt.timedelta(days=1)) == clock.local_midnight(dt.date(2022, 1, 20))


def test_worker_once_runs_due_jobs(calls: Calls) -> None:
    enqueue(name="test.record", payload={"via": "worker"})
    call_command("worker", "--once", "--name", "test-worker")
    assert ("test.record", {"via": "worker"}) in calls
    assert Job.objects.get(name="test.record").status == "done"
    assert Job.objects.filter(name="test.hourly").exists()  # the periodic slot, too


def test_prune_deletes_old_done_jobs_only() -> None:
    from fangkong.jobs.jobs import prune

    old = T0 - dt.timedelta(days=31)
    for status in ("done", "failed", "queued"):
        Job.objects.create(
            name="test.record", status=status, run_after=old, created_at=old, finished_at=old
        )
    Job.objects.create(
        name="test.record", status="done", run_after=T0, created_at=T0, finished_at=T0
    )
    with clock.frozen(T0):
        prune({"slot": T0.isoformat()})
    assert sorted(Job.objects.values_list("status", flat=True)) == ["done", "failed", "queued"]
