"""notify and notify_post: in-app rows, idempotency by key, SMS and e-mail through the queue."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test import override_settings

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.errors import NotAllowed, NotFound
from fangkong.jobs.models import Job
from fangkong.jobs.services import run_due
from fangkong.jurisdictions.models import Post
from fangkong.jurisdictions.tests.factories import post as make_post
from fangkong.notifications import delivery
from fangkong.notifications.models import Notification, OutboundMessage
from fangkong.notifications.selectors import notification_list, unread_count
from fangkong.notifications.services import (
    notification_mark_all_read,
    notification_mark_read,
    notify,
    notify_post,
)

pytestmark = pytest.mark.django_db

PHONE = "13912345678"


def _ids(users: dict[str, User], *names: str) -> list[int]:
    return [users[n].pk for n in names]


def test_notify_creates_one_in_app_row_per_user(staff: dict[str, User]) -> None:
    ids = _ids(staff, "grid_worker", "district_officer")
    created = notify(user_ids=[*ids, ids[0]], subject="Arrival to verify", body="3 new", link="/x/")
    assert created == 2
    rows = Notification.objects.order_by("user_id")
    assert [(n.user_id, n.subject, n.read_at) for n in rows] == [
        (ids[0], "Arrival to verify", None),
        (ids[1], "Arrival to verify", None),
    ]
    assert not Job.objects.exists()  # in-app only: nothing to deliver later


def test_notify_with_a_dedupe_key_notifies_each_user_once(staff: dict[str, User]) -> None:
    first = _ids(staff, "grid_worker")
    assert notify(user_ids=first, subject="s", body="b", dedupe_key="case-1:isolate") == 1
    assert notify(user_ids=first, subject="s", body="b", dedupe_key="case-1:isolate") == 0
    both = _ids(staff, "grid_worker", "district_officer")
    assert notify(user_ids=both, subject="s", body="b", dedupe_key="case-1:isolate") == 1
    assert Notification.objects.count() == 2
    assert notify(user_ids=first, subject="s", body="b", dedupe_key="case-2:isolate") == 1


def test_inactive_and_unknown_accounts_are_skipped(staff: dict[str, User]) -> None:
    gone = staff["other_role"]
    gone.is_active = False
    gone.save()
    assert notify(user_ids=[gone.pk, 999_999, staff["grid_worker"].pk], subject="s", body="") == 1


def test_a_rolled_back_action_notifies_nobody(staff: dict[str, User]) -> None:
    class Abort(Exception):
        pass

    def action() -> None:
        with transaction.atomic():
            notify(
                user_ids=_ids(staff, "grid_worker"),
                subject="s",
                body="",
                channels=("in_app", "sms"),
            )
            raise Abort

    with pytest.raises(Abort):
        action()
    assert not Notification.objects.exists()
    assert not Job.objects.exists()


def test_unknown_channel_is_refused(staff: dict[str, User]) -> None:
    with pytest.raises(ValueError, match="pigeon"):
        notify(user_ids=_ids(staff, "grid_worker"), subject="s", body="", channels=("pigeon",))
    assert not Notification.objects.exists()


def test_notify_post_sends_in_app_and_an_sms_through_the_local_gateway(
    staff: dict[str, User], two_districts: Tree
) -> None:
    worker = staff["grid_worker"]
    post = make_post(two_districts.grid_a, phone=PHONE, account_id=worker.pk)
    assert (
        notify_post(post_id=post.pk, subject="Visit 12 Station Rd", body="Due 18:00", link="/a/1/")
        == 1
    )
    job = Job.objects.get(name="notifications.deliver")
    assert PHONE not in str(job.payload)  # the phone is looked up at delivery, not queued
    assert not OutboundMessage.objects.exists()  # nothing is sent before the worker runs

    assert run_due(worker="test") == 1
    job.refresh_from_db()
    assert job.status == "done"
    sms = OutboundMessage.objects.get()
    assert (sms.channel, sms.status, sms.recipient) == ("sms", "sent", PHONE)
    assert sms.provider_id.startswith("local-")
    assert sms.gateway == "fangkong.notifications.channels.LocalSmsGateway"
    assert "Visit 12 Station Rd" in sms.body
    assert "/a/1/" in sms.body
    with connection.cursor() as cursor:  # encrypted at rest
        cursor.execute("SELECT recipient FROM notifications_outboundmessage")
        (raw,) = cursor.fetchone()
    assert PHONE not in raw


def test_a_delivery_that_runs_again_sends_nothing_twice(two_districts: Tree) -> None:
    post = make_post(two_districts.grid_a, phone=PHONE)
    assert notify_post(post_id=post.pk, subject="s", body="b") == 0  # no account: SMS only
    payload: dict[str, Any] = Job.objects.get().payload
    run_due(worker="test")
    delivery.deliver(payload)  # as a second worker would after a lost lock
    assert OutboundMessage.objects.count() == 1


def test_notify_post_with_a_dedupe_key_queues_one_sms(
    staff: dict[str, User], two_districts: Tree
) -> None:
    post = make_post(two_districts.grid_a, phone=PHONE, account_id=staff["grid_worker"].pk)
    for _ in range(2):
        notify_post(post_id=post.pk, subject="s", body="b", dedupe_key="arrival-7")
    assert Notification.objects.count() == 1
    assert Job.objects.filter(name="notifications.deliver").count() == 1


def test_notify_post_of_an_unknown_post_is_not_found(db: None) -> None:
    with pytest.raises(NotFound):
        notify_post(post_id=424242, subject="s", body="b")


def test_sms_to_a_user_goes_to_the_phone_of_their_post(
    staff: dict[str, User], two_districts: Tree
) -> None:
    worker = staff["grid_worker"]
    make_post(two_districts.grid_a, phone=PHONE, account_id=worker.pk)
    notify(user_ids=[worker.pk], subject="s", body="b", channels=("sms",))
    run_due(worker="test")
    assert OutboundMessage.objects.get().recipient == PHONE


def test_sms_without_a_phone_on_file_is_recorded_as_skipped(staff: dict[str, User]) -> None:
    notify(user_ids=_ids(staff, "grid_worker"), subject="s", body="b", channels=("sms",))
    run_due(worker="test")
    message = OutboundMessage.objects.get()
    assert (message.status, message.recipient) == ("skipped", "")
    assert Job.objects.get().status == "done"


def test_email_goes_through_djangos_email_backend(staff: dict[str, User]) -> None:
    officer = staff["district_officer"]
    officer.email = "officer@example.org"
    officer.save()
    notify(user_ids=[officer.pk], subject="Daily brief", body="Ready", channels=("email",))
    run_due(worker="test")
    assert [m.to for m in mail.outbox] == [["officer@example.org"]]
    assert mail.outbox[0].subject == "Daily brief"
    assert OutboundMessage.objects.get().status == "sent"


class DownGateway:
    def send(self, *, phone: str, text: str) -> str:
        raise ConnectionError("SMS gateway unreachable")


@override_settings(FANGKONG_SMS_GATEWAY="fangkong.notifications.tests.test_services.DownGateway")
def test_a_failing_gateway_is_retried_with_backoff(two_districts: Tree) -> None:
    post = make_post(two_districts.grid_a, phone=PHONE)
    t0 = dt.datetime(2022, 1, 20, 9, 0, tzinfo=clock.UTC)
    with clock.frozen(t0):
        notify_post(post_id=post.pk, subject="s", body="b")
        run_due(worker="test")
    job = Job.objects.get()
    assert (job.status, job.attempts, job.run_after) == ("queued", 1, t0 + dt.timedelta(minutes=1))
    assert "SMS gateway unreachable" in job.last_error
    assert not OutboundMessage.objects.exists()


def test_mark_read_touches_only_the_actors_own(staff: dict[str, User]) -> None:
    mine, theirs = staff["grid_worker"], staff["district_officer"]
    notify(user_ids=[mine.pk, theirs.pk], subject="s", body="b")
    all_ids = list(Notification.objects.values_list("pk", flat=True))
    assert notification_mark_read(actor=actor_of(mine), notification_ids=all_ids) == 1
    assert unread_count(user_id=mine.pk) == 0
    assert unread_count(user_id=theirs.pk) == 1
    assert notification_mark_all_read(actor=actor_of(mine)) == 0


def test_mark_read_refuses_non_user_actors(staff: dict[str, User], system: Actor) -> None:
    notify(user_ids=_ids(staff, "grid_worker"), subject="s", body="b")
    with pytest.raises(NotAllowed):
        notification_mark_read(actor=system, notification_ids=[Notification.objects.get().pk])
    assert Notification.objects.get().read_at is None


def test_list_is_newest_first_and_filters_unread(staff: dict[str, User]) -> None:
    user = staff["grid_worker"]
    for hour in (8, 9, 10):
        with clock.frozen(dt.datetime(2022, 1, 20, hour, tzinfo=clock.UTC)):
            notify(user_ids=[user.pk], subject=f"at {hour}", body="")
    first = Notification.objects.get(subject="at 8")
    notification_mark_read(actor=actor_of(user), notification_ids=[first.pk])
    assert [n.subject for n in notification_list(user_id=user.pk)] == ["at 10", "at 9", "at 8"]
    assert [n.subject for n in notification_list(user_id=user.pk, unread_only=True)] == [
        "at 10",
        "at 9",
    ]
    assert [n.subject for n in notification_list(user_id=user.pk, limit=1)] == ["at 10"]
    assert list(notification_list(user_id=staff["district_officer"].pk)) == []


def test_post_fixture_keeps_phone_encrypted(two_districts: Tree) -> None:
    post = make_post(two_districts.grid_a, phone=PHONE)
    assert Post.objects.get(pk=post.pk).phone == PHONE
