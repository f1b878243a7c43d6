"""Fitted summary statistics (marginals and conditionals) and samplers that turn uniforms into values.

A numeric marginal is a mixture of *atoms* (values with a visible share, e.g. ``365243`` or ``0.0``)
and a continuous part described by quantiles. Its inverse CDF is piecewise linear, so a uniform
``u`` maps to one value; feeding correlated uniforms (a Gaussian copula) keeps every marginal while
creating dependencies between columns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import ndtr

STATS_PATH = Path(__file__).resolve().parent / "marginals.json"


def phi(z: np.ndarray) -> np.ndarray:
    """Standard normal CDF, clipped into the open interval (0, 1)."""
    return np.clip(ndtr(z), 1e-12, 1 - 1e-12)


@dataclass
class NumericMarginal:
    missing: float
    atoms: np.ndarray
    atom_probs: np.ndarray
    quantiles: np.ndarray
    decimals: int | None
    integer: bool
    grid: float | None = None
    lattice: tuple[float, float] | None = None  # (start, step): values drawn between atoms land on it
    #: (start, step): values drawn between atoms land on ``1 / (1 + exp(-(start + k * step)))`` (a score kept in
    #: points, published as a probability: ``EXT_SOURCE_3``)
    logit_lattice: tuple[float, float] | None = None
    #: ``(k, 3)`` rows ``[lo, hi, share]``: a pool of rare values drawn uniformly on ``[lo, hi]`` (then rounded
    #: like the column), for a column without a continuous part (``fit --rare-values bins``)
    bins: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    #: a conditional group's column marginal: the group's bins are drawn in proportion to it (on the values
    #: the whole column has) instead of uniformly
    reference: NumericMarginal | None = field(default=None, repr=False)
    _knots: tuple[np.ndarray, np.ndarray] = field(init=False, repr=False)
    _ramps: list[tuple[float, float, float, float]] = field(init=False, repr=False, default_factory=list)

    def __post_init__(self) -> None:
        self._knots = self._build_knots()

    @classmethod
    def from_json(cls, d: dict[str, Any], reference: NumericMarginal | None = None) -> NumericMarginal:
        return cls(
            missing=float(d["missing"]),
            atoms=np.asarray(d.get("atoms", []), dtype=float),
            atom_probs=np.asarray(d.get("atom_probs", []), dtype=float),
            quantiles=np.asarray(d.get("quantiles", []), dtype=float),
            decimals=d.get("decimals"),
            integer=bool(d.get("integer", False)),
            grid=d.get("grid"),
            lattice=tuple(d["lattice"]) if d.get("lattice") else None,
            logit_lattice=tuple(d["logit_lattice"]) if d.get("logit_lattice") else None,
            bins=np.asarray(d.get("bins", []), dtype=float).reshape(-1, 3),
            reference=reference if d.get("bins") else None,
        )

    def _build_knots(self) -> tuple[np.ndarray, np.ndarray]:
        if self.bins.size:
            return self._binned_knots()
        atom_mass = float(self.atom_probs.sum())
        cont_mass = max(0.0, 1.0 - atom_mass)
        if self.quantiles.size < 2 or cont_mass <= 1e-12:
            # pure atoms: a step function
            order = np.argsort(self.atoms)
            vals, probs = self.atoms[order], self.atom_probs[order]
            probs = probs / probs.sum()
            cum = np.concatenate([[0.0], np.cumsum(probs)])
            xs = np.repeat(vals, 2)
            us = np.empty_like(xs)
            us[0::2] = cum[:-1]
            us[1::2] = cum[1:]
            return us, xs
        q = self.quantiles
        grid = np.linspace(0.0, 1.0, q.size)
        us: list[float] = []
        xs: list[float] = []
        atoms = sorted(zip(self.atoms.tolist(), self.atom_probs.tolist(), strict=True))
        below = 0.0
        ai = 0
        for g, x in zip(grid, q, strict=True):
            while ai < len(atoms) and atoms[ai][0] <= x:
                v, m = atoms[ai]
                fc = float(np.interp(v, q, grid)) if q[0] <= v <= q[-1] else (0.0 if v < q[0] else 1.0)
                u0 = cont_mass * fc + below
                us += [u0, u0 + m]
                xs += [v, v]
                below += m
                ai += 1
            us.append(cont_mass * g + below)
            xs.append(float(x))
        while ai < len(atoms):
            v, m = atoms[ai]
            u0 = cont_mass + below
            us += [u0, u0 + m]
            xs += [v, v]
            below += m
            ai += 1
        u_arr = np.maximum.accumulate(np.asarray(us))
        return u_arr / u_arr[-1], np.asarray(xs)

    def _binned_knots(self) -> tuple[np.ndarray, np.ndarray]:
        """Atoms (steps) and bins (ramps from ``lo`` to ``hi``) in the order of their values; a bin that
        spans atoms is cut at them, each part taking the share of its length, so the inverse CDF rises."""
        pieces: list[tuple[float, float, float]] = [
            (float(v), float(v), float(m)) for v, m in zip(self.atoms, self.atom_probs, strict=True)
        ]
        for lo, hi, w in self.bins.tolist():
            cuts = [lo, *sorted(float(a) for a in self.atoms if lo < a < hi), hi]
            for a, b in zip(cuts[:-1], cuts[1:], strict=True):
                pieces.append((a, b, w * (b - a) / (hi - lo) if hi > lo else w / (len(cuts) - 1)))
        pieces.sort(key=lambda p: (p[0], p[1]))
        us, xs, u = [], [], 0.0
        for a, b, w in pieces:
            us += [u, u + w]
            xs += [a, b]
            if b > a:
                self._ramps.append((u, u + w, a, b))
            u += w
        u_arr = np.maximum.accumulate(np.asarray(us))
        self._ramps = [(u0 / u_arr[-1], u1 / u_arr[-1], a, b) for u0, u1, a, b in self._ramps]
        return u_arr / u_arr[-1], np.asarray(xs)

    def cdf(self, x: float, with_x: bool = False) -> float:
        """The share of draws below ``x`` (``with_x``: at or below)."""
        us, xs = self._knots
        return float(np.interp(x + (1 if with_x else -1) * 1e-9 * max(1.0, abs(x)), xs, us))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Values (never missing) for uniforms ``u``."""
        us, xs = self._knots
        out = np.interp(u, us, xs)
        if self.bins.size:  # the atoms exactly as fitted, a bin's draws rounded like the column
            out = np.where(np.isin(out, self.atoms), out, self.round(out))
            if self.reference is not None:  # a bin drawn like the column's values inside it
                for u0, u1, a, b in self._ramps:
                    # (the reference's share of a bound that is an atom here is the atom's, not the bin's)
                    f0 = self.reference.cdf(a, with_x=a in self.atoms)
                    f1 = self.reference.cdf(b, with_x=b not in self.atoms)
                    inside = (u >= u0) & (u < u1)
                    if f1 > f0 and inside.any():
                        t = (u[inside] - u0) / (u1 - u0)
                        out[inside] = self.reference.ppf(f0 + t * (f1 - f0))
            return out
        if self.quantiles.size < 2:
            return out  # atoms only: exactly the fitted values (Kaggle's float spellings included)
        return self.round(out)

    def snap(self, x: np.ndarray) -> np.ndarray:
        """``x`` as a value of this column: the nearest fitted value when the column has only a few
        (e.g. a building's age coded in ~100 steps) unless it falls in a bin of rare values, else rounded
        like :meth:`round`."""
        if self.quantiles.size >= 2 or self.atoms.size == 0:
            return self.round(x)
        vals = np.sort(self.atoms)
        i = np.clip(np.searchsorted(vals, x), 1, max(vals.size - 1, 1))
        lo, hi = vals[i - 1], vals[np.minimum(i, vals.size - 1)]
        out = np.where(np.abs(x - lo) <= np.abs(hi - x), lo, hi)
        if self.bins.size:
            in_bin = ((x[:, None] > self.bins[:, 0]) & (x[:, None] < self.bins[:, 1])).any(axis=1)
            out = np.where(in_bin, self.round(x), out)
        return np.where(np.isnan(x), np.nan, out)

    def round(self, x: np.ndarray) -> np.ndarray:
        if self.integer:
            return np.rint(x)
        if self.lattice is not None:  # the fitted values kept, the others put on the lattice
            start, step = self.lattice
            x = np.where(np.isin(x, self.atoms), x, start + np.rint((x - start) / step) * step)
        if self.logit_lattice is not None:
            start, step = self.logit_lattice
            p = np.clip(x, 1e-12, 1.0 - 1e-12)
            on = start + np.rint((np.log(p / (1.0 - p)) - start) / step) * step
            x = np.where(np.isin(x, self.atoms) | np.isnan(x), x, 1.0 / (1.0 + np.exp(-on)))
        if self.grid:
            return np.round(np.rint(x / self.grid) * self.grid, 6)
        if self.decimals is not None:
            return np.round(x, self.decimals)
        return x

    def sample(
        self,
        rng: np.random.Generator,
        n: int,
        u: np.ndarray | None = None,
        miss_u: np.ndarray | None = None,
    ) -> np.ndarray:
        """Values with NaN at the missing rate; ``u`` (optional) drives the value ranks, ``miss_u``
        (optional) which rows are missing (those below the missing rate)."""
        if u is None:
            u = rng.random(n)
        out = self.ppf(u)
        if self.missing > 0:
            out[(rng.random(n) if miss_u is None else miss_u) < self.missing] = np.nan
        return out


