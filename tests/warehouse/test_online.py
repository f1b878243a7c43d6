"""Parity: the online builder, fed an applicant's raw rows, returns exactly the warehouse's row."""

from __future__ import annotations

import threading

import duckdb
import numpy as np
import pandas as pd
import pytest

from hc_contracts.raw_format import read_raw_csv
from warehouse.online import OnlineFeatureBuilder, OnlineInputError, fetch_frame

HISTORY_BY_APPLICANT = ["bureau", "previous_application", "POS_CASH_balance", "installments_payments",
                        "credit_card_balance"]


def rows_of(tables: dict[str, pd.DataFrame], ids: list[int], as_test: bool = False) -> dict[str, pd.DataFrame]:
    """The raw rows of these applicants in every table (bureau_balance through their bureau credits)."""
    out: dict[str, pd.DataFrame] = {}
    for name in ("application_train", "application_test"):
        frame = tables[name][tables[name].SK_ID_CURR.astype("int64").isin(ids)]
        frame = frame.iloc[frame.SK_ID_CURR.astype("int64").map(ids.index).argsort()]  # posted in `ids` order
        if as_test and name == "application_train":
            out["application_test"] = pd.concat([out.get("application_test"), frame.drop(columns="TARGET")])
        elif len(frame) or name not in out:
            out[name] = pd.concat([out.get(name), frame]) if name in out else frame
    for name in HISTORY_BY_APPLICANT:
        out[name] = tables[name][tables[name].SK_ID_CURR.astype("int64").isin(ids)]
    bureau_ids = out["bureau"].SK_ID_BUREAU.astype("int64")
    out["bureau_balance"] = tables["bureau_balance"][tables["bureau_balance"].SK_ID_BUREAU.astype("int64").isin(bureau_ids)]
    return out


def warehouse_rows(path, ids: list[int]) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        frame = fetch_frame(con.sql(f"select * from applicant_features where sk_id_curr in ({', '.join(map(str, ids))})"))
    return frame.set_index("sk_id_curr").loc[ids].reset_index()


def assert_same_rows(got: pd.DataFrame, expected: pd.DataFrame, skip: tuple[str, ...] = ()) -> None:
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected)
    mismatched = []
    for column in got.columns:
        if column in skip:
            continue
        a, e = got[column], expected[column]
        assert a.dtype == e.dtype, f"{column}: {a.dtype} != {e.dtype}"
        if pd.api.types.is_float_dtype(a):
            ok = np.allclose(a.to_numpy(float), e.to_numpy(float), rtol=1e-9, atol=1e-9, equal_nan=True)
        else:
            ok = a.astype(object).where(a.notna(), None).tolist() == e.astype(object).where(e.notna(), None).tolist()
        if not ok:
            mismatched.append(column)
    assert not mismatched, f"online != warehouse for {mismatched[:10]} ({len(mismatched)} columns)"


@pytest.fixture(scope="module")
def fixture_builder(fixture_warehouse):
    with OnlineFeatureBuilder.from_warehouse(fixture_warehouse.path) as builder:
        yield builder


def _all_ids(tables) -> list[int]:
    return [int(x) for x in pd.concat([tables["application_train"].SK_ID_CURR, tables["application_test"].SK_ID_CURR])]


def test_parity_on_fixture_applicants_one_by_one(fixture_builder, fixture_warehouse, fixture_tables):
    ids = _all_ids(fixture_tables)
    expected = warehouse_rows(fixture_warehouse.path, ids)
    got = pd.concat([fixture_builder.build(rows_of(fixture_tables, [i])) for i in ids], ignore_index=True)
    assert_same_rows(got, expected)
    assert got.bureau_credit_count.sum() > 0 and got.inst_payment_count.sum() > 0 and got.cc_month_count.sum() > 0


def test_parity_on_a_batch(fixture_builder, fixture_warehouse, fixture_tables):
    ids = _all_ids(fixture_tables)[::-1]
    posted = rows_of(fixture_tables, ids)
    got = fixture_builder.build(posted)
    order = [int(i) for t in ("application_train", "application_test") for i in posted[t].SK_ID_CURR]
    assert got.sk_id_curr.tolist() == order  # in the order posted: application_train rows, then application_test
    assert_same_rows(got, warehouse_rows(fixture_warehouse.path, order))


def test_new_application_posted_as_application_test(fixture_builder, fixture_warehouse, fixture_tables):
    ids = [int(x) for x in fixture_tables["application_train"].SK_ID_CURR.iloc[:5]]
    got = fixture_builder.build(rows_of(fixture_tables, ids, as_test=True))
    assert (got.dataset == "test").all() and got.target.isna().all()
    assert_same_rows(got, warehouse_rows(fixture_warehouse.path, ids), skip=("dataset", "target"))


