"""The real Kaggle-format sample (7,589 linked applicants; some tables header-only) builds and passes every test."""

from __future__ import annotations

import duckdb
import pytest

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def con(sample_warehouse):
    with duckdb.connect(str(sample_warehouse.path), read_only=True) as connection:
        yield connection


def test_sample_builds_with_every_data_test_passing(sample_warehouse):
    report = sample_warehouse.report
    assert report.n_train == 7589 and report.n_applicants == 7589
    assert report.n_feature_columns >= 300
    assert report.n_passed > 100
    # the only warnings allowed are orphans (relationships, severity warn): the sample has no previous
    # applications, so every credit-card row is an orphan of previous_application
    assert all("relationships" in w for w in report.warnings)


def test_training_rows_unique_and_labelled(con):
    n, n_ids, rate = con.sql("select count(*), count(distinct sk_id_curr), avg(target) from training_set").fetchall()[0]
    assert n == n_ids == 7589
    assert rate == pytest.approx(0.0777, abs=0.0005)
    assert con.sql("select count(*) from applicant_features where dataset = 'test'").fetchall()[0][0] == 0


def test_header_only_tables_are_typed_and_empty(con):
    types = dict(con.sql("select column_name, data_type from duckdb_columns() "
                         "where table_name = 'int_previous_application_features'").fetchall())
    assert types["prev_amt_credit_mean"] == "DOUBLE" and types["prev_application_count"] == "BIGINT"
    for table in ("int_previous_application_features", "int_pos_cash_features", "int_installments_features"):
        assert con.sql(f"select count(*) from {table}").fetchall()[0][0] == 0
    counts = con.sql("select max(prev_application_count), max(inst_payment_count), max(pos_month_count), "
                     "count(*) filter (where bureau_credit_count > 0), count(*) filter (where cc_month_count > 0) "
                     "from applicant_features").fetchall()[0]
    assert counts[:3] == (0, 0, 0)
    assert counts[3] > 6000 and counts[4] > 0  # 6,503 applicants have bureau records


def test_real_anomalies_are_cleaned(con):
    n_anomaly, n_null_days = con.sql(
        "select count(*) filter (where days_employed_anomaly), count(*) filter (where days_employed is null) "
        "from applicant_features").fetchall()[0]
    assert n_anomaly > 1000 and n_null_days == n_anomaly  # 365243 -> NULL + flag
    assert con.sql("select count(*) from applicant_features where organization_type = 'XNA' "
                   "or code_gender = 'XNA'").fetchall()[0][0] == 0
    assert con.sql("select max(bureau_days_credit_max) from applicant_features").fetchall()[0][0] <= 0
