"""The SEs of the linkage-weighted index that account for the estimated linkage model:
against the sandwich of the stacked estimating equations formed directly (numerical
derivatives, numpy), against the release's fixed-weight linearisation, and the cases
where the correction must vanish."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from child_mdh.aggregates import linkage as lk
from child_mdh.aggregates import linkage_stacked as st
from child_mdh.contract.vocabulary import DOMAINS, ENGLAND_CODE

WEIGHTS = dict.fromkeys([*DOMAINS, "fsm"], 0.2)
K = 0.4
REGIONS = ("E12000001", "E12000002")


def _census(n: int, seed: int) -> pd.DataFrame:
    """Census children, two a household, more deprived in the second region and among
    sex '2', and linking less there and with each deprived census domain; FSM seen only
    when linked."""
    rng = np.random.default_rng(seed)
    household = np.arange(n) // 2
    region = np.array(REGIONS)[(rng.random(household.max() + 1) < 0.5).astype(int)][household]
    sex = rng.choice(["1", "2"], n)
    latent = rng.normal(size=household.max() + 1)[household]
    latent = latent + 0.8 * (region == REGIONS[1]) + 0.8 * (sex == "2")
    flags = latent[:, None] + rng.normal(size=(n, 4)) > [1.3, 1.1, 0.9, 1.3]
    n_domains = flags.sum(axis=1)
    eta = 1.6 - 0.5 * n_domains - 1.2 * (sex == "2") - 1.2 * (region == REGIONS[1])
    linked = rng.random(n) < 1 / (1 + np.exp(-eta))
    fsm = rng.random(n) < 1 / (1 + np.exp(-(-1.5 + 0.8 * n_domains)))
    referral = rng.random(n) < 1 / (1 + np.exp(-(-1.5 + 0.5 * n_domains)))
    return pd.DataFrame(
        {
            "household_id": [f"h{h}" for h in household],
            "region_code": region,
            "la_code": np.where(region == REGIONS[0], "E06000001", "E08000001"),
            "age": rng.integers(5, 16, n),
            "sex": sex,
            "linked": linked,
            **{d: pd.array(flags[:, j], dtype="boolean") for j, d in enumerate(DOMAINS)},
            "n_domains": pd.array(n_domains, dtype="Int64"),
            "fsm": pd.array(np.where(linked, fsm, None), dtype="boolean"),
            "any_referral": pd.array(referral, dtype="boolean"),
        }
    )


def _direct_sandwich(children, measure, region=None):
    """theta-hat, the fixed-weight SE and the stacked SE from the stacked equations
    written out per child: the linkage model of sex and region (fitted by statsmodels),
    its scores and the ratio's equation, the derivative matrix A by central differences
    and the household-clustered B = G/(G-1) sum_g u_g u_g'; V = A^-1 B A^-T."""
    x = np.column_stack(
        [
            np.ones(len(children)),
            children["sex"].to_numpy() == "2",
            children["region_code"].to_numpy() == REGIONS[1],
        ]
    ).astype(float)
    r = children[list(WEIGHTS)].notna().all(axis=1).to_numpy(float)
    flags = children[list(WEIGHTS)].astype("float64").fillna(0).to_numpy()
    c = flags.mean(axis=1)  # equal weights 0.2
    mdh = (c >= K - 1e-9).astype(float)
    values = {"one": np.ones(len(c)), "mdh": mdh, "censored": c * mdh}
    a_name, b_name = st.RATIOS[measure]
    inside = np.ones(len(c)) if region is None else (children["region_code"] == region)
    a = values[a_name] * r * inside
    b = values[b_name] * r * inside
    alpha = sm.GLM(r, x, family=sm.families.Binomial()).fit(tol=1e-12).params

    def equations(params):  # one row per child: [psi_i, S_i']
        theta, al = params[0], params[1:]
        p = 1 / (1 + np.exp(-(x @ al)))
        return np.column_stack([(a - theta * b) / p, (r - p)[:, None] * x])

    p_hat = 1 / (1 + np.exp(-(x @ alpha)))
    theta = np.sum(a / p_hat) / np.sum(b / p_hat)
    params = np.concatenate([[theta], alpha])
    assert np.allclose(equations(params).sum(axis=0), 0, atol=1e-8)
    h = 1e-6
    A = np.column_stack(
        [
            -(equations(params + h * e).sum(axis=0) - equations(params - h * e).sum(axis=0))
            / (2 * h)
            for e in np.eye(len(params))
        ]
    )
    g = pd.factorize(children["household_id"])[0]
    G = g.max() + 1
    u = np.zeros((G, len(params)))
    np.add.at(u, g, equations(params))
    B = G / (G - 1) * u.T @ u
    A_inv = np.linalg.inv(A)
    V = A_inv @ B @ A_inv.T
    se_fixed = np.sqrt(B[0, 0]) / A[0, 0]
    return theta, se_fixed, np.sqrt(V[0, 0])


