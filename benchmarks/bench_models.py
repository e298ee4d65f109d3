"""Benchmark of the outcome and model stage on a simulated cohort.

    .venv/bin/python benchmarks/bench_models.py [--children 1000000] [--las 150]
        [--seed 1] [--no-row-level]

Simulates children with categorical covariates and their social care records from the
proportional-hazards design of :mod:`child_mdh.studies.model_recovery`, builds the outcomes,
then times the collapsed fits of the main specifications, the fixed-effect, hazard,
count and comparator models, and one row-level statsmodels fit of the same model as a
collapsed one to show the speed-up (and that the answers agree). Prints figures only.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import statsmodels.api as sm
from threadpoolctl import threadpool_limits

from child_mdh.aggregates.models import (
    binary_cells,
    count_cells,
    fit_binomial,
    fit_discrete_time_hazard,
    fit_linear_probability_fe,
    fit_negative_binomial,
    fit_poisson,
    fit_specifications,
    person_period_cells,
    proportional_hazards_test,
    standard_specifications,
)
from child_mdh.aggregates.models.comparator import compare_with_gbm
from child_mdh.derive.outcomes import build_outcomes
from child_mdh.studies.model_recovery import simulate_cohort

DOMAINS = ["employment", "education", "health", "housing"]


class Clock:
    def __init__(self):
        self.rows = []

    def __call__(self, label, func, *args, **kwargs):
        t0 = time.perf_counter()
        out = func(*args, **kwargs)
        dt = time.perf_counter() - t0
        self.rows.append((label, dt))
        print(f"{dt:8.2f} s  {label}", flush=True)
        return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--children", type=int, default=1_000_000)
    p.add_argument("--las", type=int, default=150)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-row-level", action="store_true")
    args = p.parse_args(argv)
    clock = Clock()

    sim = clock(
        f"simulate {args.children:,} children, {args.las} LAs",
        simulate_cohort,
        args.children,
        n_las=args.las,
        seed=args.seed,
    )
    print(f"          referrals rows: {len(sim.cin_referrals):,}")
    out = clock(
        "build_outcomes",
        build_outcomes,
        sim.children,
        sim.cin_referrals,
        sim.child_protection_plans,
        sim.looked_after_episodes,
        sim.reference_date,
        sim.follow_up_years,
    )

    specs = standard_specifications(fsm="fsm")
    fits, skipped = clock(
        f"fit {len(specs)} main specifications (collapsed, LA-clustered)",
        fit_specifications,
        out,
        specs,
    )
    cells_sizes = sorted({f.n_cells for f in fits})
    print(
        f"          fitted {len(fits)}, not estimable {len(skipped)}; cells per model: "
        f"{cells_sizes[0]:,} to {cells_sizes[-1]:,}"
    )

    keys = DOMAINS + ["fsm", "sex", "age", "la_code"]
    terms = DOMAINS + ["fsm", "sex", "age"]
    cells = clock(
        "collapse any_referral by domains, fsm, sex, age, LA",
        binary_cells,
        out,
        "any_referral",
        keys,
    )
    print(f"          {len(out):,} children -> {len(cells):,} cells")
    fe = clock(
        "cloglog with LA fixed effects (dummies)",
        fit_binomial,
        cells,
        terms,
        link="cloglog",
        fixed_effects="la_code",
    )
    print(f"          {len(fe.params)} coefficients")
    clock(
        "linear probability, LA absorbed (AbsorbingLS on cells)",
        fit_linear_probability_fe,
        cells,
        terms,
    )
    cnt = clock("collapse referral counts", count_cells, out, "n_referrals", "exposure_years", keys)
    clock("Poisson with log follow-up offset", fit_poisson, cnt, terms)
    nb = clock(
        "negative binomial on distinct rows (profile alpha)",
        fit_negative_binomial,
        out,
        ["n_domains", "sex", "age"],
        count="n_referrals",
        exposure="exposure_years",
    )
    print(f"          {nb.n_cells:,} distinct rows; alpha = {nb.alpha:.3f}")
    pp = clock(
        "person-period cells (attained age, to 18)",
        person_period_cells,
        out,
        ["n_domains", "sex", "la_code"],
        age="age",
        end_age=18,
    )
    print(
        f"          {pp.attrs['collapse']['person_periods']:,} person-periods -> {len(pp):,} cells"
    )
    clock(
        "discrete-time cloglog hazard",
        fit_discrete_time_hazard,
        pp,
        ["n_domains", "sex"],
        baseline=("attained_age",),
    )
    clock(
        "proportional-hazards test",
        proportional_hazards_test,
        pp,
        ["n_domains", "sex"],
        ["n_domains"],
        baseline=("attained_age",),
    )
    clock(
        "gradient boosting vs logistic, 5 folds by LA",
        compare_with_gbm,
        out,
        "any_referral",
        DOMAINS + ["fsm", "sex", "age"],
        interaction_features=DOMAINS,
    )

    if not args.no_row_level:
        spec_terms = ["n_domains", "sex", "age"]
        ccells = clock(
            "collapse for the row-level comparison",
            binary_cells,
            out,
            "any_referral",
            spec_terms + ["la_code"],
        )
        col = clock(
            "collapsed cloglog, count + sex + age, LA-clustered",
            fit_binomial,
            ccells,
            spec_terms,
            link="cloglog",
        )
        rows = out.loc[out["any_referral"].notna()]
        x = col.design_matrix(rows)
        groups = pd.factorize(rows["la_code"])[0]

        def row_fit():
            with threadpool_limits(limits=1, user_api="blas"):
                return sm.GLM(
                    rows["any_referral"].astype(float).to_numpy(),
                    x,
                    family=sm.families.Binomial(link=sm.families.links.CLogLog()),
                ).fit(tol=1e-12, cov_type="cluster", cov_kwds={"groups": groups})

        ref = clock(f"row-level statsmodels GLM, same model ({len(rows):,} rows)", row_fit)
        print(
            f"          max |coef diff| {np.max(np.abs(col.params.to_numpy() - ref.params)):.1e}, "
            f"max |SE diff| {np.max(np.abs(col.bse.to_numpy() - ref.bse)):.1e}"
        )
        row_t = clock.rows[-1][1]
        col_t = clock.rows[-2][1] + clock.rows[-3][1]
        print(f"          speed-up (collapse + fit vs row fit): {row_t / col_t:.0f}x")

    total = sum(t for _, t in clock.rows)
    print(f"{total:8.2f} s  total")


if __name__ == "__main__":
    main()
