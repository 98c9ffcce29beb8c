"""`fangkong demo --no-serve`: a city, one account per role with a fresh password and TOTP
secret, printed."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings as SettingsWrapper

from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.audit.models import AuditEntry
from fangkong.people.models import Person

pytestmark = pytest.mark.django_db


def _demo(settings: SettingsWrapper) -> str:
    settings.DEMO = True
    # Argon2 is deliberately slow; the hasher is not what these tests are about.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    out = StringIO()
    call_command("demo", "--no-serve", "--population", "500", stdout=out)
    return out.getvalue()


_ROW = re.compile(r"^\s+(demo_\w+)\s+(\w+)\s+.*\s(\S+)\s+([A-Z2-7]{32})$")

# Passwords an installer might ship or a newcomer might guess; none may open a demo account.
KNOWN_DEFAULTS = (
    "correct horse battery staple",
    "admin",
    "admin123",
    "password",
    "password123",
    "123456",
    "12345678",
    "fangkong",
    "demo",
    "changeme",
)


def _rows(output: str) -> dict[str, tuple[str, str]]:
    """username -> (password, TOTP secret), as printed."""
    found = {}
    for line in output.splitlines():
        match = _ROW.match(line)
        if match:
            found[match.group(1)] = (match.group(3), match.group(4))
    return found


def _passwords(output: str) -> dict[str, str]:
    return {username: row[0] for username, row in _rows(output).items()}


def test_demo_refuses_outside_demo_mode(settings: SettingsWrapper) -> None:
    settings.DEMO = False
    with pytest.raises(CommandError, match="FANGKONG_DEMO"):
        call_command("demo", "--no-serve", stdout=StringIO())
    assert not User.objects.exists()


def test_demo_creates_a_city_and_an_account_per_role(settings: SettingsWrapper) -> None:
    output = _demo(settings)
    # The city's 500 residents, plus the newcomers the screening demo's push lists bring.
    assert Person.objects.count() >= 500
    passwords = _passwords(output)
    assert set(passwords) == {f"demo_{role.value}" for role in Role}
    for role in Role:
        user = User.objects.get(username=f"demo_{role.value}")
        assert user.role == role.value
        assert user.jurisdictions.count() == 1
        assert user.check_password(passwords[user.username])
        assert not user.check_password("correct horse battery staple")
    assert len(set(passwords.values())) == len(Role)


def test_demo_binds_each_role_to_its_level(settings: SettingsWrapper) -> None:
    _demo(settings)
    levels = {
        u.role: u.jurisdictions.get().level
        for u in User.objects.filter(username__startswith="demo_")
    }
    assert levels[Role.COMMAND_OFFICE] == 1
    assert levels[Role.DISTRICT_STAFF] == 2
    assert levels[Role.TOWN_STAFF] == 3
    assert levels[Role.GRID_WORKER] == 6


def test_running_demo_again_keeps_the_city_and_resets_passwords(settings: SettingsWrapper) -> None:
    first = _passwords(_demo(settings))
    persons = Person.objects.count()
    second_output = _demo(settings)
    second = _passwords(second_output)
    assert "keeping it" in second_output
    assert Person.objects.count() == persons  # the modules' demos add nothing the second time
    for username, password in second.items():
        assert password != first[username]
        assert User.objects.get(username=username).check_password(password)
    assert AuditEntry.objects.filter(action="accounts.user_set_password").count() == len(Role)


def test_demo_publishes_a_rulebook_and_gives_several_districts_orders_and_work(
    settings: SettingsWrapper,
) -> None:
    from fangkong.assignments.models import Assignment
    from fangkong.control.models import ControlOrder
    from fangkong.policy.selectors import rulebook_in_force

    output = _demo(settings)
    assert rulebook_in_force().book.edition == "winter-2021"
    assert "Control orders:" in output
    districts_with_orders = {
        path.split("/")[2]
        for path in ControlOrder.objects.values_list("jurisdiction_path", flat=True)
    }
    districts_with_work = {
        path.split("/")[2]
        for path in Assignment.objects.values_list("jurisdiction_path", flat=True)
    }
    assert len(districts_with_orders) >= 2
    assert len(districts_with_work) >= 2
    orders_before = ControlOrder.objects.count()
    _demo(settings)  # a restarted demo keeps its orders and issues no second set
    assert ControlOrder.objects.count() == orders_before


def test_demo_prints_a_totp_secret_that_completes_the_sign_in(settings: SettingsWrapper) -> None:
    from django.test import Client
    from django.urls import reverse

    from fangkong.accounts import totp
    from fangkong.accounts.models import TotpDevice
    from fangkong.core import clock

    rows = _rows(_demo(settings))
    assert set(rows) == {f"demo_{role.value}" for role in Role}
    for username, (_, secret) in rows.items():
        device = TotpDevice.objects.get(user__username=username)
        assert device.confirmed_at is not None
        assert device.secret == secret
    assert len({secret for _, secret in rows.values()}) == len(Role)
    password, secret = rows["demo_district_staff"]
    client = Client()
    signed = client.post(
        reverse("accounts:login"), {"username": "demo_district_staff", "password": password}
    )
    assert reverse("accounts:totp") in signed["Location"]
    verified = client.post(reverse("accounts:totp"), {"code": totp.code_at(secret, clock.now())})
    assert verified.status_code == 302
    assert client.get(reverse("people:search")).status_code == 200


def test_no_account_has_a_default_or_shared_password(settings: SettingsWrapper) -> None:
    assert not User.objects.exists()  # installing (migrating) creates no account at all
    passwords = _passwords(_demo(settings))
    assert len(set(passwords.values())) == len(passwords) == len(Role)
    assert not set(passwords.values()) & set(KNOWN_DEFAULTS)
    for user in User.objects.all():
        assert user.has_usable_password()
        for default in (*KNOWN_DEFAULTS, user.username):
            assert not user.check_password(default), (user.username, default)
