"""Building the Actor (with its Scope) for a request: once, the same way for pages and API."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.http import HttpRequest

from fangkong.accounts.models import ApiToken, User
from fangkong.accounts.roles import perms_for
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.scope import Scope

TOKEN_PREFIX_LEN = 8


def client_ip(request: HttpRequest) -> str:
    # Behind a reverse proxy, set it to overwrite REMOTE_ADDR; we do not trust X-Forwarded-For.
    return str(request.META.get("REMOTE_ADDR", ""))[:64]


def scope_for_user(user: User) -> Scope:
    paths = tuple(sorted(j.path for j in user.jurisdictions.all()))
    return Scope(paths=paths, perms=perms_for(user.role))


def actor_for_user(user: User, *, ip: str = "") -> Actor:
    return Actor(
        kind="user",
        id=user.pk,
        label=user.username,
        role=user.role,
        scope=scope_for_user(user),
        ip=ip,
    )


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token_secret() -> tuple[str, str]:
    """A fresh token: (prefix, full secret). The prefix finds the row; the hash proves it."""
    prefix = secrets.token_hex(TOKEN_PREFIX_LEN // 2)
    return prefix, f"fk_{prefix}_{secrets.token_urlsafe(32)}"


LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def actor_for_token(raw: str, *, ip: str = "") -> Actor | None:
    """The actor for a bearer token, or None when it is unknown, revoked or expired."""
    parts = raw.split("_")
    if len(parts) < 3 or parts[0] != "fk":
        return None
    token = ApiToken.objects.filter(prefix=parts[1]).prefetch_related("jurisdictions").first()
    if token is None or not hmac.compare_digest(token.token_hash, hash_token(raw)):
        return None
    now = clock.now()
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        # At most one write a minute per token: a scanner posting every second must not
        # turn each of its requests into a write and a commit.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    paths = tuple(sorted(j.path for j in token.jurisdictions.all()))
    return Actor(
        kind="token",
        id=token.pk,
        label=f"token:{token.name}",
        role=token.role,
        scope=Scope(paths=paths, perms=perms_for(token.role)),
        ip=ip,
    )
