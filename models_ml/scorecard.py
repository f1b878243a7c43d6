"""The ``scorecard`` family: a points scorecard (weight-of-evidence logistic regression) built with optbinning.

Fit (``fit_scorecard``):
1. a quick information-value ranking (deciles, no solver) keeps the ``prescreen`` most promising features;
2. optbinning's ``BinningProcess`` bins each one optimally under a monotonic trend (``auto_asc_desc`` by
   default: risk only rises or only falls across the bins; per-feature overrides), a minimum bin share,
   a bin of its own for special codes and one for missing values;
3. characteristics below ``min_iv`` are dropped, then, strongest first, any whose WoE correlates above
   ``max_correlation`` with one already kept, up to ``max_characteristics``;
4. optbinning's ``Scorecard`` fits the logistic regression on the WoE and scales the points:
   ``score = offset + factor * ln(good:bad odds)``, ``factor = PDO / ln 2``,
   ``offset = base_score - factor * ln(base_odds)`` (600 points at 50:1, 20 points to double the odds),
   points rounded to integers. A characteristic whose coefficient has the wrong sign (more evidence of
   repayment giving fewer points, a collinearity artefact) is dropped and the regression refit.

The fitted scorecard is a plain table (bins and points), saved as JSON + CSV and scored from that table:
a row's score is the sum of its points; its raw probability of default is ``1 / (1 + exp((score - offset)
/ factor))`` -- the same number the regression gives up to the rounding of the points. Unseen categories
earn the points of a zero WoE (the average risk).
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models_ml.data import FeatureSchema
from models_ml.errors import ArtifactError, ModelingError
from models_ml.families.base import FittedModel
from models_ml.settings import ScorecardConfig

SCORECARD_JSON = "scorecard.json"
SCORECARD_CSV = "scorecard.csv"
FORMAT_VERSION = 1


def scaling(cfg: ScorecardConfig) -> tuple[float, float]:
    """(factor, offset) of the points scale: ``score = offset + factor * ln(good:bad odds)``."""
    factor = cfg.pdo / math.log(2)
    return factor, cfg.base_score - factor * math.log(cfg.base_odds)


def probability_from_score(score: np.ndarray | float, factor: float, offset: float) -> np.ndarray:
    """Probability of default of a total score (odds good:bad = exp((score - offset) / factor))."""
    z = np.clip((np.asarray(score, dtype=float) - offset) / factor, -700, 700)
    return 1.0 / (1.0 + np.exp(z))


def quick_iv(X: pd.DataFrame, y: np.ndarray, schema: FeatureSchema, n_bins: int = 10) -> dict[str, float]:
    """Information value of each feature on decile bins (+ a missing bin; categories as they are, rare ones
    pooled): a cheap ranking before optimal binning. Half a count is added to empty cells."""
    y = np.asarray(y).astype(int)
    n_pos, n_neg = max(int(y.sum()), 1), max(int((1 - y).sum()), 1)
    kinds = {f.name: f.type for f in schema.features}
    out: dict[str, float] = {}
    for name in schema.names:
        col = X[name]
        if kinds[name] == "categorical":
            s = col.astype(object).where(col.notna(), "(missing)")
            counts = s.value_counts()
            rare = counts.index[counts < max(20, 0.01 * len(s))]
            codes = pd.factorize(s.where(~s.isin(rare), "(rare)"))[0]
        else:
            v = col.to_numpy(dtype=float)
            ok = ~np.isnan(v)
            if ok.sum() == 0 or np.nanmin(v) == np.nanmax(v):
                out[name] = 0.0
                continue
            edges = np.unique(np.quantile(v[ok], np.linspace(0, 1, n_bins + 1))[1:-1])
            codes = np.where(ok, np.searchsorted(edges, np.nan_to_num(v), side="right"), len(edges) + 1)
        k = int(codes.max()) + 1
        pos = np.bincount(codes, weights=y, minlength=k) + 0.5
        neg = np.bincount(codes, weights=1 - y, minlength=k) + 0.5
        pg, pb = neg / n_neg, pos / n_pos
        out[name] = float(np.sum((pg - pb) * np.log(pg / pb)))
    return out


@dataclass
class Characteristic:
    """One binned feature of the scorecard and the points each bin earns.

    ``bins``: the regular bins in order, then ``Special`` and ``Missing``; each
    ``{bin, count, event_rate, woe, points}`` (+ ``categories`` for a categorical characteristic)."""

    name: str
    kind: str                       # numeric | categorical
    bins: list[dict[str, Any]]
    splits: list[float] = field(default_factory=list)          # numeric: right-open bin edges
    special_codes: list[float] = field(default_factory=list)   # numeric values with a bin of their own
    unknown_points: float = 0.0     # categorical: a category not seen in training (zero WoE)
    iv: float = 0.0
    coefficient: float = 0.0
    trend: str = ""

    @property
    def n_regular(self) -> int:
        return len(self.bins) - 2

    @property
    def best_points(self) -> float:
        seen = [b["points"] for b in self.bins if b["count"] > 0]
        return float(max(seen or [b["points"] for b in self.bins]))

    def bin_index(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """Row index into ``bins`` for each value; -1 for an unseen category."""
        special, missing = self.n_regular, self.n_regular + 1
        if self.kind == "categorical":
            lookup = {c: i for i, b in enumerate(self.bins[: self.n_regular]) for c in b["categories"]}
            s = pd.Series(np.asarray(values, dtype=object))
            absent = s.isna().to_numpy()
            found = s.where(~absent, "").astype(str).map(lookup).to_numpy(dtype=float)
            return np.where(absent, missing, np.where(np.isnan(found), -1, np.nan_to_num(found))).astype(int)
        v = np.asarray(values, dtype=float)
        out = np.digitize(np.nan_to_num(v), np.asarray(self.splits, dtype=float), right=False)
        if self.special_codes:
            out[np.isin(v, self.special_codes)] = special
        out[np.isnan(v)] = missing
        return out

    def points(self, values: pd.Series | np.ndarray) -> np.ndarray:
        table = np.array([b["points"] for b in self.bins] + [self.unknown_points], dtype=float)
        return table[self.bin_index(values)]  # -1 -> the appended unknown-category points

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "iv": self.iv, "coefficient": self.coefficient,
                "trend": self.trend, "splits": self.splits, "special_codes": self.special_codes,
                "unknown_points": self.unknown_points, "bins": self.bins}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Characteristic:
        try:
            c = cls(name=str(d["name"]), kind=str(d["kind"]), bins=list(d["bins"]),
                    splits=[float(v) for v in d.get("splits", [])],
                    special_codes=[float(v) for v in d.get("special_codes", [])],
                    unknown_points=float(d.get("unknown_points", 0.0)), iv=float(d.get("iv", 0.0)),
                    coefficient=float(d.get("coefficient", 0.0)), trend=str(d.get("trend", "")))
            for b in c.bins:
                b["points"] = float(b["points"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(f"{SCORECARD_JSON}: characteristic {d.get('name')!r} is malformed ({exc})") from exc
        if c.kind not in ("numeric", "categorical") or len(c.bins) < 3:
            raise ArtifactError(f"{SCORECARD_JSON}: characteristic {c.name!r} must be numeric or categorical "
                                "with at least one bin plus Special and Missing")
        if c.kind == "numeric" and len(c.splits) != c.n_regular - 1:
            raise ArtifactError(f"{SCORECARD_JSON}: characteristic {c.name!r} has {len(c.splits)} splits for "
                                f"{c.n_regular} bins")
        return c


class ScorecardModel(FittedModel):
    """A fitted points scorecard; ``predict_raw`` is the probability of its total score."""

    family = "scorecard"

    def __init__(self, characteristics: list[Characteristic], base_score: float, base_odds: float, pdo: float,
                 intercept_points: float = 0.0, info: dict[str, Any] | None = None) -> None:
        self.characteristics = characteristics
        self.base_score, self.base_odds, self.pdo = float(base_score), float(base_odds), float(pdo)
        self.intercept_points = float(intercept_points)
        self.info = info or {}
        self.factor, self.offset = scaling(ScorecardConfig(base_score=base_score, base_odds=base_odds, pdo=pdo))

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.characteristics]

    def points_matrix(self, X: pd.DataFrame) -> np.ndarray:
        """Points earned by each row (rows) on each characteristic (columns, in ``names`` order)."""
        return np.column_stack([c.points(X[c.name]) for c in self.characteristics]) if self.characteristics \
            else np.zeros((len(X), 0))

    def score(self, X: pd.DataFrame) -> np.ndarray:
        return self.points_matrix(X).sum(axis=1) + self.intercept_points

    def probability(self, score: np.ndarray | float) -> np.ndarray:
        return probability_from_score(score, self.factor, self.offset)

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        return self.probability(self.score(X))

    def score_range(self) -> tuple[float, float]:
        lo = sum(min(b["points"] for b in c.bins) for c in self.characteristics) + self.intercept_points
        hi = sum(max(b["points"] for b in c.bins) for c in self.characteristics) + self.intercept_points
        return float(lo), float(hi)

    def table(self) -> list[dict[str, Any]]:
        """The scorecard as rows: characteristic, bin, count, event rate, WoE, points."""
        return [{"characteristic": c.name, "bin": b["bin"], "count": int(b["count"]), "event_rate": b["event_rate"],
                 "woe": b["woe"], "points": b["points"]} for c in self.characteristics for b in c.bins]

    # --- persistence: readable JSON (the model) + CSV (the same table for people and spreadsheets) ---
    def to_dict(self) -> dict[str, Any]:
        return {"format_version": FORMAT_VERSION, "base_score": self.base_score, "base_odds": self.base_odds,
                "pdo": self.pdo, "factor": self.factor, "offset": self.offset,
                "intercept_points": self.intercept_points, "info": self.info,
                "characteristics": [c.to_dict() for c in self.characteristics]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScorecardModel:
        if d.get("format_version") != FORMAT_VERSION:
            raise ArtifactError(f"{SCORECARD_JSON}: format_version {d.get('format_version')!r}, expected "
                                f"{FORMAT_VERSION}")
        try:
            chars = [Characteristic.from_dict(c) for c in d["characteristics"]]
            return cls(chars, float(d["base_score"]), float(d["base_odds"]), float(d["pdo"]),
                       float(d.get("intercept_points", 0.0)), dict(d.get("info", {})))
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(f"{SCORECARD_JSON} is malformed: {exc}") from exc

    def save(self, directory: Path) -> list[str]:
        (Path(directory) / SCORECARD_JSON).write_text(json.dumps(self.to_dict(), indent=1))
        pd.DataFrame(self.table()).to_csv(Path(directory) / SCORECARD_CSV, index=False)
        return [SCORECARD_JSON, SCORECARD_CSV]

    @classmethod
    def load(cls, directory: Path, features: list[str]) -> ScorecardModel:
        path = Path(directory) / SCORECARD_JSON
        if not path.is_file():
            raise ArtifactError(f"model file {path} is missing")
        try:
            model = cls.from_dict(json.loads(path.read_text()))
        except json.JSONDecodeError as exc:
            raise ArtifactError(f"{path} is not valid JSON: {exc}") from exc
        unknown = [n for n in model.names if n not in features]
        if unknown:
            raise ArtifactError(f"{path}: characteristics {unknown} are not features of this model version")
        return model


def _trend_for(name: str, cfg: ScorecardConfig) -> str:
    return dict(cfg.trends).get(name, cfg.trend)


def _binning_process(names: list[str], categorical: list[str], cfg: ScorecardConfig) -> Any:
    from optbinning import BinningProcess

    specials = dict(cfg.special_codes)
    params: dict[str, dict[str, Any]] = {}
    for n in names:
        p: dict[str, Any] = {}
        if n not in categorical:
            p["monotonic_trend"] = _trend_for(n, cfg)
            if n in specials:
                p["special_codes"] = list(specials[n])
        params[n] = p
    return BinningProcess(names, categorical_variables=categorical, min_bin_size=cfg.min_bin_share,
                          binning_fit_params=params)


def _label(kind: str, row: pd.Series, lo: float | None, hi: float | None, cats: list[str] | None) -> str:
    if str(row["Bin"]) in ("Special", "Missing"):
        return str(row["Bin"])
    if kind == "categorical":
        shown = ", ".join(cats or [])
        return shown if len(shown) <= 80 else shown[:77] + "..."
    left = "-inf" if lo is None else f"{lo:.6g}"
    right = "inf" if hi is None else f"{hi:.6g}"
    return f"[{left}, {right})" if lo is not None else f"({left}, {right})"


def select_characteristics(X: pd.DataFrame, y: np.ndarray, schema: FeatureSchema,
                           cfg: ScorecardConfig) -> tuple[list[str], dict[str, float]]:
    """Quick IV ranking -> optimal binning -> IV floor -> correlation filter -> at most ``max_characteristics``."""
    ivq = quick_iv(X, y, schema)
    ranked = sorted((n for n in ivq if ivq[n] >= cfg.min_iv / 2), key=lambda n: (-ivq[n], n))
    pre = ranked[: cfg.prescreen] or sorted(ivq, key=lambda n: (-ivq[n], n))[:5]
    cats = [n for n in pre if n in set(schema.of_type("categorical"))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bp = _binning_process(pre, cats, cfg).fit(X[pre], y)
        summary = bp.summary().set_index("name")
        iv = {n: float(summary.loc[n, "iv"]) for n in pre}
        order = [n for n in sorted(pre, key=lambda n: (-iv[n], n)) if iv[n] >= cfg.min_iv]
        if not order:
            order = sorted(pre, key=lambda n: (-iv[n], n))[:1]
        woe = bp.transform(X[pre], metric="woe", metric_special="empirical",
                           metric_missing="empirical")[order].to_numpy(dtype=float)
    kept: list[int] = []
    for j in range(len(order)):
        if len(kept) >= cfg.max_characteristics:
            break
        col = woe[:, j]
        if np.std(col) == 0:
            continue
        if all(abs(np.corrcoef(col, woe[:, k])[0, 1]) <= cfg.max_correlation for k in kept):
            kept.append(j)
    return [order[j] for j in kept], iv


def fit_scorecard(X: pd.DataFrame, y: np.ndarray, schema: FeatureSchema, cfg: ScorecardConfig,
                  max_refits: int = 5) -> ScorecardModel:
    """Screen, bin, fit and scale a scorecard on (X, y); see the module docstring."""
    from optbinning import Scorecard
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(y).astype(int)
    names, iv = select_characteristics(X, y, schema, cfg)
    cat_set = set(schema.of_type("categorical"))
    dropped_sign: list[str] = []

    def fit(names: list[str]) -> Any:
        cats = [n for n in names if n in cat_set]
        sc = Scorecard(binning_process=_binning_process(names, cats, cfg),
                       estimator=LogisticRegression(max_iter=1000), scaling_method="pdo_odds",
                       scaling_method_params={"pdo": cfg.pdo, "odds": cfg.base_odds,
                                              "scorecard_points": cfg.base_score}, rounding=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sc.fit(X[names], y, metric_special="empirical", metric_missing="empirical")  # their own evidence
        return sc

    def wrong_sign(sc: Any, names: list[str]) -> list[str]:
        # optbinning's WoE grows with the share of non-events: a positive coefficient gives fewer points to
        # better evidence -- not acceptable in a scorecard (a collinearity artefact)
        return [n for n, c in zip(names, sc.estimator_.coef_.ravel(), strict=True) if c > 0]

    sc = fit(names)
    for attempt in range(max_refits + 1):
        wrong = wrong_sign(sc, names)
        if not wrong or len(names) == 1:
            break
        # the weakest offender first (dropping it often rights its collinear partner); at the last attempt
        # every offender at once, so that the sign rule always holds
        drop = wrong if attempt == max_refits else [min(wrong, key=lambda n: iv[n])]
        drop = drop if len(drop) < len(names) else drop[1:]
        names = [n for n in names if n not in drop]
        dropped_sign += drop
        sc = fit(names)
    model = _from_optbinning(sc, names, cat_set, iv, cfg)
    model.info.update({"n_rows": int(len(y)), "dropped_wrong_sign": dropped_sign,
                       "screened": int(len(iv)), "min_bin_share": cfg.min_bin_share,
                       "max_correlation": cfg.max_correlation})
    expected = sc.score(X[names])
    got = model.score(X)
    if not np.allclose(got, expected, rtol=0, atol=1e-6):
        raise ModelingError("the scorecard table does not reproduce optbinning's scores "
                            f"(max difference {np.max(np.abs(got - expected)):.3g} points)")
    return model


def _from_optbinning(sc: Any, names: list[str], cat_set: set[str], iv: dict[str, float],
                     cfg: ScorecardConfig) -> ScorecardModel:
    table = sc.table(style="detailed")
    factor, offset = scaling(cfg)
    coefs = sc.estimator_.coef_.ravel()
    intercept = float(np.ravel(sc.estimator_.intercept_)[0])
    n = len(names)
    chars: list[Characteristic] = []
    for j, name in enumerate(names):
        optb = sc.binning_process_.get_binned_variable(name)
        rows = table[table["Variable"] == name].reset_index(drop=True)
        kind = "categorical" if name in cat_set else "numeric"
        splits = [] if kind == "categorical" else [float(s) for s in np.asarray(optb.splits, dtype=float)]
        groups = [[str(c) for c in g] for g in optb.splits] if kind == "categorical" else []
        bins = []
        for i, row in rows.iterrows():
            is_regular = i < len(rows) - 2
            lo = splits[i - 1] if kind == "numeric" and is_regular and i > 0 else None
            hi = splits[i] if kind == "numeric" and is_regular and i < len(splits) else None
            cats = groups[i] if kind == "categorical" and is_regular else None
            b = {"bin": _label(kind, row, lo, hi, cats), "count": int(row["Count"]),
                 "event_rate": float(row["Event rate"]), "woe": float(row["WoE"]), "points": float(row["Points"])}
            if cats is not None:
                b["categories"] = cats
            bins.append(b)
        special = optb.special_codes
        chars.append(Characteristic(
            name=name, kind=kind, bins=bins, splits=splits,
            special_codes=[float(v) for v in (special or [])] if kind == "numeric" else [],
            unknown_points=float(np.rint(-(intercept / n) * factor + offset / n)), iv=iv.get(name, 0.0),
            coefficient=float(coefs[j]), trend="" if kind == "categorical" else _trend_for(name, cfg)))
    return ScorecardModel(chars, cfg.base_score, cfg.base_odds, cfg.pdo, float(getattr(sc, "intercept_", 0.0)),
                          {"coefficients": {n: float(c) for n, c in zip(names, coefs, strict=True)},
                           "intercept": intercept})


def scorecard_summary(model: ScorecardModel, calibrate: Any | None, step: float | None = None) -> dict[str, Any]:
    """What the model card and metadata show: scaling, characteristics (IV, trend), the table of bins and
    points, and the points -> probability map (raw = the scorecard's own, calibrated = what is served).
    ``calibrate`` None: a challenger scorecard that is not served (``served`` False, no calibrated column)."""
    lo, hi = model.score_range()
    step = step or model.pdo / 2
    scores = np.arange(math.floor(lo / step) * step, hi + step, step)
    raw = model.probability(scores)
    cal = np.clip(calibrate(raw), 0.0, 1.0) if calibrate is not None else np.full(len(raw), np.nan)
    return {"served": calibrate is not None,
        "base_score": model.base_score, "base_odds": model.base_odds, "pdo": model.pdo,
        "factor": model.factor, "offset": model.offset, "score_min": lo, "score_max": hi,
        "characteristics": [{"name": c.name, "kind": c.kind, "iv": c.iv, "trend": c.trend, "bins": c.n_regular,
                             "coefficient": c.coefficient} for c in model.characteristics],
        "table": model.table(), "info": model.info,
        "score_to_probability": [{"score": float(s), "probability_raw": float(r),
                                  "probability": float(c) if calibrate is not None else None}
                                 for s, r, c in zip(scores, raw, cal, strict=True)],
    }
