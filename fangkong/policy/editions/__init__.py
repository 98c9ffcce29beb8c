"""The rulebook editions shipped as data."""

from __future__ import annotations

from pathlib import Path

EDITIONS_DIR = Path(__file__).resolve().parent


def edition_text(name: str) -> str:
    """The YAML of a shipped edition ("winter-2021", "ninth-edition-2022")."""
    path = EDITIONS_DIR / f"{name}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"no shipped edition {name!r} (have: {', '.join(edition_names())})")
    return path.read_text(encoding="utf-8")


def edition_names() -> list[str]:
    return sorted(p.stem for p in EDITIONS_DIR.glob("*.yaml"))
