"""Reads of a user's own notifications. The owner is the scope: nobody reads another's."""

from __future__ import annotations

from django.db.models import QuerySet

from fangkong.core.errors import NotFound
from fangkong.notifications.models import Notification


def notification_list(
    *, user_id: int, unread_only: bool = False, limit: int = 50
) -> QuerySet[Notification]:
    """The user's notifications, newest first (at most `limit`)."""
    qs = Notification.objects.filter(user_id=user_id)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")[:limit]


def unread_count(*, user_id: int) -> int:
    """How many of the user's notifications are unread (served by a partial index)."""
    return Notification.objects.filter(user_id=user_id, read_at__isnull=True).count()


def notification_get(*, user_id: int, notification_id: int) -> Notification:
    """One of the user's notifications. Raises NotFound for a missing one and for another's."""
    found = Notification.objects.filter(user_id=user_id, pk=notification_id).first()
    if found is None:
        raise NotFound("notifications.not_found", "No such notification")
    return found
