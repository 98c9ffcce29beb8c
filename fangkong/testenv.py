"""Pytest plugin loaded with `-p fangkong.testenv` before Django is configured.

Test mode must be set before settings import (it allows generated keys and a local secret),
and tests get their own data directory so they never touch the demo's database or keys.
"""

import os
from pathlib import Path

os.environ["FANGKONG_TESTING"] = "1"
os.environ.setdefault(
    "FANGKONG_DATA_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test")
)

# Hypothesis' per-example deadline turns a loaded 2-core CI machine into flaky failures;
# the properties are what we test, not their speed (benchmarks measure speed).
from hypothesis import settings as _hypothesis_settings

_hypothesis_settings.register_profile("fangkong", deadline=None)
_hypothesis_settings.load_profile("fangkong")
