"""Plain JSON values from pandas / numpy scalars."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def scalar(value: Any) -> float | int | str | bool | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | str):
        return value
    return str(value)
