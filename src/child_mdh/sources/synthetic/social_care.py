"""Children's social care histories with exactly known proportional hazards.

Data-generating process (all children, from birth to the 18th birthday or the extract date):

- Primary referrals of child i arrive as a Poisson process in calendar time with intensity
  ``lambda0(age(t)) * exp(eta_i)``, where lambda0 is piecewise constant by single year of
  age (``scale * referral_age_shape[age]``) and
  ``eta_i = sum_j beta_j domain_ij + beta_any any_domain_i + beta_fsm fsm_i
  + beta_eh employment_i health_i + beta_male male_i + u_LA + theta_context c_LA
  + theta_cross MDH_i c_LA``, any_domain = deprived in at least one of the four census
  dimensions (the steep first step of the gradient), c_LA the LA's MDH prevalence among
  its children minus the national prevalence.
- Marks by independent thinning of primary referrals (a thinned Poisson process is Poisson,
  with intensity multiplied by the mark probability): a child-in-need episode (not NFA) with
  probability ``p_cin exp(gamma_cin'x)``; given that, a protection plan with
  ``p_cpp exp(gamma_cpp'x)`` and, independently, entry to care with
  ``p_cla r_cla(age) exp(gamma_cla'x + v_LA)``. Plans and care start after a delay that
  does not depend on x, which shifts the baseline but keeps the hazards proportional.
- Re-referrals: each primary referral has Poisson(m_early) offspring 7-365 days later and
  Poisson(m_late) 'late' offspring 366-1461 days (1-4 years) later, all independent of x;
  an offspring is a CIN episode only if its primary was (probability q) and never starts
  a plan or care. Then every outcome's process is a Poisson cluster process whose void
  probability over any window is exp(-exp(eta + log mark) * H), so 'any X in a window'
  follows a complementary log-log model exactly and the first X is proportional-hazards
  with log-hazard-ratios equal to the sums of coefficients written to truth.json
  (referral: beta; CIN: beta + gamma_cin; CPP: + gamma_cpp; care: beta + gamma_cin +
  gamma_cla). A child's first referral is always a primary.
- Calibration: lambda0's scale to the risk of a referral before 18 (35.4%, Jay et al.
  2025), m_early and m_late to 520 referrals per 10,000 children a year and a
  re-referral share of 24% (late offspring concentrate referrals on fewer children), the
  mark probabilities to the cumulative incidences of CIN, plans and care before 18, and
  the durations of CIN episodes, plans and periods of care to the stocks at 31 March
  (DfE), all measured as the fidelity report measures the tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from child_mdh.sources.synthetic import calibration
from child_mdh.sources.synthetic.care_records import build_records
from child_mdh.sources.synthetic.dates import birthday
from child_mdh.sources.synthetic.measures import (
    person_years_year_before_census,
    rereferral,
    same_as_previous,
)
from child_mdh.sources.synthetic.sampling import solve_increasing

YEAR = 365.25
TERMS = (
    "employment",
    "education",
    "health",
    "housing",
    "any_domain",
    "fsm",
    "employment:health",
    "sex_male",
    "la_mdh_prevalence_centred",
    "mdh:la_mdh_prevalence_centred",
)
OUTCOMES = ("referral", "cin", "cpp", "cla")
RECOVERY_SPECIFICATION = (
    "Binomial GLM with a complementary log-log link for 'any event in [reference date, extract "
    "date]' (referral; CIN = referral not NFA; protection plan start; entry to care = episode "
    "with RNE S) on the terms: employment, education, health, housing (household flags), "
    "any_domain (>= 1 of the four), fsm (FSM at the reference census), employment:health, "
    "sex_male, mdh:la_mdh_prevalence_centred (MDH = >= 2 of the four domains and FSM), with "
    "single-year age-at-reference categories and LA fixed effects (which absorb u_LA, the LA "
    "care effect v_LA and la_mdh_prevalence_centred). A discrete-time cloglog hazard of the "
    "first event after the reference date estimates the same ratios when its baseline has "
    "an effect for each age-at-reference by period cell (the baseline depends on current age)."
)


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
        x = {
            "employment": bits & 1,
            "education": (bits >> 1) & 1,
            "health": (bits >> 2) & 1,
            "housing": (bits >> 3) & 1,
            "fsm": (bits >> 4) & 1,
            "sex_male": (bits >> 5) & 1,
        }
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
        "cla": p0["cla"]
        * cla_shape.max()
        * _mark_grid(sp["log_mark_cla"])
        * float(np.exp(v_cla_max)),
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
    late: np.ndarray  # a late offspring (more than 12 months after its primary)


def _offspring(
    child, day, cin, mean: float, delay: tuple[int, int], q: float, end, rng: np.random.Generator
):
    """Poisson(mean) re-referrals of each primary, ``delay`` days after it (inclusive).

    An offspring is a CIN episode only when its primary was (probability q); offspring after
    ``end`` of their child are dropped.
    """
    n_off = rng.poisson(mean, len(child))
    parent = np.repeat(np.arange(len(child)), n_off)
    off_child = child[parent]
    off_day = day[parent] + rng.integers(delay[0], delay[1] + 1, len(parent))
    off_cin = cin[parent] & (rng.random(len(parent)) < q)
    keep = off_day < end[off_child]
    return off_child[keep], off_day[keep], off_cin[keep]


def simulate_referrals(
    ch: Children,
    eta: np.ndarray,
    scale: float,
    baseline: Baseline,
    p_cin: np.ndarray,
    p_cpp: np.ndarray,
    cla_prob,
    m: tuple[float, float],
    q: float,
    end: np.ndarray,
    delays: tuple[tuple[int, int], tuple[int, int]],
    rng: np.random.Generator,
) -> Referrals:
    """Primary referrals from birth to ``end`` (exclusive), their marks and re-referrals.

    ``m`` = (early, late) mean offspring per primary and ``delays`` their delay ranges in
    days (early within 12 months, late after it). ``cla_prob(child_index, age_years)`` gives
    the care mark probability of a CIN primary.
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

    early = _offspring(child, day, cin, m[0], delays[0], q, end, rng)
    late = _offspring(child, day, cin, m[1], delays[1], q, end, rng)
    off_child, off_day, off_cin = (np.r_[a, b] for a, b in zip(early, late))
    zeros = np.zeros(len(off_child), dtype=bool)
    return Referrals(
        child=np.r_[child, off_child],
        day=np.r_[day, off_day],
        primary=np.r_[np.ones(len(child), dtype=bool), zeros],
        cin=np.r_[cin, off_cin],
        cpp=np.r_[cpp, zeros],
        cla=np.r_[cla, zeros],
        age=np.r_[age, (off_day - ch.dob[off_child]) / YEAR],
        late=np.r_[
            np.zeros(len(child) + len(early[0]), dtype=bool), np.ones(len(late[0]), dtype=bool)
        ],
    )