@dataclass
class CategoricalMarginal:
    missing: float
    levels: list[str]
    probs: np.ndarray

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CategoricalMarginal:
        return cls(float(d["missing"]), list(d["levels"]), np.asarray(d["probs"], dtype=float))

    def codes(self, u: np.ndarray, order: list[str] | None = None) -> np.ndarray:
        """Level indices (never missing) for uniforms ``u``; ``order``: the levels from low to high ``u``
        (default: as stored), e.g. the order a copula was fitted with."""
        if order is None:
            cum = np.cumsum(self.probs)
            cum /= cum[-1]
            return np.minimum(np.searchsorted(cum, u, side="right"), len(self.levels) - 1)
        index = {lv: i for i, lv in enumerate(self.levels)}
        perm = np.asarray([index[lv] for lv in order if lv in index], dtype=np.int64)
        perm = np.concatenate([perm, np.setdiff1d(np.arange(len(self.levels)), perm)])
        cum = np.cumsum(self.probs[perm])
        cum /= cum[-1]
        return perm[np.minimum(np.searchsorted(cum, u, side="right"), perm.size - 1)]

    def sample_codes(
        self,
        rng: np.random.Generator,
        n: int,
        u: np.ndarray | None = None,
        miss_u: np.ndarray | None = None,
        order: list[str] | None = None,
    ) -> np.ndarray:
        """Level indices with -1 for missing."""
        if u is None:
            u = rng.random(n)
        out = self.codes(u, order)
        if self.missing > 0:
            out[(rng.random(n) if miss_u is None else miss_u) < self.missing] = -1
        return out


