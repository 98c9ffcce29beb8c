"""Validation on load: clear errors with the path of each problem."""

from __future__ import annotations

import pytest

from fangkong.core.errors import Invalid
from fangkong.policy.editions import edition_names, edition_text
from fangkong.policy.schema import parse_rulebook


def test_shipped_editions_are_valid() -> None:
    assert set(edition_names()) >= {"winter-2021", "ninth-edition-2022"}
    for name in edition_names():
        assert parse_rulebook(edition_text(name)).edition == name


def _problems(text: str) -> list[dict[str, str]]:
    with pytest.raises(Invalid) as info:
        parse_rulebook(text)
    return list(
        info.value.detail.get("problems", [{"path": "(yaml)", "problem": info.value.message}])
    )


def test_test_day_outside_the_phase_is_named() -> None:
    text = edition_text("ninth-edition-2022").replace(
        "test_days: [1, 4, 7]}]\n    counts_from: isolation",
        "test_days: [1, 4, 9]}]\n    counts_from: isolation",
    )
    problems = _problems(text)
    assert any(
        p["path"].startswith("categories.secondary_contact.phases.0")
        and "within days 1..7" in p["problem"]
        for p in problems
    )


def test_missing_deadline_and_unknown_key_are_both_reported() -> None:
    text = (
        edition_text("winter-2021")
        .replace("  land_assist_request: 2\n", "")
        .replace("venues:\n", "venuez: {}\nvenues:\n")
    )
    problems = _problems(text)
    paths = {p["path"] for p in problems}
    assert "deadlines_hours" in paths
    assert "venuez" in paths


def test_not_yaml_is_a_clear_error() -> None:
    problems = _problems("edition: [unclosed")
    assert "not valid YAML" in problems[0]["problem"]