def lifetime_risk(eta: np.ndarray, scale: float, cum18: float, mark: np.ndarray | float) -> float:
    """Mean over children of P(at least one marked primary referral before 18).

    The process is Poisson, so P = 1 - exp(-exp(eta) * scale * mark * integral of the
    baseline over ages 0-18) (delays of plans and care after the referral are ignored).
    """
    return float(np.mean(-np.expm1(-np.exp(eta) * scale * cum18 * mark)))


@dataclass
class Process:
    """The calibrated referral process of one synthetic population."""

    eta: np.ndarray
    g_cin: np.ndarray
    g_cpp: np.ndarray
    g_cla: np.ndarray
    baseline: Baseline
    cla_shape: np.ndarray
    scale: float
    m_early: float
    m_late: float
    delays: tuple
    q: float
    p0: dict
    iterations: list

    @property
    def cla_baseline(self) -> Baseline:
        return Baseline(self.baseline.shape * self.cla_shape)

    def p_cin(self) -> np.ndarray:
        return self.p0["cin"] * np.exp(self.g_cin)

    def p_cpp(self) -> np.ndarray:
        return self.p0["cpp"] * np.exp(self.g_cpp)

    def p_cla(self, child: np.ndarray, age_years: np.ndarray) -> np.ndarray:
        band = np.minimum(age_years.astype(np.int64), 17)
        return self.p0["cla"] * self.cla_shape[band] * np.exp(self.g_cla[child])

    def lifetime(self) -> dict[str, float]:
        """Model-based risk before 18 of each outcome, averaged over all children."""
        cum18 = self.baseline.cum[-1]
        pc = self.p_cin()
        return {
            "referral": lifetime_risk(self.eta, self.scale, cum18, 1.0),
            "cin": lifetime_risk(self.eta, self.scale, cum18, pc),
            "cpp": lifetime_risk(self.eta, self.scale, cum18, pc * self.p_cpp()),
            "cla": lifetime_risk(
                self.eta,
                self.scale,
                self.cla_baseline.cum[-1],
                pc * self.p0["cla"] * np.exp(self.g_cla),
            ),
        }

    def simulate(self, ch: Children, end: np.ndarray, rng: np.random.Generator) -> Referrals:
        return simulate_referrals(
            ch,
            self.eta,
            self.scale,
            self.baseline,
            self.p_cin(),
            self.p_cpp(),
            self.p_cla,
            (self.m_early, self.m_late),
            self.q,
            end,
            self.delays,
            rng,
        )


