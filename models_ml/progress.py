"""Progress of a training run: a rich progress bar with an ETA over candidates, tuning trials and folds, and
one summary line per step. On a terminal only: when stdout is a file or a pipe (CI, `make demo | tee`) the
bar and the lines are silent, and the log (stderr) says what happened."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

log = logging.getLogger("models_ml.train")


class TrainingProgress:
    """Use as a context manager; ``stage`` yields an ``advance(n=1)`` callable; ``summary`` prints one line."""

    def __init__(self, console: Console | None = None, enabled: bool | None = None) -> None:
        self.console = console or Console()
        self.enabled = self.console.is_terminal if enabled is None else enabled
        self._progress: Progress | None = None

    def __enter__(self) -> TrainingProgress:
        if self.enabled:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=self.console,
                transient=True, redirect_stderr=False)
            self._progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    @contextmanager
    def stage(self, description: str, total: int) -> Iterator[Callable[[int], None]]:
        """A bar of ``total`` units (candidates x folds, trials x folds, folds) while the block runs."""
        if self._progress is None:
            yield lambda n=1: None
            return
        task = self._progress.add_task(description, total=max(total, 1))

        def advance(n: int = 1) -> None:
            if self._progress is not None:
                self._progress.advance(task, n)

        try:
            yield advance
        finally:
            if self._progress is not None:
                self._progress.remove_task(task)

    def summary(self, step: str, seconds: float, text: str) -> None:
        """The one line of a finished step: on the terminal (above the bar) and in the log."""
        line = f"{step:<10} {seconds:7.1f} s  {text}"
        log.info("step %s", line)
        if self.enabled:
            self.console.print(f"[green]✓[/green] {line}", highlight=False)
