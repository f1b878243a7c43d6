"""Generate a complete synthetic Home Credit data set in chunks of applicants."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from synthetic.application import Latents, generate_applicants
from synthetic.bureau import generate_bureau
from synthetic.chunks import ChunkData, ChunkJob, run_chunks, usable_jobs
from synthetic.frame import Frame, to_arrow
from synthetic.previous import generate_previous
from synthetic.schema import GROUND_TRUTH_FILE, HISTORY_TABLES, TABLES, csv_name, raw_columns
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


def generate(
    out_dir: Path, plan: Plan, stats: Stats | None = None, threads: int = 2, jobs: int = 1
) -> Summary:
    """Write the eight CSVs, ``ground_truth.csv`` and the marker into ``out_dir`` (atomically);
    ``threads``: DuckDB threads formatting the CSV; ``jobs``: processes generating chunks in parallel
    (the bytes do not depend on it)."""
    stats = stats or load_stats()
    writer = DatasetWriter(out_dir, threads=threads)
    try:
        summary = _generate(writer, plan, stats, jobs)
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


def _generate(writer: DatasetWriter, plan: Plan, stats: Stats, jobs: int = 1) -> Summary:
    cols = raw_columns()
    for t in TABLES:
        writer.declare(csv_name(t), [c for c, _ in cols[t]])
    root = np.random.SeedSequence([plan.seed, GENERATOR_VERSION])
    split_rng, target_rng, *_ = (np.random.default_rng(s) for s in root.spawn(2))
    is_test = np.zeros(plan.n_total, dtype=bool)
    is_test[split_rng.choice(plan.n_total, plan.n_test, replace=False)] = True
    ids = FIRST_CURR + np.arange(plan.n_total, dtype=np.int64)
    logits = np.empty(plan.n_total)
    rows = {t: 0 for t in TABLES}
    chunk_seeds = np.random.SeedSequence([plan.seed, GENERATOR_VERSION, 1])
    n_chunks = (plan.n_total + plan.chunk - 1) // plan.chunk
    seeds = chunk_seeds.spawn(n_chunks)
    job = ChunkJob(
        n_chunks=n_chunks,
        n_counts=2,
        make=lambda ci: _make_chunk(plan, stats, is_test, ci, seeds[ci]),
        tables=_chunk_tables,
        staging=writer.staging,
        threads=writer.threads,
    )
    start = time.perf_counter()
    results, cpu = run_chunks(job, jobs)
    log.info("%d chunks generated and written in %.1f s wall (%d processes)", n_chunks,
             time.perf_counter() - start, usable_jobs(jobs, n_chunks))  # fmt: skip
    app_chunks: list[tuple[np.ndarray, Frame]] = []
    for res in results:  # in chunk order
        cpu.update(res.cpu)
        lo, hi = res.index * plan.chunk, min((res.index + 1) * plan.chunk, plan.n_total)
        logits[lo:hi] = res.logits
        app_chunks.append((np.arange(lo, hi), res.app))
        for table, n in res.rows.items():
            rows[table] += n
            if n:
                writer.add_part(csv_name(table), res.parts[table])
        log.info("chunk %d/%d: %d applicants", res.index + 1, n_chunks, hi - lo)
    # the history tables are written chunk by chunk by the processes that made the chunks: complete now,
    # joined while the applicants are written
    writer.assemble_early([csv_name(t) for t in HISTORY_TABLES])

    start = time.perf_counter()
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
    writer.flush()
    cpu.update({f"CSV {name}": sec for name, sec in writer.cpu.items()})
    log.info("applicants and ground truth written in %.1f s wall", time.perf_counter() - start)
    log.info("CPU seconds per step, all processes: %s",
             ", ".join(f"{k} {v:.1f}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1])))  # fmt: skip
    return Summary(rows=rows, default_rate=float(target[~is_test].mean()), intercept=intercept)


def _make_chunk(
    plan: Plan, stats: Stats, is_test: np.ndarray, ci: int, seq: np.random.SeedSequence
) -> ChunkData:
    """Applicants ``ci * chunk ...`` and their histories, history ids counted from 0."""
    rng = np.random.default_rng(seq)
    lo, hi = ci * plan.chunk, min((ci + 1) * plan.chunk, plan.n_total)
    n = hi - lo
    t0 = time.thread_time()
    app, lat = _applicants(rng, stats, is_test[lo:hi])
    behaviour = BEHAVIOUR_RISK * lat.risk + np.sqrt(1 - BEHAVIOUR_RISK**2) * rng.standard_normal(n)
    t1 = time.thread_time()
    bur = generate_bureau(rng, stats, behaviour, lat.wealth, 1.0, 0)
    t2 = time.thread_time()
    prev = generate_previous(rng, stats, behaviour, np.asarray(app["DAYS_BIRTH"]), 0)
    t3 = time.thread_time()
    logits = ground_truth_logit(app, bur.features, prev.features)
    chunk_ids = FIRST_CURR + np.arange(lo, hi, dtype=np.int64)
    app["SK_ID_CURR"] = chunk_ids.astype(float)
    bur.bureau["SK_ID_CURR"] = chunk_ids[bur.bureau["_owner"]].astype(float)
    prev_owner = prev.previous["_owner"]
    prev.previous["SK_ID_CURR"] = chunk_ids[prev_owner].astype(float)
    prev_ids = np.asarray(prev.previous["SK_ID_PREV"])
    tables: dict[str, Frame] = {
        "bureau": bur.bureau,
        "bureau_balance": bur.balance,
        "previous_application": prev.previous,
    }
    for table, frame in (
        ("POS_CASH_balance", prev.pos),
        ("installments_payments", prev.installments),
        ("credit_card_balance", prev.cards),
    ):
        loan = frame["_loan"]
        frame["SK_ID_PREV"] = prev_ids[loan]
        frame["SK_ID_CURR"] = chunk_ids[prev_owner[loan]].astype(float)
        tables[table] = frame
    cpu = {"applicants": t1 - t0, "bureau": t2 - t1, "previous": t3 - t2}
    return ChunkData(app, logits, (bur.n_ids, prev.n_ids), tables, cpu)


#: the id column of each history table, shifted by the ids of the earlier chunks (bureau, previous)
_ID_SHIFT = {
    "bureau": ("SK_ID_BUREAU", 0, FIRST_BUREAU),
    "bureau_balance": ("SK_ID_BUREAU", 0, FIRST_BUREAU),
    "previous_application": ("SK_ID_PREV", 1, FIRST_PREV),
    "POS_CASH_balance": ("SK_ID_PREV", 1, FIRST_PREV),
    "installments_payments": ("SK_ID_PREV", 1, FIRST_PREV),
    "credit_card_balance": ("SK_ID_PREV", 1, FIRST_PREV),
}


def _chunk_tables(data: ChunkData, offsets: tuple[int, ...]) -> dict[str, pa.Table]:
    out = {}
    for table, frame in data.payload.items():
        column, kind, first = _ID_SHIFT[table]
        frame[column] = np.asarray(frame[column], dtype=np.int64) + (first + offsets[kind])
        out[table] = to_arrow(frame, raw_columns()[table])
    return out


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