def expected_offspring_in_window(
    day: np.ndarray, child_end: np.ndarray, delay: tuple[int, int], start: int, stop: int
) -> float:
    """Expected offspring per unit mean falling in [start, stop) and before their child's end.

    For a primary on day d with delays uniform on the integers delay[0]..delay[1], this is
    the share of delays k with start <= d + k < min(stop, end), summed over the primaries.
    """
    lo = np.maximum(delay[0], start - day)
    hi = np.minimum(delay[1], np.minimum(stop, child_end) - 1 - day)
    return float(np.clip(hi - lo + 1, 0, None).sum() / (delay[1] - delay[0] + 1))


def solve_offspring_means(
    n_target: float,
    n_primary: float,
    per_mean: tuple[float, float],
    share_target: float,
    share_terms: tuple,
    cap: float = 5.0,
) -> tuple[float, float]:
    """Early and late mean offspring per primary meeting a referral count and a re-referral share.

    Count: n_primary + m_e a_e + m_l a_l = n_target (a = expected offspring per unit mean in
    the count window). Share (re-referrals / referrals in the share window):
    r_p N_p + m_e r_e b_e + m_l r_l b_l = s (N_p + m_e b_e + m_l b_l), with the shares r of
    primaries, early and late offspring that follow another referral within 12 months taken
    from a simulation. Two linear equations in (m_e, m_l); when the solution is negative
    (the share cannot be met), that mean is set to 0 and the count alone decides the other.
    """
    a_e, a_l = per_mean
    (n_p, r_p), (b_e, r_e), (b_l, r_l) = share_terms
    s = share_target
    need = max(n_target - n_primary, 0.0)
    matrix = np.array([[a_e, a_l], [(r_e - s) * b_e, (r_l - s) * b_l]])
    rhs = np.array([need, (s - r_p) * n_p])
    if abs(np.linalg.det(matrix)) > 1e-12:
        m_e, m_l = np.linalg.solve(matrix, rhs)
    else:
        m_e, m_l = -1.0, -1.0
    if m_e < 0 or not np.isfinite(m_e):
        m_e, m_l = 0.0, need / a_l if a_l > 0 else 0.0
    elif m_l < 0 or not np.isfinite(m_l):
        m_e, m_l = (need / a_e if a_e > 0 else 0.0), 0.0
    return float(min(m_e, cap)), float(min(m_l, cap))


def solve_marks(eta, scale, baseline: Baseline, cla_shape, g_cin, g_cpp, g_cla) -> dict[str, float]:
    """Mark probabilities p_cin, p_cpp, p_cla giving the published risks before 18.

    Each is solved (Brent) so that the model-based cumulative incidence before 18,
    averaged over the synthetic children, equals Jay et al. 2025 (CIN 25.3%, protection
    plan 6.9%, looked after 3.5%), within the bound that keeps every probability <= 1.
    """
    targets = calibration.CUMULATIVE_INCIDENCE
    cum18 = baseline.cum[-1]
    cla_cum18 = Baseline(baseline.shape * cla_shape).cum[-1]
    p0 = {
        "cin": solve_increasing(
            lambda p: lifetime_risk(eta, scale, cum18, p * np.exp(g_cin)) - targets["cin"].value,
            1e-6,
            1.0 / np.exp(g_cin).max(),
        )
    }
    pc = p0["cin"] * np.exp(g_cin)
    p0["cpp"] = solve_increasing(
        lambda p: lifetime_risk(eta, scale, cum18, pc * p * np.exp(g_cpp)) - targets["cpp"].value,
        1e-6,
        1.0 / np.exp(g_cpp).max(),
    )
    p0["cla"] = solve_increasing(
        lambda p: (
            lifetime_risk(eta, scale, cla_cum18, pc * p * np.exp(g_cla)) - targets["cla"].value
        ),
        1e-6,
        1.0 / (np.exp(g_cla).max() * cla_shape.max()),
    )
    return p0


