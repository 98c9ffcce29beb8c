"""The UI speaks Simplified Chinese by default; English is available; the catalogue is complete."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.test import Client

PACKAGE = Path(__file__).resolve().parent.parent / "fangkong"
LOCALE = PACKAGE / "locale" / "zh_Hans" / "LC_MESSAGES"
# The project catalogue, and the operations modules' own (fangkong/<app>/locale/), which Django
# finds for every installed app.
CATALOGUES = sorted(PACKAGE.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))


def test_the_project_catalogue_exists() -> None:
    assert LOCALE / "django.po" in CATALOGUES


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_message_has_a_chinese_translation(catalogue: Path) -> None:
    po = polib.pofile(str(catalogue))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_compiled_catalogue_matches_the_source(catalogue: Path) -> None:
    po = {
        e.msgid: (e.msgstr or e.msgstr_plural.get(0, ""))
        for e in polib.pofile(str(catalogue))
        if not e.obsolete
    }
    mo = {
        e.msgid: (e.msgstr or e.msgstr_plural.get(0, ""))
        for e in polib.mofile(str(catalogue.with_suffix(".mo")))
    }
    mo.pop("", None)
    assert mo == po, f"run compilemessages after editing {catalogue}"


@pytest.mark.django_db
def test_pages_are_in_chinese_by_default_even_for_an_english_browser(client: Client) -> None:
    assert "登录" in client.get("/accounts/login/").content.decode()
    assert (
        "登录"
        in client.get("/accounts/login/", headers={"Accept-Language": "en-US,en"}).content.decode()
    )


@pytest.mark.django_db
def test_english_is_available_through_the_language_switch(client: Client) -> None:
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert switched.status_code == 302
    english = client.get("/accounts/login/").content.decode()
    assert "Sign in" in english
    assert "登录" not in english.split("<main>")[1]