@pytest.mark.parametrize("measure", ["H", "A", "M0"])
@pytest.mark.parametrize("region", [None, REGIONS[1]])
def test_stacked_se_is_the_sandwich_of_the_stacked_equations(measure, region):
    children = _census(60, seed=4)
    fit = lk.fit_linkage_model(children, list(WEIGHTS), terms=("sex", "area"))
    est = st.stacked_index_inference(children, fit, WEIGHTS, K).set_index(["area_code", "measure"])
    row = est.loc[(region or ENGLAND_CODE, measure)]
    theta, se_fixed, se_stacked = _direct_sandwich(children, measure, region)
    assert row["estimate"] == pytest.approx(theta, rel=1e-9)
    assert row["se_fixed"] == pytest.approx(se_fixed, rel=1e-6)
    assert row["se_stacked"] == pytest.approx(se_stacked, rel=1e-5)
    # the correction is a hundred times the tolerance: leaving it out would fail
    assert abs(se_stacked - se_fixed) > 1e-3 * se_fixed


def _weighted(children, area="region_code"):
    fit = lk.fit_linkage_model(children, list(WEIGHTS), area=area)
    w, _ = lk.linkage_weights(fit.p_hat, fit.observed)
    return fit, w


def test_fixed_weight_se_is_the_release_linearisation():
    """Weights fixed, the stacked formula is af_inference's household-clustered SE, up to
    G counting the households with a modelled child rather than with the index."""
    children = _census(3_000, seed=5)
    fit, w = _weighted(children)
    fixed = lk.weighted_index_estimates(children, w, WEIGHTS, K).set_index(["area_code", "measure"])
    est = st.stacked_index_inference(children, fit, WEIGHTS, K).set_index(["area_code", "measure"])
    G = est["n_clusters"].iloc[0]
    obs = lk.observed_index(children, list(WEIGHTS))
    G_obs = children.loc[obs, "household_id"].nunique()
    assert G_obs < G
    scale = np.sqrt(G / (G - 1) / (G_obs / (G_obs - 1)))
    for key, row in est.iterrows():
        assert row["estimate"] == pytest.approx(fixed.loc[key, "estimate_ipw"], rel=1e-10)
        assert row["se_fixed"] == pytest.approx(fixed.loc[key, "std_error_ipw"] * scale, rel=1e-9)
        assert row["index_n"] == fixed.loc[key, "index_n"]
    # the estimated model makes every SE smaller here (deprivation-dependent linkage)
    assert (est["se_stacked"] < est["se_fixed"]).all()


def test_intercept_only_model_leaves_the_fixed_weight_se():
    """p_i = p-hat for all: D = -(1 - p-hat) sum_i psi_i = 0 at theta-hat, so the stacked
    SE is the fixed-weight SE, for England and each region."""
    children = _census(3_000, seed=6)
    fit = lk.fit_linkage_model(children, list(WEIGHTS), terms=())
    assert len(fit.coefficients) == 1
    est = st.stacked_index_inference(children, fit, WEIGHTS, K)
    np.testing.assert_allclose(est["se_stacked"], est["se_fixed"], rtol=1e-10)


def test_region_only_model_leaves_the_regions_but_not_england():
    """A model saturated in region (weights constant within a region): each region's
    correction vanishes (its D is (1 - p_r) times its own estimating equation, 0 at its
    estimate), while England's, a mix of two weights, does not."""
    children = _census(3_000, seed=6)
    fit = lk.fit_linkage_model(children, list(WEIGHTS), terms=("area",))
    est = st.stacked_index_inference(children, fit, WEIGHTS, K)
    regions = est[est["area_level"] == "region"]
    np.testing.assert_allclose(regions["se_stacked"], regions["se_fixed"], rtol=1e-10)
    # H and M0 differ between the regions (A hardly does: its correction is tiny)
    england = est[(est["area_code"] == ENGLAND_CODE) & est["measure"].isin(["H", "M0"])]
    assert (np.abs(england["se_stacked"] / england["se_fixed"] - 1) > 1e-3).all()


