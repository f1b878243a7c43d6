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
    _knots: tuple[np.ndarray, np.ndarray] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._knots = self._build_knots()

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> NumericMarginal:
        return cls(
            missing=float(d["missing"]),
            atoms=np.asarray(d.get("atoms", []), dtype=float),
            atom_probs=np.asarray(d.get("atom_probs", []), dtype=float),
            quantiles=np.asarray(d.get("quantiles", []), dtype=float),
            decimals=d.get("decimals"),
            integer=bool(d.get("integer", False)),
        )

    def _build_knots(self) -> tuple[np.ndarray, np.ndarray]:
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

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Values (never missing) for uniforms ``u``."""
        us, xs = self._knots
        out = np.interp(u, us, xs)
        return self.round(out)

    def round(self, x: np.ndarray) -> np.ndarray:
        if self.integer:
            return np.rint(x)
        if self.decimals is not None:
            return np.round(x, self.decimals)
        return x

    def sample(self, rng: np.random.Generator, n: int, u: np.ndarray | None = None) -> np.ndarray:
        """Values with NaN at the missing rate; ``u`` (optional) drives the value ranks."""
        if u is None:
            u = rng.random(n)
        out = self.ppf(u)
        if self.missing > 0:
            out[rng.random(n) < self.missing] = np.nan
        return out


@dataclass
class CategoricalMarginal:
    missing: float
    levels: list[str]
    probs: np.ndarray

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CategoricalMarginal:
        return cls(float(d["missing"]), list(d["levels"]), np.asarray(d["probs"], dtype=float))

    def codes(self, u: np.ndarray) -> np.ndarray:
        """Level indices (never missing) for uniforms ``u``."""
        cum = np.cumsum(self.probs)
        cum /= cum[-1]
        return np.minimum(np.searchsorted(cum, u, side="right"), len(self.levels) - 1)

    def sample_codes(self, rng: np.random.Generator, n: int, u: np.ndarray | None = None) -> np.ndarray:
        """Level indices with -1 for missing."""
        if u is None:
            u = rng.random(n)
        out = self.codes(u)
        if self.missing > 0:
            out[rng.random(n) < self.missing] = -1
        return out


Marginal = NumericMarginal | CategoricalMarginal


def marginal_from_json(d: dict[str, Any]) -> Marginal:
    if d["kind"] == "cat":
        return CategoricalMarginal.from_json(d)
    return NumericMarginal.from_json(d)


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
        return cls(
            child=d["child"],
            parents=list(d["parents"]),
            bins={k: np.asarray(v, dtype=float) for k, v in d.get("bins", {}).items()},
            groups={k: marginal_from_json(v) for k, v in d["groups"].items()},
            fallback=marginal_from_json(d["fallback"]),
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

    def sample(
        self, rng: np.random.Generator, parent_values: dict[str, ParentValue], u: np.ndarray | None = None
    ) -> np.ndarray:
        """Numeric child: values with NaN at each group's missing rate."""
        n = _length(parent_values[self.parents[0]])
        if u is None:
            u = rng.random(n)
        miss_u = rng.random(n)
        out = np.empty(n)
        for m, idx in self._groups_of(parent_values):
            assert isinstance(m, NumericMarginal), f"{self.child} is not numeric"
            vals = m.ppf(u[idx])
            vals[miss_u[idx] < m.missing] = np.nan
            out[idx] = vals
        return out

    def sample_codes(
        self,
        rng: np.random.Generator,
        parent_values: dict[str, ParentValue],
        levels: list[str],
        u: np.ndarray | None = None,
    ) -> np.ndarray:
        """Categorical child: indices into ``levels``, -1 for missing."""
        n = _length(parent_values[self.parents[0]])
        if u is None:
            u = rng.random(n)
        miss_u = rng.random(n)
        index = {lv: i for i, lv in enumerate(levels)}
        out = np.empty(n, dtype=np.int64)
        for m, idx in self._groups_of(parent_values):
            assert isinstance(m, CategoricalMarginal), f"{self.child} is not categorical"
            if not m.levels:
                out[idx] = -1
                continue
            remap = np.asarray([index[lv] for lv in m.levels], dtype=np.int64)
            codes = remap[m.codes(u[idx])]
            codes[miss_u[idx] < m.missing] = -1
            out[idx] = codes
        return out


def _length(v: ParentValue) -> int:
    return int(v[0].size) if isinstance(v, tuple) else int(np.asarray(v).size)


@dataclass
class Stats:
    marginals: dict[str, dict[str, Marginal]]
    conditionals: dict[str, dict[str, Conditional]]
    extra: dict[str, Any]

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
    return Stats(marg, cond, raw.get("extra", {}))


@lru_cache(maxsize=2)
def load_stats(path: str | None = None) -> Stats:
    """The committed summary statistics (cached)."""
    return load_stats_json(Path(path) if path else STATS_PATH)
