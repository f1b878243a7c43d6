"""The cyclic garbage collector in a serving process.

A serving process holds ~265,000 objects once loaded (its libraries' functions, types and dicts, the model, the
warehouse's frames); request garbage makes the collector run a full collection every few seconds, and each one
scanned all of them: 50-160 ms with the GIL held, which stalled every request in flight (issue 16 goal 3: the
explanation p99 at 16 concurrent went to ~200 ms, bench/bench_api.py). `settle()` after each load moves what is
alive then out of the collector's reach (``gc.freeze``), so the full collections scan only what requests create.
It unfreezes and collects first, so the cycles a swap released (an old model, an old warehouse generation) are
still freed.
"""

from __future__ import annotations

import gc
import threading
import time

_lock = threading.Lock()


def settle() -> float:
    """Collect, then freeze every object alive now; returns the seconds it took (one full collection)."""
    started = time.perf_counter()
    with _lock:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
    return time.perf_counter() - started
