import numpy as np
import pandas as pd
import pytest

from hc_contracts.metadata import MetadataError, build_metadata
from monitoring.columns import (
    importance_order,
    infer_kinds,
    kinds_from_metadata,
    raw_application_columns,
    select_columns,
)
from monitoring.errors import InputDataError
from monitoring.frames import prepare, sample_rows


def test_raw_application_columns_are_the_kaggle_fields_in_warehouse_spelling():
    raw = raw_application_columns()
    assert len(raw) == 120  # 122 Kaggle columns minus SK_ID_CURR and TARGET
    assert {"amt_income_total", "ext_source_2", "name_income_type", "days_birth"} <= set(raw)
    assert "target" not in raw and "sk_id_curr" not in raw
    assert all(c == c.lower() for c in raw)


def test_selection_takes_top_n_then_raw_columns_by_importance_and_caps():
    kinds = {f"agg_{i}": "numeric" for i in range(10)}
    kinds.update({"amt_income_total": "numeric", "name_income_type": "categorical", "days_birth": "numeric",
                  "flag_own_car": "boolean"})
    importance = ["agg_3", "agg_1", "days_birth", "agg_0", "name_income_type", "agg_2"]
    raw = ["name_income_type", "flag_own_car", "amt_income_total", "days_birth"]
    sel = select_columns(kinds, importance, raw, top_n=3, max_columns=6)
    assert sel.by_importance == ["agg_3", "agg_1", "days_birth"]
    # raw columns not yet chosen: by importance first, then in raw-file order
    assert sel.raw_application == ["name_income_type", "flag_own_car", "amt_income_total"]
    assert sel.columns == ["agg_3", "agg_1", "days_birth", "name_income_type", "flag_own_car", "amt_income_total"]
    capped = select_columns(kinds, importance, raw, top_n=3, max_columns=4)
    assert capped.columns == ["agg_3", "agg_1", "days_birth", "name_income_type"]
    assert capped.truncated == 2
    assert "capped at 4" in capped.to_dict(3, 4)["rule"]


def test_selection_drops_columns_without_reference_values_and_checks_requested_names():
    kinds = {"a": "numeric", "b": "numeric", "c": "categorical"}
    reference = pd.DataFrame({"a": [1.0, 2.0], "b": [np.nan, np.nan], "c": ["x", "y"]})
    sel = select_columns(kinds, ["b", "a", "c"], [], top_n=5, max_columns=10, reference=reference)
    assert sel.columns == ["a", "c"]
    assert sel.dropped == {"b": "every reference value is missing"}
    assert select_columns(kinds, [], [], 5, 10, reference, requested=["c", "a"]).columns == ["c", "a"]
    with pytest.raises(InputDataError, match="not features of the model: zz, yy"):
        select_columns(kinds, [], [], 5, 10, reference, requested=["a", "zz", "yy"])


def test_metadata_parsing():
    base = {"version": "v", "threshold": 0.1}
    meta = build_metadata({**base, "features": [{"name": "a", "type": "numeric"}, {"name": "b", "type": "boolean"}],
                           "global_importance": [{"feature": "b", "mean_abs_shap": 0.1},
                                                 {"feature": "a", "mean_abs_shap": 0.5}]})
    assert kinds_from_metadata(meta) == {"a": "numeric", "b": "boolean"}
    assert importance_order(meta) == ["a", "b"]
    assert importance_order(build_metadata({**base, "features": [{"name": "a", "type": "numeric"}]})) == []
    with pytest.raises(MetadataError, match="field 'features': Field required"):
        build_metadata(base)
    with pytest.raises(MetadataError, match=r"field 'features\.0\.type'.*'text'"):
        build_metadata({**base, "features": [{"name": "a", "type": "text"}]})


def test_infer_kinds_and_prepare_give_one_comparable_form():
    df = pd.DataFrame({"n": [1, 2, None], "f": [True, False, True], "c": ["x", None, "y"]})
    kinds = infer_kinds(df)
    assert kinds == {"n": "numeric", "f": "boolean", "c": "categorical"}
    # booleans stored as 0/1 floats (the model's canonical form) or text compare equal to real booleans
    as_float = pd.DataFrame({"n": [np.inf, 2.0, 3.0], "f": [1.0, 0.0, np.nan], "c": ["x", "y", "y"]})
    out = prepare(as_float, kinds, ["n", "f", "c"])
    assert np.isnan(out["n"].iloc[0])
    assert out["f"].tolist()[:2] == ["True", "False"] and pd.isna(out["f"].iloc[2])
    assert prepare(pd.DataFrame({"f": ["true", "FALSE"]}), {"f": "boolean"}, ["f"])["f"].tolist() == ["True", "False"]
    # a non-range index is realigned, not turned into missing values
    shifted = pd.DataFrame({"n": [5.0, 6.0]}, index=[10, 11])
    assert prepare(shifted, {"n": "numeric"}, ["n"])["n"].tolist() == [5.0, 6.0]


def test_sampling_is_seeded_and_only_when_needed():
    df = pd.DataFrame({"x": range(1000)})
    assert len(sample_rows(df, 2000, 0)) == 1000
    a, b = sample_rows(df, 100, 0), sample_rows(df, 100, 0)
    assert len(a) == 100 and a.equals(b)
    assert not a.equals(sample_rows(df, 100, 1))
    assert a["x"].is_monotonic_increasing
