"""The audit log is a hash chain: every kind of tampering is detected and named."""

from __future__ import annotations

import itertools

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from fangkong.audit import chain
from fangkong.audit.models import AuditEntry
from fangkong.audit.selectors import audit_verify
from fangkong.audit.services import record
from fangkong.core.actor import Actor

pytestmark = pytest.mark.django_db


def _entries(actor: Actor, n: int = 5) -> list[AuditEntry]:
    return [
        record(actor=actor, action="test.write", target_type="t", target_id=i, reason=f"r{i}")
        for i in range(n)
    ]


def _drop_append_only_triggers() -> None:
    """What an attacker with DDL rights would do first; rolled back with the test."""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("DROP TRIGGER audit_entry_no_update")
            cur.execute("DROP TRIGGER audit_entry_no_delete")
        else:
            cur.execute("DROP TRIGGER audit_entry_append_only ON audit_auditentry")


def test_entries_chain_and_verify(system: Actor) -> None:
    entries = _entries(system)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == chain.GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    result = audit_verify()
    assert result.ok
    assert result.checked == 5


def test_database_refuses_update_and_delete(system: Actor) -> None:
    entry = _entries(system, 1)[0]
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(reason="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()


def test_edited_entry_is_named(system: Actor) -> None:
    entries = _entries(system)
    _drop_append_only_triggers()
    AuditEntry.objects.filter(pk=entries[2].pk).update(reason="nothing happened here")
    result = audit_verify()
    assert not result.ok
    assert result.first_bad_seq == 3
    assert "edited" in result.problem


def test_deleted_entry_is_named(system: Actor) -> None:
    entries = _entries(system)
    _drop_append_only_triggers()
    AuditEntry.objects.filter(pk=entries[1].pk).delete()
    result = audit_verify()
    assert not result.ok
    assert result.first_bad_seq == 2
    assert "missing" in result.problem


def test_reordered_entries_are_named(system: Actor) -> None:
    entries = _entries(system)
    _drop_append_only_triggers()
    # Swap the positions of entries 2 and 4 (content moves with its sequence number).
    AuditEntry.objects.filter(pk=entries[1].pk).update(seq=-2)
    AuditEntry.objects.filter(pk=entries[3].pk).update(seq=2)
    AuditEntry.objects.filter(pk=entries[1].pk).update(seq=4)
    result = audit_verify()
    assert not result.ok
    assert result.first_bad_seq == 2


def test_truncated_tail_is_detected(system: Actor) -> None:
    entries = _entries(system)
    _drop_append_only_triggers()
    AuditEntry.objects.filter(pk=entries[-1].pk).delete()
    result = audit_verify()
    assert not result.ok
    assert result.first_bad_seq == 5


def test_verify_command_names_the_bad_entry(system: Actor) -> None:
    entries = _entries(system)
    call_command("audit", "verify")
    _drop_append_only_triggers()
    AuditEntry.objects.filter(pk=entries[3].pk).update(action="test.other")
    with pytest.raises(CommandError, match=r"entry #4"):
        call_command("audit", "verify")


def test_a_failed_audit_write_fails_the_action(
    system: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fangkong.accounts.models import User
    from fangkong.accounts.services import user_create

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr("fangkong.audit.services.entry_hash", broken)
    with pytest.raises(RuntimeError):
        user_create(
            actor=system, username="nobody", password="x" * 16, role="lab", jurisdictions=[]
        )
    assert not User.objects.filter(username="nobody").exists()
    assert not AuditEntry.objects.exists()
