"""The request log's privacy policy, as the API applies it: see :mod:`hc_contracts.log_privacy`.

The policy lives in the shared-contracts package because monitoring applies the very same rules to the
reference before comparing; this module keeps its documented name (docs/api.md).
"""

from hc_contracts.log_privacy import (
    BANDS,
    DROPPED,
    SIGNIFICANT_DIGITS,
    coarsen_column,
    coarsen_frame,
    logged_feature_types,
    round_significant,
)

__all__ = ["BANDS", "DROPPED", "SIGNIFICANT_DIGITS", "coarsen_column", "coarsen_frame", "logged_feature_types",
           "round_significant"]