Marginal = NumericMarginal | CategoricalMarginal


def marginal_from_json(d: dict[str, Any], reference: NumericMarginal | None = None) -> Marginal:
    """A fitted marginal; ``reference``: a numeric group's column marginal (`NumericMarginal.reference`)."""
    if d["kind"] == "cat":
        return CategoricalMarginal.from_json(d)
    return NumericMarginal.from_json(d, reference)


#: A categorical column as generated: level indices (``-1`` = missing) and the level names.
Cat = tuple[np.ndarray, list[str]]
ParentValue = np.ndarray | Cat


@dataclass
class Conditional:
    """A child column's marginal per key of its parent columns (numeric parents are binned).

    Group keys are ``"|"``-joined parent keys: a categorical parent's level (``NA`` if missing), a
    numeric parent's bin number (``NA`` if missing). Keys seen too rarely in the fit use ``fallback``.
    """

    child: str
    parents: list[str]
    bins: dict[str, np.ndarray]
    groups: dict[str, Marginal]
    fallback: Marginal

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Conditional:
        fallback = marginal_from_json(d["fallback"])
        reference = fallback if isinstance(fallback, NumericMarginal) and d.get("bins_from") == "fallback" else None
        return cls(
            child=d["child"],
            parents=list(d["parents"]),
            bins={k: np.asarray(v, dtype=float) for k, v in d.get("bins", {}).items()},
            groups={k: marginal_from_json(v, reference) for k, v in d["groups"].items()},
            fallback=fallback,
        )

    def _groups_of(self, parent_values: dict[str, ParentValue]) -> list[tuple[Marginal, np.ndarray]]:
        """Row indices per group, with the group's marginal."""
        combined: np.ndarray | None = None
        names: list[list[str]] = []
        for p in self.parents:
            v = parent_values[p]
            if p in self.bins:
                fv = np.asarray(v, dtype=float)
                nb = self.bins[p].size + 1
                idx = np.searchsorted(self.bins[p], fv, side="right")
                idx[np.isnan(fv)] = nb
                labels = [str(i) for i in range(nb)] + ["NA"]
            else:
                assert isinstance(v, tuple), f"categorical parent {p} must be (codes, levels)"
                codes, levels = v
                idx = np.where(codes < 0, len(levels), codes)
                labels = [*levels, "NA"]
            names.append(labels)
            combined = idx if combined is None else combined * len(labels) + idx
        assert combined is not None
        # counting sort on the small integer keys (radix sort for 16-bit keys)
        n_keys = int(np.prod([len(lb) for lb in names]))
        keys = combined.astype(np.int16 if n_keys < 2**15 else np.int64)
        counts = np.bincount(keys, minlength=n_keys)
        order = np.argsort(keys, kind="stable")
        ends = np.cumsum(counts)
        out = []
        for k in np.flatnonzero(counts).tolist():
            idx = order[ends[k] - counts[k] : ends[k]]
            parts = []
            for labels in reversed(names):
                parts.append(labels[k % len(labels)])
                k //= len(labels)
            key = "|".join(reversed(parts))
            out.append((self.groups.get(key, self.fallback), idx))
        return out

    def known(self, parent_values: dict[str, ParentValue]) -> np.ndarray:
        """Rows whose parent group was fitted (the others use the fallback marginal)."""
        n = _length(parent_values[self.parents[0]])
        out = np.zeros(n, dtype=bool)
        for m, idx in self._groups_of(parent_values):
            out[idx] = m is not self.fallback
        return out

    def sample(
        self,
        rng: np.random.Generator,
        parent_values: dict[str, ParentValue],
        u: np.ndarray | None = None,
        miss_u: np.ndarray | None = None,
        within_group: bool = False,
    ) -> np.ndarray:
        """Numeric child: values with NaN at each group's missing rate; ``within_group``: re-rank the
        given uniforms inside each parent group (for copula uniforms correlated with the parents)."""
        n = _length(parent_values[self.parents[0]])
        if u is None:
            u = rng.random(n)
        miss_u = rng.random(n) if miss_u is None else miss_u
        out = np.empty(n)
        for m, idx in self._groups_of(parent_values):
            assert isinstance(m, NumericMarginal), f"{self.child} is not numeric"
            gu, gm = (
                (rerank(rng, u[idx]), rerank(rng, miss_u[idx])) if within_group else (u[idx], miss_u[idx])
            )
            vals = m.ppf(gu)
            vals[gm < m.missing] = np.nan
            out[idx] = vals
        return out

    def sample_codes(
        self,
        rng: np.random.Generator,
        parent_values: dict[str, ParentValue],
        levels: list[str],
        u: np.ndarray | None = None,
        miss_u: np.ndarray | None = None,
        order: list[str] | None = None,
        within_group: bool = False,
    ) -> np.ndarray:
        """Categorical child: indices into ``levels``, -1 for missing; ``order`` as in
        :meth:`CategoricalMarginal.codes`, ``within_group`` as in :meth:`sample`."""
        n = _length(parent_values[self.parents[0]])
        if u is None:
            u = rng.random(n)
        miss_u = rng.random(n) if miss_u is None else miss_u
        index = {lv: i for i, lv in enumerate(levels)}
        out = np.empty(n, dtype=np.int64)
        for m, idx in self._groups_of(parent_values):
            assert isinstance(m, CategoricalMarginal), f"{self.child} is not categorical"
            if not m.levels:
                out[idx] = -1
                continue
            remap = np.asarray([index[lv] for lv in m.levels], dtype=np.int64)
            gu, gm = (
                (rerank(rng, u[idx]), rerank(rng, miss_u[idx])) if within_group else (u[idx], miss_u[idx])
            )
            codes = remap[m.codes(gu, order)]
            codes[gm < m.missing] = -1
            out[idx] = codes
        return out


