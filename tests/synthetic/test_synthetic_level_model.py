"""The level model of a categorical child under the leaf rule (synthetic.levels, synthetic.gibbs LEVEL_MODELS):
a penalised softmax fitted only on levels and predictor values of >= PRIVACY_MIN rows, drawn as fitted."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthetic.gibbs import Encoder, TreeConditional, cells_ok, fit_gibbs, to_frame
from synthetic.joint import PRIVACY_MIN
from synthetic.levels import LevelModel, feature_spec, fit_level_model

LEVELS = ["L0", "L1", "L2", "R"]
CATS = {"G": ["a", "b"], "H": ["h", "o"]}


def _frame(seed: int = 0, n: int = 2000) -> pd.DataFrame:
    """X uniform; G a category; H a category whose level h is seen on 50 rows: 20 of the rare level R and 30
    of L1 (encoded as a predictor, but only 30 rows of it among the modelled levels). The level: L0 mostly
    below X = 0.4, else L1 (G = a) / L2 (G = b); R on 30 rows (a model that named it, or a coefficient of h
    fitted on the 30 rows, would single out fewer than PRIVACY_MIN rows)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, n)
    g = np.where(rng.random(n) < 0.5, "a", "b")
    y = np.where(x < 0.4, np.where(rng.random(n) < 0.85, "L0", "L1"), np.where(g == "a", "L1", "L2"))
    y = np.where(rng.random(n) < 0.1, rng.choice(["L0", "L1", "L2"], n), y)  # some noise
    y[:30] = "R"
    h = np.full(n, "o", dtype=object)
    h[10:60], y[30:60] = "h", "L1"
    return pd.DataFrame({"X": x, "G": g, "H": h, "Y": y})


def _encoded(df: pd.DataFrame) -> tuple[np.ndarray, list[str], np.ndarray]:
    enc = Encoder.fit(df, ["X"], ["G", "H"])
    x = enc.transform(to_frame(df[["X", "G", "H"]], CATS), len(df))
    y = df["Y"].map({lv: i for i, lv in enumerate(LEVELS)}).to_numpy(np.int64)
    return x, enc.names, y


def _fit(df: pd.DataFrame) -> LevelModel:
    x, names, y = _encoded(df)
    group = np.array([0, 0, 0, 1])  # the frequent levels one group, the rare one another
    rest_ref = np.bincount(y, minlength=4) / len(y)
    return fit_level_model(x, names, y, group, rest_ref)


def test_the_level_model_is_fitted_only_on_levels_and_predictor_values_of_the_minimum_rows() -> None:
    df = _frame()
    x, names, y = _encoded(df)
    model = _fit(df)
    assert model.levels == [0, 1, 2] and list(model.rest) == [3]  # R (30 rows): pooled share, no coefficients
    assert model.n == int((y < 3).sum()) and model.coef.shape == (3, len(model.spec["score"]) + len(model.spec["eq"]))
    codes = np.where(np.isnan(x), -1, x).astype(np.int64)[y < 3]
    for j, v in model.spec["eq"]:
        hits = int((codes[:, j] == v).sum())
        assert PRIVACY_MIN <= hits <= model.n - PRIVACY_MIN, (names[j], v, hits)
    for j, bins in model.spec["score"]:
        assert bins == codes[:, j].max() + 1
    # H = h: 50 rows in all (a predictor of the encoder), 30 among the modelled levels' rows: no feature
    hj = names.index("H=h")
    assert (every := np.where(np.isnan(x), -1, x).astype(np.int64))[:, hj].sum() == PRIVACY_MIN
    assert 0 < codes[:, hj].sum() < PRIVACY_MIN and [hj, 1] not in model.spec["eq"]
    assert [hj, 1] in feature_spec(x[y < 3], names, min_rows=1)["eq"]  # without the minimum it would be one
    assert [hj, 1] in feature_spec(every, names)["eq"]  # and on all the rows it has the minimum


