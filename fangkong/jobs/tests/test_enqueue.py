"""The outbox: a job exists exactly when the caller's transaction committed, and only once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from fangkong.jobs import services
from fangkong.jobs.models import Job
from fangkong.jobs.services import enqueue


def test_enqueue_inside_a_rolled_back_transaction_leaves_no_job(db: None) -> None:
    class Abort(Exception):
        pass

    def business_write_that_fails() -> None:
        with transaction.atomic():
            enqueue(name="test.record", payload={"n": 1})
            assert Job.objects.count() == 1
            raise Abort

    with pytest.raises(Abort):
        business_write_that_fails()
    assert Job.objects.count() == 0


def _count_from_another_connection() -> int:
    result: list[int] = []

    def read() -> None:
        try:
            result.append(Job.objects.filter(name="test.record").count())
        finally:
            connection.close()  # the thread's own connection

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    return result[0]


# Flush only the jobs table afterwards: the audit log refuses TRUNCATE (append-only).
@pytest.mark.django_db(transaction=True, available_apps=["fangkong.jobs"])
def test_enqueued_job_is_visible_to_a_worker_only_after_commit() -> None:
    with transaction.atomic():
        enqueue(name="test.record", payload={"n": 1})
        assert _count_from_another_connection() == 0
    assert _count_from_another_connection() == 1


def test_a_dedupe_key_enqueues_once(db: None) -> None:
    for _ in range(3):
        enqueue(name="test.record", payload={"n": 1}, dedupe_key="order-42")
    assert Job.objects.filter(dedupe_key="order-42").count() == 1


def test_enqueue_many_adds_each_key_once(db: None) -> None:
    enqueue(name="test.record", payload={"n": 0}, dedupe_key="k-0")
    items = [({"n": i}, f"k-{i}") for i in range(3)] + [({"n": 9}, "k-1"), ({"n": 7}, None)]
    with transaction.atomic():
        services.enqueue_many(name="test.record", items=items)
        services.enqueue_many(name="test.record", items=items)  # a retried caller
    keys = sorted(Job.objects.exclude(dedupe_key=None).values_list("dedupe_key", "payload"))
    assert keys == [("k-0", {"n": 0}), ("k-1", {"n": 1}), ("k-2", {"n": 2})]
    assert Job.objects.filter(dedupe_key=None).count() == 2  # no key: each call adds
    with pytest.raises(ValueError, match="unknown job"):
        services.enqueue_many(name="no.such.job", items=[({}, None)])


def test_losing_the_dedupe_race_keeps_the_callers_transaction_usable(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    Job.objects.create(
        name="test.record",
        dedupe_key="k",
        run_after="2022-01-01T00:00:00Z",
        created_at="2022-01-01T00:00:00Z",
    )
    with transaction.atomic():
        # The race: another transaction inserted the key after our existence check.
        monkeypatch.setattr(services, "_key_taken", lambda key: False)
        enqueue(name="test.record", payload={"first": True}, dedupe_key="k")
        enqueue(name="test.record", payload={"after": True})
    assert Job.objects.filter(dedupe_key="k").count() == 1
    assert Job.objects.filter(payload__after=True).count() == 1


def test_unknown_job_name_is_refused(db: None) -> None:
    with pytest.raises(ValueError, match="unknown job"):
        enqueue(name="no.such.job")
    assert Job.objects.count() == 0


def test_naive_run_after_is_refused(db: None) -> None:
    import datetime as dt

    with pytest.raises(ValueError, match="aware"):
        enqueue(name="test.record", run_after=dt.datetime(2022, 1, 1))  # noqa: DTZ001