def monthly_annuity(credit: np.ndarray, term: np.ndarray, monthly_rate: np.ndarray) -> np.ndarray:
    """The payment that repays ``credit`` in ``term`` monthly payments at ``monthly_rate``."""
    r = np.maximum(np.asarray(monthly_rate, dtype=float), 1e-12)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return np.asarray(credit, dtype=float) * r / (1.0 - (1.0 + r) ** -np.asarray(term, dtype=float))


def annuity_at(credit: np.ndarray, term: np.ndarray, yearly_rate: np.ndarray) -> np.ndarray:
    """:func:`monthly_annuity` for a yearly rate (monthly compounding)."""
    return monthly_annuity(credit, term, (1.0 + np.maximum(yearly_rate, 0.0)) ** (1.0 / 12.0) - 1.0)


def rerank(rng: np.random.Generator, u: np.ndarray) -> np.ndarray:
    """Uniforms in the same order as ``u`` but uniform on (0, 1) within this group: copula uniforms
    correlated with a conditional's parents are not uniform inside a parent group, and would distort
    the group's fitted distribution."""
    k = u.size
    if k == 0:
        return u
    ranks = np.empty(k)
    ranks[np.argsort(u)] = np.arange(k)
    return (ranks + rng.random(k)) / k


def _length(v: ParentValue) -> int:
    return int(v[0].size) if isinstance(v, tuple) else int(np.asarray(v).size)