def test_level_draws_follow_the_fitted_probabilities_and_the_real_tie() -> None:
    df = _frame()
    x, _, y = _encoded(df)
    model = _fit(df)
    groups = np.zeros(len(df), dtype=np.int64)
    p = model.probs(x, groups)
    assert p.shape == (len(df), 4) and np.allclose(p.sum(axis=1), 1.0) and (p[:, 3] == 0).all()
    reps = 15
    draws = model.sample(np.random.default_rng(5), np.repeat(x, reps, axis=0), np.repeat(groups, reps))
    band = np.repeat(df["X"].to_numpy() < 0.4, reps)
    is_a = np.repeat(df["G"].to_numpy() == "a", reps)
    real_y = np.repeat(y, reps)
    for rows in (band, ~band & is_a, ~band & ~is_a):
        drawn = np.bincount(draws[rows], minlength=4) / rows.sum()
        fitted = np.repeat(p, reps, axis=0)[rows].mean(axis=0)
        assert drawn == pytest.approx(fitted, abs=0.015)  # the draws follow the fitted probabilities
        real = np.bincount(real_y[rows & (real_y < 3)], minlength=4) / (rows & (real_y < 3)).sum()
        assert fitted[:3] == pytest.approx(real[:3], abs=0.06)  # which follow the real tie
    assert (draws[band] == 0).mean() > 0.7 and (draws[~band & is_a] == 1).mean() > 0.7
    rare = model.sample(np.random.default_rng(5), x[:200], np.ones(200, dtype=np.int64))
    assert (rare == 3).all()  # the rare levels' group: its pooled shares


def test_the_level_model_round_trips_through_json_and_is_deterministic() -> None:
    df = _frame()
    x, _, _ = _encoded(df)
    model = _fit(df)
    text = json.dumps(model.to_json())
    back = LevelModel.from_json(json.loads(text))
    assert json.dumps(back.to_json()) == text
    assert json.dumps(_fit(df).to_json()) == text  # the same rows: the same file
    groups = np.zeros(len(df), dtype=np.int64)
    assert back.probs(x, groups) == pytest.approx(model.probs(x, groups), abs=1e-3)  # rounded coefficients
    a = back.sample(np.random.default_rng(3), x, groups)
    assert np.array_equal(a, back.sample(np.random.default_rng(3), x, groups))
    assert not np.array_equal(a, back.sample(np.random.default_rng(4), x, groups))
    assert not np.array_equal(_fit(_frame(seed=1)).coef, model.coef)  # other rows, other coefficients


def test_no_level_model_of_the_committed_file_writes_its_rows() -> None:
    """A level model is fitted on the rows of its modelled levels only (``n`` in memory): written, with its tree's
    rows (the sum of its leaves' ``n``) it told the rows of the rare levels left out, a cell of 1-49 rows when
    they make fewer than PRIVACY_MIN (the file of stop 29: e.g. 11 applicants of the rare education level, 41
    previous applications not the last per contract)."""
    from synthetic.stats import STATS_PATH

    fitted = json.loads(STATS_PATH.read_text(encoding="utf-8"))["gibbs"]
    models = [(t, c, d["level_model"]) for t, m in fitted.items() for c, d in m["trees"].items() if "level_model" in d]
    assert len(models) > 10
    assert not [(t, c) for t, c, lm in models if "n" in lm]
    model = _fit(_frame())
    assert model.n > 0 and "n" not in model.to_json() and LevelModel.from_json(model.to_json()).n is None

def test_a_child_under_the_grown_rule_draws_its_level_from_the_model() -> None:
    """fit_gibbs: a grown tree's leaves keep only group shares that follow the rule; the level (missing
    values included, -1) comes from the model and keeps its tie to the predictors; the exact rule and a child
    outside LEVEL_MODELS have no model."""
    df = _frame(n=3000)
    n = len(df)
    rng = np.random.default_rng(2)
    df["M"] = np.where(rng.random(n) < np.where(df["X"] < 0.5, 0.6, 0.05), None, np.where(df["G"] == "a", "u", "v"))
    every = lambda f: np.ones(n, dtype=bool)  # noqa: E731
    cats = {**CATS, "Y": LEVELS, "M": ["u", "v"]}
    entries = [("Y", every), ("M", every, None, True)]
    fitted = fit_gibbs(df, entries, ["X"], cats, 50, leaf_rule="grown")
    frame = to_frame(df, cats)
    mat = Encoder.from_json(fitted["encoder"]).transform(frame, n, compact=True)
    tree = TreeConditional.from_json(fitted["trees"]["Y"])
    assert tree.level_model is not None and tree.group == [0, 0, 0, 1]
    cells = np.asarray(tree.group)[frame["Y"][0]]
    leaf = tree.leaf(mat)
    for k, lf in enumerate(tree.leaves):
        assert len(lf["probs"]) == 2 and cells_ok(np.bincount(cells[leaf == k], minlength=2))
    codes = tree.sample_codes(np.random.default_rng(0), leaf, mat)
    low = df["X"].to_numpy() < 0.4
    assert (codes[low] == 0).mean() > 0.65 and (codes[~low & (df["G"] == "a").to_numpy()] == 1).mean() > 0.65
    assert not (codes == 3).any()  # the rare level: 30 rows in all, written off (as in a marginal)
    mtree = TreeConditional.from_json(fitted["trees"]["M"])
    assert mtree.level_model is not None and mtree.with_missing
    m = mtree.sample_codes(np.random.default_rng(0), mtree.leaf(mat), mat)
    below = df["X"].to_numpy() < 0.5
    assert (m[below] == -1).mean() == pytest.approx(0.6, abs=0.08)
    assert (m[~below] == -1).mean() == pytest.approx(0.05, abs=0.04)
    assert "level_model" not in fit_gibbs(df, entries, ["X"], cats, 50)["trees"]["Y"]  # exact


