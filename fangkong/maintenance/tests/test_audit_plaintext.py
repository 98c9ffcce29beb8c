"""Audit entries outlive the personal data they mention, so they must never hold it: after a
realistic flow over every personal-data service, no audit row carries a plaintext value."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.audit.models import AuditEntry
from fangkong.control.tests import factories
from fangkong.core.actor import Actor
from fangkong.maintenance import retention
from fangkong.people import services as people
from fangkong.people.tests.factories import resident_id
from fangkong.policy.models import RulebookVersion

NAME, NEW_NAME = "欧阳明镜", "欧阳镜明"
PHONE, NEW_PHONE = "13912398765", "13787654329"
ADDRESS, NEW_ADDRESS = "茂南区红旗街道明镜巷77号", "电白区海滨路甲8号雪莲楼"
NOTE = "门口有一只黄狗, 下午三点后在家"
DUP_NAME, DUP_PHONE = "皇甫雪莲", "15011223344"


def _row_text(entry: Mapping[str, object]) -> str:
    return json.dumps(entry, ensure_ascii=False, default=str)


def test_no_audit_row_holds_a_plaintext_personal_value(
    book: RulebookVersion,
    two_districts: Tree,
    system: Actor,
    personas: dict[str, User],
) -> None:
    officer = actor_of(personas["district_officer"])
    commander = actor_of(personas["city_commander"])
    grid = two_districts.grid_a
    number, dup_number = resident_id(), resident_id(birth=dt.date(1985, 5, 5))
    person, _ = people.person_register(
        actor=officer,
        doc_type="resident_id",
        doc_number=number,
        name=NAME,
        phone=PHONE,
        address=ADDRESS,
        grid=grid,
    )
    # Registering the same number again is a lookup; it is audited too.
    people.person_register(
        actor=officer, doc_type="resident_id", doc_number=number, name=NAME, grid=grid
    )
    duplicate, _ = people.person_register(
        actor=officer,
        doc_type="resident_id",
        doc_number=dup_number,
        name=DUP_NAME,
        phone=DUP_PHONE,
        grid=grid,
    )
    people.person_update(
        actor=officer,
        person=person,
        reason="moved house, new phone",
        name=NEW_NAME,
        phone=NEW_PHONE,
        address=NEW_ADDRESS,
    )
    for query in (number, NEW_PHONE, NEW_NAME):
        people.person_search(actor=officer, query=query)
    people.person_reveal(actor=commander, person=person, reason="tracing interview")
    people.person_note_add(actor=officer, person=person, text=NOTE)
    order = factories.order(system, person)
    assert order.pk
    people.person_merge(actor=commander, survivor=person, duplicate=duplicate, reason="same person")
    retention.person_purge(actor=system, person_ids=[duplicate.pk], reason="erasure request")

    secrets = [NAME, NEW_NAME, PHONE, NEW_PHONE, ADDRESS, NEW_ADDRESS, NOTE, number, dup_number]
    secrets += [DUP_NAME, DUP_PHONE, "明镜巷", "海滨路甲8号"]
    rows = list(AuditEntry.objects.values())
    assert len(rows) >= 12
    actions = {r["action"] for r in rows}
    assert {"people.register", "people.update", "people.reveal", "people.merge"} <= actions
    for row in rows:
        text = _row_text(row)
        for secret in secrets:
            assert secret not in text, f"audit #{row['seq']} ({row['action']}) holds {secret!r}"