@dataclass
class Copula:
    """A Gaussian copula over normal scores: the correlation matrix of the variables' normal scores
    (a variable is a column's value rank, ``COLUMN:missing`` its presence, or a categorical column
    whose levels are ranked in ``orders[COLUMN]``). ``sample`` gives correlated uniforms."""

    variables: list[str]
    corr: np.ndarray
    orders: dict[str, list[str]]
    _chol: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._chol = np.linalg.cholesky(nearest_correlation(self.corr))

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Copula:
        return cls(list(d["variables"]), np.asarray(d["corr"], dtype=float), dict(d.get("orders", {})))

    def sample(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """Uniforms per variable, ``n`` rows, with the fitted dependence."""
        z = rng.standard_normal((n, len(self.variables))) @ self._chol.T
        u = phi(z)
        return {v: u[:, i] for i, v in enumerate(self.variables)}


def nearest_correlation(corr: np.ndarray, floor: float = 1e-4) -> np.ndarray:
    """A positive-definite correlation matrix close to ``corr`` (eigenvalues clipped, unit diagonal)."""
    c = 0.5 * (corr + corr.T)
    w, v = np.linalg.eigh(c)
    c = (v * np.maximum(w, floor)) @ v.T
    d = np.sqrt(np.diag(c))
    c = c / np.outer(d, d)
    np.fill_diagonal(c, 1.0)
    return c


@dataclass
class Pattern:
    """A block of 0/1 columns drawn together: the frequent real patterns (a categorical column of
    bit strings, fitted like any other, e.g. per contract type) and, for the rest (``OTHER``), an
    independent rate per column."""

    columns: list[str]
    other_rates: np.ndarray

    OTHER = "other"

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Pattern:
        return cls(list(d["columns"]), np.asarray(d["other"]["rates"], dtype=float))

    def bits(self, rng: np.random.Generator, codes: np.ndarray, levels: list[str]) -> np.ndarray:
        """``(n, len(columns))`` booleans for pattern codes (``OTHER`` and missing codes draw per column)."""
        table = np.asarray(
            [[ch == "1" for ch in lv] if lv != self.OTHER else [False] * len(self.columns) for lv in levels]
            + [[False] * len(self.columns)],
            dtype=bool,
        )
        out = table[np.where(codes < 0, len(levels), codes)]
        other = np.isin(codes, [i for i, lv in enumerate(levels) if lv == self.OTHER]) | (codes < 0)
        k = int(other.sum())
        if k:
            out[other] = rng.random((k, len(self.columns))) < self.other_rates
        return out


@dataclass
class Stats:
    marginals: dict[str, dict[str, Marginal]]
    conditionals: dict[str, dict[str, Conditional]]
    extra: dict[str, Any]
    copulas: dict[str, Copula] = field(default_factory=dict)
    patterns: dict[str, dict[str, Pattern]] = field(default_factory=dict)
    #: per table: ``{"encoder": Encoder, "trees": {child: TreeConditional}}`` (synthetic.gibbs)
    gibbs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def m(self, table: str, column: str) -> Marginal:
        return self.marginals[table][column]

    def num(self, table: str, column: str) -> NumericMarginal:
        m = self.marginals[table][column]
        assert isinstance(m, NumericMarginal), f"{table}.{column} is not numeric"
        return m

    def cat(self, table: str, column: str) -> CategoricalMarginal:
        m = self.marginals[table][column]
        assert isinstance(m, CategoricalMarginal), f"{table}.{column} is not categorical"
        return m

    def cond(self, table: str, name: str) -> Conditional:
        return self.conditionals[table][name]


def load_stats_json(path: Path) -> Stats:
    with path.open(encoding="utf-8") as fh:
        raw = json.load(fh)
    marg = {t: {c: marginal_from_json(d) for c, d in cols.items()} for t, cols in raw["marginals"].items()}
    cond = {
        t: {name: Conditional.from_json(d) for name, d in items.items()}
        for t, items in raw.get("conditionals", {}).items()
    }
    copulas = {t: Copula.from_json(d) for t, d in raw.get("copulas", {}).items()}
    patterns = {
        t: {name: Pattern.from_json(d) for name, d in items.items()}
        for t, items in raw.get("patterns", {}).items()
    }
    from synthetic.gibbs import Encoder, TreeConditional

    gibbs = {
        t: {
            "encoder": Encoder.from_json(g["encoder"]),
            "trees": {c: TreeConditional.from_json(d) for c, d in g["trees"].items()},
        }
        for t, g in raw.get("gibbs", {}).items()
    }
    return Stats(marg, cond, raw.get("extra", {}), copulas, patterns, gibbs)


@lru_cache(maxsize=2)
def load_stats(path: str | None = None) -> Stats:
    """The committed summary statistics (cached)."""
    return load_stats_json(Path(path) if path else STATS_PATH)
