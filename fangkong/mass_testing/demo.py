"""The mass_testing module's part of the demo city (called by `fangkong demo`, after the city,
the rulebook and the demo control orders exist). Idempotent: a second run adds nothing."""

from __future__ import annotations

from fangkong.core.actor import Actor


def demo_run(*, actor: Actor, seed: int) -> list[str]:
    """Build this module's demo data; return one summary line per thing made."""
    return []
