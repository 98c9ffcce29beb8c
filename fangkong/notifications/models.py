"""In-app notifications, and the log of messages sent on other channels (SMS, e-mail)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangkong.core.fields import EncryptedTextField


class Notification(models.Model):
    """One message to one staff account, shown in the app until read."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32, default="info")  # info, warning, assignment, ...
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)  # a path inside Fangkong
    # A retried notify() with the same key does not notify the same user twice. NULL, not "",
    # means "no key": NULLs never collide in the unique constraint.
    dedupe_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"], name="notification_user_key_uniq"
            )
        ]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_new_idx"),
            # The unread badge on every page: a small partial index, not a scan of all rows.
            models.Index(
                fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → user {self.user_id}"


class OutboundMessage(models.Model):
    """An SMS or e-mail the platform sent (or tried to): one row per delivery key.

    The delivery job writes it in its own transaction, so a retried job finds the row and
    does not send twice. With the local SMS gateway this table is the whole outbox.
    """

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("E-mail")

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Skipped")  # no phone or address on file

    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient = EncryptedTextField(blank=True)  # phone number or e-mail address
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    status = models.CharField(max_length=8, choices=Status.choices)
    gateway = models.CharField(max_length=200, blank=True)
    provider_id = models.CharField(max_length=200, blank=True)
    delivery_key = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField()
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["channel", "-created_at"], name="outbound_channel_new_idx")]

    def __str__(self) -> str:
        return f"{self.channel} {self.delivery_key} ({self.status})"
