"""A build over tiny fixture CSVs: structure, cleaning rules and feature values recomputed with pandas."""

from __future__ import annotations

import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest
from wh_fixture_data import (
    FUTURE_BUREAU_ID,
    N_TEST,
    N_TRAIN,
    NO_HISTORY_APPLICANT,
    SENTINEL_APPLICANT,
)


@pytest.fixture(scope="module")
def con(fixture_warehouse):
    with duckdb.connect(str(fixture_warehouse.path), read_only=True) as connection:
        yield connection


def _features(con) -> pd.DataFrame:
    return con.sql("select * from applicant_features").df().set_index("sk_id_curr")


def test_build_report_and_shape(fixture_warehouse, con):
    report = fixture_warehouse.report
    assert report.n_applicants == N_TRAIN + N_TEST and report.n_train == N_TRAIN
    assert report.n_feature_columns >= 300
    counts = con.sql("select dataset, count(*), count(distinct sk_id_curr), count(target) from applicant_features "
                     "group by 1 order by 1").fetchall()
    assert counts == [("test", N_TEST, N_TEST, 0), ("train", N_TRAIN, N_TRAIN, N_TRAIN)]
    first = [r[0] for r in con.sql("describe applicant_features").fetchall()[:3]]
    assert first == ["sk_id_curr", "dataset", "target"]
    assert con.sql("select count(*) from training_set").fetchall()[0][0] == N_TRAIN
    assert list(report.steps) == ["check headers", "load and check values", "dbt build",
                                  "finalize and swap"]
    assert report.steps["dbt build"].cpu > 1.0  # dbt's own process (start-up alone takes seconds) is counted
    assert all(f.wall >= 0 and f.peak_rss > 0 for f in report.steps.values())


def test_file_is_self_contained(fixture_warehouse, con):
    views = con.sql("select view_name from duckdb_views() where not internal").fetchall()
    assert views == [("training_set",)]
    assert con.sql("select current_database()").fetchall()[0][0] == fixture_warehouse.path.stem
    names = {r[0] for r in con.sql("select table_name from duckdb_tables()").fetchall()}
    assert {"applicant_features", "meta_feature_sql", "meta_build_info"} <= names
    assert not any(n.lower() in {"bureau", "application_train"} for n in names)  # no raw copy left
    assert not list(fixture_warehouse.path.parent.glob(f".{fixture_warehouse.path.stem}.build-*"))  # work folder gone
    assert sorted(p.name for p in fixture_warehouse.path.parent.iterdir()) == ["home-credit warehouse.duckdb", "raw"]
    info = dict(con.sql("select key, value from meta_build_info").fetchall())
    assert info["catalog"] == "warehouse"  # the catalog the stored SQL names, not the file's stem


def test_file_works_under_another_name(fixture_warehouse, tmp_path):
    copy = tmp_path / "renamed_copy.duckdb"
    shutil.copy2(fixture_warehouse.path, copy)
    with duckdb.connect() as other:
        other.execute(f"attach '{copy}' as elsewhere (read_only)")
        assert other.sql("select count(*) from elsewhere.training_set").fetchall()[0][0] == N_TRAIN


def test_meta_feature_sql_is_the_model_chain_in_run_order(con):
    rows = con.sql("select run_order, model_name, compiled_sql from meta_feature_sql order by run_order").fetchall()
    names = [r[1] for r in rows]
    assert names[-1] == "applicant_features" and "training_set" not in names
    assert names.index("stg_bureau_balance") < names.index("int_bureau_balance_by_loan") < names.index(
        "int_bureau_features")
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert all("{{" not in r[2] and "select" in r[2].lower() for r in rows)  # compiled, not Jinja


def test_types_follow_the_interface(con):
    types = dict(con.sql("select column_name, data_type from duckdb_columns() "
                         "where table_name = 'applicant_features'").fetchall())
    assert types["sk_id_curr"] == "BIGINT" and types["dataset"] == "VARCHAR" and types["target"] == "INTEGER"
    assert types["flag_own_car"] == "BOOLEAN" and types["days_employed_anomaly"] == "BOOLEAN"
    assert types["code_gender"] == "VARCHAR" and types["ext_source_mean"] == "DOUBLE"
    assert set(types.values()) <= {"BIGINT", "INTEGER", "DOUBLE", "VARCHAR", "BOOLEAN"}  # no HUGEINT: pandas-safe


def test_cleaning_rules(con, fixture_tables):
    f = _features(con)
    assert pd.isna(f.loc[SENTINEL_APPLICANT, "days_employed"])
    assert bool(f.loc[SENTINEL_APPLICANT, "days_employed_anomaly"]) is True
    assert pd.isna(f.loc[SENTINEL_APPLICANT, "organization_type"])  # XNA -> NULL
    first = int(fixture_tables["application_train"].SK_ID_CURR.iloc[0])
    assert pd.isna(f.loc[first, "code_gender"])  # XNA -> NULL
    raw = fixture_tables["application_train"].set_index("SK_ID_CURR")
    expected_car = raw["FLAG_OWN_CAR"].map({"Y": True, "N": False}).astype("boolean")
    got = f.loc[raw.index, "flag_own_car"].astype("boolean")
    assert got.isna().equals(expected_car.isna()) and (got.dropna() == expected_car.dropna()).all()
    assert expected_car.notna().sum() > 0
    prev = fixture_tables["previous_application"]
    sentinel = (prev.DAYS_TERMINATION.astype(float) == 365243).groupby(prev.SK_ID_CURR).mean()
    np.testing.assert_allclose(f.loc[sentinel.index, "prev_days_termination_anomaly_share"].astype(float), sentinel)
    # 365243 -> NULL: it never reaches the aggregates of days_termination
    assert f["prev_days_termination_max"].max() < 0
    assert sentinel.gt(0).any() and sentinel.lt(1).any()


