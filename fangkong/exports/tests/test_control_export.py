"""The control-order list as a file: masked, scoped to the caller, with the page's filters."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from django.urls import reverse

from conftest import Tree
from fangkong.accounts.models import User
from fangkong.audit.models import AuditEntry
from fangkong.control.tests import factories
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.exports.tests.helpers import all_bytes, body, xlsx_rows

pytestmark = pytest.mark.django_db

NAME_A, PHONE_A, NAME_B = "欧阳明月", "13822223333", "司马青山"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with clock.frozen(factories.NOW):
        yield


@pytest.fixture
def orders(two_districts: Tree, system: Actor) -> None:
    factories.rulebook(system)
    a = factories.person(system, two_districts.grid_a, name=NAME_A, phone=PHONE_A)
    b = factories.person(system, two_districts.grid_b, name=NAME_B)
    factories.order(system, a)
    factories.order(system, b)


def test_order_export_is_masked_scoped_and_audited(
    login: Callable[[User], Client], personas: dict[str, User], orders: None
) -> None:
    client = login(personas["district_officer"])
    assert client.get(reverse("control:list")).content.count(b"/control/export/") == 1
    response = client.get(reverse("control:export_file", args=["xlsx"]), {"status": "active"})
    data = body(response)
    searched = all_bytes(data)
    for secret in (NAME_A, PHONE_A, NAME_B, "司马"):
        assert secret.encode() not in searched, secret
    rows = xlsx_rows(data)
    assert len(rows) == 3  # stamp, header, the one order of district A
    assert rows[2][1] == "欧阳**"
    entry = AuditEntry.objects.get(action="export.create")
    assert entry.detail["sha256"] == hashlib.sha256(data).hexdigest()
    assert (entry.detail["list"], entry.detail["rows"]) == ("control-orders", 1)


def test_order_export_filters_like_the_page(
    login: Callable[[User], Client], personas: dict[str, User], orders: None
) -> None:
    client = login(personas["city_commander"])
    data = body(client.get(reverse("control:export_file", args=["csv"]), {"status": "released"}))
    assert len(data.decode("utf-8-sig").splitlines()) == 2  # stamp and header only
    page = client.get(reverse("control:export"), {"status": "active"})
    assert b"/control/export.xlsx?status=active" in page.content


def test_order_export_for_a_role_without_control_view_is_403(
    login: Callable[[User], Client], personas: dict[str, User], orders: None
) -> None:
    client = login(personas["other_role"])
    for url in (reverse("control:export"), reverse("control:export_file", args=["csv"])):
        assert client.get(url).status_code == 403
    assert not AuditEntry.objects.filter(action="export.create").exists()
