"""What the key-population pages share: the employer restriction and the member rows."""

from __future__ import annotations

from fangkong.core.actor import Actor
from fangkong.key_populations import access
from fangkong.key_populations.models import GROUP_LABELS
from fangkong.key_populations.present import member_out
from fangkong.policy.sections.key_populations import GroupKind


def employer_only(actor: Actor) -> int | None:
    return access.require_view(actor)


def member_rows(members: list[object]) -> list[dict[str, object]]:
    out = []
    for m in members:
        row = member_out(m)  # type: ignore[arg-type]
        row["group_label"] = GROUP_LABELS.get(GroupKind(row["group"]), row["group"])
        out.append(row)
    return out
