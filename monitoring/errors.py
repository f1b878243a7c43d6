"""Errors of the drift monitor; each names the file, table, window or column at fault."""

from __future__ import annotations


class DriftError(Exception):
    """Base class: the drift report cannot be built from this input (exit code 2, nothing written)."""


class NoModelError(DriftError):
    """There is no promoted model version (``$HC_ARTIFACTS/models/current``) to take the reference from."""


class InputDataError(DriftError):
    """A reference, current batch or labels file is unusable (missing, unreadable, wrong form)."""


class EmptyBatchError(InputDataError):
    """The current batch (a request-log window, the test set) has no rows: nothing to compare (exit code 3)."""


class MissingColumnsError(InputDataError):
    """The current batch lacks columns that the reference has."""

    def __init__(self, missing: list[str], where: str, hint: str = "") -> None:
        self.missing = list(missing)
        shown = ", ".join(self.missing[:25]) + (f" ... ({len(self.missing)} in all)" if len(self.missing) > 25 else "")
        message = f"{where} lacks {len(self.missing)} column(s) of the reference: {shown}"
        super().__init__(message + (f". {hint}" if hint else ""))
