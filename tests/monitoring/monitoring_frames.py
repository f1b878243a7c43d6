"""Frames and input folders for the drift tests (a module, not a conftest, so tests can import it)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

VERSION = "20250101T000000Z-abcdef12"

KINDS: dict[str, str] = {
    "amt_income_total": "numeric",
    "amt_credit": "numeric",
    "amt_annuity": "numeric",
    "days_birth": "numeric",
    "days_employed": "numeric",
    "cnt_children": "numeric",
    "ext_source_1": "numeric",
    "ext_source_2": "numeric",
    "ext_source_3": "numeric",
    "bureau_debt_ratio": "numeric",
    "name_income_type": "categorical",
    "name_education_type": "categorical",
    "occupation_type": "categorical",
    "organization_type": "categorical",
    "code_gender": "categorical",
    "flag_own_car": "boolean",
    "flag_document_3": "numeric",
}


def make_population(n: int, seed: int) -> pd.DataFrame:
    """A synthetic applicant population whose columns look like the warehouse's (skew, missing, rare levels)."""
    rng = np.random.default_rng(seed)
    income = np.round(np.exp(rng.normal(11.9, 0.5, n)), -2)
    credit = np.round(income * rng.lognormal(1.0, 0.6, n), -2)
    ext1 = rng.beta(4, 4, n)
    ext1[rng.random(n) < 0.55] = np.nan  # mostly missing, as in the real data
    ext3 = rng.beta(5, 3, n)
    ext3[rng.random(n) < 0.2] = np.nan
    occupation = rng.choice(["Laborers", "Sales staff", "Core staff", "Managers", "Drivers", "Accountants"],
                            n, p=[0.3, 0.2, 0.2, 0.12, 0.1, 0.08]).astype(object)
    occupation[rng.random(n) < 0.3] = np.nan
    orgs = [f"Business Entity Type {i}" for i in range(1, 4)] + [f"Industry: type {i}" for i in range(1, 14)] \
        + ["Self-employed", "Government", "School", "Medicine", "XNA"]
    org_p = rng.dirichlet(np.ones(len(orgs)) * 0.7)
    frame = pd.DataFrame({
        "amt_income_total": income,
        "amt_credit": credit,
        "amt_annuity": np.round(credit * rng.uniform(0.03, 0.08, n), 1),
        "days_birth": -rng.integers(21 * 365, 69 * 365, n).astype(float),
        "days_employed": np.where(rng.random(n) < 0.18, 365243.0, -rng.gamma(1.5, 1500, n).round()),
        "cnt_children": rng.choice([0, 1, 2, 3, 4], n, p=[0.7, 0.2, 0.08, 0.015, 0.005]).astype(float),
        "ext_source_1": ext1,
        "ext_source_2": rng.beta(6, 3, n),
        "ext_source_3": ext3,
        "bureau_debt_ratio": np.where(rng.random(n) < 0.15, np.nan, rng.exponential(0.4, n)),
        "name_income_type": rng.choice(["Working", "Commercial associate", "Pensioner", "State servant",
                                        "Unemployed"], n, p=[0.52, 0.23, 0.18, 0.068, 0.002]),
        "name_education_type": rng.choice(["Secondary / secondary special", "Higher education",
                                           "Incomplete higher", "Lower secondary"], n, p=[0.71, 0.24, 0.035, 0.015]),
        "occupation_type": occupation,
        "organization_type": rng.choice(orgs, n, p=org_p),
        "code_gender": rng.choice(["F", "M"], n, p=[0.66, 0.34]),
        "flag_own_car": rng.random(n) < 0.34,
        "flag_document_3": (rng.random(n) < 0.71).astype(float),
    })
    risk = 1 / (1 + np.exp(-(-2.6 - 2.2 * (frame["ext_source_2"] - 0.66) + 0.3 * (frame["code_gender"] == "M"))))
    frame["probability"] = risk
    frame["target"] = (rng.random(n) < risk).astype(int)
    return frame


# -- an artifacts folder in the documented layout (docs/interfaces.md) --------------------------------
def write_model_version(artifacts: Path, reference: pd.DataFrame, kinds: dict[str, str],
                        version: str = VERSION, importance: list[str] | None = None) -> Path:
    """models/<version>/{metadata.json, reference_sample.parquet} and models/current -> <version>."""
    folder = artifacts / "models" / version
    folder.mkdir(parents=True)
    names = list(kinds)
    ranked = importance or names
    metadata = {
        "version": version, "created_at": "2025-01-01T00:00:00Z", "model_family": "test-input",
        "threshold": 0.12,
        "features": [{"name": n, "type": kinds[n]} for n in names],
        "global_importance": [{"feature": f, "mean_abs_shap": float(len(ranked) - i)} for i, f in enumerate(ranked)],
    }
    (folder / "metadata.json").write_text(json.dumps(metadata))
    reference[[*names, "target", "probability"]].to_parquet(folder / "reference_sample.parquet", index=False)
    (artifacts / "models" / "current").symlink_to(version)
    return folder


def write_request_log(artifacts: Path, frame: pd.DataFrame, start: datetime, version: str,
                      per_day: int | None = None) -> None:
    """Request-log Parquet files ``request_log/date=YYYY-MM-DD/part-*.parquet`` spread over days from ``start``,
    holding what the API logs: personal fields dropped, numbers coarsened (``api.log_privacy``)."""
    from api.log_privacy import coarsen_frame

    n = len(frame)
    per_day = per_day or max(1, n // 5)
    log = coarsen_frame(frame.drop(columns=["target"], errors="ignore"), KINDS).copy()
    log.insert(0, "logged_at", [start + timedelta(days=i // per_day, seconds=i) for i in range(n)])
    log.insert(1, "model_version", version)
    log.insert(2, "endpoint", "/v1/score")
    log.insert(3, "applicant_hash", [f"{i:032x}" for i in range(n)])
    log.insert(5, "decision", np.where(log["probability"] >= 0.12, "refuse", "grant"))
    for day, part in log.groupby(log["logged_at"].map(lambda t: t.strftime("%Y-%m-%d"))):
        folder = artifacts / "request_log" / f"date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        part.to_parquet(folder / f"part-{day}.parquet", index=False)


