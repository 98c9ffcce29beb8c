"""The WSGI entry point gunicorn serves (`fangkong serve`, the benchmarks)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_the_loaded_application_is_left_out_of_the_collectors_passes(tmp_path: Path) -> None:
    code = (
        "import gc, fangkong.wsgi, ninja; "
        "print(gc.get_freeze_count(), len(gc.get_objects()), 'fangkong.mass_testing.api' in __import__('sys').modules)"
    )
    env = os.environ | {"FANGKONG_DATA_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    frozen, still_tracked, views_loaded = int(out[0]), int(out[1]), out[2]
    assert views_loaded == "True"  # every API module imported before the freeze
    assert frozen > 100_000
    assert still_tracked < frozen // 10
