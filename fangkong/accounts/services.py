"""Account writes: users, API tokens, sign-in records. Each writes its audit row."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from django.db import transaction

from fangkong.accounts.models import ApiToken, User
from fangkong.accounts.roles import Role
from fangkong.accounts.scoping import hash_token, new_token_secret
from fangkong.audit.models import AuditEntry
from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Invalid
from fangkong.core.perms import Perm
from fangkong.jurisdictions.models import Jurisdiction


def generate_password() -> str:
    """A random password for generated accounts (never a default or shared one)."""
    return secrets.token_urlsafe(12)


@transaction.atomic
def user_create(
    *,
    actor: Actor,
    username: str,
    password: str,
    role: str,
    jurisdictions: Sequence[Jurisdiction],
    display_name: str = "",
) -> User:
    """Create a staff account bound to jurisdiction subtrees. Raises Invalid on a taken name."""
    require(actor, Perm.ACCOUNT_ADMIN)
    if role not in Role.values:
        raise Invalid("account.role", f"Unknown role {role!r}")
    if User.objects.filter(username=username).exists():
        raise Invalid("account.username_taken", f"Username {username!r} is taken")
    user = User(username=username, role=role, display_name=display_name)
    user.set_password(password)
    user.save()
    user.jurisdictions.set(jurisdictions)
    record(
        actor=actor,
        action="accounts.user_create",
        target=user,
        detail={"role": role, "jurisdictions": [j.code for j in jurisdictions]},
    )
    return user


@transaction.atomic
def user_move(
    *, actor: Actor, user: User, jurisdictions: Sequence[Jurisdiction], reason: str
) -> User:
    """Rebind an account to other subtrees; its open sessions end on their next request."""
    require(actor, Perm.ACCOUNT_ADMIN)
    user.jurisdictions.set(jurisdictions)
    user.scope_version += 1
    user.save(update_fields=["scope_version"])
    record(
        actor=actor,
        action="accounts.user_move",
        target=user,
        reason=reason,
        detail={"jurisdictions": [j.code for j in jurisdictions]},
    )
    return user


@transaction.atomic
def user_deactivate(*, actor: Actor, user: User, reason: str) -> User:
    require(actor, Perm.ACCOUNT_ADMIN)
    user.is_active = False
    user.scope_version += 1
    user.save(update_fields=["is_active", "scope_version"])
    record(actor=actor, action="accounts.user_deactivate", target=user, reason=reason)
    return user


@transaction.atomic
def user_set_password(*, actor: Actor, user: User, password: str, reason: str) -> User:
    """Set a new password (operator reset, demo start-up). The password itself is not logged."""
    require(actor, Perm.ACCOUNT_ADMIN)
    user.set_password(password)
    user.save(update_fields=["password"])
    record(actor=actor, action="accounts.user_set_password", target=user, reason=reason)
    return user


@transaction.atomic
def token_create(
    *,
    actor: Actor,
    name: str,
    role: str,
    jurisdictions: Sequence[Jurisdiction],
    created_by: User | None = None,
) -> tuple[ApiToken, str]:
    """Issue an API token; returns the row and the secret, which is shown once and not stored."""
    require(actor, Perm.ACCOUNT_ADMIN)
    if not jurisdictions:
        raise Invalid(
            "token.jurisdiction", "An API token must be bound to at least one jurisdiction"
        )
    prefix, secret = new_token_secret()
    token = ApiToken.objects.create(
        name=name,
        prefix=prefix,
        token_hash=hash_token(secret),
        role=role,
        created_by=created_by,
        created_at=clock.now(),
    )
    token.jurisdictions.set(jurisdictions)
    record(
        actor=actor,
        action="accounts.token_create",
        target=token,
        detail={"role": role, "jurisdictions": [j.code for j in jurisdictions]},
    )
    return token, secret


@transaction.atomic
def token_revoke(*, actor: Actor, token: ApiToken, reason: str) -> ApiToken:
    require(actor, Perm.ACCOUNT_ADMIN)
    token.revoked_at = clock.now()
    token.save(update_fields=["revoked_at"])
    record(actor=actor, action="accounts.token_revoke", target=token, reason=reason)
    return token


@transaction.atomic
def login_record(*, actor: Actor, succeeded: bool, username: str) -> None:
    """Audit a sign-in attempt (failed ones too: they are the evidence of guessing)."""
    record(
        actor=actor,
        action="accounts.login" if succeeded else "accounts.login_failed",
        target_type="accounts.user",
        target_id=str(actor.id or ""),
        outcome=AuditEntry.Outcome.OK if succeeded else AuditEntry.Outcome.DENIED,
        detail={"username": username[:150]},
    )
