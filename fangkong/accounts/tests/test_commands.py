from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from conftest import Tree
from fangkong.accounts.models import ApiToken, User
from fangkong.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_create_account_prints_a_generated_password(two_districts: Tree) -> None:
    out = io.StringIO()
    call_command(
        "accounts",
        "create",
        "--username",
        "li.ming",
        "--role",
        "town_staff",
        "--jurisdiction",
        "440902001",
        stdout=out,
    )
    password = out.getvalue().rsplit("password: ", 1)[1].strip()
    user = User.objects.get(username="li.ming")
    assert len(password) >= 12
    assert user.check_password(password)
    assert [j.code for j in user.jurisdictions.all()] == ["440902001"]
    assert AuditEntry.objects.filter(action="accounts.user_create", target_id=str(user.pk)).exists()


def test_unknown_jurisdiction_is_an_error_and_creates_nothing(two_districts: Tree) -> None:
    with pytest.raises(CommandError, match="unknown jurisdiction"):
        call_command(
            "accounts", "create", "--username", "x", "--role", "lab", "--jurisdiction", "999999"
        )
    assert not User.objects.filter(username="x").exists()


def test_token_create_and_revoke(two_districts: Tree) -> None:
    out = io.StringIO()
    call_command(
        "accounts",
        "token-create",
        "--name",
        "LIS",
        "--role",
        "lab",
        "--jurisdiction",
        "440902",
        stdout=out,
    )
    token = ApiToken.objects.get(name="LIS")
    assert token.prefix in out.getvalue()
    call_command(
        "accounts",
        "token-revoke",
        "--prefix",
        token.prefix,
        "--reason",
        "rotated",
        stdout=io.StringIO(),
    )
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_totp_reset_removes_the_authenticator(personas: dict[str, User]) -> None:
    from fangkong.accounts.models import TotpDevice
    from fangkong.accounts.twofactor import totp_provision
    from fangkong.core.actor import system_actor

    user = personas["grid_worker"]
    totp_provision(actor=system_actor(), user=user, reason="test")
    out = io.StringIO()
    call_command(
        "accounts", "totp-reset", "--username", "grid_worker", "--reason", "lost phone", stdout=out
    )
    assert "totp-reset: grid_worker done" in out.getvalue()
    assert not TotpDevice.objects.filter(user=user).exists()
    assert AuditEntry.objects.filter(action="accounts.totp_reset", reason="lost phone").exists()
