"""`fangkong sentinel detect --input counts.csv --method M [options] --output alarms.csv`.

Runs a detection method over every series of a plain counts file, with the semantics of the R
package surveillance 1.20 (docs/sentinel-detection.md maps the options to its arguments).
Nothing touches the database.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fangkong.core.uploads import UploadRefused
from fangkong.sentinel.detection import METHODS, DetectionError, parse_params
from fangkong.sentinel.detection.files import prepare, read_counts, run, write_alarms
from fangkong.sentinel.detection.params import PARSERS

# Every method parameter, as --option-name, once (alpha is shared by several methods).
_OPTIONS = sorted({name for parsers in PARSERS.values() for name in parsers})
_HELP = {
    "alpha": "EARS and Farrington: the false alarm probability (EARS C1/C2 0.001, C3 0.025, "
    "farrington 0.05); cusum: the negative binomial dispersion of trans pearsonNegBin (0.1)",
    "baseline": "EARS: reference days (7); cusum: training points before the first evaluated "
    "one, whose mean is m (28)",
    "min_sigma": "EARS: lower bound of the reference sd (0)",
    "k": "cusum: reference value (1.04)",
    "h": "cusum: decision interval (2.26)",
    "m": "cusum: reference mean (default: the mean of the training points)",
    "trans": "cusum: standard, rossi, anscombe, anscombe2nd, pearsonNegBin or none (standard)",
    "b": "farrington: years back (5)",
    "w": "farrington: half window in weeks (3)",
    "reweight": "farrington: true/false (true)",
    "weights_threshold": "farrington: Anscombe residual above which a week is down-weighted (2.58)",
    "past_weeks_not_included": "farrington: recent weeks left out of the fit (26)",
    "no_periods": "farrington: seasonal periods per year (10)",
    "threshold_method": "farrington: nbPlugin, muan or delta (nbPlugin)",
    "trend": "farrington: true/false, fit a trend when significant (true)",
    "p_threshold_trend": "farrington: trend significance level (0.05)",
    "limit54_cases": "farrington: at least this many cases ... (5)",
    "limit54_weeks": "farrington: ... in this many recent weeks to alarm (4)",
    "powertrans": "farrington delta: 2/3, 1/2 or none (2/3)",
}


class Command(BaseCommand):
    help = "Sentinel surveillance on plain files: `detect` (alarms from a counts file)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        det = sub.add_parser(
            "detect",
            help="Thresholds and alarms for every series of a counts file (series,date,count)",
        )
        det.add_argument("--input", type=Path, required=True, help="counts.csv (or .xlsx)")
        det.add_argument("--output", type=Path, required=True, help="alarms.csv to write")
        det.add_argument("--method", required=True, choices=METHODS)
        for name in _OPTIONS:
            det.add_argument(f"--{name.replace('_', '-')}", dest=name, help=_HELP.get(name))

    def handle(self, *args: Any, **options: Any) -> None:
        self._detect(options)

    def _detect(self, options: dict[str, Any]) -> None:
        method: str = options["method"]
        given = {name: str(options[name]) for name in _OPTIONS if options.get(name) is not None}
        try:
            params = parse_params(method, given)
        except DetectionError as exc:
            name = exc.detail.get("param", "")
            message = exc.message.removeprefix(f"{name}: ")
            raise CommandError(
                f"--{name.replace('_', '-')}: {message}" if name else message
            ) from exc
        source: Path = options["input"]
        target: Path = options["output"]
        if not source.is_file():
            raise CommandError(f"{source}: no such file")
        if not target.parent.is_dir():
            raise CommandError(f"{target.parent}: no such directory")
        try:
            with source.open("rb") as file:
                counts = read_counts(file)
        except UploadRefused as exc:
            raise CommandError(f"{source}: {exc.message}") from exc
        series = prepare(counts, method=method) if not counts.errors else {}
        if counts.errors:
            for error in counts.errors:
                self.stderr.write(f"{source.name}: {error}")
            raise CommandError(f"{len(counts.errors)} problems in {source}; nothing was written")
        try:
            rows, alarms = write_alarms(target, run(series, method=method, params=params))
        except DetectionError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"{method}: {len(series)} series, {rows} evaluated dates, {alarms} alarms -> {target}"
        )
