"""Training progress: a bar and one line per step on a terminal, nothing on a pipe or a file."""

from __future__ import annotations

import io
import logging

import pytest
from rich.console import Console

from models_ml.progress import TrainingProgress


def _run(progress: TrainingProgress) -> None:
    with progress:
        with progress.stage("compare 13 on 20,000 rows", 6) as advance:
            for _ in range(6):
                advance(1)
        progress.summary("compare", 12.3, "13 candidates, selected lightgbm/none")


def test_progress_is_quiet_when_stdout_is_not_a_terminal(caplog: pytest.LogCaptureFixture) -> None:
    out = io.StringIO()
    progress = TrainingProgress(Console(file=out))  # a file: not a terminal
    assert not progress.enabled
    with caplog.at_level(logging.INFO, logger="models_ml.train"):
        _run(progress)
    assert out.getvalue() == ""
    # the step line still reaches the log (stderr), for CI and `make demo | tee`
    assert any("compare" in r.getMessage() and "selected lightgbm/none" in r.getMessage() for r in caplog.records)


def test_progress_shows_the_step_line_on_a_terminal() -> None:
    out = io.StringIO()
    progress = TrainingProgress(Console(file=out, force_terminal=True, width=120))
    assert progress.enabled
    _run(progress)
    text = out.getvalue()
    assert "compare" in text and "12.3 s" in text and "selected lightgbm/none" in text
    assert "compare 13 on 20,000 rows" in text  # the bar was drawn (transient: erased when done)
