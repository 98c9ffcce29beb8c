"""Mainland mobile numbers: +86, spaces and dashes removed, 11 digits starting 1[3-9]."""

from __future__ import annotations

import re

from fangkong.core.errors import Invalid
from fangkong.core.text import squeeze

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalise_mobile(raw: object) -> str:
    """Return the 11-digit mobile number or raise Invalid."""
    if isinstance(raw, float):
        if not raw.is_integer():
            raise Invalid("phone.format", f"Phone {raw!r} is not a mobile number")
        raw = int(raw)
    text = squeeze(str(raw)).replace("-", "").replace("(", "").replace(")", "")
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    elif text.startswith("86") and len(text) == 13:
        text = text[2:]
    if not _MOBILE.match(text):
        raise Invalid("phone.format", f"Phone {text!r} is not an 11-digit mainland mobile number")
    return text
