import json
import os
from datetime import UTC, datetime

import pytest

from monitoring.store import list_reports, new_report_dir, write_index


def _write(folder, verdict_columns):
    (folder / "report.html").write_text("<html><body>r</body></html>")
    (folder / "summary.json").write_text(json.dumps({"model_version": "v1", "columns": ["a", "b"],
                                                     "drifted_columns": verdict_columns, "n_current": 10}))


def test_reports_land_in_dated_folders_with_latest_and_index(tmp_path):
    root = tmp_path / "drift"
    with new_report_dir(root, datetime(2025, 3, 10, 6, 0, 0, tzinfo=UTC)) as folder:
        assert folder.name.startswith(".tmp-")
        _write(folder, [])
    with new_report_dir(root, datetime(2025, 3, 17, 6, 0, 0, tzinfo=UTC)) as folder:
        _write(folder, ["a"])
    with new_report_dir(root, datetime(2025, 3, 17, 6, 0, 0, tzinfo=UTC)) as folder:  # same second
        _write(folder, ["a", "b"])
    names = sorted(p.name for p in root.iterdir())
    assert names == ["20250310T060000Z", "20250317T060000Z", "20250317T060000Z-2", "index.html", "latest"]
    assert os.readlink(root / "latest") == "20250317T060000Z-2"  # relative link to the newest
    index = (root / "index.html").read_text()
    assert index.index("20250317T060000Z-2") < index.index("20250310T060000Z")  # newest first
    assert "(latest)" in index and "2 drifted column(s)" in index and "no drift detected" in index
    assert [n for n, _ in list_reports(root)] == ["20250317T060000Z-2", "20250317T060000Z", "20250310T060000Z"]


def test_a_failed_report_leaves_everything_as_it_was(tmp_path):
    root = tmp_path / "drift"
    with new_report_dir(root, datetime(2025, 3, 10, tzinfo=UTC)) as folder:
        _write(folder, [])
    before = sorted(p.name for p in root.iterdir())
    index_before = (root / "index.html").read_text()
    with pytest.raises(RuntimeError, match="boom"), \
            new_report_dir(root, datetime(2025, 3, 17, tzinfo=UTC)) as folder:
        (folder / "report.html").write_text("half")
        raise RuntimeError("boom")
    assert sorted(p.name for p in root.iterdir()) == before  # no temporary folder, no new report
    assert os.readlink(root / "latest") == "20250310T000000Z"
    assert (root / "index.html").read_text() == index_before


def test_index_tolerates_a_broken_summary(tmp_path):
    root = tmp_path / "drift"
    (root / "20250101T000000Z").mkdir(parents=True)
    write_index(root)
    assert "summary.json missing or unreadable" in (root / "index.html").read_text()