def test_region_domain_uses_every_childs_model_score():
    """A region's stacked SE is not the SE of the region's children on their own: the
    model's scores of the other region's children enter through the shared intercept and
    sex coefficient."""
    children = _census(3_000, seed=7)
    fit = lk.fit_linkage_model(children, list(WEIGHTS), terms=("pattern", "sex", "area"))
    est = st.stacked_index_inference(children, fit, WEIGHTS, K).set_index(["area_code", "measure"])
    region = REGIONS[0]
    phi = _region_influence_without_outside_scores(children, fit, region)
    G = est["n_clusters"].iloc[0]
    se_inside_only = np.sqrt(G / (G - 1) * np.sum(phi[0] ** 2)) / phi[1]
    assert est.loc[(region, "H"), "se_stacked"] != pytest.approx(se_inside_only, rel=1e-3)


def _region_influence_without_outside_scores(children, fit, region):
    """Household totals of H's influence in ``region`` with the model's scores of the
    children outside it left out (the wrong domain estimate), and the denominator."""
    use = fit.modelled
    kids = children.loc[use]
    cell = fit.cell_of[use]
    p = fit.p_cell[cell]
    r = fit.observed[use].astype(float)
    inside = (kids["region_code"] == region).to_numpy()
    c = kids[list(WEIGHTS)].astype("float64").fillna(0).to_numpy().mean(axis=1)
    mdh = (c >= K - 1e-9).astype(float) * r * inside
    one = r * inside
    theta = np.sum(mdh / p) / np.sum(one / p)
    resid = mdh - theta * one
    d = -np.bincount(cell, weights=resid * (1 - p) / p, minlength=len(fit.p_cell)) @ fit.design
    phi = resid / p + (fit.design @ np.linalg.solve(fit.information, d))[cell] * (r - p) * inside
    g = pd.factorize(kids["household_id"])[0]
    return np.bincount(g, weights=phi), np.sum(one / p)


def test_trimmed_weights_keep_the_fixed_weight_se():
    children = _census(3_000, seed=8)
    fit, w = _weighted(children)
    assert st.weights_are_inverse_p(fit, w)
    trimmed, _ = lk.linkage_weights(fit.p_hat, fit.observed, trim_percentile=90)
    assert not st.weights_are_inverse_p(fit, trimmed)
    fixed = lk.weighted_index_estimates(children, trimmed, WEIGHTS, K)
    out = st.with_stacked_index_se(fixed, children, fit, trimmed, WEIGHTS, K)
    assert (out["variance_ipw"] == st.VARIANCE_FIXED).all()
    pd.testing.assert_frame_equal(out.drop(columns="variance_ipw"), fixed)
    untrimmed = lk.weighted_index_estimates(children, w, WEIGHTS, K)
    out = st.with_stacked_index_se(untrimmed, children, fit, w, WEIGHTS, K)
    assert (out["variance_ipw"] == st.VARIANCE_STACKED).all()
    assert (out["std_error_ipw"] < untrimmed["std_error_ipw"]).all()
    assert (out["conf_low_ipw"] > untrimmed["conf_low_ipw"]).all()


