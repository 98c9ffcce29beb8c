"""Delivering one SMS or e-mail: the body of the `notifications.deliver` job.

Idempotent by the payload's delivery key: the OutboundMessage row is written in the job's
transaction right after the gateway accepted the message, so a job that runs again finds it
and sends nothing. (A worker killed between the gateway's acceptance and the commit sends the
message twice: at least once, as documented in fangkong.jobs.registry.)
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from fangkong.accounts.models import User
from fangkong.core import clock
from fangkong.jurisdictions.models import Post
from fangkong.notifications import channels
from fangkong.notifications.models import OutboundMessage

logger = logging.getLogger("fangkong.notifications")


def _phone(payload: dict[str, Any]) -> str:
    if "post_id" in payload:
        post = Post.objects.filter(pk=payload["post_id"]).only("phone").first()
        return post.phone if post is not None else ""
    # A staff account has no phone of its own; use the post it holds (primary posts first).
    # The phone is encrypted: it cannot be filtered on, so the first post that has one wins.
    posts = Post.objects.filter(account_id=payload["user_id"]).order_by("-is_primary", "pk")
    return next((p.phone for p in posts.only("phone")[:10] if p.phone), "")


def _email(payload: dict[str, Any]) -> str:
    if "user_id" not in payload:
        return ""
    user = User.objects.filter(pk=payload["user_id"], is_active=True).only("email").first()
    return user.email if user is not None else ""


def _text(payload: dict[str, Any]) -> str:
    parts = [payload["subject"], payload.get("body", "")]
    if payload.get("link"):
        parts.append(getattr(settings, "FANGKONG_BASE_URL", "") + payload["link"])
    return "\n".join(p for p in parts if p)


def deliver(payload: dict[str, Any]) -> None:
    """Send one message on its channel unless its delivery key was sent already."""
    key = payload["key"]
    if OutboundMessage.objects.filter(delivery_key=key).exists():
        return
    channel = payload["channel"]
    text = _text(payload)
    row = OutboundMessage(
        channel=channel,
        subject=payload["subject"],
        body=text,
        delivery_key=key,
        created_at=clock.now(),
    )
    if channel == OutboundMessage.Channel.SMS:
        row.recipient = _phone(payload)
        if row.recipient:
            gateway = channels.sms_gateway()
            row.gateway = channels.gateway_label(gateway)
            row.provider_id = gateway.send(phone=row.recipient, text=text)
    elif channel == OutboundMessage.Channel.EMAIL:
        row.recipient = _email(payload)
        if row.recipient:
            row.gateway = str(settings.EMAIL_BACKEND)
            row.provider_id = channels.send_email(
                address=row.recipient, subject=payload["subject"], text=text
            )
    else:
        raise ValueError(f"unknown delivery channel {channel!r}")
    if row.recipient:
        row.status = OutboundMessage.Status.SENT
    else:
        row.status, row.error = OutboundMessage.Status.SKIPPED, f"no {channel} address on file"
        logger.warning("%s delivery %s skipped: no address on file", channel, key)
    row.save(force_insert=True)
