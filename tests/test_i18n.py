"""The UI speaks Simplified Chinese by default; English is available; the catalogue is complete."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.test import Client

LOCALE = Path(__file__).resolve().parent.parent / "fangkong" / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_every_message_has_a_chinese_translation() -> None:
    po = polib.pofile(str(LOCALE / "django.po"))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []


def test_the_compiled_catalogue_matches_the_source() -> None:
    po = {
        e.msgid: (e.msgstr or e.msgstr_plural.get(0, ""))
        for e in polib.pofile(str(LOCALE / "django.po"))
        if not e.obsolete
    }
    mo = {
        e.msgid: (e.msgstr or e.msgstr_plural.get(0, ""))
        for e in polib.mofile(str(LOCALE / "django.mo"))
    }
    mo.pop("", None)
    assert mo == po, "run `fangkong compilemessages -l zh_Hans` after editing django.po"


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