def calibrate_process(
    ch: Children,
    la_effects: dict,
    sp: dict,
    census_day: int,
    end: np.ndarray,
    rng: np.random.Generator,
    referrals_per_10000: float | None = None,
) -> Process:
    """Linear predictors, then the primary scale, mark probabilities and re-referral means.

    - scale (primary referrals): the model-based risk of at least one referral before 18
      equals Jay et al. 2025 (35.4%); the first referral of a child is always a primary;
    - marks: :func:`solve_marks` at that scale;
    - m_early, m_late (offspring per primary 7-365 days and 1-4 years later): observed
      referrals in the 365 days before census day equal ``referrals_per_10000`` (by
      default 520; the census year's published figure where there is one) per 10,000
      person-years
      (person-years from ages on census day, as the fidelity report counts them), and the
      share of referrals within 12 months of a previous one (measured as the fidelity report
      measures it, on the simulated referrals of observed children, pooled over that year
      and the years either side of it) equals 24% (:func:`solve_offspring_means`); four fixed-point steps on simulated
      referrals, the generator's state restored before each, so the primaries are those of
      the final draw (the fifth simulation records the achieved values).
    """
    x = design(ch)
    eta = linear(x, sp["log_hazard_ratio_referral"]) + la_effects["referral"][ch.la]
    g_cin = linear(x, sp["log_mark_cin"])
    g_cpp = linear(x, sp["log_mark_cpp"])
    g_cla = linear(x, sp["log_mark_cla"]) + la_effects["cla"][ch.la]
    baseline = Baseline(sp["referral_age_shape"])
    cla_shape = np.asarray(sp["cla_age_shape"], dtype=float)
    delays = (tuple(sp["offspring_delay_days"]), tuple(sp["late_offspring_delay_days"]))
    if delays[0][1] > 365 or delays[1][0] <= 365 or delays[0][0] < 1:
        raise ValueError(
            "early offspring delays must lie in 1-365 days and late ones after 365 days"
        )

    target_lifetime = calibration.CUMULATIVE_INCIDENCE["referral"].value
    cum18 = baseline.cum[-1]
    scale = solve_increasing(
        lambda v: lifetime_risk(eta, v, cum18, 1.0) - target_lifetime, 1e-9, 1.0
    )
    p0 = solve_marks(eta, scale, baseline, cla_shape, g_cin, g_cpp, g_cla)

    person_years = max(person_years_year_before_census(ch.age_at_census), 1e-12)
    rate = (
        calibration.REFERRALS_PER_10000.value
        if referrals_per_10000 is None
        else float(referrals_per_10000)
    )
    n_target = rate / 10_000 * person_years
    share_target = sp["rereferral_target_share"]
    year = (census_day - 365, census_day)
    # the shares that decide the split are pooled over the three years around that year
    # (less noise; the ages of the children are centred on those of the year itself)
    share_window = (census_day - 730, census_day + 365)

    process = Process(
        eta=eta,
        g_cin=g_cin,
        g_cpp=g_cpp,
        g_cla=g_cla,
        baseline=baseline,
        cla_shape=cla_shape,
        scale=scale,
        m_early=0.1,
        m_late=0.5,
        delays=delays,
        q=sp["offspring_cin_probability"],
        p0=p0,
        iterations=[],
    )
    state = rng.bit_generator.state
    for step in range(5):
        rng.bit_generator.state = state
        refs = process.simulate(ch, end, rng)
        seen = ch.observed[refs.child]
        rr = rereferral(refs.child[seen], refs.day[seen])
        in_year = (refs.day[seen] >= year[0]) & (refs.day[seen] < year[1])
        kinds = (refs.primary[seen], ~refs.primary[seen] & ~refs.late[seen], refs.late[seen])
        process.iterations.append(
            {
                "m_early": process.m_early,
                "m_late": process.m_late,
                "referrals_per_10000_year_before_census": 10_000
                * int(in_year.sum())
                / person_years,
                "rereferral_share_year_before_census": float(rr[in_year].mean())
                if in_year.any()
                else None,
            }
        )
        if step == 4:
            break
        prim = refs.primary & ch.observed[refs.child]
        p_day, p_end = refs.day[prim], end[refs.child[prim]]
        per_mean = tuple(expected_offspring_in_window(p_day, p_end, d, *year) for d in delays)
        per_mean_share = tuple(
            expected_offspring_in_window(p_day, p_end, d, *share_window) for d in delays
        )
        in_share = (refs.day[seen] >= share_window[0]) & (refs.day[seen] < share_window[1])
        rates = [float(rr[in_share & k].mean()) if (in_share & k).any() else 1.0 for k in kinds]
        process.m_early, process.m_late = solve_offspring_means(
            n_target,
            int((in_year & kinds[0]).sum()),
            per_mean,
            share_target,
            (
                (int((in_share & kinds[0]).sum()), rates[0]),
                (per_mean_share[0], rates[1]),
                (per_mean_share[1], rates[2]),
            ),
        )
    rng.bit_generator.state = state
    return process