def test_stacked_logistic_se_is_the_sandwich_of_the_stacked_equations():
    """The weighted logit of the outcome on MDH, age and sex stacked with the linkage
    model of sex and region, written out per child and differentiated numerically;
    clustered by household with the CR1 factor."""
    children = _census(160, seed=9)
    children["age"] = np.where(np.arange(160) % 3 == 0, 6, 5)
    fit = lk.fit_linkage_model(children, list(WEIGHTS), terms=("sex", "area"))
    w, _ = lk.linkage_weights(fit.p_hat, fit.observed)
    got = st.stacked_logistic_se(
        children, fit, w, WEIGHTS, K, "any_referral", cluster="household_id"
    )
    table = lk.weighted_model_estimates(children, w, WEIGHTS, K, ["any_referral"], "household_id")
    assert got["estimate"] == pytest.approx(table["estimate_ipw"].item(), rel=1e-8)
    # weights fixed: the table's CR1 SE, up to G counting every household with a
    # modelled child (the stacked equations' units), not only those in the outcome model
    G, obs = got["n_clusters"], lk.observed_index(children, list(WEIGHTS))
    G_obs = children.loc[obs, "household_id"].nunique()
    scale = np.sqrt(G / (G - 1) / (G_obs / (G_obs - 1)))
    assert G_obs < G
    assert got["se_fixed"] == pytest.approx(table["std_error_ipw"].item() * scale, rel=1e-8)

    sex2 = (children["sex"] == "2").to_numpy(float)
    x = np.column_stack([np.ones(160), sex2, children["region_code"] == REGIONS[1]]).astype(float)
    r = children[list(WEIGHTS)].notna().all(axis=1).to_numpy(float)
    c = children[list(WEIGHTS)].astype("float64").fillna(0).to_numpy().mean(axis=1)
    mdh = (c >= K - 1e-9).astype(float)
    z = np.column_stack([np.ones(160), mdh, children["age"] == 6, sex2]).astype(float)
    y = children["any_referral"].to_numpy(float)
    alpha = sm.GLM(r, x, family=sm.families.Binomial()).fit(tol=1e-12).params
    p_hat = 1 / (1 + np.exp(-(x @ alpha)))
    keep = r > 0
    beta = (
        sm.GLM(y[keep], z[keep], family=sm.families.Binomial(), freq_weights=1 / p_hat[keep])
        .fit(tol=1e-12)
        .params
    )

    def equations(params):  # one row per child: [w_i (y_i - mu_i) z_i', S_i']
        b, al = params[:4], params[4:]
        p = 1 / (1 + np.exp(-(x @ al)))
        mu = 1 / (1 + np.exp(-(z @ b)))
        return np.column_stack([(r / p * (y - mu))[:, None] * z, (r - p)[:, None] * x])

    params = np.concatenate([beta, alpha])
    assert np.allclose(equations(params).sum(axis=0), 0, atol=1e-7)
    h = 1e-6
    A = np.column_stack(
        [
            -(equations(params + h * e).sum(axis=0) - equations(params - h * e).sum(axis=0))
            / (2 * h)
            for e in np.eye(len(params))
        ]
    )
    g = pd.factorize(children["household_id"])[0]
    G, N = g.max() + 1, keep.sum()
    u = np.zeros((G, len(params)))
    np.add.at(u, g, equations(params))
    B = G / (G - 1) * (N - 1) / (N - 4) * u.T @ u
    A_inv = np.linalg.inv(A)
    V = A_inv @ B @ A_inv.T
    V_fixed = np.linalg.inv(A[:4, :4]) @ B[:4, :4] @ np.linalg.inv(A[:4, :4]).T
    assert got["estimate"] == pytest.approx(beta[1], rel=1e-7)
    assert got["se_fixed"] == pytest.approx(np.sqrt(V_fixed[1, 1]), rel=1e-5)
    assert got["se_stacked"] == pytest.approx(np.sqrt(V[1, 1]), rel=1e-5)
    assert abs(got["se_stacked"] - got["se_fixed"]) > 1e-3 * got["se_fixed"]


def test_a_region_without_mdh_children_has_no_a_and_no_se():
    children = _census(3_000, seed=8)
    small = children.iloc[:4].copy()
    small["household_id"] = ["x1", "x1", "x2", "x3"]
    small["region_code"] = "E12000009"
    for d in DOMAINS:
        small[d] = pd.array([False] * 4, dtype="boolean")
    small["fsm"] = pd.array([False] * 4, dtype="boolean")
    small["linked"] = True
    children = pd.concat([children, small], ignore_index=True)
    fit, w = _weighted(children)
    fixed = lk.weighted_index_estimates(children, w, WEIGHTS, K)
    out = st.with_stacked_index_se(fixed, children, fit, w, WEIGHTS, K).set_index(
        ["area_code", "measure"]
    )
    assert out.loc[("E12000009", "H"), "estimate_ipw"] == 0
    assert np.isnan(out.loc[("E12000009", "A"), "std_error_ipw"])
    assert (out["variance_ipw"] == st.VARIANCE_STACKED).all()
