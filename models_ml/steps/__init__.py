"""`make train` as named steps: compare -> tune -> calibrate -> threshold -> explain -> package -> promote.

Each step is a function with typed inputs and outputs (dataclasses); ``models_ml.train`` (one machine) and
``models_ml.spark.train`` (Apache Spark) only compose them, so the business cost, calibration, threshold,
explanation and packaging logic exists once.
"""

from models_ml.steps.calibration import Calibrated, calibrate
from models_ml.steps.comparison import (
           CompareSample,
           Comparison,
           compare,
           comparison_sample,
           select,
           summarize_cv,
)
from models_ml.steps.explanation import Explained, explain
from models_ml.steps.packaging import ModelPackage, new_version, package, reference_sample
from models_ml.steps.promotion import promote_version
from models_ml.steps.thresholding import Decision, choose_threshold, risk_bands, row_costs
from models_ml.steps.tuning import Tuned, tune

__all__ = ["Calibrated", "CompareSample", "Comparison", "Decision", "Explained", "ModelPackage", "Tuned",
           "calibrate", "choose_threshold", "compare", "comparison_sample", "explain", "new_version", "package",
           "promote_version", "reference_sample", "risk_bands", "row_costs", "select", "summarize_cv", "tune"]