def deduplicate(refs: Referrals) -> tuple[Referrals, int]:
    """One referral per (child, day), keeping the one carrying most (plan/care > CIN > NFA)."""
    priority = 4 * (refs.cpp | refs.cla) + 2 * refs.cin + refs.primary
    order = np.lexsort((-priority.astype(np.int64), refs.day, refs.child))
    keep = order[~same_as_previous(refs.child[order], refs.day[order])]
    out = Referrals(**{f: getattr(refs, f)[keep] for f in Referrals.__dataclass_fields__})
    return out, int(len(refs.child) - len(keep))


@dataclass
class SocialCare:
    """Social care records (child indices and day numbers) plus the truth of the process."""

    referrals: dict
    plans: dict
    episodes: dict
    eta: np.ndarray
    truth: dict


def simulate_social_care(
    ch: Children,
    la_effects: dict,
    params: dict,
    census_day: int,
    history_start: int,
    extract: int,
    census_year: int,
    rngs: dict,
) -> SocialCare:
    """Calibrate the process, simulate every child's referrals from birth, build records."""
    sp = params["social_care"]
    end = np.minimum(birthday(ch.dob, 18), extract + 1)
    rng = rngs["social_care"]
    referral_target = calibration.referrals_target(census_year).value
    process = calibrate_process(
        ch, la_effects, sp, census_day, end, rng, referrals_per_10000=referral_target
    )
    maxima = check_mark_probabilities(sp, process.p0, float(np.max(la_effects["cla"])))
    refs, n_duplicates = deduplicate(process.simulate(ch, end, rng))
    records = build_records(
        refs, ch, sp, census_day, census_year, history_start, extract, rngs["care_episodes"]
    )

    lifetime = process.lifetime()
    lhr = log_hazard_ratios(sp)
    truth = {
        "model": __doc__.strip().split("\n\n")[1],
        "terms": list(TERMS),
        "baseline": {
            "referral_age_shape": [float(v) for v in process.baseline.shape],
            "referral_scale_per_child_year": process.scale,
            "referral_scale_calibrated_to": "lifetime_risk_referral_before_18",
            "lambda0_per_child_year_by_age": [
                float(v) for v in process.scale * process.baseline.shape
            ],
            "age_definition": "age in years = (date - date of birth) / 365.25, single-year bands 0-17",
            "cla_age_shape": [float(v) for v in process.cla_shape],
        },
        "marks": {
            "p_cin": process.p0["cin"],
            "p_cpp": process.p0["cpp"],
            "p_cla": process.p0["cla"],
            "log_mark_cin": full_terms(sp["log_mark_cin"]),
            "log_mark_cpp": full_terms(sp["log_mark_cpp"]),
            "log_mark_cla": full_terms(sp["log_mark_cla"]),
            "maximum_probability": maxima,
        },
        "rereferrals": {
            "mean_offspring_per_primary": process.m_early + process.m_late,
            "mean_early_offspring_per_primary": process.m_early,
            "mean_late_offspring_per_primary": process.m_late,
            "offspring_cin_probability_when_primary_cin": process.q,
            "early_delay_days": list(sp["offspring_delay_days"]),
            "late_delay_days": list(sp["late_offspring_delay_days"]),
            "calibration_iterations": process.iterations,
        },
        "recovery_specification": RECOVERY_SPECIFICATION,
        "la_effects": {
            "referral_u_sd": sp["la_referral_sd"],
            "care_mark_v_sd": sp["la_cla_sd"],
            "clipped_at_sd": sp["la_effect_clip_sd"],
        },
        **records.truth,
        "targets": {
            "stocks_per_10000_31_march": calibration.stock_targets(census_year),
            "referrals_per_10000": referral_target,
            "rereferral_share": sp["rereferral_target_share"],
            "cumulative_incidence": {
                k: t.value for k, t in calibration.CUMULATIVE_INCIDENCE.items()
            },
        },
    }
    truth["realised"]["lifetime_risk_before_18_model_based"] = lifetime
    truth["realised"]["duplicate_same_day_referrals_merged"] = n_duplicates
    truth["outcomes"] = {
        o: {"log_hazard_ratio": lhr[o], "lifetime_risk_before_18_model_based": lifetime[o]}
        for o in OUTCOMES
    }
    return SocialCare(
        referrals=records.referrals,
        plans=records.plans,
        episodes=records.episodes,
        eta=process.eta,
        truth=truth,
    )
