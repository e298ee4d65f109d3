"""Children's social care histories with exactly known proportional hazards.

Data-generating process (all children, from birth to the 18th birthday or the extract date):

- Primary referrals of child i arrive as a Poisson process in calendar time with intensity
  ``lambda0(age(t)) * exp(eta_i)``, where lambda0 is piecewise constant by single year of
  age (``scale * referral_age_shape[age]``) and
  ``eta_i = sum_j beta_j domain_ij + beta_fsm fsm_i + beta_eh employment_i health_i
  + beta_male male_i + u_LA + theta_context c_LA + theta_cross MDH_i c_LA``,
  c_LA the LA's MDH prevalence among its children minus the national prevalence.
- Marks by independent thinning of primary referrals (a thinned Poisson process is Poisson,
  with intensity multiplied by the mark probability): a child-in-need episode (not NFA) with
  probability ``p_cin exp(gamma_cin'x)``; given that, a protection plan with
  ``p_cpp exp(gamma_cpp'x)`` and, independently, entry to care with
  ``p_cla r_cla(age) exp(gamma_cla'x + v_LA)``. Plans and care start after a delay that
  does not depend on x, which shifts the baseline but keeps the hazards proportional.
- Re-referrals: each primary referral has Poisson(m) offspring 7-365 days later,
  independent of x; an offspring is a CIN episode only if its primary was (probability q)
  and never starts a plan or care. Then every outcome's process is a Poisson cluster
  process whose void probability over any window is exp(-exp(eta + log mark) * H), so
  'any X in a window' follows a complementary log-log model exactly and the first X is
  proportional-hazards with log-hazard-ratios equal to the sums of coefficients written
  to truth.json (referral: beta; CIN: beta + gamma_cin; CPP: + gamma_cpp; care:
  beta + gamma_cin + gamma_cla).
- Calibration: lambda0's scale to 520 referrals per 10,000 children a year, m to a
  re-referral share of 24%, the mark probabilities to the cumulative incidences before 18
  (Jay et al. 2025), and the durations of CIN episodes, plans and periods of care to the
  stocks at 31 March (DfE), all measured as the fidelity report measures the tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from child_mdh.contract import LEGAL_STATUS_CODES
from child_mdh.synth import calibration
from child_mdh.synth.dates import age_on, birthday
from child_mdh.synth.measures import (
    OPEN,
    children_open_on,
    person_years_year_before_census,
    rereferral,
    same_as_next,
    same_as_previous,
    truncate_overlaps,
)
from child_mdh.synth.sampling import categorical, grouped_categorical, solve_increasing

YEAR = 365.25
TERMS = (
    "employment", "education", "health", "housing", "any_domain", "fsm", "employment:health",
    "sex_male",
    "la_mdh_prevalence_centred", "mdh:la_mdh_prevalence_centred",
)
OUTCOMES = ("referral", "cin", "cpp", "cla")


@dataclass
class Children:
    """Per-child inputs to the social care process (all children, 0-17 on census day)."""

    dob: np.ndarray
    la: np.ndarray
    male: np.ndarray
    domains: np.ndarray  # (n, 4) bool
    fsm: np.ndarray  # FSM at the reference census (recorded or latent)
    context: np.ndarray  # c_LA of the child's LA
    observed: np.ndarray  # has a pupil record: contacts reach the tables
    age_at_census: np.ndarray

    @property
    def mdh(self) -> np.ndarray:
        """Default Child-MDH: >= 2 of 5 equally weighted indicators (4 domains + FSM)."""
        return (self.domains.sum(axis=1) + self.fsm) >= 2


def design(ch: Children) -> dict[str, np.ndarray]:
    """The covariate columns x_t of every term in TERMS, as floats."""
    d = ch.domains.astype(float)
    return {
        "employment": d[:, 0],
        "education": d[:, 1],
        "health": d[:, 2],
        "housing": d[:, 3],
        "any_domain": (d.sum(axis=1) >= 1).astype(float),
        "fsm": ch.fsm.astype(float),
        "employment:health": d[:, 0] * d[:, 2],
        "sex_male": ch.male.astype(float),
        "la_mdh_prevalence_centred": ch.context,
        "mdh:la_mdh_prevalence_centred": ch.mdh * ch.context,
    }


def linear(x: dict[str, np.ndarray], coefs: dict[str, float]) -> np.ndarray:
    """sum_t coef_t x_t over the terms present in ``coefs``."""
    n = len(next(iter(x.values())))
    out = np.zeros(n)
    for term, value in coefs.items():
        if term not in x:
            raise KeyError(f"unknown term {term!r}; terms are {', '.join(TERMS)}")
        out += value * x[term]
    return out


def full_terms(coefs: dict[str, float]) -> dict[str, float]:
    """Every term of TERMS with its coefficient (0 where absent)."""
    return {t: float(coefs.get(t, 0.0)) for t in TERMS}


def log_hazard_ratios(sp: dict) -> dict[str, dict[str, float]]:
    """The true log-hazard-ratio of every term for each outcome (sums of coefficients)."""
    beta = full_terms(sp["log_hazard_ratio_referral"])
    cin = full_terms(sp["log_mark_cin"])
    cpp = full_terms(sp["log_mark_cpp"])
    cla = full_terms(sp["log_mark_cla"])
    return {
        "referral": beta,
        "cin": {t: beta[t] + cin[t] for t in TERMS},
        "cpp": {t: beta[t] + cin[t] + cpp[t] for t in TERMS},
        "cla": {t: beta[t] + cin[t] + cla[t] for t in TERMS},
    }


class Baseline:
    """Piecewise-constant age shape r(a), a = 0..17, and its cumulative R(age) in years."""

    def __init__(self, shape):
        self.shape = np.asarray(shape, dtype=float)
        if len(self.shape) != 18 or np.any(self.shape <= 0):
            raise ValueError("an age shape needs 18 positive values (ages 0-17)")
        self.knots = np.arange(19, dtype=float)
        self.cum = np.r_[0.0, np.cumsum(self.shape)]

    def cumulative(self, age_years):
        return np.interp(np.clip(age_years, 0.0, 18.0), self.knots, self.cum)

    def inverse(self, value):
        return np.interp(value, self.cum, self.knots)


def _mark_grid(coefs: dict[str, float]) -> float:
    """Largest exp(gamma'x) over all binary covariate patterns (mark terms are binary)."""
    best = 0.0
    for bits in range(64):
        x = {"employment": bits & 1, "education": (bits >> 1) & 1, "health": (bits >> 2) & 1,
             "housing": (bits >> 3) & 1, "fsm": (bits >> 4) & 1, "sex_male": (bits >> 5) & 1}
        x["employment:health"] = x["employment"] * x["health"]
        x["any_domain"] = int(bits & 15 > 0)
        value = sum(coefs.get(t, 0.0) * v for t, v in x.items())
        best = max(best, value)
    for t in ("la_mdh_prevalence_centred", "mdh:la_mdh_prevalence_centred"):
        if coefs.get(t, 0.0) != 0.0:
            raise ValueError(f"mark probabilities may not depend on {t}")
    return float(np.exp(best))


def mark_probability_maxima(sp: dict, p0: dict[str, float], v_cla_max: float) -> dict[str, float]:
    """The largest value each mark probability takes over every covariate pattern and age."""
    cla_shape = np.asarray(sp["cla_age_shape"], dtype=float)
    return {
        "cin": p0["cin"] * _mark_grid(sp["log_mark_cin"]),
        "cpp": p0["cpp"] * _mark_grid(sp["log_mark_cpp"]),
        "cla": p0["cla"] * cla_shape.max() * _mark_grid(sp["log_mark_cla"]) * float(np.exp(v_cla_max)),
    }


def check_mark_probabilities(sp: dict, p0: dict[str, float], v_cla_max: float) -> dict[str, float]:
    """Raise ValueError unless every thinning probability is <= 1 for every x and age."""
    maxima = mark_probability_maxima(sp, p0, v_cla_max)
    bad = {k: v for k, v in maxima.items() if v > 1.0}
    if bad:
        raise ValueError(
            "thinning probabilities above 1 for some covariate pattern: "
            + ", ".join(f"{k} up to {v:.3f}" for k, v in bad.items())
            + ". Lower the mark coefficients or the calibration targets."
        )
    return maxima


@dataclass
class Referrals:
    child: np.ndarray
    day: np.ndarray
    primary: np.ndarray
    cin: np.ndarray
    cpp: np.ndarray
    cla: np.ndarray
    age: np.ndarray  # age in years at the referral


def simulate_referrals(ch: Children, eta: np.ndarray, scale: float, baseline: Baseline,
                       p_cin: np.ndarray, p_cpp: np.ndarray, cla_prob, m: float, q: float,
                       end: np.ndarray, delay: tuple[int, int],
                       rng: np.random.Generator) -> Referrals:
    """Primary referrals from birth to ``end`` (exclusive), their marks and re-referrals.

    ``cla_prob(child_index, age_years)`` gives the care mark probability of a CIN primary.
    """
    n = len(ch.dob)
    age_end = (end - ch.dob) / YEAR
    cum_end = baseline.cumulative(age_end)
    k = rng.poisson(np.exp(eta) * scale * cum_end)
    child = np.repeat(np.arange(n), k)
    age = baseline.inverse(rng.random(len(child)) * cum_end[child])
    day = np.minimum(ch.dob[child] + np.floor(age * YEAR).astype(np.int64), end[child] - 1)
    cin = rng.random(len(child)) < p_cin[child]
    cpp = cin & (rng.random(len(child)) < p_cpp[child])
    cla = cin & (rng.random(len(child)) < cla_prob(child, age))

    n_off = rng.poisson(m, len(child))
    parent = np.repeat(np.arange(len(child)), n_off)
    off_child = child[parent]
    off_day = day[parent] + rng.integers(delay[0], delay[1] + 1, len(parent))
    off_cin = cin[parent] & (rng.random(len(parent)) < q)
    keep = off_day < end[off_child]
    off_child, off_day, off_cin = off_child[keep], off_day[keep], off_cin[keep]
    zeros = np.zeros(len(off_child), dtype=bool)
    return Referrals(
        child=np.r_[child, off_child],
        day=np.r_[day, off_day],
        primary=np.r_[np.ones(len(child), dtype=bool), zeros],
        cin=np.r_[cin, off_cin],
        cpp=np.r_[cpp, zeros],
        cla=np.r_[cla, zeros],
        age=np.r_[age, (off_day - ch.dob[off_child]) / YEAR],
    )


def lifetime_risk(eta: np.ndarray, scale: float, cum18: float, mark: np.ndarray | float) -> float:
    """Mean over children of P(at least one marked primary referral before 18).

    The process is Poisson, so P = 1 - exp(-exp(eta) * scale * mark * integral of the
    baseline over ages 0-18) (delays of plans and care after the referral are ignored).
    """
    return float(np.mean(-np.expm1(-np.exp(eta) * scale * cum18 * mark)))


def _lognormal_days(median_log: float, sd: float, z: np.ndarray) -> np.ndarray:
    return np.maximum(1, np.round(np.exp(median_log + sd * z))).astype(np.int64)


def _bisect(f, lo: float, hi: float, iters: int = 40) -> float:
    """Root of an increasing function on [lo, hi] by bisection (clamped to the ends)."""
    if f(lo) >= 0:
        return lo
    if f(hi) <= 0:
        return hi
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if f(mid) < 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@dataclass
class SocialCare:
    """Social care records (child indices and day numbers) plus the truth of the process."""

    referrals: dict
    plans: dict
    episodes: dict
    truth: dict


def simulate_social_care(ch: Children, la_effects: dict, params: dict, census_day: int,
                         history_start: int, extract: int, census_year: int,
                         rngs: dict) -> SocialCare:
    """Simulate, calibrate and return the social care records and their truth."""
    sp = params["social_care"]
    rng = rngs["social_care"]
    n = len(ch.dob)
    x = design(ch)
    beta = sp["log_hazard_ratio_referral"]
    u_la = la_effects["referral"][ch.la]
    eta = linear(x, beta) + u_la
    g_cin = linear(x, sp["log_mark_cin"])
    g_cpp = linear(x, sp["log_mark_cpp"])
    g_cla = linear(x, sp["log_mark_cla"]) + la_effects["cla"][ch.la]
    baseline = Baseline(sp["referral_age_shape"])
    cla_shape = np.asarray(sp["cla_age_shape"], dtype=float)
    cla_baseline = Baseline(baseline.shape * cla_shape)
    end = np.minimum(birthday(ch.dob, 18), extract + 1)

    # --- mark probabilities from the cumulative incidences before 18 (model-based) ---------
    targets = calibration.CUMULATIVE_INCIDENCE

    def solve_marks(scale: float) -> dict[str, float]:
        cum18 = baseline.cum[-1]
        p0 = {}
        p0["cin"] = solve_increasing(
            lambda p: lifetime_risk(eta, scale, cum18, p * np.exp(g_cin)) - targets["cin"].value,
            1e-6, 1.0 / np.exp(g_cin).max())
        pc = p0["cin"] * np.exp(g_cin)
        p0["cpp"] = solve_increasing(
            lambda p: lifetime_risk(eta, scale, cum18, pc * p * np.exp(g_cpp)) - targets["cpp"].value,
            1e-6, 1.0 / np.exp(g_cpp).max())
        p0["cla"] = solve_increasing(
            lambda p: lifetime_risk(eta, scale, cla_baseline.cum[-1], pc * p * np.exp(g_cla))
            - targets["cla"].value,
            1e-6, 1.0 / (np.exp(g_cla).max() * cla_shape.max()))
        return p0

    # --- referral scale: expected observed referrals in the year before census ----------
    w_start, w_end = census_day - 365, census_day
    person_years = person_years_year_before_census(ch.age_at_census)
    exposure = (baseline.cumulative((np.minimum(w_end, end) - ch.dob) / YEAR)
                - baseline.cumulative((w_start - ch.dob) / YEAR))
    expected_primary_per_scale = float((np.exp(eta) * exposure)[ch.observed].sum())
    if expected_primary_per_scale <= 0:  # tiny populations: no pupil in the calibration year
        expected_primary_per_scale = max(float((np.exp(eta) * exposure).sum()), 1e-12)
        person_years = max(person_years, 1e-12)
    target_rate = calibration.REFERRALS_PER_10000.value / 10_000
    target_share = sp["rereferral_target_share"]
    q = sp["offspring_cin_probability"]
    delay = tuple(sp["offspring_delay_days"])

    state = rng.bit_generator.state
    m = target_share / (1 - target_share) * 0.6
    m_eff_ratio = 1.0
    history = []
    def referral_scale(m, m_eff_ratio):
        # capped at 1 referral per child-year so a degenerate tiny population cannot explode
        value = target_rate * person_years / ((1 + m * m_eff_ratio) * expected_primary_per_scale)
        return min(value, 1.0)

    for _ in range(3):
        scale = referral_scale(m, m_eff_ratio)
        p0 = solve_marks(scale)
        p_cin = p0["cin"] * np.exp(g_cin)
        p_cpp = p0["cpp"] * np.exp(g_cpp)
        rng.bit_generator.state = state
        refs = simulate_referrals(
            ch, eta, scale, baseline, p_cin, p_cpp,
            lambda c, a, p0=p0: p0["cla"] * cla_shape[np.minimum(a.astype(np.int64), 17)] * np.exp(g_cla[c]),
            m, q, end, delay, rng)
        window = ch.observed[refs.child] & (refs.day >= history_start + 365)
        rr = rereferral(refs.child[window], refs.day[window])
        prim = refs.primary[window]
        n_prim, n_off = int(prim.sum()), int((~prim).sum())
        s_pp = float(rr[prim].mean()) if n_prim else 0.0
        m_eff = n_off / max(n_prim, 1)
        history.append({"m": m, "scale": scale, "rereferral_share": float(rr.mean()) if len(rr) else float("nan")})
        m_eff_ratio = m_eff / m if m > 0 else 1.0
        m_needed = max((target_share - s_pp) / (1 - target_share), 0.0)
        m = min(m_needed / max(m_eff_ratio, 0.5), 1.0)  # bounded for tiny populations
    scale = referral_scale(m, m_eff_ratio)
    p0 = solve_marks(scale)
    maxima = check_mark_probabilities(sp, p0, float(np.max(la_effects["cla"])))
    p_cin = p0["cin"] * np.exp(g_cin)
    p_cpp = p0["cpp"] * np.exp(g_cpp)

    def cla_prob(c, a):
        return p0["cla"] * cla_shape[np.minimum(a.astype(np.int64), 17)] * np.exp(g_cla[c])

    rng.bit_generator.state = state
    refs = simulate_referrals(ch, eta, scale, baseline, p_cin, p_cpp, cla_prob, m, q, end,
                              delay, rng)

    # de-duplicate (child, day): keep the record carrying the most (plan/care > CIN > NFA)
    priority = refs.cpp.astype(int) * 4 + refs.cla.astype(int) * 4 + refs.cin.astype(int) * 2 + refs.primary
    order = np.lexsort((-priority, refs.day, refs.child))
    c_s, d_s = refs.child[order], refs.day[order]
    first = ~same_as_previous(c_s, d_s)
    keep = order[first]
    n_duplicates = int(len(refs.child) - len(keep))
    refs = Referrals(**{f: getattr(refs, f)[keep] for f in Referrals.__dataclass_fields__})

    crng = rngs["care_episodes"]
    bday18 = birthday(ch.dob, 18)

    # --- protection plans ------------------------------------------------------------------
    cpp_ref = np.flatnonzero(refs.cpp)
    lo, hi = sp["cpp_delay_days"]
    cpp_start = refs.day[cpp_ref] + crng.integers(lo, hi + 1, len(cpp_ref))
    cpp_child = refs.child[cpp_ref]
    ok = cpp_start < np.minimum(bday18[cpp_child], extract + 1)
    cpp_ref, cpp_start, cpp_child = cpp_ref[ok], cpp_start[ok], cpp_child[ok]
    order = np.lexsort((cpp_start, cpp_child))
    cpp_ref, cpp_start, cpp_child = cpp_ref[order], cpp_start[order], cpp_child[order]
    dup = same_as_previous(cpp_child, cpp_start)
    cpp_ref, cpp_start, cpp_child = cpp_ref[~dup], cpp_start[~dup], cpp_child[~dup]
    z_cpp = crng.standard_normal(len(cpp_ref))

    stocks = calibration.stock_targets(census_year)
    march31 = int(np.datetime64(f"{census_year}-03-31").astype("datetime64[D]").astype(np.int64))
    denominator = n  # children aged 0-17 on census day

    def cpp_ends(mu):
        end_ = np.minimum(cpp_start + _lognormal_days(mu, sp["cpp_duration_sd_log"], z_cpp),
                          bday18[cpp_child])
        return truncate_overlaps(cpp_child, cpp_start, end_)

    def observed_stock(child, start, end_):
        keep_ = ch.observed[child]
        return 10_000 * children_open_on(child[keep_], start[keep_], end_[keep_], march31) / denominator

    mu_cpp = _bisect(lambda mu: observed_stock(cpp_child, cpp_start, cpp_ends(mu)) - stocks["cpp"],
                     np.log(14), np.log(4000))
    cpp_end = cpp_ends(mu_cpp)

    # --- periods of care --------------------------------------------------------------------
    cla_ref = np.flatnonzero(refs.cla)
    lo, hi = sp["cla_delay_days"]
    cla_start = refs.day[cla_ref] + crng.integers(lo, hi + 1, len(cla_ref))
    cla_child = refs.child[cla_ref]
    ok = cla_start < np.minimum(bday18[cla_child], extract + 1)
    cla_ref, cla_start, cla_child = cla_ref[ok], cla_start[ok], cla_child[ok]
    order = np.lexsort((cla_start, cla_child))
    cla_ref, cla_start, cla_child = cla_ref[order], cla_start[order], cla_child[order]
    dup = same_as_previous(cla_child, cla_start)
    cla_ref, cla_start, cla_child = cla_ref[~dup], cla_start[~dup], cla_child[~dup]
    short = crng.random(len(cla_ref)) < sp["cla_short_share"]
    z_cla = crng.standard_normal(len(cla_ref))
    short_days = _lognormal_days(np.log(sp["cla_short_median_days"]), sp["cla_short_sd_log"], z_cla)

    def cla_ends(mu):
        long_days = _lognormal_days(mu, sp["cla_long_sd_log"], z_cla)
        end_ = np.minimum(cla_start + np.where(short, short_days, long_days), bday18[cla_child])
        return truncate_overlaps(cla_child, cla_start, end_)

    mu_cla = _bisect(lambda mu: observed_stock(cla_child, cla_start, cla_ends(mu)) - stocks["cla"],
                     np.log(30), np.log(20000))
    cla_end = cla_ends(mu_cla)

    # --- CIN episodes: cover the plan and the care they led to -------------------------------
    z_cin = crng.standard_normal(len(refs.child))
    covered = refs.day.copy()
    np.maximum.at(covered, cpp_ref, cpp_end)
    np.maximum.at(covered, cla_ref, cla_end)
    lo, hi = sp["nfa_closure_days"]
    nfa_close = refs.day + crng.integers(lo, hi + 1, len(refs.child))
    cin_idx = np.flatnonzero(refs.cin)

    def cin_closures(mu):
        own = refs.day + _lognormal_days(mu, sp["cin_duration_sd_log"], z_cin)
        close = np.minimum(np.maximum(own, covered), bday18[refs.child])
        return np.where(refs.cin, close, nfa_close)

    mu_cin = _bisect(
        lambda mu: observed_stock(refs.child[cin_idx], refs.day[cin_idx], cin_closures(mu)[cin_idx])
        - stocks["cin"], np.log(7), np.log(20000))
    closure = cin_closures(mu_cin)
    closure = np.where(refs.cin, closure, np.minimum(closure, extract))

    # --- primary need -----------------------------------------------------------------------
    serious = np.zeros(len(refs.child), dtype=bool)
    serious[cpp_ref] = True
    serious[cla_ref] = True
    need_codes = [f"N{i}" for i in range(10)]
    cin_table = sp["primary_need_cin"]
    n1_serious = sp["primary_need_n1_when_plan_or_care"]
    f_serious = float(serious[refs.cin].mean()) if refs.cin.any() else 0.0
    n1_other = min(max((cin_table["N1"] - n1_serious * f_serious) / max(1 - f_serious, 1e-9), 0.0), 1.0)
    rest = {k: v for k, v in cin_table.items() if k != "N1"}
    rest_total = sum(rest.values())

    def need_probs(n1):
        p = np.zeros(10)
        p[1] = n1
        for k, v in rest.items():
            p[need_codes.index(k)] = (1 - n1) * v / rest_total
        return p

    nfa_probs = np.zeros(10)
    for k, v in sp["primary_need_nfa"].items():
        nfa_probs[need_codes.index(k)] = v
    need_group = np.where(~refs.cin, 0, np.where(serious, 1, 2))
    need = grouped_categorical(crng, need_group, np.vstack([nfa_probs / nfa_probs.sum(),
                                                            need_probs(n1_serious),
                                                            need_probs(n1_other)]))

    # --- episodes of care within each period ------------------------------------------------
    episodes = _care_episodes(cla_child, cla_start, cla_end, ch, sp, crng)

    # --- keep what the tables hold: observed children, around the window --------------------
    keep_ref = ch.observed[refs.child] & (
        (refs.day >= history_start) | (refs.cin & (closure > history_start)))
    referrals = {
        "child": refs.child[keep_ref], "day": refs.day[keep_ref],
        "need": need[keep_ref], "closure": closure[keep_ref], "nfa": ~refs.cin[keep_ref],
    }
    keep_cpp = ch.observed[cpp_child] & (cpp_end > history_start)
    plans = {"child": cpp_child[keep_cpp], "start": cpp_start[keep_cpp], "end": cpp_end[keep_cpp]}
    period_keep = ch.observed[cla_child] & (cla_end > history_start)
    ep_keep = period_keep[episodes["period"]] & (episodes["start"] <= extract)
    eps = {k: v[ep_keep] for k, v in episodes.items()}
    for rec, key in ((referrals, "closure"), (plans, "end"), (eps, "end")):
        rec[key] = np.where(rec[key] > extract, OPEN, rec[key])

    # --- truth --------------------------------------------------------------------------------
    lhr = log_hazard_ratios(sp)
    cum18 = baseline.cum[-1]
    pc = p0["cin"] * np.exp(g_cin)
    lifetime = {
        "referral": lifetime_risk(eta, scale, cum18, 1.0),
        "cin": lifetime_risk(eta, scale, cum18, pc),
        "cpp": lifetime_risk(eta, scale, cum18, pc * p0["cpp"] * np.exp(g_cpp)),
        "cla": lifetime_risk(eta, scale, cla_baseline.cum[-1], pc * p0["cla"] * np.exp(g_cla)),
    }
    obs = ch.observed
    in_year = (refs.day >= w_start) & (refs.day < w_end) & obs[refs.child]
    year_refs = refs.day[in_year]
    rr_year = rereferral(refs.child[obs[refs.child]], refs.day[obs[refs.child]])
    in_year_obs = (refs.day[obs[refs.child]] >= w_start) & (refs.day[obs[refs.child]] < w_end)
    realised = {
        "referrals_per_10000_year_before_census": 10_000 * len(year_refs) / person_years,
        "rereferral_share_year_before_census": float(rr_year[in_year_obs].mean()) if in_year_obs.any() else None,
        "cin_per_10000_31_march": observed_stock(refs.child[cin_idx], refs.day[cin_idx], cin_closures(mu_cin)[cin_idx]),
        "cpp_per_10000_31_march": observed_stock(cpp_child, cpp_start, cpp_end),
        "cla_per_10000_31_march": observed_stock(cla_child, cla_start, cla_end),
        "lifetime_risk_before_18_model_based": lifetime,
        "duplicate_same_day_referrals_merged": n_duplicates,
    }
    truth = {
        "model": __doc__.strip().split("\n\n")[1],
        "terms": list(TERMS),
        "baseline": {
            "referral_age_shape": list(map(float, baseline.shape)),
            "referral_scale_per_child_year": scale,
            "lambda0_per_child_year_by_age": list(map(float, scale * baseline.shape)),
            "age_definition": "age in years = (date - date of birth) / 365.25, single-year bands 0-17",
            "cla_age_shape": list(map(float, cla_shape)),
        },
        "marks": {
            "p_cin": p0["cin"], "p_cpp": p0["cpp"], "p_cla": p0["cla"],
            "log_mark_cin": full_terms(sp["log_mark_cin"]),
            "log_mark_cpp": full_terms(sp["log_mark_cpp"]),
            "log_mark_cla": full_terms(sp["log_mark_cla"]),
            "maximum_probability": maxima,
        },
        "rereferrals": {
            "mean_offspring_per_primary": m,
            "offspring_cin_probability_when_primary_cin": q,
            "delay_days": list(delay),
            "calibration_iterations": history,
        },
        "durations": {
            "cpp_log_median_days": mu_cpp, "cpp_sd_log": sp["cpp_duration_sd_log"],
            "cla_long_log_median_days": mu_cla, "cla_long_sd_log": sp["cla_long_sd_log"],
            "cla_short_share": sp["cla_short_share"],
            "cla_short_median_days": sp["cla_short_median_days"],
            "cin_log_median_days": mu_cin, "cin_sd_log": sp["cin_duration_sd_log"],
            "note": "ends are capped at the 18th birthday; a child's plans (and periods of care) "
                    "do not overlap: an earlier one ends the day before the next starts",
        },
        "primary_need": {"n1_share_with_plan_or_care": n1_serious, "n1_share_other_cin": n1_other},
        "targets": {"stocks_per_10000_31_march": stocks, "referrals_per_10000": target_rate * 10_000,
                    "rereferral_share": target_share,
                    "cumulative_incidence": {k: t.value for k, t in targets.items()}},
        "realised": realised,
    }
    outcomes = {}
    for o in OUTCOMES:
        outcomes[o] = {"log_hazard_ratio": lhr[o],
                       "lifetime_risk_before_18_model_based": lifetime[o]}
    truth["outcomes"] = outcomes
    truth["eta_components"] = {"u_la_sd": sp["la_referral_sd"], "v_cla_la_sd": sp["la_cla_sd"]}
    truth["_eta"] = eta  # per-child linear predictor, written to truth_children.parquet
    return SocialCare(referrals=referrals, plans=plans, episodes=eps, truth=truth)


def _care_episodes(child, start, end, ch: Children, sp: dict, rng: np.random.Generator) -> dict:
    """Contiguous SSDA903 episodes within each period of care.

    The first episode starts the period (RNE S) with a legal status drawn by age; changes
    arrive as a Poisson process (``cla_changes_per_year``) at distinct days inside the
    period, each a change of placement (P, U), of legal status (L) or both (T). An episode
    ends the day the next starts; the last ends with the period.
    """
    n_periods = len(child)
    years = np.maximum(end - start, 0) / YEAR
    k = rng.poisson(sp["cla_changes_per_year"] * years)
    period = np.repeat(np.arange(n_periods), k)
    span = (end - start)[period]
    offset = 1 + np.floor(rng.random(len(period)) * np.maximum(span - 1, 0)).astype(np.int64)
    valid = span >= 2
    period, offset = period[valid], offset[valid]
    # distinct change days per period
    order = np.lexsort((offset, period))
    period, offset = period[order], offset[order]
    distinct = ~same_as_previous(period, offset)
    period, offset = period[distinct], offset[distinct]

    ep_period = np.r_[np.arange(n_periods), period]
    ep_start = np.r_[start, start[period] + offset]
    order = np.lexsort((ep_start, ep_period))
    ep_period, ep_start = ep_period[order], ep_start[order]
    nxt_start = np.zeros(len(ep_start), dtype=np.int64)
    nxt_start[:-1] = ep_start[1:]
    ep_end = np.where(same_as_next(ep_period), nxt_start, end[ep_period])
    first = ~same_as_previous(ep_period)
    rank = np.arange(len(ep_period)) - np.maximum.accumulate(np.where(first, np.arange(len(ep_period)), 0))

    reasons = list(sp["cla_change_reason"])
    reason = np.array(reasons, dtype=object)[categorical(rng, list(sp["cla_change_reason"].values()), len(ep_period))]
    reason = np.where(first, "S", reason)

    ls_codes = list(LEGAL_STATUS_CODES)
    age = age_on(ch.dob[child[ep_period]], ep_start)
    start_tables = sp["cla_start_legal_status"]
    group = np.select([age < 1, age <= 12], [0, 1], 2)
    probs = np.zeros((3, len(ls_codes)))
    for g, name in enumerate(("under_1", "1_12", "13_plus")):
        for code, p in start_tables[name].items():
            probs[g, ls_codes.index(code)] = p
    initial = grouped_categorical(rng, group, probs)
    next_status = {"V2": "C1", "C1": "C2", "C2": "E1", "E1": "C2", "L1": "C1", "L2": "C1",
                   "J1": "V2", "J2": "V2"}
    transition = np.arange(len(ls_codes))
    for a, b in next_status.items():
        transition[ls_codes.index(a)] = ls_codes.index(b)
    status = initial.copy()
    c2 = ls_codes.index("C2")
    for r in range(1, int(rank.max()) + 1 if len(rank) else 0):
        at = np.flatnonzero(rank == r)
        prev = status[at - 1]
        changes = np.isin(reason[at], ["L", "T"])
        # a placement order (E1) is for young children: older children on a care order
        # change placement only
        blocked = changes & (prev == c2) & (age[at] >= 10)
        reason[at[blocked]] = "P"
        changes &= ~blocked
        status[at] = np.where(changes, transition[prev], prev)
    return {
        "child": child[ep_period],
        "period": ep_period,
        "start": ep_start,
        "end": ep_end,
        "legal_status": np.array(ls_codes, dtype=object)[status],
        "reason": reason.astype(object),
    }