def test_only_the_children_named_get_a_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import synthetic.gibbs as gibbs

    df = _frame()
    every = lambda f: np.ones(len(df), dtype=bool)  # noqa: E731
    cats = {**CATS, "Y": LEVELS}
    monkeypatch.setattr(gibbs, "LEVEL_MODELS", {"Z"})
    assert "level_model" not in fit_gibbs(df, [("Y", every)], ["X"], cats, 50, "grown")["trees"]["Y"]
    monkeypatch.setattr(gibbs, "LEVEL_MODELS", {"Y"})
    assert "level_model" in fit_gibbs(df, [("Y", every)], ["X"], cats, 50, "grown")["trees"]["Y"]


def _hand_model(seed: int = 0) -> tuple[LevelModel, np.ndarray, np.ndarray]:
    """A level model of 9 levels in 4 groups -- 0-2 modelled; 3 modelled alone; 4-5 rare (pooled shares);
    6-7 modelled with the rare 8 -- over 10 numeric predictors (codes -1 .. 23) and 20 flags, random
    coefficients; random rows and groups."""
    rng = np.random.default_rng(seed)
    n_num, n_flag, m = 10, 20, 4000
    x = np.concatenate(
        [rng.integers(-1, 24, (m, n_num)), (rng.random((m, n_flag)) < rng.uniform(0.05, 0.6, n_flag)).astype(int)],
        axis=1,
    ).astype(np.int8)
    spec = {
        "score": [[j, 24] for j in range(0, n_num, 2)],
        "eq": [[j, v] for j in range(n_num) for v in (-1, 3, 7, 20)] + [[j, 1] for j in range(n_num, n_num + n_flag)],
    }
    levels = [0, 1, 2, 3, 6, 7]
    model = LevelModel(
        levels=levels,
        spec=spec,
        coef=rng.normal(0, 0.4, (len(levels), len(spec["score"]) + len(spec["eq"]))),
        intercept=rng.normal(0, 1, len(levels)),
        group=[0, 0, 0, 1, 2, 2, 3, 3, 3],
        rest={4: 0.02, 5: 0.06, 8: 0.01},
        n=10_000,
        l2=1e-3,
    )
    return model, x, rng.integers(0, 4, m)


def test_the_fast_draw_is_the_inverse_cdf_of_the_reference_probabilities_in_every_kind_of_group() -> None:
    """LevelModel.sample (per group, packed tables) draws what the inverse CDF of LevelModel.probs draws with
    the same uniforms, and its frequencies over many draws follow those probabilities."""
    model, x, groups = _hand_model()
    p = model.probs(x, groups)
    u = np.random.default_rng(7).random(len(x))
    cum = np.cumsum(p, axis=1)
    reference = np.minimum((cum <= (u * cum[:, -1])[:, None]).sum(axis=1), p.shape[1] - 1)
    drawn = model.sample(np.random.default_rng(7), x, groups)
    assert (drawn == reference).mean() > 0.999
    assert set(np.unique(drawn[groups == 1]).tolist()) == {3} and set(np.unique(drawn[groups == 2]).tolist()) == {4, 5}
    reps = 300
    few = np.arange(0, len(x), 100)  # 40 rows, 300 draws each
    many = model.sample(np.random.default_rng(8), np.repeat(x[few], reps, axis=0), np.repeat(groups[few], reps))
    freq = (many.reshape(few.size, reps)[:, :, None] == np.arange(9)).mean(axis=1)
    share = p[few] / p[few].sum(axis=1, keepdims=True)  # a group of modelled and rare levels: each block weighs 1
    assert np.abs(freq - share).max() < 0.1 and np.abs(freq - share).mean() < 0.012
    assert np.array_equal(drawn, model.sample(np.random.default_rng(7), x, groups))  # deterministic by seed


