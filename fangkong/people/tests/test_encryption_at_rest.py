"""Personal values are not in the database in clear: not in the SQLite file and its WAL, not
in a pg_dump of PostgreSQL. The blind indexes still find them."""

from __future__ import annotations

import importlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from pytest_django import DjangoDbBlocker

from conftest import Tree
from fangkong.core.actor import Actor
from fangkong.people import selectors, services
from fangkong.people.tests.factories import resident_id

PEOPLE = [
    # (name, phone, address): distinctive, so a hit cannot be a coincidence
    ("欧阳明镜", "13912398765", "茂南区红旗街道明镜巷77号"),
    ("Zebulon Quixotic", "13787654329", "Quixotic Lane 4711"),
    ("皇甫雪莲", "15011223344", "电白区海滨路甲8号雪莲楼"),
]


_triggers = importlib.import_module("fangkong.audit.migrations.0002_append_only_triggers")


def _audit_triggers(*, on: bool) -> None:
    with connection.schema_editor() as editor:
        _triggers._run(editor, forward=on)


@pytest.fixture(scope="module")
def _restore_audit_triggers(django_db_blocker: DjangoDbBlocker) -> Iterator[None]:
    yield
    # Runs after the test database was flushed (function teardown comes first).
    with django_db_blocker.unblock():
        _audit_triggers(on=True)


@pytest.fixture
def committed_db(_restore_audit_triggers: None, transactional_db: None) -> Iterator[None]:
    """A transactional test whose audit rows can be flushed afterwards.

    The append-only triggers refuse the flush that ends a transactional test (DELETE on
    SQLite, TRUNCATE on PostgreSQL); lift them for the flush and put them back after it.
    """
    yield
    _audit_triggers(on=False)


def _database_bytes() -> bytes:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        path = Path(connection.settings_dict["NAME"])
        assert path.exists(), "the test database must be a file for this check"
        data = path.read_bytes()
        wal = path.with_name(path.name + "-wal")
        if wal.exists():
            data += wal.read_bytes()
        return data
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        args = ["/usr/bin/pg_dump", "--no-owner", "--dbname", str(s["NAME"])]
        for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
            if s.get(key):
                args += [flag, str(s[key])]
        env = {**os.environ, "PGPASSWORD": str(s.get("PASSWORD") or "")}
        done = subprocess.run(args, capture_output=True, check=True, env=env, timeout=120)
        return done.stdout
    pytest.fail(f"no at-rest check written for {connection.vendor}")


def test_personal_values_are_encrypted_at_rest_and_still_found_by_blind_index(
    committed_db: None, two_districts: Tree, system: Actor
) -> None:
    numbers = []
    for i, (name, phone, address) in enumerate(PEOPLE):
        number = resident_id(seq=700 + i)
        numbers.append(number)
        p, _ = services.person_register(
            actor=system,
            doc_type="resident_id",
            doc_number=number,
            name=name,
            phone=phone,
            address=address,
            grid=two_districts.grid_a,
        )
        services.person_note_add(actor=system, person=p, text=f"visited {name} at {address}")
        services.person_reveal(actor=system, person=p, reason="at-rest test")
        services.person_search(actor=system, query=number)
        services.person_search(actor=system, query=phone)

    dump = _database_bytes()
    assert two_districts.grid_a.name.encode() in dump  # the check does see clear text
    for (name, phone, address), number in zip(PEOPLE, numbers, strict=True):
        for secret in (name, phone, address, number):
            assert secret.encode("utf-8") not in dump, secret

    scope = system.scope
    for (name, phone, _), number in zip(PEOPLE, numbers, strict=True):
        by_doc = selectors.person_find_by_document(scope=scope, number=number)
        assert [p.name for p in by_doc] == [name]
        assert [p.doc_number for p in selectors.person_find_by_phone(scope=scope, phone=phone)] == [
            number
        ]
        assert len(selectors.person_find_by_name(scope=scope, name=name)) == 1
