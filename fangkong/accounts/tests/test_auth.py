"""Sign-in, API tokens and session invalidation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from conftest import Tree
from fangkong.accounts.models import User
from fangkong.accounts.services import token_create, token_revoke, user_deactivate, user_move
from fangkong.audit.models import AuditEntry
from fangkong.core import clock
from fangkong.core.actor import Actor

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def test_login_and_failed_login_are_audited(client: Client, personas: dict[str, User]) -> None:
    url = reverse("accounts:login")
    bad = client.post(url, {"username": "district_officer", "password": "wrong password!"})
    assert bad.status_code == 200
    good = client.post(url, {"username": "district_officer", "password": PASSWORD})
    assert good.status_code == 302
    actions = list(
        AuditEntry.objects.order_by("seq").values_list("action", "outcome", "actor_label")
    )
    assert actions == [
        ("accounts.login_failed", "denied", "district_officer"),
        ("accounts.login", "ok", "district_officer"),
    ]


def test_passwords_are_hashed_with_argon2(personas: dict[str, User]) -> None:
    assert personas["grid_worker"].password.startswith("argon2")


def test_pages_require_sign_in(client: Client, two_districts: Tree) -> None:
    response = client.get(reverse("command:home"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_moving_an_account_ends_its_sessions(
    login: Callable[[User], Client], personas: dict[str, User], two_districts: Tree, system: Actor
) -> None:
    client = login(personas["district_officer"])
    assert client.get(reverse("command:home")).status_code == 200
    user_move(
        actor=system,
        user=personas["district_officer"],
        jurisdictions=[two_districts.district_b],
        reason="transfer",
    )
    response = client.get(reverse("command:home"))
    assert response.status_code == 302  # signed out, back to the login page


def test_deactivating_an_account_ends_its_sessions(
    login: Callable[[User], Client], personas: dict[str, User], system: Actor
) -> None:
    client = login(personas["grid_worker"])
    user_deactivate(actor=system, user=personas["grid_worker"], reason="left the post")
    assert client.get(reverse("command:home")).status_code == 302


def test_api_requires_authentication_and_answers_in_the_error_shape(
    client: Client, two_districts: Tree
) -> None:
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.json() == {
        "code": "unauthenticated",
        "message": "Authentication required",
        "detail": {},
    }


def test_token_authenticates_with_its_scope_until_revoked(
    client: Client, two_districts: Tree, system: Actor
) -> None:
    token, secret = token_create(
        actor=system, name="lab-1 LIS", role="lab", jurisdictions=[two_districts.district_a]
    )
    assert secret not in token.token_hash
    response = client.get("/api/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert response.json()["jurisdictions"] == [two_districts.district_a.path]
    assert response.json()["role"] == "lab"
    token_revoke(actor=system, token=token, reason="rotated")
    assert client.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_wrong_or_expired_token_is_refused(
    client: Client, two_districts: Tree, system: Actor
) -> None:
    token, secret = token_create(
        actor=system, name="pos", role="pharmacy", jurisdictions=[two_districts.town_a]
    )
    forged = secret[:-4] + "AAAA"
    assert client.get("/api/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    token.expires_at = clock.now() - dt.timedelta(seconds=1)
    token.save(update_fields=["expires_at"])
    assert client.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_a_token_needs_a_jurisdiction(system: Actor) -> None:
    from fangkong.core.errors import Invalid

    with pytest.raises(Invalid):
        token_create(actor=system, name="nowhere", role="lab", jurisdictions=[])


def test_sign_in_sends_the_password_step_on_to_the_totp_step(
    client: Client, personas: dict[str, User]
) -> None:
    response = client.post(
        reverse("accounts:login") + "?next=/people/",
        {"username": "district_officer", "password": PASSWORD, "next": "/people/"},
    )
    assert response["Location"] == reverse("accounts:totp") + "?next=%2Fpeople%2F"
    assert client.get("/people/")["Location"].startswith(reverse("accounts:totp"))


def test_idle_sessions_expire_after_thirty_minutes_by_default(
    login: Callable[[User], Client], personas: dict[str, User]
) -> None:
    from django.conf import settings
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    assert settings.SESSION_COOKIE_AGE == 30 * 60
    client = login(personas["district_officer"])
    assert client.get(reverse("command:home")).status_code == 200
    key = client.session.session_key
    # Activity pushes the expiry forward to a full idle period from now.
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() + dt.timedelta(seconds=10)
    )
    assert client.get(reverse("command:home")).status_code == 200
    expires = Session.objects.get(session_key=key).expire_date
    assert expires > timezone.now() + dt.timedelta(minutes=29)
    # Idle past the limit: the session is gone and the next request goes to sign in.
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    response = client.get(reverse("command:home"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_a_tokens_last_use_is_written_at_most_once_a_minute(
    client: Client, two_districts: Tree, system: Actor
) -> None:
    token, secret = token_create(
        actor=system, name="scanner", role="lab", jurisdictions=[two_districts.district_a]
    )
    auth = {"Authorization": f"Bearer {secret}"}
    start = dt.datetime(2022, 1, 10, 9, 0, tzinfo=dt.UTC)

    def used_at(at: dt.datetime) -> dt.datetime | None:
        with clock.frozen(at):
            assert client.get("/api/me", headers=auth).status_code == 200
        token.refresh_from_db()
        return token.last_used_at

    assert used_at(start) == start
    assert used_at(start + dt.timedelta(seconds=59)) == start  # no write within the minute
    assert used_at(start + dt.timedelta(seconds=61)) == start + dt.timedelta(seconds=61)
