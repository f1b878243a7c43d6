"""``python -m models_ml.submission``: score the test applicants with the promoted model and write
``$HC_ARTIFACTS/submission.csv`` in Kaggle's format (``SK_ID_CURR,TARGET``, TARGET = probability)."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import pandas as pd

from models_ml.data import ID_COLUMN, load_applicants
from models_ml.errors import ModelingError
from models_ml.registry import load_current
from models_ml.settings import ModelSettings


def write_submission(settings: ModelSettings, out: Path | None = None) -> tuple[Path, int]:
    """Write the submission atomically; returns its path and the number of scored applicants."""
    model = load_current(settings.artifacts)
    test = load_applicants(settings.warehouse, dataset="test")
    out = Path(out) if out is not None else settings.layout.submission
    if len(test):
        proba = model.predict_proba(test)
        sub = pd.DataFrame({"SK_ID_CURR": test[ID_COLUMN].astype("int64").to_numpy(), "TARGET": proba})
    else:
        sub = pd.DataFrame({"SK_ID_CURR": pd.Series(dtype="int64"), "TARGET": pd.Series(dtype="float64")})
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".submission-", suffix=".csv", dir=out.parent)
    os.close(fd)
    try:
        sub.to_csv(tmp, index=False, float_format="%.6f")
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out, len(sub)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models_ml.submission", description=__doc__)
    parser.add_argument("--warehouse", type=Path, help="DuckDB warehouse file (HC_WAREHOUSE)")
    parser.add_argument("--artifacts", type=Path, help="artifacts folder holding models/current (HC_ARTIFACTS)")
    parser.add_argument("--out", type=Path, help="output CSV (default $HC_ARTIFACTS/submission.csv)")
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in vars(args).items() if v is not None and k != "out"}
    try:
        path, n = write_submission(ModelSettings(**overrides), args.out)
    except ModelingError as exc:
        print(f"error: {exc}")
        return 2
    if n == 0:
        print(f"no test applicants in applicant_features (dataset='test'): wrote a header-only {path}")
    else:
        print(f"scored {n:,} test applicants -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
