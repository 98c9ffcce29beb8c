"""Publishing rulebook versions (the command office changes policy without a release)."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.db import transaction
from django.db.models import Max

from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.perms import Perm
from fangkong.policy.models import RulebookVersion
from fangkong.policy.schema import parse_rulebook


@transaction.atomic
def rulebook_publish(
    *, actor: Actor, text: str, note: str, effective_from: dt.datetime | None = None
) -> RulebookVersion:
    """Validate and publish a new version. Raises Invalid naming every problem in the text.

    Publishing the same text as the latest version is a no-op that returns that version, so a
    retried upload does not create a second version.
    """
    require(actor, Perm.POLICY_WRITE)
    book = parse_rulebook(text)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    latest = RulebookVersion.objects.select_for_update().order_by("-version").first()
    if latest is not None and latest.sha256 == digest:
        return latest
    number = (RulebookVersion.objects.aggregate(m=Max("version"))["m"] or 0) + 1
    now = clock.now()
    version = RulebookVersion.objects.create(
        version=number,
        edition=book.edition,
        title=book.title,
        text=text,
        sha256=digest,
        effective_from=effective_from or now,
        published_at=now,
        published_by=actor.label,
        note=note,
    )
    record(
        actor=actor,
        action="policy.rulebook_publish",
        target=version,
        reason=note,
        detail={"version": number, "edition": book.edition, "sha256": digest},
    )
    return version
