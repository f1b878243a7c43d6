"""Command line: arguments, determinism, refusing foreign data, atomic replacement."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from synthetic import cli, generator
from synthetic.generator import Plan, generate
from synthetic.schema import GROUND_TRUTH_FILE, MARKER_FILE, TABLES, csv_name
from synthetic.writer import STAGING_PREFIX, OutputError

REPO = Path(__file__).resolve().parents[2]
TINY = 0.002


def _digests(folder: Path) -> dict[str, str]:
    names = [csv_name(t) for t in TABLES] + [GROUND_TRUTH_FILE]
    return {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in names}


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a", Plan.for_scale(TINY, 5))
    generate(tmp_path / "b", Plan.for_scale(TINY, 5))
    generate(tmp_path / "c", Plan.for_scale(TINY, 6))
    a, b, c = _digests(tmp_path / "a"), _digests(tmp_path / "b"), _digests(tmp_path / "c")
    assert a == b
    assert all(a[n] != c[n] for n in a)


def test_chunking_does_not_break_links(tmp_path: Path) -> None:
    """Several chunks: ids keep increasing across chunks and every record still links."""
    import pandas as pd

    generate(tmp_path, Plan(scale=TINY, seed=1, n_train=700, n_test=150, chunk=300))
    prev = pd.read_csv(tmp_path / "previous_application.csv")
    pos = pd.read_csv(tmp_path / "POS_CASH_balance.csv")
    assert prev.SK_ID_PREV.is_unique and prev.SK_ID_PREV.is_monotonic_increasing
    assert set(pos.SK_ID_PREV) <= set(prev.SK_ID_PREV)
    app = pd.read_csv(tmp_path / "application_train.csv", usecols=["SK_ID_CURR"])
    assert len(app) == 700 and app.SK_ID_CURR.is_monotonic_increasing


def test_cli_writes_a_data_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "raw"
    assert cli.main(["--scale", str(TINY), "--seed", "3", "--out", str(out)]) == 0
    assert "train default rate" in capsys.readouterr().out
    marker = json.loads((out / MARKER_FILE).read_text())
    assert marker["complete"] is True and marker["seed"] == 3 and marker["scale"] == TINY
    assert marker["rows"]["application_train"] == round(generator.KAGGLE_TRAIN * TINY)
    assert not list(out.glob(f"{STAGING_PREFIX}*"))
    # regenerating over our own data is allowed
    assert cli.main(["--scale", str(TINY), "--seed", "4", "--out", str(out), "-q"]) == 0
    assert json.loads((out / MARKER_FILE).read_text())["seed"] == 4


def test_module_entry_point_and_help() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "synthetic", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0
    assert "--scale" in res.stdout and "--seed" in res.stdout and "--out" in res.stdout


@pytest.mark.parametrize("scale", ["0", "-1", "2.5", "abc", "nan", "inf", ""])
def test_bad_scale_is_refused(scale: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--scale", scale, "--out", str(tmp_path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--scale" in err and "(0, 2.0]" in err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("seed", ["x", "-1", "1.5", str(2**32)])
def test_bad_seed_is_refused(seed: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--seed", seed, "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert "--seed" in capsys.readouterr().err


def test_refuses_a_folder_with_foreign_kaggle_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "application_train.csv").write_text("SK_ID_CURR,TARGET\n100002,1\n")
    before = (tmp_path / "application_train.csv").read_bytes()
    assert cli.main(["--scale", str(TINY), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "application_train.csv" in err and MARKER_FILE in err and "Refusing" in err
    assert (tmp_path / "application_train.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["application_train.csv"]


def test_unwritable_destination_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert cli.main(["--scale", str(TINY), "--out", str(blocker / "raw")]) == 2
    assert "cannot write there" in capsys.readouterr().err
    assert cli.main(["--scale", str(TINY), "--out", str(blocker)]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_interrupted_run_keeps_the_previous_data_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generate(tmp_path, Plan.for_scale(TINY, 1))
    before = _digests(tmp_path)
    marker = (tmp_path / MARKER_FILE).read_text()
    calls = {"n": 0}
    real = generator.generate_previous

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # e.g. Ctrl-C in the middle of the run
        return real(*args, **kwargs)

    monkeypatch.setattr(generator, "generate_previous", failing)
    with pytest.raises(KeyboardInterrupt):
        generate(tmp_path, Plan(scale=TINY, seed=2, n_train=700, n_test=150, chunk=300))
    assert _digests(tmp_path) == before
    assert (tmp_path / MARKER_FILE).read_text() == marker
    assert not list(tmp_path.glob(f"{STAGING_PREFIX}*"))


def test_interrupted_first_run_leaves_no_data_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(generator, "generate_bureau", failing)
    with pytest.raises(RuntimeError):
        generate(tmp_path / "raw", Plan.for_scale(TINY, 1))
    assert list((tmp_path / "raw").iterdir()) == []


def test_check_destination_accepts_empty_and_own_folders(tmp_path: Path) -> None:
    from synthetic.writer import check_destination

    check_destination(tmp_path / "new" / "nested")
    assert (tmp_path / "new" / "nested").is_dir()
    own = tmp_path / "own"
    own.mkdir()
    (own / "bureau.csv").write_text("x\n")
    with pytest.raises(OutputError):
        check_destination(own)
    (own / MARKER_FILE).write_text("{}")
    check_destination(own)


def test_plan_sizes() -> None:
    full = Plan.for_scale(1.0, 0)
    assert (full.n_train, full.n_test) == (307_511, 48_744)
    assert Plan.for_scale(0.05, 0).n_train == round(307_511 * 0.05)
    tiny = Plan.for_scale(0.0001, 0)
    assert tiny.n_train >= 400 and tiny.n_test >= 100
    assert np.isclose(Plan.for_scale(2.0, 0).n_train, 615_022)


def test_parallel_chunks_give_the_same_bytes(tmp_path: Path) -> None:
    """Two processes making chunks at once write exactly what one process writes (ids included)."""
    plan = Plan(scale=TINY, seed=7, n_train=700, n_test=150, chunk=300)
    generate(tmp_path / "one", plan, jobs=1)
    generate(tmp_path / "two", plan, jobs=2)
    assert _digests(tmp_path / "one") == _digests(tmp_path / "two")


def test_a_failing_chunk_process_is_reported_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(rng, stats, behaviour, *args, **kwargs):
        if behaviour.size < 300:  # the last, smaller chunk fails; the other process is waiting or done
            raise ValueError("chunk went wrong")
        return real(rng, stats, behaviour, *args, **kwargs)

    real = generator.generate_bureau
    monkeypatch.setattr(generator, "generate_bureau", failing)
    with pytest.raises(ValueError, match="chunk went wrong"):
        generate(tmp_path / "raw", Plan(scale=TINY, seed=2, n_train=700, n_test=150, chunk=300), jobs=2)
    assert list((tmp_path / "raw").iterdir()) == []


def test_jobs_argument(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.build_parser(cli.SyntheticSettings()).parse_args(["--jobs", "0"])
    assert "expected a whole number in [1, 64]" in capsys.readouterr().err
    assert cli.build_parser(cli.SyntheticSettings()).parse_args(["--jobs", "3"]).jobs == 3