def test_the_packed_logits_equal_the_reference_logits_whatever_the_pack_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """A group's logits (relative to its first class) from packs of columns equal LevelModel.logits', with
    packs of one column or of many, and the draw evaluates them only for groups of two or more modelled
    levels, on their rows."""
    import synthetic.levels as levels_mod

    model, x, groups = _hand_model(seed=1)
    full = model.logits(x)
    plans = model._plans()
    assert sorted(plans) == [0, 1, 2, 3] and plans[1].cols.size == 0 and plans[2].cols.size == 0
    for g, cls in ((0, [0, 1, 2]), (3, [4, 5])):
        want = (full[:, cls[1:]] - full[:, cls[:1]]).T
        assert plans[g].logits(x) == pytest.approx(want, abs=1e-9)
        monkeypatch.setattr(levels_mod, "PACK_ROWS", 1)
        assert plans[g].logits(x) == pytest.approx(want, abs=1e-9)
        monkeypatch.setattr(levels_mod, "PACK_ROWS", 1024)
    seen: list[int] = []
    real_logits = levels_mod._GroupPlan.logits
    monkeypatch.setattr(levels_mod._GroupPlan, "logits", lambda self, c: seen.append(len(c)) or real_logits(self, c))
    model.sample(np.random.default_rng(0), x, groups)
    assert sorted(seen) == sorted([int((groups == 0).sum()), int((groups == 3).sum())])


def test_the_softmax_fit_does_not_depend_on_the_number_of_blas_threads() -> None:
    """fit_softmax with > 10,000 coefficients (where OpenBLAS splits L-BFGS-B's vector products across
    threads) stopped at max_iter gives the same coefficients whatever BLAS threads the caller allows."""
    from scipy import sparse
    from threadpoolctl import threadpool_limits

    from synthetic.levels import fit_softmax

    rng = np.random.default_rng(0)
    n, f, k = 3000, 420, 30
    a = sparse.random(n, f, density=0.05, random_state=1, format="csr")
    a.data[:] = 1.0
    y = (np.asarray(a[:, :k].argmax(axis=1)).ravel() + rng.integers(0, 3, n)) % k
    allowed = np.ones((n, k), dtype=bool)
    free = fit_softmax(a, y, allowed, 1e-4, max_iter=60)
    with threadpool_limits(limits=1, user_api="blas"):
        one = fit_softmax(a, y, allowed, 1e-4, max_iter=60)
    assert np.array_equal(free[0], one[0]) and np.array_equal(free[1], one[1])


def test_a_structural_missing_value_stays_exact_under_the_level_model() -> None:
    """A child redrawn with its missing values (an occupation, missing for every applicant without
    employment): the missing value is a group of its own, so the leaves keep its exact share (the rule's
    cells) and the model draws only among the levels -- no row of the always-missing region gets a level."""
    df = _frame(n=3000)
    n = len(df)
    rng = np.random.default_rng(4)
    low = (df["G"] == "a").to_numpy()  # e.g. without employment: never an occupation
    df["M"] = np.where(low | (rng.random(n) < 0.1), None, np.where(df["X"] < 0.5, "u", "v"))
    every = lambda f: np.ones(n, dtype=bool)  # noqa: E731
    fitted = fit_gibbs(df, [("M", every, None, True)], ["X"], {**CATS, "M": ["u", "v"]}, 50, leaf_rule="grown")
    tree = TreeConditional.from_json(fitted["trees"]["M"])
    assert tree.level_model is not None and tree.group == [0, 0, 1]  # u, v | missing
    mat = Encoder.from_json(fitted["encoder"]).transform(to_frame(df, {**CATS, "M": ["u", "v"]}), n, compact=True)
    leaf = tree.leaf(mat)
    draws = np.concatenate([tree.sample_codes(np.random.default_rng(s), leaf, mat) for s in range(10)])
    low = np.tile(low, 10)
    assert (draws[low] == -1).all()
    assert (draws[~low] == -1).mean() == pytest.approx(0.1, abs=0.04)