def test_an_application_alone_and_nothing(fixture_builder, fixture_tables):
    app = fixture_tables["application_test"].iloc[[0]]
    got = fixture_builder.build({"application_test": app})
    assert len(got) == 1 and got.bureau_credit_count.iloc[0] == 0 and pd.isna(got.bureau_days_credit_mean.iloc[0])
    assert len(fixture_builder.build({})) == 0
    # nothing is left behind between calls
    assert len(fixture_builder.build({"application_test": app})) == 1


def test_thread_safety(fixture_builder, fixture_warehouse, fixture_tables):
    ids = _all_ids(fixture_tables)
    expected = warehouse_rows(fixture_warehouse.path, ids).set_index("sk_id_curr")
    errors: list[BaseException] = []

    def work(chunk: list[int]) -> None:
        try:
            for _ in range(3):
                got = fixture_builder.build(rows_of(fixture_tables, chunk))
                assert got.sk_id_curr.tolist() == chunk
                assert_same_rows(got, expected.loc[chunk].reset_index())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(ids[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


def test_bad_input_is_named(fixture_builder, fixture_tables):
    app = fixture_tables["application_test"].iloc[[0]]
    with pytest.raises(OnlineInputError, match="unknown table"):
        fixture_builder.build({"applications": app})
    with pytest.raises(OnlineInputError, match=r"application_test: unknown column\(s\) \['AMT_CREDITS'\]"):
        fixture_builder.build({"application_test": app.rename(columns={"AMT_CREDIT": "AMT_CREDITS"})})
    with pytest.raises(OnlineInputError, match="application_test"):
        fixture_builder.build({"application_test": app.assign(AMT_CREDIT="lots")})
    assert len(fixture_builder.build({"application_test": app})) == 1  # still usable


@pytest.mark.real_data
def test_parity_on_real_sample(sample_warehouse, real_sample_dir):
    con = duckdb.connect()

    def read(table: str) -> pd.DataFrame:
        return read_raw_csv(real_sample_dir / f"{table}.csv", table, connection=con)

    tables = {t: read(t) for t in ["application_train", "application_test", "bureau", "bureau_balance",
                                   "previous_application", "POS_CASH_balance", "installments_payments",
                                   "credit_card_balance"]}
    with_cc = tables["credit_card_balance"].SK_ID_CURR.drop_duplicates().head(8).tolist()
    with_bureau = tables["bureau"].SK_ID_CURR.drop_duplicates().sample(12, random_state=0).tolist()
    no_history = tables["application_train"].SK_ID_CURR[
        ~tables["application_train"].SK_ID_CURR.isin(tables["bureau"].SK_ID_CURR)].head(3).tolist()
    ids = [int(i) for i in dict.fromkeys(with_cc + with_bureau + no_history)]
    expected = warehouse_rows(sample_warehouse.path, ids)
    with OnlineFeatureBuilder.from_warehouse(sample_warehouse.path) as builder:
        one_by_one = pd.concat([builder.build(rows_of(tables, [i])) for i in ids], ignore_index=True)
        assert_same_rows(one_by_one, expected)
        assert_same_rows(builder.build(rows_of(tables, ids)), expected)
        as_new = builder.build(rows_of(tables, ids[:4], as_test=True))
        assert_same_rows(as_new, expected.iloc[:4].reset_index(drop=True), skip=("dataset", "target"))
    assert (expected.bureau_credit_count > 0).sum() >= 12 and (expected.cc_month_count > 0).sum() >= 8


def test_what_if_without_change_is_the_stored_row(fixture_builder, fixture_warehouse, fixture_tables):
    """A known applicant's stored application + stored history aggregates, through the mart SQL again."""
    assert fixture_builder.seed_models()[0] == "int_applications"
    assert "int_application_features" not in fixture_builder.seed_models()  # recomputed from the application
    assert {"int_bureau_features", "int_previous_application_features"} <= set(fixture_builder.seed_models())
    ids = _all_ids(fixture_tables)
    expected = warehouse_rows(fixture_warehouse.path, ids)
    with duckdb.connect(str(fixture_warehouse.path), read_only=True) as con:
        got = pd.concat([fixture_builder.what_if(con, i, {}) for i in ids], ignore_index=True)
    assert_same_rows(got, expected)
    assert got.bureau_credit_count.sum() > 0 and got.cc_month_count.sum() > 0


def test_what_if_changes_the_application_and_what_derives_from_it(fixture_builder, fixture_warehouse,
                                                                   fixture_tables):
    sk = int(fixture_tables["application_train"].SK_ID_CURR.iloc[0])
    with duckdb.connect(str(fixture_warehouse.path), read_only=True) as con:
        base = fixture_builder.what_if(con, sk, {})
        doubled = fixture_builder.what_if(con, sk, {"amt_income_total": 2 * float(base.amt_income_total[0])})
        credit = fixture_builder.what_if(con, sk, {"amt_credit": 3 * float(base.amt_credit[0])})
        assert fixture_builder.what_if(con, 1, {}).empty  # unknown applicant
        with pytest.raises(OnlineInputError, match="not_a_column"):
            fixture_builder.what_if(con, sk, {"not_a_column": 1.0})
        with pytest.raises(OnlineInputError, match="sk_id_curr"):
            fixture_builder.what_if(con, sk, {"sk_id_curr": 5})
        again = fixture_builder.what_if(con, sk, {})  # nothing left behind by the failed calls
    assert_same_rows(again, base)
    assert doubled.amt_income_total[0] == 2 * base.amt_income_total[0]
    assert doubled.annuity_income_ratio[0] == pytest.approx(base.annuity_income_ratio[0] / 2)
    assert credit.credit_income_ratio[0] == pytest.approx(3 * base.credit_income_ratio[0])
    # the history aggregates are the stored ones, whatever the application says
    history = [c for c in base.columns if c.startswith(("bureau_", "prev_", "inst_", "pos_", "cc_"))]
    assert history and all(base[c].equals(doubled[c]) for c in history)


def test_seeding_rejects_what_is_not_a_model(fixture_builder):
    with pytest.raises(OnlineInputError, match="cannot seed"):
        fixture_builder.build({}, seeded={"bureau": pd.DataFrame()})
    with pytest.raises(OnlineInputError, match="int_bureau_features"):
        fixture_builder.build({}, seeded={"int_bureau_features": pd.DataFrame({"nope": [1]})})


def test_a_failed_seeded_build_leaves_nothing_behind(fixture_builder, fixture_warehouse, fixture_tables):
    """The applicant's row goes in, then a bad history frame fails: the next call must not see that row."""
    sk = int(fixture_tables["application_train"].SK_ID_CURR.iloc[0])
    with duckdb.connect(str(fixture_warehouse.path), read_only=True) as con:
        stored = fetch_frame(con.sql("select * from int_applications where sk_id_curr = $id", params={"id": sk}))
        with pytest.raises(OnlineInputError, match="int_bureau_features"):
            fixture_builder.build({}, seeded={"int_applications": stored,
                                              "int_bureau_features": pd.DataFrame({"sk_id_curr": [sk], "nope": [1]})})
        again = fixture_builder.what_if(con, sk, {})
    assert len(again) == 1
    assert_same_rows(again, warehouse_rows(fixture_warehouse.path, [sk]))


def test_seed_models_refuse_a_mart_without_recorded_history(fixture_builder, monkeypatch):
    """An older warehouse without meta_feature_dependencies: a what-if would drop the history silently."""
    import dataclasses

    bare = [dataclasses.replace(m, depends_on=()) if m.model_name == "applicant_features" else m
            for m in fixture_builder.models]
    monkeypatch.setattr(fixture_builder, "models", bare)
    with pytest.raises(ValueError, match="no history model feeding applicant_features"):
        fixture_builder.seed_models()


def test_last_applications_newest_first_with_ties_and_undecided(fixture_builder, fixture_tables):
    """prev_last{1,3,5}_*: the applications ranked by days_decision then sk_id_prev, both descending, undecided
    (NULL days_decision) last -- the window's order, which DuckDB's `max_by(..., 5)` form must keep."""
    app = fixture_tables["application_test"].iloc[[0]]
    sk = int(app.SK_ID_CURR.iloc[0])
    template = fixture_tables["previous_application"].iloc[[0] * 7].reset_index(drop=True)
    rows = template.assign(
        SK_ID_CURR=sk,
        SK_ID_PREV=[11, 12, 13, 14, 15, 16, 17],
        DAYS_DECISION=[-10, -10, None, -5, -30, None, -20],  # a tie at -10 (sk_id_prev 12 before 11), two undecided
        NAME_CONTRACT_STATUS=["Refused", "Approved", "Refused", "Approved", "Refused", "Approved", "Approved"],
        AMT_CREDIT=[100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0],
    )
    got = fixture_builder.build({"application_test": app, "previous_application": rows}).iloc[0]
    newest = [14, 12, 11, 17, 15, 16, 13]  # -5, -10 (12, 11), -20, -30, then the undecided by id desc: 16, 13
    ranked = rows.set_index("SK_ID_PREV").loc[newest]
    for n in (1, 3, 5):
        top = ranked.iloc[:n]
        assert got[f"prev_last{n}_refused_share"] == pytest.approx((top.NAME_CONTRACT_STATUS == "Refused").mean())
        assert got[f"prev_last{n}_amt_credit_mean"] == pytest.approx(top.AMT_CREDIT.mean())
        assert got[f"prev_last{n}_days_decision_mean"] == pytest.approx(top.DAYS_DECISION.astype(float).mean())
    # fewer applications than n, the newest undecided: every one counts, the undecided one after the decided one
    two = rows.iloc[[2, 3]]  # sk_id_prev 13 (undecided, refused), 14 (-5, approved)
    got = fixture_builder.build({"application_test": app, "previous_application": two}).iloc[0]
    assert got["prev_last1_refused_share"] == 0.0 and got["prev_last1_amt_credit_mean"] == 400.0
    assert got["prev_last3_refused_share"] == 0.5 and got["prev_last3_amt_credit_mean"] == 350.0
    assert got["prev_last5_days_decision_mean"] == -5.0
