"""Demo accounts: one per role, bound to a fitting node of the synthetic city.

Passwords are generated on every run and printed once; an existing demo account gets a new
password through `accounts.services.user_set_password`, which audits like any other account write.
Each account also gets a new, already confirmed TOTP authenticator whose secret is printed beside
the password, so that a newcomer adds it to an authenticator app and signs in at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.accounts.services import generate_password, user_create, user_move, user_set_password
from fangkong.accounts.twofactor import totp_provision
from fangkong.core.actor import Actor
from fangkong.core.errors import NotFound
from fangkong.jurisdictions.models import Jurisdiction, Level
from fangkong.places.models import Place, PlaceKind

USERNAME_PREFIX = "demo_"


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: str
    jurisdiction: str
    password: str
    totp_secret: str


def _first(level: Level, under: Jurisdiction | None = None) -> Jurisdiction:
    qs = Jurisdiction.objects.filter(level=level)
    if under is not None:
        qs = qs.filter(path__startswith=under.path)
    node = qs.order_by("code").first()
    if node is None:
        raise NotFound("simulation.no_city", "No simulated city to bind demo accounts to")
    return node


def _district_of(path: str) -> Jurisdiction:
    code = path.strip("/").split("/")[1]
    return Jurisdiction.objects.get(code=code)


def demo_bindings() -> dict[str, Jurisdiction]:
    """The node each role's demo account is bound to."""
    city = _first(Level.CITY)
    district = _first(Level.DISTRICT, city)
    town = _first(Level.TOWN, district)
    grid = _first(Level.GRID, town)
    facility = (
        Place.objects.filter(
            kind=PlaceKind.QUARANTINE_FACILITY, jurisdiction_path__startswith=city.path
        )
        .order_by("code")
        .first()
    )
    facility_district = _district_of(facility.jurisdiction_path) if facility else district
    return {
        Role.COMMAND_OFFICE: city,
        Role.DISTRICT_STAFF: district,
        Role.TOWN_STAFF: town,
        Role.GRID_WORKER: grid,
        Role.INVESTIGATOR: city,
        Role.SAMPLING_SITE: district,
        Role.LAB: district,
        Role.PHARMACY: district,
        Role.FACILITY_MANAGER: facility_district,
        Role.SUPERVISOR: city,
        Role.SYSADMIN: city,
        Role.EMPLOYER: town,  # linked to one of the town's employers by key_populations' demo
    }


def demo_accounts_ensure(*, actor: Actor) -> list[DemoAccount]:
    """Create the demo account of every role, or give existing ones a new password and TOTP secret."""
    bindings = demo_bindings()
    accounts = []
    for role in Role:
        node = bindings[role]
        username = f"{USERNAME_PREFIX}{role.value}"
        password = generate_password()
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                actor=actor,
                username=username,
                password=password,
                role=role.value,
                jurisdictions=[node],
                display_name=f"演示 {role.label}",
            )
        else:
            user_set_password(actor=actor, user=user, password=password, reason="fangkong demo")
            if list(user.jurisdictions.all()) != [node]:
                user_move(actor=actor, user=user, jurisdictions=[node], reason="fangkong demo")
        secret = totp_provision(actor=actor, user=user, reason="fangkong demo")
        accounts.append(
            DemoAccount(
                username=username,
                role=role.value,
                jurisdiction=f"{node.name} ({node.code})",
                password=password,
                totp_secret=secret,
            )
        )
    return accounts
