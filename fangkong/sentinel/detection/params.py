"""Method parameters as plain text (a CLI option, a rulebook value, a reference case) to typed
values, refusing unknown names and malformed values with a message naming the parameter."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Final

from fangkong.sentinel.detection.base import DetectionError

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


def _bool(text: str) -> bool:
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError("expected true or false")


def _choice(*options: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(f"expected one of: {', '.join(options)}")
        return text

    return parse


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


_EARS: Final[dict[str, Callable[[str], Any]]] = {
    "alpha": _float,
    "baseline": int,
    "min_sigma": _float,
}
PARSERS: Final[dict[str, dict[str, Callable[[str], Any]]]] = {
    "ears-c1": _EARS,
    "ears-c2": _EARS,
    "ears-c3": _EARS,
    "farrington": {
        "alpha": _float,
        "b": int,
        "w": int,
        "reweight": _bool,
        "weights_threshold": _float,
        "past_weeks_not_included": int,
        "no_periods": int,
        "threshold_method": _choice("nbPlugin", "delta", "muan"),
        "trend": _bool,
        "p_threshold_trend": _float,
        "limit54_cases": int,
        "limit54_weeks": int,
        "powertrans": _choice("2/3", "1/2", "none"),
    },
    "cusum": {
        "k": _float,
        "h": _float,
        "m": _float,
        "trans": _choice("standard", "rossi", "anscombe", "anscombe2nd", "pearsonNegBin", "none"),
        "alpha": _float,
        "baseline": int,
    },
}


def parse_params(method: str, texts: Mapping[str, str]) -> dict[str, Any]:
    """Typed parameters of `method` from their text. Raises DetectionError naming the first
    unknown or malformed parameter."""
    parsers = PARSERS.get(method)
    if parsers is None:
        raise DetectionError(
            "detection.method", f"unknown method {method!r}; one of: {', '.join(PARSERS)}"
        )
    out: dict[str, Any] = {}
    for name, text in texts.items():
        parse = parsers.get(name)
        if parse is None:
            raise DetectionError(
                "detection.param",
                f"{method} takes no parameter {name}; it takes: {', '.join(sorted(parsers))}",
                param=name,
            )
        try:
            out[name] = parse(text.strip())
        except ValueError as exc:
            reason = (
                str(exc)
                if parse not in (int, _float)
                else ("expected a whole number" if parse is int else "expected a number")
            )
            raise DetectionError(
                "detection.param", f"{name}: {text!r} is not valid ({reason})", param=name
            ) from exc
    return out
