"""The bulk score book at full volume (issue 16 goal 6): what it keeps for the request log, and the scan
order of a warehouse too large to preload."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import numpy as np
import pytest

from api.features import FeatureStore, WarehouseUnavailable
from api.score_book import log_features
from hc_contracts.log_privacy import DROPPED
from hc_contracts.request_log import to_arrow
from models_ml.registry import load_current
from warehouse.online import fetch_frame

NOW = datetime(2026, 1, 2, tzinfo=UTC)


def _rows(source, n: int) -> list[dict]:
    now = NOW
    return [{"logged_at": now, "model_version": "v", "endpoint": "applicant_score", "applicant_hash": "h",
             "probability": 0.5, "decision": "grant", "_source": (source, i)} for i in range(n)]


def test_the_book_logs_exactly_what_the_rows_log_and_holds_no_personal_field(api_env):
    """The book keeps the logged features coarsened, as float32: the request log written from it must be
    value for value the log written from the warehouse rows themselves (3,000 rows of the warehouse)."""
    model = load_current(api_env.artifacts)
    with duckdb.connect(str(api_env.warehouse), read_only=True) as con:
        frame = fetch_frame(con.sql("select * from applicant_features order by sk_id_curr limit 3000"))
    book = log_features(frame, model.feature_types)
    assert not set(DROPPED) & set(book.column_names)
    assert any(t == "float" for t in map(str, book.schema.types))  # numbers kept as float32
    from_book = to_arrow(_rows(book, len(frame)), model.feature_types)
    from_rows = to_arrow(_rows(frame, len(frame)), model.feature_types)
    assert from_book.schema == from_rows.schema
    for name in from_rows.column_names:
        assert from_book.column(name).equals(from_rows.column(name)), name


def test_a_large_warehouse_is_streamed_in_the_scan_order_read_at_opening(api_env):
    store = FeatureStore(api_env.warehouse, preload_rows=0)
    gen = store.current()
    assert gen.frame is None and gen.ids is not None and len(gen.ids) == len(gen.positions)
    streamed = np.concatenate([c["sk_id_curr"].to_numpy(dtype=np.int64) for c in store.chunks(gen, 5000)])
    assert streamed.tolist() == gen.ids.tolist()
    assert all(gen.positions[int(i)] == k for k, i in enumerate(streamed[:100]))
    gen.ids = gen.ids[::-1].copy()  # rows no longer where the positions say: refused, never mismatched
    with pytest.raises(WarehouseUnavailable, match="did not come in the order"):
        list(store.chunks(gen, 5000))
    store.close()
