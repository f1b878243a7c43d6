"""Exceptions raised by the modeling layer, each naming the file, table or column at fault."""

from __future__ import annotations


class ModelingError(Exception):
    """Base class of every error the modeling layer raises on bad input."""


class WarehouseError(ModelingError):
    """The warehouse file is missing, unreadable or lacks the expected table."""


class TrainingDataError(ModelingError):
    """The training data cannot support a model (empty, single class, bad target, ...)."""


class FeatureMismatchError(ModelingError, KeyError):
    """The columns given for scoring differ from the model's features."""

    def __init__(self, missing: list[str], model_version: str | None = None) -> None:
        self.missing = list(missing)
        self.model_version = model_version
        shown = ", ".join(self.missing[:20]) + (" ..." if len(self.missing) > 20 else "")
        where = f" of model {model_version}" if model_version else ""
        super().__init__(
            f"{len(self.missing)} feature column(s){where} missing from the input: {shown}. "
            "Pass a frame shaped like the warehouse table applicant_features."
        )

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return str(self.args[0])


class FeatureTypeError(ModelingError, ValueError):
    """A feature column holds values of the wrong type."""


class ArtifactError(ModelingError):
    """A model version directory is missing, incomplete or holds an unsafe file."""
