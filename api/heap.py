"""The cyclic garbage collector in a serving process.

A serving process holds ~265,000 objects once loaded (its libraries' functions, types and dicts, the model, the
warehouse's frames); request garbage makes the collector run a full collection every few seconds, and each one
scanned all of them: 50-160 ms with the GIL held, which stalled every request in flight (issue 16 goal 3: the
explanation p99 at 16 concurrent went to ~200 ms, bench/bench_api.py). `settle()` moves what is alive then out of the
collector's reach (``gc.freeze``), so the full collections scan only what requests create. It runs once at the end
of start-up (the libraries, the model, the warehouse) and after each swap (a new model version, a rebuilt warehouse
file); it unfreezes and collects first, so cyclic garbage frozen by an earlier settle is freed then (an old model
still held by a request in flight at its swap is frozen with the rest and freed at the next settle; objects freed by
their reference count, most of them, never wait for the collector, frozen or not). The bulk score book, built in the
background, is NumPy and Arrow arrays: nothing for the collector.
"""

from __future__ import annotations

import gc
import logging
import threading
import time

log = logging.getLogger("api.heap")
_lock = threading.Lock()


def settle() -> None:
    """Collect, then freeze every object alive now (one full collection, logged with its duration)."""
    started = time.perf_counter()
    with _lock:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        frozen = gc.get_freeze_count()
    log.info("heap settled: %d objects out of the collector's reach (%.2fs)", frozen, time.perf_counter() - started)
