"""The application's database identity cannot change audit rows.

On PostgreSQL `fangkong audit harden` leaves the app's role SELECT and INSERT only; on SQLite
there are no roles, the command says so, and the append-only triggers are the guard. Each
test asserts the answer of the database the suite runs on (the suite runs on both).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from fangkong.audit import services as audit
from fangkong.core.actor import Actor


@pytest.fixture
def app_role(transactional_db: None) -> Iterator[str]:
    """A login role, as the server would use; dropped with every privilege it was given."""
    role = f"fk_app_{uuid.uuid4().hex[:10]}"
    if connection.vendor != "postgresql":
        yield role  # no roles on SQLite: the test checks the command's refusal instead
        return
    with connection.cursor() as cur:
        cur.execute(f"CREATE ROLE {role} LOGIN")
    yield role
    with connection.cursor() as cur:
        cur.execute(f"DROP OWNED BY {role}")
        cur.execute(f"DROP ROLE {role}")


def _connect_as(role: str) -> psycopg.Connection[tuple[object, ...]]:
    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"] or None,
        port=s["PORT"] or None,
        dbname=s["NAME"],
        user=role,
        autocommit=True,
    )


@pytest.mark.slow
def test_the_app_role_appends_and_reads_the_audit_log_but_cannot_change_it(
    app_role: str, system: Actor
) -> None:
    audit.record(actor=system, action="test.one")
    if connection.vendor == "sqlite":
        with pytest.raises(CommandError, match="file"):
            call_command("audit", "harden", "--app-role", app_role)
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as owner:
            owner.execute("UPDATE audit_auditentry SET reason = 'rewritten'")
        return
    call_command("audit", "harden", "--app-role", app_role)
    with _connect_as(app_role) as conn:
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM audit_auditentry")
        assert cur.fetchone() == (1,)
        cur.execute(
            "INSERT INTO audit_auditentry (seq, at, actor_kind, actor_label, role, ip, action,"
            " target_type, target_id, jurisdiction_path, outcome, reason, detail, prev_hash,"
            " hash) VALUES (2, now(), 'system', 'x', 'system', '', 'test.two', '', '', '', 'ok',"
            " '', '{}', '', '')"
        )
        for sql in (
            "UPDATE audit_auditentry SET reason = 'rewritten'",
            "DELETE FROM audit_auditentry",
            "TRUNCATE audit_auditentry",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                cur.execute(sql)
        # The rest of the application still works for the role.
        cur.execute("UPDATE audit_audithead SET seq = seq")
        cur.execute("SELECT count(*) FROM people_person")
    with connection.cursor() as owner:
        owner.execute("SELECT count(*) FROM audit_auditentry WHERE reason = 'rewritten'")
        assert owner.fetchone() == (0,)


def test_harden_refuses_a_role_it_cannot_harden(db: None) -> None:
    # PostgreSQL: the role must exist; SQLite: there are no roles, file permissions rule.
    expected = "does not exist" if connection.vendor == "postgresql" else "file"
    with pytest.raises(CommandError, match=expected):
        call_command("audit", "harden", "--app-role", "fk_nobody_here")
