"""Delivery channels other than in-app: SMS through a pluggable gateway, e-mail through Django's
e-mail backend. Nothing here talks to a network unless a deployment configures a gateway that
does (settings FANGKONG_SMS_GATEWAY, EMAIL_BACKEND)."""

from __future__ import annotations

import logging
import uuid
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

from fangkong.core.masking import mask_phone

logger = logging.getLogger("fangkong.notifications")

DEFAULT_SMS_GATEWAY = "fangkong.notifications.channels.LocalSmsGateway"


class SmsGateway(Protocol):
    def send(self, *, phone: str, text: str) -> str:
        """Hand one text to the operator's SMS service; return its message id. Raise on
        failure (the delivery job retries with backoff)."""
        ...


class LocalSmsGateway:
    """The no-network gateway of the demo and of tests: the message is kept in the
    OutboundMessage log (written by the delivery job) and nowhere else."""

    def send(self, *, phone: str, text: str) -> str:
        logger.info("local SMS to %s (%d chars)", mask_phone(phone), len(text))
        return f"local-{uuid.uuid4().hex}"


def sms_gateway() -> SmsGateway:
    """The gateway named by settings.FANGKONG_SMS_GATEWAY (a dotted class path)."""
    path = getattr(settings, "FANGKONG_SMS_GATEWAY", DEFAULT_SMS_GATEWAY)
    gateway: SmsGateway = import_string(path)()
    return gateway


def gateway_label(gateway: object) -> str:
    return f"{type(gateway).__module__}.{type(gateway).__qualname__}"


def send_email(*, address: str, subject: str, text: str) -> str:
    """Send through Django's e-mail backend; returns the Message-ID we set."""
    message_id = f"<{uuid.uuid4().hex}@fangkong>"
    EmailMessage(
        subject=subject, body=text, to=[address], headers={"Message-ID": message_id}
    ).send()
    return message_id
