"""Pages, partials and API: each user sees and changes only their own notifications."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.accounts.services import token_create
from fangkong.core.actor import Actor
from fangkong.notifications.models import Notification
from fangkong.notifications.services import notify

pytestmark = pytest.mark.django_db

Login = Callable[[User], Client]
MaxQueries = DjangoAssertNumQueries


@pytest.fixture
def inbox(staff: dict[str, User]) -> dict[str, Notification]:
    """One notification each for the grid worker and the district officer."""
    notify(user_ids=[staff["grid_worker"].pk], subject="Mine to do", body="b", link="/people/")
    notify(user_ids=[staff["district_officer"].pk], subject="Someone else's", body="b")
    return {
        "mine": Notification.objects.get(subject="Mine to do"),
        "theirs": Notification.objects.get(subject="Someone else's"),
    }


def test_list_page_shows_only_my_notifications(
    staff: dict[str, User],
    inbox: dict[str, Notification],
    login: Login,
    django_assert_max_num_queries: MaxQueries,
) -> None:
    client = login(staff["grid_worker"])
    for i in range(20):
        notify(user_ids=[staff["grid_worker"].pk], subject=f"more {i}", body="")
    with django_assert_max_num_queries(8):
        response = client.get(reverse("notifications:list"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Mine to do" in body
    assert "Someone else" not in body


def test_badge_counts_my_unread(
    staff: dict[str, User],
    inbox: dict[str, Notification],
    login: Login,
    django_assert_max_num_queries: MaxQueries,
) -> None:
    client = login(staff["grid_worker"])
    # session read, user, scope, the list itself, session save (3)
    with django_assert_max_num_queries(7):
        response = client.get(reverse("notifications:badge"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert '<span class="flag">1</span>' in response.content.decode()
    client.post(reverse("notifications:read"), {"all": "1"})
    assert 'class="flag"' not in client.get(reverse("notifications:badge")).content.decode()


def test_mark_read_ignores_other_users_notifications(
    staff: dict[str, User], inbox: dict[str, Notification], login: Login
) -> None:
    client = login(staff["grid_worker"])
    ids = [inbox["mine"].pk, inbox["theirs"].pk]
    response = client.post(reverse("notifications:read"), {"ids": ids})
    assert response.status_code == 302
    inbox["mine"].refresh_from_db()
    inbox["theirs"].refresh_from_db()
    assert inbox["mine"].read_at is not None
    assert inbox["theirs"].read_at is None


def test_mark_read_with_htmx_returns_the_list_partial(
    staff: dict[str, User], inbox: dict[str, Notification], login: Login
) -> None:
    client = login(staff["grid_worker"])
    response = client.post(
        reverse("notifications:read"), {"ids": [inbox["mine"].pk]}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert 'id="notification-items"' in response.content.decode()
    assert "<html" not in response.content.decode()


def test_opening_my_notification_marks_it_read_and_follows_its_link(
    staff: dict[str, User], inbox: dict[str, Notification], login: Login
) -> None:
    client = login(staff["grid_worker"])
    response = client.get(reverse("notifications:open", args=[inbox["mine"].pk]))
    assert (response.status_code, response["Location"]) == (302, "/people/")
    inbox["mine"].refresh_from_db()
    assert inbox["mine"].read_at is not None


def test_opening_someone_elses_notification_is_not_found_and_changes_nothing(
    staff: dict[str, User], inbox: dict[str, Notification], login: Login
) -> None:
    client = login(staff["grid_worker"])
    response = client.get(reverse("notifications:open", args=[inbox["theirs"].pk]))
    assert response.status_code == 404
    inbox["theirs"].refresh_from_db()
    assert inbox["theirs"].read_at is None


def test_an_outside_link_is_not_followed(staff: dict[str, User], login: Login) -> None:
    user = staff["grid_worker"]
    notify(user_ids=[user.pk], subject="phish", body="", link="https://evil.example/")
    item = Notification.objects.get()
    response = login(user).get(reverse("notifications:open", args=[item.pk]))
    assert response["Location"] == reverse("notifications:list")


def test_api_lists_only_my_notifications(
    staff: dict[str, User],
    inbox: dict[str, Notification],
    login: Login,
    django_assert_max_num_queries: MaxQueries,
) -> None:
    client = login(staff["grid_worker"])
    # session read, user, scope, the list itself, session save (3)
    with django_assert_max_num_queries(7):
        response = client.get("/api/notifications")
    assert response.status_code == 200
    assert [n["subject"] for n in response.json()] == ["Mine to do"]
    assert client.get("/api/notifications/unread").json() == {"unread": 1}


def test_api_mark_read_only_marks_mine(
    staff: dict[str, User], inbox: dict[str, Notification], login: Login
) -> None:
    client = login(staff["grid_worker"])
    ids = [inbox["mine"].pk, inbox["theirs"].pk]
    response = client.post("/api/notifications/read", {"ids": ids}, content_type="application/json")
    assert response.json() == {"marked": 1}
    assert client.get("/api/notifications?unread_only=true").json() == []
    inbox["theirs"].refresh_from_db()
    assert inbox["theirs"].read_at is None


def test_api_token_has_no_notifications(
    two_districts: Tree, inbox: dict[str, Notification], client: Client, system: Actor
) -> None:
    admin = User.objects.create(username="admin", role="sysadmin")
    _, secret = token_create(
        actor=actor_of(admin), name="lab", role="lab", jurisdictions=[two_districts.district_a]
    )
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/notifications", headers=headers).status_code == 403
    response = client.post(
        "/api/notifications/read",
        {"all": True},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 403
    assert not Notification.objects.filter(read_at__isnull=False).exists()


def test_anonymous_is_sent_to_sign_in_and_api_says_401(client: Client, db: None) -> None:
    for name in ("list", "badge"):
        response = client.get(reverse(f"notifications:{name}"))
        assert response.status_code == 302
        assert "/accounts/" in response["Location"]
    assert client.get("/api/notifications").status_code == 401
