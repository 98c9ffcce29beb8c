"""The second factor: enrolment, verification, replay, backup codes, and the one rule that a
session without it gets no Actor (no person page, no reveal, no API)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from conftest import Tree
from fangkong.accounts import totp
from fangkong.accounts.models import BackupCode, TotpDevice, User
from fangkong.accounts.twofactor import totp_provision
from fangkong.audit.models import AuditEntry
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.people.models import Person
from fangkong.people.tests.factories import person

NOW = dt.datetime(2026, 1, 20, 8, 0, 10, tzinfo=dt.UTC)
STEP = dt.timedelta(seconds=totp.STEP_SECONDS)

pytestmark = pytest.mark.django_db


# --- unverified sessions ----------------------------------------------------------------------


@pytest.fixture
def resident(personas: dict[str, User], two_districts: Tree) -> Person:
    from conftest import actor_of

    return person(actor_of(personas["district_officer"]), two_districts.grid_a, phone="13812345678")


def test_unverified_session_cannot_see_a_person_reveal_or_use_the_api(
    login_unverified: Callable[[User], Client], personas: dict[str, User], resident: Person
) -> None:
    client = login_unverified(personas["district_officer"])
    page = client.get(reverse("people:detail", args=[resident.pk]))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("accounts:totp") + "?next=")
    reveal = client.post(reverse("people:reveal", args=[resident.pk]), {"reason": "visit"})
    assert reveal.status_code == 302
    assert reverse("accounts:totp") in reveal["Location"]
    fragment = client.post(
        reverse("people:reveal", args=[resident.pk]),
        {"reason": "visit"},
        headers={"HX-Request": "true"},
    )
    assert reverse("accounts:totp") in fragment["HX-Redirect"]
    assert client.get(f"/api/people/{resident.pk}").status_code == 401
    assert client.get("/api/me").status_code == 401
    assert not AuditEntry.objects.filter(action="people.reveal").exists()


def test_verified_session_sees_the_same_person(
    login: Callable[[User], Client], personas: dict[str, User], resident: Person
) -> None:
    client = login(personas["district_officer"])
    assert client.get(reverse("people:detail", args=[resident.pk])).status_code == 200
    assert client.get(f"/api/people/{resident.pk}").status_code == 200


def test_unverified_session_reaches_the_totp_step_and_can_sign_out(
    login_unverified: Callable[[User], Client], personas: dict[str, User]
) -> None:
    client = login_unverified(personas["grid_worker"])
    assert client.get(reverse("accounts:totp")).status_code == 200
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_api_tokens_need_no_second_factor(
    client: Client, two_districts: Tree, system: Actor
) -> None:
    from fangkong.accounts.services import token_create

    _, secret = token_create(
        actor=system, name="LIS", role="lab", jurisdictions=[two_districts.district_a]
    )
    assert client.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


# --- enrolment and verification -------------------------------------------------------------


def test_enrolment_shows_the_secret_then_backup_codes_once_and_verifies_the_session(
    login_unverified: Callable[[User], Client], personas: dict[str, User], resident: Person
) -> None:
    user = personas["district_officer"]
    client = login_unverified(user)
    with clock.frozen(NOW):
        page = client.get(reverse("accounts:totp"), {"next": "/people/"})
        device = TotpDevice.objects.get(user=user)
        html = page.content.decode()
        assert device.confirmed_at is None
        assert device.secret[:4] in html
        assert "otpauth://totp/Fangkong:district_officer?" in html
        assert client.get(reverse("accounts:totp")).content.decode().count(device.secret[:8]) == 1
        done = client.post(
            reverse("accounts:totp"), {"code": totp.code_at(device.secret, NOW), "next": "/people/"}
        )
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    stored = list(BackupCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert len(stored) == 10
    assert not {c.replace("-", "") for c in codes} & set(stored)
    assert all(h.startswith("argon2") for h in stored)
    assert TotpDevice.objects.get(user=user).confirmed_at is not None
    assert client.get(reverse("people:detail", args=[resident.pk])).status_code == 200
    assert AuditEntry.objects.filter(action="accounts.totp_enrol", outcome="ok").exists()


def test_the_totp_secret_is_encrypted_at_rest(personas: dict[str, User], system: Actor) -> None:
    secret = totp_provision(actor=system, user=personas["grid_worker"], reason="test")
    with connection.cursor() as cur:
        cur.execute("SELECT secret FROM accounts_totpdevice")
        (raw,) = cur.fetchone()
    assert secret not in raw


def _enrolled(user: User, system: Actor) -> str:
    return totp_provision(actor=system, user=user, reason="test")


def test_enrolled_account_verifies_with_a_code_and_is_not_shown_its_secret(
    login_unverified: Callable[[User], Client], personas: dict[str, User], system: Actor
) -> None:
    user = personas["grid_worker"]
    secret = _enrolled(user, system)
    client = login_unverified(user)
    with clock.frozen(NOW):
        page = client.get(reverse("accounts:totp"))
        assert secret[:8] not in page.content.decode()
        assert "otpauth" not in page.content.decode()
        done = client.post(reverse("accounts:totp"), {"code": totp.code_at(secret, NOW)})
    assert done.status_code == 302
    assert client.get(reverse("command:home")).status_code == 200
    assert AuditEntry.objects.filter(action="accounts.totp_verify").count() == 1


def test_a_code_cannot_be_used_twice(
    client: Client, personas: dict[str, User], system: Actor
) -> None:
    from conftest import signed_in

    user = personas["grid_worker"]
    secret = _enrolled(user, system)
    with clock.frozen(NOW):
        code = totp.code_at(secret, NOW)
        first = signed_in(client, user, verified=False)
        assert first.post(reverse("accounts:totp"), {"code": code}).status_code == 302
        second = signed_in(Client(), user, verified=False)
        replay = second.post(reverse("accounts:totp"), {"code": code})
    assert replay.status_code == 200
    assert replay.context["form"].has_error("code", "wrong_code")
    assert second.get(reverse("command:home")).status_code == 302
    # The next step's code still works.
    with clock.frozen(NOW + STEP):
        later = second.post(reverse("accounts:totp"), {"code": totp.code_at(secret, NOW + STEP)})
    assert later.status_code == 302


def test_a_wrong_code_is_rejected_and_audited(
    login_unverified: Callable[[User], Client], personas: dict[str, User], system: Actor
) -> None:
    user = personas["grid_worker"]
    secret = _enrolled(user, system)
    client = login_unverified(user)
    with clock.frozen(NOW):
        right = totp.code_at(secret, NOW)
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        response = client.post(reverse("accounts:totp"), {"code": wrong})
    assert response.status_code == 200
    assert response.context["form"].has_error("code", "wrong_code")
    assert client.get(reverse("command:home")).status_code == 302
    entry = AuditEntry.objects.get(action="accounts.totp_failed")
    assert (entry.outcome, entry.actor_label) == ("denied", "grid_worker")


def test_a_wrong_code_does_not_confirm_an_enrolment(
    login_unverified: Callable[[User], Client], personas: dict[str, User]
) -> None:
    user = personas["grid_worker"]
    client = login_unverified(user)
    client.get(reverse("accounts:totp"))
    response = client.post(reverse("accounts:totp"), {"code": "000000"})
    assert response.status_code == 200
    assert TotpDevice.objects.get(user=user).confirmed_at is None
    assert not BackupCode.objects.filter(user=user).exists()


def test_a_backup_code_works_once(client: Client, personas: dict[str, User]) -> None:
    from conftest import signed_in

    user = personas["grid_worker"]
    first = signed_in(client, user, verified=False)
    with clock.frozen(NOW):
        first.get(reverse("accounts:totp"))
        secret = TotpDevice.objects.get(user=user).secret
        codes = first.post(reverse("accounts:totp"), {"code": totp.code_at(secret, NOW)}).context[
            "codes"
        ]
    second = signed_in(Client(), user, verified=False)
    assert second.post(reverse("accounts:totp"), {"code": codes[3]}).status_code == 302
    assert second.get(reverse("command:home")).status_code == 200
    third = signed_in(Client(), user, verified=False)
    again = third.post(reverse("accounts:totp"), {"code": codes[3].upper()})
    assert again.status_code == 200
    assert third.get(reverse("command:home")).status_code == 302
    assert BackupCode.objects.filter(user=user, used_at__isnull=False).count() == 1
    entry = AuditEntry.objects.get(action="accounts.backup_code_use")
    assert entry.detail == {"left": 9}


def test_resetting_the_authenticator_ends_sessions_and_asks_to_enrol_again(
    login: Callable[[User], Client], personas: dict[str, User], system: Actor
) -> None:
    from fangkong.accounts.twofactor import totp_reset

    user = personas["grid_worker"]
    _enrolled(user, system)
    client = login(user)
    assert client.get(reverse("command:home")).status_code == 200
    totp_reset(actor=system, user=user, reason="lost phone")
    assert reverse("accounts:login") in client.get(reverse("command:home"))["Location"]
    assert not TotpDevice.objects.filter(user=user).exists()
