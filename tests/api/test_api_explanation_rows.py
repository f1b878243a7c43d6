"""The shared file of encoded explanation rows (api/explanation_rows.py): written once, read by position without
a memory map, rebuilt when it does not match, and nothing half-written when a build fails."""

from __future__ import annotations

import json

import numpy as np
import pytest

from api.explanation_rows import RowFile, rows_paths, shared_rows

NAMES = ["a", "b", "c"]


def blocks(values: np.ndarray, calls: list[int], size: int = 4):
    def build(levels):
        calls.append(1)
        levels["c"] = ["x", "y"]
        for start in range(0, len(values), size):
            yield values[start : start + size]
    return build


def test_rows_are_written_once_and_read_by_position(tmp_path):
    values = np.arange(30, dtype=np.float64).reshape(10, 3)
    values[3, 1] = np.nan
    calls: list[int] = []
    rows, levels, shared = shared_rows(tmp_path / "books", (1, 2), "v1", 10, NAMES, blocks(values, calls))
    again, _, _ = shared_rows(tmp_path / "books", (1, 2), "v1", 10, NAMES, blocks(values, calls))
    assert shared and calls == [1] and levels == {"c": ["x", "y"]}
    assert isinstance(rows, RowFile) and rows.shape == (10, 3)
    np.testing.assert_array_equal(rows[np.array([9, 3, 0, 3])], values[[9, 3, 0, 3]])
    np.testing.assert_array_equal(again[np.array([5])], values[[5]])
    with pytest.raises(IndexError, match="row 10 of 10"):
        rows[np.array([10])]
    matrix, meta = rows_paths(tmp_path / "books", (1, 2), "v1")
    assert matrix.stat().st_mode & 0o777 == 0o600 and meta.stat().st_mode & 0o777 == 0o600
    assert np.array_equal(np.load(matrix), values, equal_nan=True)  # a plain .npy file


def test_a_file_of_another_shape_is_rebuilt_and_older_files_removed(tmp_path):
    values = np.ones((6, 3))
    calls: list[int] = []
    shared_rows(tmp_path, (1, 2), "v1", 6, NAMES, blocks(values, calls))
    matrix, meta = rows_paths(tmp_path, (1, 2), "v1")
    meta.write_text(json.dumps({"rows": 5, "features": NAMES, "levels": {}}))  # does not match the warehouse
    rows, _, _ = shared_rows(tmp_path, (1, 2), "v1", 6, NAMES, blocks(values * 2, calls))
    assert calls == [1, 1] and rows[np.array([5])][0].tolist() == [2.0, 2.0, 2.0]
    shared_rows(tmp_path, (3, 4), "v1", 6, NAMES, blocks(values, calls))  # a new warehouse file
    assert not matrix.exists() and not meta.exists()


def test_a_build_that_gives_the_wrong_number_of_rows_leaves_nothing(tmp_path):
    calls: list[int] = []
    with pytest.raises(ValueError, match="gave 6 rows to encode, 7 expected"):
        shared_rows(tmp_path, (1, 2), "v1", 7, NAMES, blocks(np.ones((6, 3)), calls))
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".lock"]
