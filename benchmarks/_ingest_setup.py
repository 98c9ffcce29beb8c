"""The scan-ingest benchmark's data, in Django child processes: the setup (residents,
rulebook, round, token) and the count of the stored rows afterwards.

Residents: as many as the run has scans, so that every scan is a person's first in the round
(as on the morning of a city-wide round), added set-based inside the database to the
simulated city's grids, neighbours in blocks of consecutive ids, before the round is created
(the round counts them as due)."""

# ruff: noqa: S608 - statements built from this file's constants and integers

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any


def add_persons(n: int) -> tuple[int, int]:
    """Add `n` residents; returns their ids as a half-open range (first, end)."""
    from django.db import connection

    from fangkong.core import clock, crypto
    from fangkong.jurisdictions.models import Jurisdiction, Level

    grids = list(
        Jurisdiction.objects.filter(level=Level.GRID).order_by("pk").values_list("pk", "path")
    )
    block = -(-n // len(grids))
    sealed = crypto.encrypt("x")  # one valid ciphertext for every encrypted column
    now: Any = connection.ops.adapt_datetimefield_value(clock.now())
    pg = connection.vendor == "postgresql"
    with connection.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM people_person")
        first = int(cur.fetchone()[0]) + 1
        cur.execute("DROP TABLE IF EXISTS bench_grid")
        cur.execute("CREATE TABLE bench_grid (idx integer PRIMARY KEY, id bigint, path text)")
        cur.executemany(
            "INSERT INTO bench_grid (idx, id, path) VALUES (%s, %s, %s)",
            [(i, pk, path) for i, (pk, path) in enumerate(grids)],
        )
        if pg:
            series = f"generate_series(0, {n - 1}) AS s(i)"
            col = "s.i"
        else:
            series = (
                f"(WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c "
                f"WHERE i + 1 < {n}) SELECT i FROM c) AS s"
            )
            col = "s.i"
        cur.execute(
            "INSERT INTO people_person (id, doc_type, doc_number, doc_bidx, name, name_bidx, sex, "
            "phone, phone_bidx, address, grid_id, jurisdiction_path, id_mismatch, created_at, "
            f"updated_at) SELECT {first} + {col}, 'resident_id', %s, 'bench' || ({first} + {col}), "
            f"%s, '', 'U', '', '', '', g.id, g.path, %s, %s, %s FROM {series} "
            f"JOIN bench_grid g ON g.idx = {col} / {block}",
            [sealed, sealed, False, now, now],
        )
        if pg:
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('people_person', 'id'), %s)", [first + n]
            )
            cur.execute("ANALYZE people_person")
        else:
            cur.execute("ANALYZE")
        cur.execute("DROP TABLE bench_grid")
    return first, first + n


def child_setup(out: Path, persons: int) -> None:
    """Inside Django: residents (`persons` > 0: that many more, set-based), rulebook, round,
    token; write their ids for the parent."""
    import django

    django.setup()

    from fangkong.accounts.services import token_create
    from fangkong.core import clock
    from fangkong.core.actor import system_actor
    from fangkong.jurisdictions.models import Jurisdiction, Level
    from fangkong.mass_testing import services
    from fangkong.people.models import Person
    from fangkong.policy.editions import edition_text
    from fangkong.policy.services import rulebook_publish

    actor = system_actor("bench")
    added = add_persons(persons) if persons else None
    rulebook_publish(actor=actor, text=edition_text("ninth-edition-2022"), note="bench")
    districts = list(Jurisdiction.objects.filter(level=Level.DISTRICT))
    rnd = services.round_create(
        actor=actor,
        name="bench",
        areas=[(d, "general") for d in districts],
        starts_at=clock.now() - dt.timedelta(hours=1),
    )
    city = Jurisdiction.objects.get(level=Level.CITY)
    _, secret = token_create(actor=actor, name="bench", role="command_office", jurisdictions=[city])
    if added is not None:  # the added residents, a range of ids
        out.write_text(json.dumps({"round": rnd.pk, "token": secret, "person_range": added}))
        return
    ids = list(
        Person.objects.filter(merged_into__isnull=True).order_by("pk").values_list("pk", flat=True)
    )
    out.write_text(json.dumps({"round": rnd.pk, "token": secret, "persons": ids}))


def child_count(out: Path, round_id: int) -> None:
    import django

    django.setup()
    from fangkong.mass_testing.models import Sample

    rows = Sample.objects.filter(round_id=round_id)
    out.write_text(
        json.dumps({"rows": rows.count(), "distinct": rows.values("client_id").distinct().count()})
    )
