"""Sign-in throttling: failures counted per username and per client address, in the database.

Within a window (FANGKONG_LOGIN_WINDOW_SECONDS, 15 minutes by default) the failure after the
limit (FANGKONG_LOGIN_FAILURE_LIMIT, 5) locks that username or address for a window: further
attempts are refused without looking at the password, right or wrong. A successful sign-in
clears the username's counter (not the address's: one good account must not launder a
guessing address). Wrong TOTP and backup codes count as failures too, so the second factor
cannot be guessed either. Failures, locks and refused attempts are audited.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction

from fangkong.accounts.models import LoginThrottle, User
from fangkong.accounts.services import login_record
from fangkong.audit.models import AuditEntry
from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.scope import Scope


def attempt_actor(*, username: str, ip: str, user: User | None = None) -> Actor:
    """Who is trying to sign in: the account when known, else the name that was typed."""
    if user is not None:
        return Actor(
            kind="user", id=user.pk, label=user.username, role=user.role, scope=Scope.empty(), ip=ip
        )
    return Actor(
        kind="anonymous", id=None, label=username[:150] or "-", role="", scope=Scope.empty(), ip=ip
    )


def _window() -> dt.timedelta:
    return dt.timedelta(seconds=settings.FANGKONG_LOGIN_WINDOW_SECONDS)


def _keys(username: str, ip: str) -> list[tuple[str, str]]:
    keys = [(LoginThrottle.Kind.USERNAME.value, username.strip().lower()[:150])]
    if ip:
        keys.append((LoginThrottle.Kind.ADDRESS.value, ip))
    return keys


def login_locked(*, username: str, ip: str) -> bool:
    """Whether the username or the address is locked now."""
    now = clock.now()
    for kind, key in _keys(username, ip):
        if LoginThrottle.objects.filter(kind=kind, key=key, locked_until__gt=now).exists():
            return True
    return False


@transaction.atomic
def login_failure_record(*, actor: Actor, username: str, stage: str = "password") -> bool:
    """Audit a failed attempt and count it; returns whether it locked the username or address."""
    now, window, limit = clock.now(), _window(), settings.FANGKONG_LOGIN_FAILURE_LIMIT
    if stage == "password":
        login_record(actor=actor, succeeded=False, username=username)
    else:
        record(
            actor=actor,
            action="accounts.totp_failed",
            target_type="accounts.user",
            target_id=str(actor.id or ""),
            outcome=AuditEntry.Outcome.DENIED,
            detail={"username": username[:150], "stage": stage},
        )
    locked = False
    for kind, key in _keys(username, actor.ip):
        row, _ = LoginThrottle.objects.select_for_update().get_or_create(
            kind=kind, key=key, defaults={"window_started_at": now}
        )
        if row.window_started_at + window <= now:
            row.failures, row.window_started_at, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures > limit and row.locked_until is None:
            row.locked_until = now + window
            locked = True
            record(
                actor=actor,
                action="accounts.login_lock",
                target_type="accounts.login_throttle",
                target_id=f"{kind}:{key}",
                outcome=AuditEntry.Outcome.DENIED,
                detail={
                    "kind": kind,
                    "failures": row.failures,
                    "until": row.locked_until.isoformat(),
                },
            )
        row.save()
    return locked


@transaction.atomic
def login_refused_record(*, actor: Actor, username: str) -> None:
    """Audit an attempt refused because the username or address is locked (not counted)."""
    record(
        actor=actor,
        action="accounts.login_refused",
        target_type="accounts.user",
        target_id=str(actor.id or ""),
        outcome=AuditEntry.Outcome.DENIED,
        detail={"username": username[:150]},
    )


def login_throttle_clear(*, username: str) -> None:
    """Forget the username's failures (after a successful sign-in)."""
    LoginThrottle.objects.filter(
        kind=LoginThrottle.Kind.USERNAME, key=username.strip().lower()[:150]
    ).delete()
