"""Key rotation: every encrypted value moves to the new key, nothing is lost, lookups work."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from pytest_django.fixtures import Settings as SettingsWrapper

from conftest import Tree
from fangkong.core import crypto
from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict
from fangkong.maintenance import keys
from fangkong.people import selectors
from fangkong.people import services as people
from fangkong.people.models import Household, Person, PersonNote
from fangkong.people.tests.factories import resident_id
from fangkong.policy.models import RulebookVersion


@pytest.fixture
def keys_dir(settings: SettingsWrapper, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the test keys: rotation writes key files, which other workers share."""
    crypto.keyring()  # make sure the shared files exist
    private = tmp_path / "keys"
    private.mkdir()
    for name in ("encryption-k1.key", "blind-index.key"):
        shutil.copy(Path(settings.KEYS_DIR) / name, private / name)
    settings.KEYS_DIR = private
    crypto.keyring.cache_clear()
    yield private
    crypto.keyring.cache_clear()


def _raw(model: type, field: str, pk: int) -> str:
    col = keys.EncryptedColumn(model, field)
    return str(col.rows().filter(pk=pk).values_list(keys.RAW, flat=True).get())


@pytest.fixture
def household(two_districts: Tree) -> Household:
    t = two_districts
    return Household.objects.create(
        code="H1", grid=t.grid_a, jurisdiction_path=t.grid_a.path, address="海滨路甲8号"
    )


def test_rotation_re_encrypts_every_value_under_the_new_key_without_loss(
    keys_dir: Path,
    book: RulebookVersion,
    two_districts: Tree,
    system: Actor,
    household: Household,
) -> None:
    number = resident_id()
    person, _ = people.person_register(
        actor=system,
        doc_type="resident_id",
        doc_number=number,
        name="欧阳明镜",
        phone="13912398765",
        address="明镜巷77号",
        grid=two_districts.grid_a,
    )
    note = people.person_note_add(actor=system, person=person, text="门口有狗")
    assert _raw(Person, "name", person.pk).startswith("k1$")
    columns = {c.label for c in keys.encrypted_columns()}
    assert {"people.person.name", "people.personnote.text", "people.household.address"} <= columns

    kid, counts = keys.rotate(actor=system, chunk_size=2)  # several chunks

    assert kid == "k2"
    assert counts["people.person.doc_number"] >= 1
    for field in ("name", "doc_number", "phone", "address"):
        assert _raw(Person, field, person.pk).startswith("k2$"), field
    assert _raw(PersonNote, "text", note.pk).startswith("k2$")
    assert _raw(Household, "address", household.pk).startswith("k2$")
    again = Person.objects.get(pk=person.pk)
    assert (again.name, again.doc_number, again.phone, again.address) == (
        "欧阳明镜",
        number,
        "13912398765",
        "明镜巷77号",
    )
    assert PersonNote.objects.get(pk=note.pk).text == "门口有狗"
    assert Household.objects.get(pk=household.pk).address == "海滨路甲8号"
    # The blind-index key did not change: lookups still find the person.
    assert [
        p.pk for p in selectors.person_find_by_phone(scope=system.scope, phone="13912398765")
    ] == [person.pk]
    assert [p.pk for p in selectors.person_find_by_document(scope=system.scope, number=number)] == [
        person.pk
    ]
    assert all(set(c) <= {"k2"} for c in keys.key_usage().values())


def test_the_old_key_retires_only_once_nothing_uses_it(
    keys_dir: Path, book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    person, _ = people.person_register(
        actor=system,
        doc_type="resident_id",
        doc_number=resident_id(),
        name="皇甫雪莲",
        grid=two_districts.grid_a,
    )
    crypto.key_file_add(keys_dir)  # a new current key, values not yet re-encrypted
    with pytest.raises(Conflict, match="k1"):
        keys.retire(actor=system, kid="k1")
    with pytest.raises(Conflict):
        keys.retire(actor=system, kid="k2")  # the current key
    keys.reencrypt(actor=system)
    moved = keys.retire(actor=system, kid="k1")
    assert moved == keys_dir / "retired" / "encryption-k1.key"
    assert not (keys_dir / "encryption-k1.key").exists()
    assert list(crypto.keyring().keys) == ["k2"]
    assert Person.objects.get(pk=person.pk).name == "皇甫雪莲"


def test_the_command_rotates_and_reports(
    keys_dir: Path,
    book: RulebookVersion,
    two_districts: Tree,
    system: Actor,
    capsys: pytest.CaptureFixture[str],
) -> None:
    people.person_register(
        actor=system,
        doc_type="resident_id",
        doc_number=resident_id(),
        name="测试人",
        grid=two_districts.grid_a,
    )
    call_command("keys", "rotate")
    call_command("keys", "rotate", "--retire", "k1")
    call_command("keys", "status")
    out = capsys.readouterr().out
    assert "new current key k2" in out
    assert "retired k1" in out
    assert "people.person.name: k2: 1" in out


def test_with_keys_in_the_environment_rotate_prints_the_new_value(
    settings: SettingsWrapper, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.FANGKONG_ENCRYPTION_KEYS = "k3:" + "A" * 43 + "="
    call_command("keys", "rotate")
    out = capsys.readouterr().out
    assert "FANGKONG_ENCRYPTION_KEYS=k4:" in out
    assert out.strip().count(",k3:") == 1