def test_history_after_the_application_is_ignored(con, fixture_tables):
    f = _features(con)
    bureau = fixture_tables["bureau"]
    owner = int(bureau.SK_ID_CURR[bureau.SK_ID_BUREAU == FUTURE_BUREAU_ID].iloc[0])
    mine = bureau[bureau.SK_ID_CURR.eq(owner)]
    assert f.loc[owner, "bureau_credit_count"] == len(mine) - 1  # the credit dated +12 days is not counted
    assert f.loc[owner, "bureau_amt_credit_sum_max"] < 1e6  # nor its amount
    inst = fixture_tables["installments_payments"]
    future = inst[inst.DAYS_INSTALMENT.astype(float) > 0]
    assert len(future) == 1  # the fixture does hold one
    sk = int(future.SK_ID_CURR.iloc[0])
    assert f.loc[sk, "inst_payment_count"] == inst.SK_ID_CURR.eq(sk).sum() - 1
    assert f["bureau_days_credit_max"].max() <= 0 and f["inst_days_entry_payment_max"].max() <= 0


def test_applicant_without_history_gets_zero_counts_and_null_aggregates(con):
    f = _features(con)
    row = f.loc[NO_HISTORY_APPLICANT]
    assert row["bureau_credit_count"] == 0 and row["prev_application_count"] == 0
    assert row["inst_payment_count"] == 0 and row["cc_month_count"] == 0 and row["pos_month_count"] == 0
    assert pd.isna(row["bureau_amt_credit_sum_mean"]) and pd.isna(row["inst_payment_ratio_mean"])


def test_feature_values_recomputed_with_pandas(con, fixture_tables):
    f = _features(con)
    app = pd.concat([fixture_tables["application_train"], fixture_tables["application_test"]]).set_index("SK_ID_CURR")
    ratio = app.AMT_CREDIT.astype(float) / app.AMT_INCOME_TOTAL.astype(float)
    np.testing.assert_allclose(f.loc[app.index, "credit_income_ratio"], ratio, rtol=1e-12)

    bureau = fixture_tables["bureau"].astype({"DAYS_CREDIT": int, "AMT_CREDIT_SUM": float})
    bureau = bureau[bureau.DAYS_CREDIT <= 0]
    by = bureau.groupby("SK_ID_CURR")
    np.testing.assert_array_equal(f.loc[by.size().index, "bureau_credit_count"], by.size())
    np.testing.assert_allclose(f.loc[by.size().index, "bureau_amt_credit_sum_sum"], by.AMT_CREDIT_SUM.sum(), rtol=1e-12)
    active = bureau[bureau.CREDIT_ACTIVE == "Active"].groupby("SK_ID_CURR").AMT_CREDIT_SUM.mean()
    np.testing.assert_allclose(f.loc[active.index, "bureau_active_amt_credit_sum_mean"], active, rtol=1e-12)

    inst = fixture_tables["installments_payments"].astype(
        {"DAYS_INSTALMENT": float, "AMT_PAYMENT": float, "AMT_INSTALMENT": float, "DAYS_ENTRY_PAYMENT": float})
    inst = inst[inst.DAYS_INSTALMENT <= 0]
    inst = inst.assign(ratio=inst.AMT_PAYMENT / inst.AMT_INSTALMENT,
                       late=(inst.DAYS_ENTRY_PAYMENT - inst.DAYS_INSTALMENT).clip(lower=0))
    g = inst.groupby("SK_ID_CURR")
    np.testing.assert_allclose(f.loc[g.size().index, "inst_payment_ratio_mean"], g.ratio.mean(), rtol=1e-9)
    np.testing.assert_allclose(f.loc[g.size().index, "inst_days_past_due_max"], g.late.max(), rtol=1e-12)

    prev = fixture_tables["previous_application"]
    refused = prev.assign(refused=prev.NAME_CONTRACT_STATUS == "Refused").groupby("SK_ID_CURR").refused.mean()
    np.testing.assert_allclose(f.loc[refused.index, "prev_refused_share"], refused, rtol=1e-12)

    cc = fixture_tables["credit_card_balance"].astype({"AMT_BALANCE": float, "AMT_CREDIT_LIMIT_ACTUAL": float})
    cc = cc.assign(util=cc.AMT_BALANCE / cc.AMT_CREDIT_LIMIT_ACTUAL.replace(0, np.nan))
    util = cc.groupby("SK_ID_CURR").util.mean()
    np.testing.assert_allclose(f.loc[util.index, "cc_utilization_mean"].astype(float), util, rtol=1e-9)

    es = app[["EXT_SOURCE_1", "EXT_SOURCE_2", "EXT_SOURCE_3"]].astype(float)
    np.testing.assert_allclose(f.loc[app.index, "ext_source_mean"].astype(float), es.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(f.loc[app.index, "ext_source_std"].astype(float), es.std(axis=1, ddof=0), rtol=1e-9,
                               atol=1e-12)
