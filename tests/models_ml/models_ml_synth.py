"""A small synthetic feature table shaped like the warehouse's ``training_set`` / ``applicant_features``."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from models_ml.settings import ModelSettings

FAST_FAMILIES = "dummy,logistic_regression,random_forest,lightgbm,xgboost"


def make_features(n: int, seed: int = 0, default_rate: float = 0.12) -> pd.DataFrame:
    """sk_id_curr, target, numeric / VARCHAR / BOOLEAN features; the target depends on a few of them."""
    rng = np.random.default_rng(seed)
    ext2 = rng.uniform(0, 1, n)
    ext3 = np.where(rng.uniform(size=n) < 0.2, np.nan, rng.uniform(0, 1, n))
    days_birth = -rng.integers(20 * 365, 68 * 365, n).astype(float)
    amt_credit = rng.lognormal(13, 0.5, n).round(0)
    amt_income = rng.lognormal(12, 0.4, n).round(0)
    gender = rng.choice(["F", "M"], n, p=[0.65, 0.35])
    family = rng.choice(["Married", "Single / not married", "Civil marriage", "Widow"], n, p=[.6, .2, .12, .08])
    edu = rng.choice(["Higher education", "Secondary / secondary special", "Incomplete higher", None], n,
                     p=[.3, .6, .05, .05])
    own_car = rng.uniform(size=n) < 0.35
    bureau_mean = np.where(rng.uniform(size=n) < 0.15, np.nan, rng.normal(0, 1, n))
    logit = (-2.0 - 2.5 * (ext2 - 0.5) - 1.5 * np.nan_to_num(ext3 - 0.5) + 0.4 * (days_birth > -30 * 365)
             + 0.5 * (edu == "Secondary / secondary special") - 0.3 * own_car + 0.4 * np.nan_to_num(bureau_mean))
    p = 1 / (1 + np.exp(-logit))
    p = p * default_rate / p.mean()
    target = (rng.uniform(size=n) < np.clip(p, 0, 1)).astype(int)
    return pd.DataFrame({
        "sk_id_curr": np.arange(100001, 100001 + n), "target": target,
        "ext_source_2": ext2, "ext_source_3": ext3, "days_birth": days_birth, "amt_credit": amt_credit,
        "amt_income_total": amt_income, "cnt_children": rng.integers(0, 4, n),
        "code_gender": gender, "name_family_status": family, "name_education_type": edu,
        "flag_own_car": own_car, "bureau_amt_credit_sum_mean": bureau_mean,
    })


def write_warehouse(path: Path, train: pd.DataFrame, test: pd.DataFrame | None = None,
                    with_training_set: bool = True) -> Path:
    """DuckDB file with ``applicant_features`` (train + test) and, optionally, ``training_set``."""
    path = Path(path)
    con = duckdb.connect(str(path))
    try:
        con.register("train_df", train)
        feats = [c for c in train.columns if c not in ("sk_id_curr", "target")]
        cols = ", ".join(f'"{c}"' for c in feats)
        casts = {"code_gender": "VARCHAR", "name_family_status": "VARCHAR", "name_education_type": "VARCHAR",
                 "flag_own_car": "BOOLEAN"}
        sel = ", ".join(f'CAST("{c}" AS {casts[c]}) AS "{c}"' if c in casts else f'"{c}"' for c in feats)
        con.execute(f"create table applicant_features as select sk_id_curr::BIGINT as sk_id_curr, "
                    f"'train' as dataset, target::INTEGER as target, {sel} from train_df")
        if test is not None and len(test):
            con.register("test_df", test)
            con.execute(f"insert into applicant_features select sk_id_curr::BIGINT, 'test', NULL, {sel} "
                        f"from test_df")
        if with_training_set:
            con.execute(f"create table training_set as select sk_id_curr, target, {cols} from applicant_features "
                        "where dataset = 'train'")
    finally:
        con.close()
    return path


def fast_settings(warehouse: Path, artifacts: Path, **kw: object) -> ModelSettings:
    """Settings of a quick training run (fast profile, 3 folds, one thread) over ``warehouse``."""
    base: dict[str, object] = {"warehouse": warehouse, "artifacts": artifacts, "train_profile": "fast",
                               "n_folds": 3, "seed": 0, "n_jobs": 1, "families": FAST_FAMILIES}
    base.update(kw)
    return ModelSettings(**base)  # type: ignore[arg-type]
