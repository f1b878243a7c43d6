"""The MLflow pyfunc face of a model version, logged as *model from code* (no pickled Python object).

MLflow copies this file next to the logged model and executes it at load time; ``set_model`` hands it the
instance. ``load_context`` then reads the version folder (logged as the pyfunc artifact ``version``) with the
project's own safe loader, ``models_ml.registry.load_version`` (native LightGBM/XGBoost files, skops, JSON):
nothing of ours is unpickled. Loading therefore needs the ``homecredit-scoring`` package installed (as the API
does). ``predict`` returns, per row, the calibrated probability of default, the decision and the risk band.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel, PythonModelContext

from models_ml.registry import ScoringModel, load_version
from models_ml.track import VERSION_ARTIFACT


class ScoringPyfunc(PythonModel):
    """``mlflow.pyfunc`` wrapper of a ``ScoringModel`` (see docs/modeling.md, "Experiment tracking")."""

    model: ScoringModel | None = None

    def load_context(self, context: PythonModelContext) -> None:
        self.model = load_version(context.artifacts[VERSION_ARTIFACT])

    # pd.DataFrame: a hint MLflow accepts without deriving a second schema (the logged signature is the
    # contract). ``params`` is accepted for the interface and ignored.
    def predict(
        self,
        context: PythonModelContext | None,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        model = self._loaded()
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        p = model.predict_proba(frame)
        return pd.DataFrame(
            {"probability": p, "decision": model.decide(p), "risk_band": model.risk_band(p)},
            index=frame.index,
        )

    def _loaded(self) -> ScoringModel:
        if self.model is None:
            raise RuntimeError("the model version is not loaded (load it with mlflow.pyfunc.load_model)")
        return self.model


set_model(ScoringPyfunc())
