"""Generate a complete synthetic Home Credit data set in chunks of applicants."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from synthetic.application import Latents, generate_applicants
from synthetic.bureau import generate_bureau
from synthetic.frame import Frame, to_arrow
from synthetic.previous import generate_previous
from synthetic.schema import GROUND_TRUTH_FILE, TABLES, csv_name, raw_columns
from synthetic.stats import Stats, load_stats
from synthetic.target import calibrate_intercept, ground_truth_logit, sigmoid
from synthetic.writer import DatasetWriter

log = logging.getLogger(__name__)

KAGGLE_TRAIN = 307_511
KAGGLE_TEST = 48_744
MIN_TRAIN = 400
MIN_TEST = 100
FIRST_CURR = 100_002
FIRST_PREV = 1_000_001
FIRST_BUREAU = 5_000_000
CHUNK = 25_000
#: weight of the applicant's risk factor in their payment behaviour (the rest is history-only signal)
BEHAVIOUR_RISK = 0.55
GENERATOR_VERSION = 1


@dataclass
class Plan:
    scale: float
    seed: int
    n_train: int
    n_test: int
    chunk: int = CHUNK

    @classmethod
    def for_scale(cls, scale: float, seed: int, chunk: int = CHUNK) -> Plan:
        return cls(
            scale=scale,
            seed=seed,
            n_train=max(round(KAGGLE_TRAIN * scale), MIN_TRAIN),
            n_test=max(round(KAGGLE_TEST * scale), MIN_TEST),
            chunk=chunk,
        )

    @property
    def n_total(self) -> int:
        return self.n_train + self.n_test


@dataclass
class Summary:
    rows: dict[str, int] = field(default_factory=dict)
    default_rate: float = 0.0
    intercept: float = 0.0


def generate(out_dir: Path, plan: Plan, stats: Stats | None = None, threads: int = 2) -> Summary:
    """Write the eight CSVs, ``ground_truth.csv`` and the marker into ``out_dir`` (atomically);
    ``threads``: DuckDB threads formatting the CSV."""
    stats = stats or load_stats()
    writer = DatasetWriter(out_dir, threads=threads)
    try:
        summary = _generate(writer, plan, stats)
        writer.commit(
            {
                "generator": "synthetic",
                "version": GENERATOR_VERSION,
                "scale": plan.scale,
                "seed": plan.seed,
                "rows": summary.rows,
                "default_rate": round(summary.default_rate, 6),
            }
        )
    except BaseException:
        writer.abort()
        raise
    return summary


def _generate(writer: DatasetWriter, plan: Plan, stats: Stats) -> Summary:
    cols = raw_columns()
    for t in TABLES:
        writer.declare(csv_name(t), [c for c, _ in cols[t]])
    root = np.random.SeedSequence([plan.seed, GENERATOR_VERSION])
    split_rng, target_rng, *_ = (np.random.default_rng(s) for s in root.spawn(2))
    is_test = np.zeros(plan.n_total, dtype=bool)
    is_test[split_rng.choice(plan.n_total, plan.n_test, replace=False)] = True
    ids = FIRST_CURR + np.arange(plan.n_total, dtype=np.int64)
    logits = np.empty(plan.n_total)
    app_chunks: list[tuple[np.ndarray, Frame]] = []
    next_prev, next_bureau = FIRST_PREV, FIRST_BUREAU
    rows = {t: 0 for t in TABLES}
    chunk_seeds = np.random.SeedSequence([plan.seed, GENERATOR_VERSION, 1])
    n_chunks = (plan.n_total + plan.chunk - 1) // plan.chunk
    for ci, seq in enumerate(chunk_seeds.spawn(n_chunks)):
        rng = np.random.default_rng(seq)
        lo, hi = ci * plan.chunk, min((ci + 1) * plan.chunk, plan.n_total)
        n = hi - lo
        app, lat = _applicants(rng, stats, is_test[lo:hi])
        behaviour = BEHAVIOUR_RISK * lat.risk + np.sqrt(1 - BEHAVIOUR_RISK**2) * rng.standard_normal(n)
        bur = generate_bureau(rng, stats, behaviour, lat.wealth, 1.0, next_bureau)
        prev = generate_previous(rng, stats, behaviour, np.asarray(app["DAYS_BIRTH"]), next_prev)
        next_bureau += bur.n_ids
        next_prev += prev.n_ids
        logits[lo:hi] = ground_truth_logit(app, bur.features, prev.features)
        chunk_ids = ids[lo:hi]
        app["SK_ID_CURR"] = chunk_ids.astype(float)
        app_chunks.append((np.arange(lo, hi), app))

        bur.bureau["SK_ID_CURR"] = chunk_ids[bur.bureau["_owner"]].astype(float)
        _emit(writer, "bureau", bur.bureau, rows)
        _emit(writer, "bureau_balance", bur.balance, rows)
        prev_owner = prev.previous["_owner"]
        prev.previous["SK_ID_CURR"] = chunk_ids[prev_owner].astype(float)
        _emit(writer, "previous_application", prev.previous, rows)
        prev_ids = np.asarray(prev.previous["SK_ID_PREV"])
        for table, frame in (
            ("POS_CASH_balance", prev.pos),
            ("installments_payments", prev.installments),
            ("credit_card_balance", prev.cards),
        ):
            loan = frame["_loan"]
            frame["SK_ID_PREV"] = prev_ids[loan].astype(float)
            frame["SK_ID_CURR"] = chunk_ids[prev_owner[loan]].astype(float)
            _emit(writer, table, frame, rows)
        log.info("chunk %d/%d: %d applicants", ci + 1, n_chunks, n)

    intercept = calibrate_intercept(logits[~is_test])
    prob = sigmoid(logits + intercept)
    target = (target_rng.random(plan.n_total) < prob).astype(float)
    for _, (idx, app) in enumerate(app_chunks):
        test = is_test[idx]
        app["TARGET"] = target[idx]
        train_part = {
            k: (v[~test] if isinstance(v, np.ndarray) else (v[0][~test], v[1])) for k, v in app.items()
        }
        test_part = {
            k: (v[test] if isinstance(v, np.ndarray) else (v[0][test], v[1])) for k, v in app.items()
        }
        _emit(writer, "application_train", train_part, rows)
        _emit(writer, "application_test", test_part, rows)
    gt = pa.table({"SK_ID_CURR": pa.array(ids), "DEFAULT_PROBABILITY": pa.array(np.round(prob, 8))})
    writer.write_chunk(GROUND_TRUTH_FILE, gt)
    return Summary(rows=rows, default_rate=float(target[~is_test].mean()), intercept=intercept)


def _applicants(rng: np.random.Generator, stats: Stats, is_test: np.ndarray):
    """Train and test applicants of one chunk, interleaved in id order."""
    tr, tr_lat = generate_applicants(rng, int((~is_test).sum()), stats, "application_train")
    te, te_lat = generate_applicants(rng, int(is_test.sum()), stats, "application_test")
    app: Frame = {}
    for name, a in tr.items():
        b = te[name]
        if isinstance(a, tuple):
            assert isinstance(b, tuple)
            levels = list(dict.fromkeys([*a[1], *b[1]]))
            index = {lv: i for i, lv in enumerate(levels)}
            codes = np.empty(is_test.size, dtype=np.int64)
            remap_b = np.asarray([index[lv] for lv in b[1]] + [-1], dtype=np.int64)
            remap_a = np.asarray([index[lv] for lv in a[1]] + [-1], dtype=np.int64)
            codes[~is_test] = remap_a[np.where(a[0] < 0, len(a[1]), a[0])]
            codes[is_test] = remap_b[np.where(b[0] < 0, len(b[1]), b[0])]
            app[name] = (codes, levels)
        else:
            v = np.empty(is_test.size)
            v[~is_test], v[is_test] = a, np.asarray(b)
            app[name] = v
    lat = Latents(*(np.empty(is_test.size) for _ in range(3)))
    for field_name in ("risk", "wealth", "age"):
        arr = getattr(lat, field_name)
        arr[~is_test], arr[is_test] = getattr(tr_lat, field_name), getattr(te_lat, field_name)
    return app, lat


def _emit(writer: DatasetWriter, table: str, frame: Frame, rows: dict[str, int]) -> None:
    tbl = to_arrow(frame, raw_columns()[table])
    rows[table] += tbl.num_rows
    writer.write_chunk(csv_name(table), tbl)
