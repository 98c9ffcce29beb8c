"""Sign-in throttling: the 6th failure in the window locks the username or the address."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from fangkong.accounts import totp
from fangkong.accounts.models import LoginThrottle, User
from fangkong.accounts.twofactor import totp_provision
from fangkong.audit.models import AuditEntry
from fangkong.core import clock
from fangkong.core.actor import Actor

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
NOW = dt.datetime(2026, 1, 20, 8, 0, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(minutes=15)
LOGIN = "/accounts/login/"


def _attempt(username: str, password: str, *, ip: str = "10.0.0.1") -> int:
    """One sign-in attempt from a fresh browser; the status (302 when signed in)."""
    response = Client(REMOTE_ADDR=ip).post(LOGIN, {"username": username, "password": password})
    return response.status_code


def _fail(username: str, times: int, *, ip: str = "10.0.0.1", vary_ip: bool = False) -> None:
    for n in range(times):
        assert _attempt(username, "wrong password!", ip=f"10.1.0.{n}" if vary_ip else ip) == 200


def test_defaults_are_five_failures_in_fifteen_minutes() -> None:
    from django.conf import settings

    assert settings.FANGKONG_LOGIN_FAILURE_LIMIT == 5
    assert settings.FANGKONG_LOGIN_WINDOW_SECONDS == 900


def test_five_failures_still_let_the_right_password_in(personas: dict[str, User]) -> None:
    with clock.frozen(NOW):
        _fail("grid_worker", 5, vary_ip=True)
        assert _attempt("grid_worker", PASSWORD, ip="10.2.0.1") == 302


def test_the_sixth_failure_locks_the_username_from_every_address(
    personas: dict[str, User],
) -> None:
    with clock.frozen(NOW):
        _fail("grid_worker", 6, vary_ip=True)  # six addresses: only the username adds up
        assert _attempt("grid_worker", PASSWORD, ip="10.2.0.1") == 200
        assert _attempt("district_officer", PASSWORD, ip="10.2.0.1") == 302  # others unaffected
    assert AuditEntry.objects.filter(action="accounts.login_refused").count() == 1


def test_the_sixth_failure_locks_the_address_for_every_username(
    personas: dict[str, User],
) -> None:
    with clock.frozen(NOW):
        for n in range(6):
            assert _attempt(f"guess{n}", "wrong password!", ip="10.9.9.9") == 200
        assert _attempt("district_officer", PASSWORD, ip="10.9.9.9") == 200
        assert _attempt("district_officer", PASSWORD, ip="10.9.9.10") == 302


def test_the_lock_expires_after_the_window(personas: dict[str, User]) -> None:
    with clock.frozen(NOW):
        _fail("grid_worker", 6)
    with clock.frozen(NOW + WINDOW - dt.timedelta(seconds=1)):
        assert _attempt("grid_worker", PASSWORD) == 200
    with clock.frozen(NOW + WINDOW):
        assert _attempt("grid_worker", PASSWORD) == 302


def test_failures_outside_the_window_do_not_add_up(personas: dict[str, User]) -> None:
    with clock.frozen(NOW):
        _fail("grid_worker", 5, vary_ip=True)
    with clock.frozen(NOW + WINDOW):
        _fail("grid_worker", 1, vary_ip=True)
        assert _attempt("grid_worker", PASSWORD, ip="10.2.0.1") == 302


def _sign_in_fully(user: User, secret: str, at: dt.datetime) -> None:
    client = Client(REMOTE_ADDR="10.3.0.1")
    assert client.post(LOGIN, {"username": user.username, "password": PASSWORD}).status_code == 302
    assert (
        client.post(reverse("accounts:totp"), {"code": totp.code_at(secret, at)}).status_code == 302
    )


def test_a_completed_sign_in_clears_the_username_counter(
    personas: dict[str, User], system: Actor
) -> None:
    user = personas["grid_worker"]
    secret = totp_provision(actor=system, user=user, reason="test")
    with clock.frozen(NOW):
        _fail("grid_worker", 5, vary_ip=True)
        _sign_in_fully(user, secret, NOW)
        assert not LoginThrottle.objects.filter(kind="username", key="grid_worker").exists()
        _fail("grid_worker", 5, vary_ip=True)
        assert _attempt("grid_worker", PASSWORD, ip="10.2.0.1") == 302


def test_the_username_counter_ignores_case(personas: dict[str, User]) -> None:
    with clock.frozen(NOW):
        for n, name in enumerate(["Grid_Worker", "GRID_WORKER", "grid_worker"] * 2):
            assert _attempt(name, "wrong password!", ip=f"10.1.0.{n}") == 200
        assert _attempt("grid_worker", PASSWORD, ip="10.2.0.1") == 200


def test_failures_and_locks_are_audited(personas: dict[str, User]) -> None:
    with clock.frozen(NOW):
        _fail("grid_worker", 6)
        _attempt("grid_worker", PASSWORD)
    actions = list(AuditEntry.objects.order_by("seq").values_list("action", "outcome"))
    assert actions.count(("accounts.login_failed", "denied")) == 6
    locks = AuditEntry.objects.filter(action="accounts.login_lock")
    assert sorted(e.detail["kind"] for e in locks) == ["address", "username"]
    assert actions[-1] == ("accounts.login_refused", "denied")
    assert not AuditEntry.objects.filter(action="accounts.login").exists()


def test_wrong_authenticator_codes_count_towards_the_lock(
    personas: dict[str, User], system: Actor
) -> None:
    user = personas["grid_worker"]
    secret = totp_provision(actor=system, user=user, reason="test")
    client = Client(REMOTE_ADDR="10.4.0.1")
    with clock.frozen(NOW):
        assert (
            client.post(LOGIN, {"username": "grid_worker", "password": PASSWORD}).status_code == 302
        )
        right = totp.code_at(secret, NOW)
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        for _ in range(6):
            assert client.post(reverse("accounts:totp"), {"code": wrong}).status_code == 200
        locked = client.post(reverse("accounts:totp"), {"code": right})
    assert locked.status_code == 200
    assert locked.context["form"].has_error("code", "locked")
    assert client.get(reverse("command:home")).status_code == 302


def test_the_limit_and_window_are_settings(settings: object, personas: dict[str, User]) -> None:
    settings.FANGKONG_LOGIN_FAILURE_LIMIT = 2  # type: ignore[attr-defined]
    settings.FANGKONG_LOGIN_WINDOW_SECONDS = 60  # type: ignore[attr-defined]
    with clock.frozen(NOW):
        _fail("grid_worker", 3, vary_ip=True)
        assert _attempt("grid_worker", PASSWORD, ip="10.2.0.1") == 200
    with clock.frozen(NOW + dt.timedelta(seconds=60)):
        assert _attempt("grid_worker", PASSWORD, ip="10.2.0.1") == 302
