"""Give the memory freed between training steps back to the operating system.

glibc keeps freed heap memory for reuse instead of unmapping it: after the comparison a SCALE=1 training process
held 3.04 GiB resident while its live frames took 1.4 GiB (``malloc_trim`` brought it to 1.96 GiB), and each fold's
matrices came on top of that retained memory. ``release()`` is called where a step's large arrays have just been
freed (after each cross-validation fold, before the final cross-validation and fit): the peak of a SCALE=1 full
`make train` went from 5.83 to 5.35 GiB (docs/modeling.md)."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any


@functools.cache
def _malloc_trim() -> Any:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to do
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release() -> bool:
    """Return the free memory at the top and inside the heap to the system (glibc ``malloc_trim(0)``); False where
    there is no such call."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
