"""Telling people things: in-app now, SMS and e-mail through the job queue.

Notifications are a side effect of other services' writes and are not audited themselves (the
write that caused them is); the caller's transaction covers them, so a rolled-back action
notifies nobody. Keep personal data out of subjects and bodies: say what to look at and link
to the page, where masking and scope apply.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from fangkong.accounts.models import User
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.errors import NotAllowed, NotFound
from fangkong.jobs.services import enqueue
from fangkong.jurisdictions.models import Post
from fangkong.notifications.models import Notification

logger = logging.getLogger("fangkong.notifications")

IN_APP = "in_app"
CHANNELS = frozenset({IN_APP, "sms", "email"})
DELIVER_JOB = "notifications.deliver"


def _key_part(dedupe_key: str) -> str:
    # Keys end up inside longer job and delivery keys (255 characters at most).
    if len(dedupe_key) <= 120:
        return dedupe_key
    return "sha256:" + hashlib.sha256(dedupe_key.encode()).hexdigest()


def _enqueue_delivery(
    *,
    channel: str,
    recipient: dict[str, int],
    message: dict[str, str],
    dedupe_key: str | None,
) -> None:
    ((who, ident),) = recipient.items()
    base = _key_part(dedupe_key) if dedupe_key else uuid.uuid4().hex
    key = f"notify:{base}:{channel}:{who}:{ident}"
    payload: dict[str, Any] = {"channel": channel, **recipient, **message, "key": key}
    enqueue(name=DELIVER_JOB, payload=payload, dedupe_key=key)


def notify(
    *,
    user_ids: Sequence[int],
    subject: str,
    body: str,
    link: str = "",
    kind: str = "info",
    dedupe_key: str | None = None,
    channels: Sequence[str] = (IN_APP,),
) -> int:
    """Notify staff accounts; returns how many in-app notifications were created.

    In-app rows are written at once (bulk); each other channel enqueues one delivery job per
    recipient. With `dedupe_key`, a user already notified under that key is skipped on every
    channel. Inactive or unknown accounts are skipped. Raises ValueError for an unknown channel.
    """
    unknown = set(channels) - CHANNELS
    if unknown:
        raise ValueError(f"unknown notification channels: {sorted(unknown)}")
    wanted = sorted(set(user_ids))
    if not wanted:
        return 0
    subject = subject[:200]
    message = {"subject": subject, "body": body, "link": link}
    with transaction.atomic():
        users = list(
            User.objects.filter(pk__in=wanted, is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        created = 0
        if IN_APP in channels:
            created = _in_app(user_ids=users, kind=kind, dedupe_key=dedupe_key, **message)
        for channel in channels:
            if channel == IN_APP:
                continue
            for user_id in users:
                _enqueue_delivery(
                    channel=channel,
                    recipient={"user_id": user_id},
                    message=message,
                    dedupe_key=dedupe_key,
                )
    return created


def _in_app(
    *, user_ids: list[int], subject: str, body: str, link: str, kind: str, dedupe_key: str | None
) -> int:
    if dedupe_key is not None:
        seen = set(
            Notification.objects.filter(dedupe_key=dedupe_key, user_id__in=user_ids).values_list(
                "user_id", flat=True
            )
        )
        user_ids = [u for u in user_ids if u not in seen]
    now = clock.now()
    rows = [
        Notification(
            user_id=user_id,
            kind=kind,
            subject=subject,
            body=body,
            link=link,
            dedupe_key=dedupe_key,
            created_at=now,
        )
        for user_id in user_ids
    ]
    # ignore_conflicts: a concurrent notify with the same key may have won the race since
    # the read above; the unique (user, key) constraint keeps one row either way.
    Notification.objects.bulk_create(rows, ignore_conflicts=dedupe_key is not None)
    return len(rows)


def notify_post(
    *,
    post_id: int,
    subject: str,
    body: str,
    link: str = "",
    kind: str = "info",
    dedupe_key: str | None = None,
) -> int:
    """Notify whoever holds a post: in-app to its account, and an SMS to its phone.

    Returns the number of in-app notifications created (0 or 1). Raises NotFound for an
    unknown post. The phone is looked up when the SMS is sent, so it never sits in a job row.
    """
    post = Post.objects.filter(pk=post_id).only("pk", "account_id", "phone").first()
    if post is None:
        raise NotFound("notifications.post_not_found", "No such post", post_id=post_id)
    with transaction.atomic():
        created = 0
        if post.account_id is not None:
            created = notify(
                user_ids=[post.account_id],
                subject=subject,
                body=body,
                link=link,
                kind=kind,
                dedupe_key=dedupe_key,
            )
        if post.phone:
            _enqueue_delivery(
                channel="sms",
                recipient={"post_id": post.pk},
                message={"subject": subject[:200], "body": body, "link": link},
                dedupe_key=dedupe_key,
            )
        elif post.account_id is None:
            logger.warning("post %d has neither an account nor a phone; nobody told", post.pk)
    return created


def _user_id(actor: Actor) -> int:
    if actor.kind != "user" or actor.id is None:
        raise NotAllowed("notifications.users_only", "Notifications belong to staff accounts")
    return actor.id


def notification_mark_read(*, actor: Actor, notification_ids: Sequence[int]) -> int:
    """Mark the actor's own notifications read; others' ids are ignored. Returns how many
    changed. Raises NotAllowed for actors that are not staff accounts (API tokens)."""
    user_id = _user_id(actor)
    return Notification.objects.filter(
        user_id=user_id, pk__in=list(notification_ids), read_at__isnull=True
    ).update(read_at=clock.now())


def notification_mark_all_read(*, actor: Actor) -> int:
    """Mark every unread notification of the actor read; returns how many changed."""
    user_id = _user_id(actor)
    return Notification.objects.filter(user_id=user_id, read_at__isnull=True).update(
        read_at=clock.now()
    )
