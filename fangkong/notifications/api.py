"""/api/notifications: the signed-in user's own notifications. request.auth is the Actor;
only staff accounts have notifications (an API token gets 403)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router

from fangkong.core.actor import Actor
from fangkong.core.errors import NotAllowed
from fangkong.notifications.models import Notification
from fangkong.notifications.schemas import MarkReadIn, MarkReadOut, NotificationOut, UnreadOut
from fangkong.notifications.selectors import notification_list, unread_count
from fangkong.notifications.services import notification_mark_all_read, notification_mark_read

router = Router(tags=["notifications"])

MAX_LIMIT = 200


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


def _user_id(actor: Actor) -> int:
    if actor.kind != "user" or actor.id is None:
        raise NotAllowed("notifications.users_only", "Notifications belong to staff accounts")
    return actor.id


@router.get("", response=list[NotificationOut])
def list_notifications(
    request: HttpRequest, unread_only: bool = False, limit: int = 50
) -> QuerySet[Notification]:
    """The caller's notifications, newest first."""
    user_id = _user_id(_actor(request))
    return notification_list(
        user_id=user_id, unread_only=unread_only, limit=max(1, min(limit, MAX_LIMIT))
    )


@router.get("/unread", response=UnreadOut)
def get_unread(request: HttpRequest) -> UnreadOut:
    return UnreadOut(unread=unread_count(user_id=_user_id(_actor(request))))


@router.post("/read", response=MarkReadOut)
def mark_read(request: HttpRequest, body: MarkReadIn) -> MarkReadOut:
    """Mark the given notifications (or all, with "all": true) read; others' ids are ignored."""
    actor = _actor(request)
    if body.all:
        return MarkReadOut(marked=notification_mark_all_read(actor=actor))
    return MarkReadOut(marked=notification_mark_read(actor=actor, notification_ids=body.ids))
