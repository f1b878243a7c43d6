"""Command line: ``python -m synthetic --scale 0.05 --seed 0 --out data/raw`` (also ``hc-generate``)."""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from pathlib import Path

from synthetic.generator import KAGGLE_TEST, KAGGLE_TRAIN, Plan, generate
from synthetic.settings import SyntheticSettings
from synthetic.writer import OutputError

MAX_SCALE = 2.0
MAX_SEED = 2**32 - 1
MAX_JOBS = 64


def scale_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number in (0, {MAX_SCALE}], e.g. 0.05; got {text!r}"
        ) from None
    if not math.isfinite(value) or value <= 0 or value > MAX_SCALE:
        raise argparse.ArgumentTypeError(
            f"expected a number in (0, {MAX_SCALE}] (1 = Kaggle size), e.g. 0.05; got {text!r}"
        )
    return value


def _whole_number(text: str, lo: int, hi: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = lo - 1
    if not lo <= value <= hi:
        raise argparse.ArgumentTypeError(f"expected a whole number in [{lo}, {hi}]; got {text!r}")
    return value


def seed_arg(text: str) -> int:
    return _whole_number(text, 0, MAX_SEED)


def jobs_arg(text: str) -> int:
    return _whole_number(text, 1, MAX_JOBS)


def build_parser(settings: SyntheticSettings) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m synthetic",
        description=(
            "Write a synthetic Home Credit data set in Kaggle's format: the eight CSVs "
            "(application_train/test, bureau, bureau_balance, previous_application, POS_CASH_balance, "
            "installments_payments, credit_card_balance), ground_truth.csv (SK_ID_CURR,DEFAULT_PROBABILITY) "
            "and the marker .hc-synthetic. The same seed gives byte-identical files."
        ),
        epilog=f"SCALE=1 is Kaggle's size ({KAGGLE_TRAIN:,} train and {KAGGLE_TEST:,} test applicants).",
    )
    ap.add_argument(
        "--scale", type=scale_arg, default=0.05, help="size relative to Kaggle, in (0, 2] (default 0.05)"
    )
    ap.add_argument("--seed", type=seed_arg, default=0, help="random seed, a whole number (default 0)")
    ap.add_argument(
        "--out",
        type=Path,
        default=settings.raw_dir,
        help=f"destination folder (default HC_RAW_DIR = {settings.raw_dir}); "
        "refuses a folder holding Kaggle CSVs that the generator did not write",
    )
    ap.add_argument(
        "--jobs",
        type=jobs_arg,
        default=settings.synthetic_jobs,
        help=f"processes generating chunks in parallel (default HC_SYNTHETIC_JOBS = {settings.synthetic_jobs}); "
        "the output does not depend on it",
    )
    ap.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    return ap


def main(argv: list[str] | None = None) -> int:
    settings = SyntheticSettings()
    ap = build_parser(settings)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    plan = Plan.for_scale(args.scale, args.seed)
    start = time.perf_counter()
    try:
        summary = generate(args.out, plan, threads=settings.synthetic_threads, jobs=args.jobs)
    except OutputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        rows = ", ".join(f"{t} {n:,}" for t, n in summary.rows.items())
        print(
            f"wrote {args.out} in {time.perf_counter() - start:.1f}s (scale {args.scale}, seed {args.seed}): "
            f"{rows}; train default rate {summary.default_rate:.2%}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
