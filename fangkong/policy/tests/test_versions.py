"""Publishing keeps every version; decisions find the one in force at a time."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from fangkong.audit.models import AuditEntry
from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, Invalid, NotAllowed
from fangkong.core.scope import Scope
from fangkong.policy.editions import edition_text
from fangkong.policy.models import RulebookVersion
from fangkong.policy.selectors import rulebook_in_force
from fangkong.policy.services import rulebook_publish

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2022, 1, 1, tzinfo=dt.UTC)


def test_no_rulebook_is_a_clear_conflict() -> None:
    with pytest.raises(Conflict, match="No rulebook"):
        rulebook_in_force()


def test_versions_are_kept_and_chosen_by_effective_time(system: Actor) -> None:
    v1 = rulebook_publish(
        actor=system, text=edition_text("winter-2021"), note="winter", effective_from=T0
    )
    v2 = rulebook_publish(
        actor=system,
        text=edition_text("ninth-edition-2022"),
        note="ninth",
        effective_from=dt.datetime(2022, 6, 28, tzinfo=dt.UTC),
    )
    assert (v1.version, v2.version) == (1, 2)
    assert (
        rulebook_in_force(at=dt.datetime(2022, 3, 1, tzinfo=dt.UTC)).book.edition == "winter-2021"
    )
    in_force = rulebook_in_force(at=dt.datetime(2022, 7, 1, tzinfo=dt.UTC))
    assert (in_force.version, in_force.book.edition) == (2, "ninth-edition-2022")
    assert AuditEntry.objects.filter(action="policy.rulebook_publish").count() == 2


def test_republishing_the_same_text_creates_nothing(system: Actor) -> None:
    first = rulebook_publish(
        actor=system, text=edition_text("winter-2021"), note="a", effective_from=T0
    )
    again = rulebook_publish(
        actor=system, text=edition_text("winter-2021"), note="retry", effective_from=T0
    )
    assert first.pk == again.pk
    assert RulebookVersion.objects.count() == 1


def test_an_invalid_text_publishes_nothing(system: Actor) -> None:
    with pytest.raises(Invalid):
        rulebook_publish(actor=system, text="edition: x\n", note="bad")
    assert not RulebookVersion.objects.exists()
    assert not AuditEntry.objects.exists()


def test_publishing_needs_the_permission() -> None:
    clerk = Actor(
        kind="user", id=9, label="clerk", role="town_staff", scope=Scope(paths=("/4409/",))
    )
    with pytest.raises(NotAllowed):
        rulebook_publish(actor=clerk, text=edition_text("winter-2021"), note="x")
    assert not RulebookVersion.objects.exists()


def test_policy_command_load_show_history_and_validate(tmp_path: object) -> None:
    out = io.StringIO()
    call_command(
        "policy", "load", "winter-2021", "--effective-from", "2022-01-01T00:00", stdout=out
    )
    assert "rulebook version 1 (winter-2021)" in out.getvalue()
    out = io.StringIO()
    call_command("policy", "history", stdout=out)
    assert "v1\twinter-2021" in out.getvalue()
    out = io.StringIO()
    call_command("policy", "show", stdout=out)
    assert "edition: winter-2021" in out.getvalue()
    with pytest.raises(CommandError, match="no such file"):
        call_command("policy", "validate", "/nonexistent.yaml")
