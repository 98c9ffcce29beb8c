"""Masked display of personal fields: the default everywhere unless a role may see in full."""

from __future__ import annotations


def mask_document(number: str) -> str:
    """4409**********1234: first 4 and last 4 kept.

    Shorter numbers (passports, other documents) keep at most a quarter at each end, so a
    masked value never shows more than half of the number.
    """
    keep = min(4, len(number) // 4)
    if keep == 0:
        return "*" * max(len(number), 2)
    return number[:keep] + "*" * (len(number) - 2 * keep) + number[-keep:]


def mask_phone(number: str) -> str:
    """138****5678."""
    if len(number) < 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_name(name: str) -> str:
    """Keep the surname (first character; two for common compound surnames), mask the rest."""
    name = name.strip()
    if not name:
        return ""
    if name.isascii():
        parts = name.split()
        return (
            " ".join([parts[0], *("*" * len(p) for p in parts[1:])])
            if len(parts) > 1
            else name[0] + "*" * max(len(name) - 1, 1)
        )
    keep = 2 if len(name) >= 4 or name[:2] in _COMPOUND_SURNAMES else 1
    return name[:keep] + "*" * max(len(name) - keep, 1)


def mask_address(address: str) -> str:
    """Keep the first six characters (district, street), mask the rest."""
    address = address.strip()
    if len(address) <= 6:
        return address[:2] + "*" * max(len(address) - 2, 0)
    return address[:6] + "*" * min(len(address) - 6, 8)


_COMPOUND_SURNAMES = {
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "长孙",
    "宇文",
    "司徒",
    "夏侯",
    "轩辕",
    "令狐",
    "端木",
}
