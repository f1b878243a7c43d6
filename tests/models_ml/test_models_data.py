"""Feature frames: canonical types, the small-batch fast path equals the general path, fingerprints."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from models_ml.data import FeatureSchema, FeatureSpec, data_fingerprint, load_applicants, load_training_set


def test_types_come_from_the_duckdb_columns(small_warehouse: Path) -> None:
    data = load_training_set(small_warehouse)
    kinds = {f.name: f.type for f in data.schema.features}
    assert kinds["code_gender"] == "categorical" and kinds["flag_own_car"] == "boolean"
    assert kinds["cnt_children"] == "numeric" and "sk_id_curr" not in kinds and "target" not in kinds
    assert list(data.ids) == sorted(data.ids)
    assert data.frame["flag_own_car"].dtype == np.float64
    assert data.frame["name_education_type"].isna().any()  # NULL stays missing, not the string "None"


def test_small_batches_take_a_fast_path_with_identical_results(small_warehouse: Path) -> None:
    data = load_training_set(small_warehouse)
    raw = load_applicants(small_warehouse, dataset=None).head(400)
    big = data.schema.prepare(raw)  # general path (more than 256 rows)
    small = pd.concat([data.schema.prepare(raw.iloc[i:i + 50]) for i in range(0, 400, 50)])
    pd.testing.assert_frame_equal(big, small)
    assert list(big.columns) == data.schema.names


def test_json_like_values_are_converted() -> None:
    schema = FeatureSchema((FeatureSpec("a", "numeric"), FeatureSpec("b", "boolean"), FeatureSpec("c", "categorical")))
    df = pd.DataFrame({"a": ["1.5", None, "inf"], "b": [True, None, False], "c": ["x", None, 3]})
    out = schema.prepare(df)
    assert out["a"].tolist()[0] == 1.5 and np.isnan(out["a"].tolist()[1]) and np.isnan(out["a"].tolist()[2])
    assert out["b"].tolist()[0] == 1.0 and np.isnan(out["b"].tolist()[1]) and out["b"].tolist()[2] == 0.0
    assert out["c"].tolist()[0] == "x" and out["c"].tolist()[2] == "3" and pd.isna(out["c"].tolist()[1])


def test_fingerprint_changes_with_the_data(small_warehouse: Path, tmp_path: Path) -> None:
    a = load_training_set(small_warehouse)
    assert data_fingerprint(a) == data_fingerprint(load_training_set(small_warehouse))
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(small_warehouse.read_bytes())
    con = duckdb.connect(str(copy))
    con.execute("update training_set set amt_credit = amt_credit + 1 where sk_id_curr = 100001")
    con.close()
    assert data_fingerprint(load_training_set(copy)) != data_fingerprint(a)


@pytest.mark.parametrize("dataset,n", [("test", 60), ("train", 800)])
def test_load_applicants_by_dataset(small_warehouse: Path, dataset: str, n: int) -> None:
    df = load_applicants(small_warehouse, dataset=dataset)
    assert len(df) == n and set(df["dataset"]) == {dataset}


def test_training_set_is_read_in_batches_exactly_as_prepare_reads_it(tmp_path: Path, monkeypatch) -> None:
    """The batch reader (one float64 block, no pandas copy of the table) gives the frame `prepare` gives:
    rows in id order although stored shuffled, infinities as NaN, booleans as 0/1, NULL categories missing,
    categories as str, schema column order; the extra columns follow the same order."""
    import models_ml.data as data_mod

    rng = np.random.default_rng(3)
    n = 1000
    ids = rng.permutation(np.arange(100_000, 100_000 + n))
    x = rng.normal(size=n)
    x[::97] = np.inf
    x[::89] = np.nan
    df = pd.DataFrame({
        "sk_id_curr": ids, "target": rng.integers(0, 2, n), "dataset": "train",
        "amt": x, "cnt": rng.integers(0, 5, n).astype("int32"),
        "kind": np.where(rng.random(n) < 0.2, None, rng.choice(["a", "b", "c"], n)).astype(object),
        "flag": rng.random(n) < 0.5, "code_gender": rng.choice(["F", "M"], n),
        "grade": rng.choice([1, 2, 3], n).astype(object).astype(str),
    })
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.register("df", df)
    con.execute("create table training_set as select * from df")  # stored in shuffled id order
    con.close()
    monkeypatch.setattr(data_mod, "READ_BATCH_ROWS", 128)  # several batches
    data = load_training_set(path)
    con = duckdb.connect(str(path), read_only=True)
    expected_raw = con.execute("select * from training_set order by sk_id_curr").df()
    con.close()
    expected = data.schema.prepare(expected_raw)
    pd.testing.assert_frame_equal(data.frame, expected.reset_index(drop=True))
    assert list(data.ids) == sorted(ids)
    np.testing.assert_array_equal(data.target, expected_raw["target"].to_numpy())
    assert list(data.sensitive["code_gender"]) == list(expected_raw["code_gender"])
    assert np.isnan(data.frame["amt"]).sum() == np.sum(~np.isfinite(x))
