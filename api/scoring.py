"""Scores of known applicants (bulk book or their row) and of feature rows computed online; every score
is counted in the metrics and written to the request log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from api import metrics
from api.features import FeatureStore
from api.new_applications import OnlineRows
from api.request_log import RequestLog
from api.schemas.responses import Score
from api.score_book import ScoreBooks
from api.scoring_model import ScoringModel


class UnknownApplicants(LookupError):
    """Some requested applicants are not in the warehouse."""

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids
        shown = ", ".join(map(str, ids[:10])) + (" ..." if len(ids) > 10 else "")
        if len(ids) == 1:
            super().__init__(f"applicant {ids[0]} not found in the warehouse")
        else:
            super().__init__(f"{len(ids)} applicants not found in the warehouse: {shown}")


def score_of(model: ScoringModel, sk_id: int, probability: float) -> Score:
    """The response of one score: decision, threshold and risk band of `model`."""
    return Score(
        sk_id_curr=int(sk_id),
        probability=probability,
        decision=model.decide(probability),
        threshold=float(model.threshold),
        risk_band=str(model.risk_band(probability)),
        model_version=model.version,
    )


class ScoringService:
    def __init__(self, features: FeatureStore, books: ScoreBooks, request_log: RequestLog) -> None:
        self.features = features
        self.books = books
        self.request_log = request_log

    def from_book(self, model: ScoringModel, sk_id: int, endpoint: str) -> Score | None:
        """The score of one known applicant when the bulk scores are ready (no blocking work: safe on
        the event loop); None when the caller must use `known`."""
        gen = self.features.current_if_open()
        book = self.books.ready(model, gen)
        if gen is None or book is None:
            return None
        pos = gen.positions.get(sk_id)
        if pos is None:
            raise UnknownApplicants([sk_id])
        result = score_of(model, sk_id, float(book.probabilities[pos]))
        self._log(model, endpoint, result, source=(book.features, pos))
        return result

    def known(self, model: ScoringModel, ids: list[int], endpoint: str, skip_unknown: bool = False) -> list[Score]:
        """Scores of applicants in the warehouse: UnknownApplicants when some are not there, or, with
        `skip_unknown`, the scores of those that are (in the order given)."""
        gen = self.features.current()
        positions = [gen.positions.get(i) for i in ids]
        missing = [i for i, p in zip(ids, positions, strict=True) if p is None]
        if missing and not skip_unknown:
            raise UnknownApplicants(missing)
        found = [(i, p) for i, p in zip(ids, positions, strict=True) if p is not None]
        if not found:
            return []
        at = [p for _, p in found]
        book = self.books.get(model, gen)
        source: Any
        if book is not None:
            probabilities, source = book.probabilities[at], book.features
        elif gen.frame is not None:
            probabilities, source = model.predict_proba(gen.frame.iloc[at]), gen.frame
        else:  # a warehouse too large to preload, before its bulk scores are ready: read the rows
            return self.rows(model, self.features.get_many([i for i, _ in found]), endpoint)
        results = []
        for (sk_id, pos), p in zip(found, probabilities, strict=True):
            result = score_of(model, sk_id, float(p))
            results.append(result)
            self._log(model, endpoint, result, source=(source, pos))
        return results

    def rows(self, model: ScoringModel, rows: pd.DataFrame, endpoint: str,
             log_rows: Sequence[tuple[Any, int]] | None = None) -> list[Score]:
        """Score `applicant_features`-shaped rows (e.g. computed online), log each score. `log_rows` gives,
        per row, where the request log reads its features when it writes them: (an Arrow table or a
        DataFrame, row position); by default the row of `rows` itself (no per-row dict built here:
        converting ~480 features of each row to a dict cost more than the model)."""
        probabilities = np.asarray(model.predict_proba(rows))
        sources = list(log_rows) if log_rows is not None else [(rows, i) for i in range(len(rows))]
        return self.scored(model, rows["sk_id_curr"].tolist(), probabilities, endpoint, sources)

    def online(self, model: ScoringModel, built: OnlineRows, endpoint: str) -> list[Score]:
        """Scores of rows computed online and scored with their build's batch (`OnlineFeatures.build_rows`
        with ``scorer=model``), each logged."""
        assert built.probabilities is not None, "build_rows was not handed the model"
        return self.scored(model, built.ids, built.probabilities, endpoint, built.log_rows())

    def scored(self, model: ScoringModel, ids: Sequence[int], probabilities: Sequence[float], endpoint: str,
               log_rows: Sequence[tuple[Any, int]]) -> list[Score]:
        """Scores of rows the model already scored, each logged; `log_rows` as in `rows`."""
        results = []
        for sk_id, p, source in zip(ids, probabilities, log_rows, strict=True):
            result = score_of(model, sk_id, float(p))
            results.append(result)
            self._log(model, endpoint, result, source=source)
        return results

    def _log(self, model: ScoringModel, endpoint: str, result: Score, **features: Any) -> None:
        metrics.observe_score(endpoint, result.probability, result.decision, result.risk_band)
        self.request_log.append(
            endpoint=endpoint,
            model_version=model.version,
            feature_types=model.feature_types,
            sk_id_curr=result.sk_id_curr,
            probability=result.probability,
            decision=result.decision,
            **features,
        )
