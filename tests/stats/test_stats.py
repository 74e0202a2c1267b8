"""The statistics engine against scipy, statsmodels and closed forms."""

import math

import numpy as np
import pytest
import scipy.stats as st
from scipy.optimize import brentq, minimize_scalar
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestPower
from statsmodels.stats.proportion import proportion_confint

from domainyours_eval.stats import (
    PairedCounts,
    binomial_function_interval,
    bootstrap_ci,
    bootstrap_metrics,
    bootstrap_ratios,
    clopper_pearson_interval,
    cohen_kappa,
    connor_min_detectable,
    connor_rows_needed,
    cost_difference_test,
    holm,
    holm_levels,
    mcnemar_exact,
    mcnemar_exact_power,
    mcnemar_min_detectable,
    mcnemar_rows_needed,
    paired_bootstrap,
    paired_posterior_interval,
    paired_t_test,
    t_min_detectable,
    t_rows_needed,
    tango_interval,
    wilson_interval,
)

TABLE = [(0, 5), (0, 23), (1, 23), (5, 5), (3, 9), (12, 40), (40, 40), (1, 2), (7, 300)]


@pytest.mark.parametrize("k, n", TABLE)
def test_wilson_and_clopper_pearson_match_statsmodels(k, n):
    for conf in (0.95, 0.99, 1 - 0.05 / 3):
        lo, hi = proportion_confint(k, n, 1 - conf, method="wilson")
        assert wilson_interval(k, n, confidence=conf) == pytest.approx(
            (max(0, lo), min(1, hi)), abs=1e-12)
        assert clopper_pearson_interval(k, n, confidence=conf) == pytest.approx(
            proportion_confint(k, n, 1 - conf, method="beta"), abs=1e-9)


@pytest.mark.parametrize("k, n", [(0, 23), (5, 5), (0, 5)])
def test_rate_intervals_do_not_collapse_at_0_or_n(k, n):
    lo, hi = wilson_interval(k, n)
    assert hi - lo > 0.1
    lo, hi = clopper_pearson_interval(k, n)
    assert hi - lo > 0.1
    assert clopper_pearson_interval(0, 23) == pytest.approx((0, 0.148), abs=1e-3)


@pytest.mark.parametrize("k, n", [(3, 9), (12, 40), (7, 300)])
def test_jeffreys_posterior_of_one_rate_matches_statsmodels(k, n):
    res = binomial_function_interval(lambda f: f, [(k, n)], n_draws=400_000, seed=1)
    lo, hi = proportion_confint(k, n, 0.05, method="jeffreys")
    assert res.value == pytest.approx(k / n)
    assert (res.ci_low, res.ci_high) == pytest.approx((lo, hi), abs=0.004)
    assert res.method == "jeffreys" and res.n_resamples == 400_000


def test_jeffreys_interval_reaches_its_estimate_on_the_boundary():
    # No error at all: F1 is 1, and the interval must contain it (BCD's modification at k = 0).
    res = binomial_function_interval(lambda f, m: 2 * (1 - f) / (2 - f + m), [(0, 24), (0, 6)],
                                     n_draws=5000, seed=0)
    assert res.value == 1.0 and res.ci_high == 1.0 and res.ci_low < 0.95


def _tango_by_brute_force(b, c, n, conf):
    """Invert the score test with the constrained MLE found numerically (an independent path)."""
    z = st.norm.ppf(1 - (1 - conf) / 2)

    def stat(d):
        # Multinomial cells p12 = p21 + d, p21, rest; maximise the likelihood over p21.
        lo = max(0.0, -d) + 1e-12
        hi = (1 - d) / 2 - 1e-12 if d >= 0 else (1 + d) / 2 - 1e-12 + max(0.0, -d)
        hi = min(hi, 1 - max(d, 0) - 1e-12)

        def nll(p21):
            p12 = p21 + d
            rest = 1 - p12 - p21
            out = 0.0
            for count, p in ((b, p12), (c, p21), (n - b - c, rest)):
                if count:
                    out -= count * math.log(max(p, 1e-300))
            return out

        p21 = minimize_scalar(nll, bounds=(lo, max(lo, hi)), method="bounded",
                              options={"xatol": 1e-12}).x
        var = n * (2 * p21 + d * (1 - d))
        return (b - c - n * d) / math.sqrt(var)

    est = (b - c) / n
    low = brentq(lambda d: stat(d) - z, -1 + 1e-6, est - 1e-12) if stat(-1 + 1e-6) > z else -1
    high = brentq(lambda d: stat(d) + z, est + 1e-12, 1 - 1e-6) if stat(1 - 1e-6) < -z else 1
    return est, low, high


@pytest.mark.parametrize("b, c, n", [(3, 0, 6), (5, 2, 40), (0, 4, 23), (10, 12, 100),
                                     (1, 0, 30), (7, 1, 12)])
def test_tango_interval_inverts_the_score_test(b, c, n):
    ours = tango_interval(b, c, n)
    ref = _tango_by_brute_force(b, c, n, 0.95)
    assert ours == pytest.approx(ref, abs=2e-4)


@pytest.mark.parametrize("b, c", [(4, 0), (6, 1), (3, 3), (9, 2), (0, 7)])
def test_tango_excludes_zero_exactly_when_mcnemars_score_test_rejects(b, c):
    n = 40
    p = mcnemar([[n - b - c, b], [c, 0]], exact=False, correction=False).pvalue
    for conf in (0.9, 0.95, 0.99):
        _, lo, hi = tango_interval(b, c, n, confidence=conf)
        assert (lo > 0 or hi < 0) == (p < 1 - conf)


def test_tango_keeps_its_width_with_no_discordant_row():
    est, lo, hi = tango_interval(0, 0, 24)
    z2 = st.norm.ppf(0.975) ** 2
    assert est == 0 and hi == pytest.approx(z2 / (24 + z2), abs=1e-6) and lo == pytest.approx(-hi)


def test_cost_difference_with_one_class_is_tango():
    s = PairedCounts(n=40, a_only=2, b_only=9)
    t = cost_difference_test([(1.0, s)])
    assert (t.estimate, t.ci_low, t.ci_high) == pytest.approx(tango_interval(9, 2, 40))


@pytest.mark.parametrize("seed", range(25))
def test_cost_difference_p_value_inverts_its_interval(seed):
    rng = np.random.default_rng(seed)
    ns, nh = int(rng.integers(10, 80)), int(rng.integers(3, 25))
    safe = PairedCounts(ns, int(rng.integers(0, ns // 4 + 1)), int(rng.integers(0, ns // 4 + 1)))
    harm = PairedCounts(nh, int(rng.integers(0, nh // 2 + 1)), int(rng.integers(0, nh // 2 + 1)))
    strata = [(ns / (ns + nh), safe), (4 * nh / (ns + nh), harm)]
    t = cost_difference_test(strata)
    for conf in (0.8, 0.9, 0.95, 0.99, 1 - 0.05 / 6):
        r = cost_difference_test(strata, confidence=conf)
        assert r.p_value == pytest.approx(t.p_value, abs=1e-9)
        assert (r.ci_low > 0 or r.ci_high < 0) == (r.p_value < 1 - conf)
    if 0.0005 < t.p_value < 0.9995:
        at_p = cost_difference_test(strata, confidence=1 - t.p_value)
        assert min(abs(at_p.ci_low), abs(at_p.ci_high)) < 1e-6  # the interval touches 0 there


def test_identical_checkpoints_have_no_cost_difference_but_a_real_interval():
    t = cost_difference_test([(0.8, PairedCounts(24, 0, 0)), (0.8, PairedCounts(6, 0, 0))])
    assert t.estimate == 0 and t.p_value == 1.0 and t.ci_low < -0.1 and t.ci_high > 0.1


@pytest.mark.parametrize("b, c", [(0, 0), (3, 0), (2, 7), (10, 12), (0, 9), (1, 1)])
def test_mcnemar_exact_matches_statsmodels_and_its_share_interval_agrees(b, c):
    a = [False] * b + [True] * c + [True] * 5 + [False] * 4
    bb = [True] * b + [False] * c + [True] * 5 + [False] * 4
    res = mcnemar_exact(a, bb)
    assert (res.a_wrong_b_right, res.b_wrong_a_right) == (b, c)
    ref = mcnemar([[5, c], [b, 4]], exact=True).pvalue
    assert res.p_value == pytest.approx(ref)
    if b + c == 0:
        assert math.isnan(res.share_interval()[0])
        return
    for conf in (0.5, 0.8, 0.9, 0.95, 0.99):
        share, lo, hi = res.share_interval(conf)
        assert share == c / (b + c)
        assert (lo, hi) == pytest.approx(proportion_confint(c, b + c, 1 - conf, method="beta"))
        assert (lo > 0.5 or hi < 0.5) == (res.p_value < 1 - conf)


@pytest.mark.parametrize("seed", range(4))
def test_paired_t_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    x = rng.random(25)
    y = x + rng.normal(0.05 * seed, 0.1, 25)
    ours = paired_t_test(y - x, confidence=0.9)
    ref = st.ttest_rel(y, x)
    lo, hi = ref.confidence_interval(0.9)
    assert ours.p_value == pytest.approx(ref.pvalue)
    assert (ours.ci_low, ours.ci_high) == pytest.approx((lo, hi))
    assert (ours.ci_low > 0 or ours.ci_high < 0) == (ours.p_value < 0.1)


def test_paired_t_edge_cases():
    zero = paired_t_test([0.0] * 10)
    assert zero.estimate == 0 and zero.p_value == 1.0
    assert math.isnan(paired_t_test([0.2]).p_value)
    assert math.isnan(paired_t_test([0.1] * 5).p_value)  # same nonzero change everywhere
    assert paired_t_test([1e-17, -1e-17, 0.0]).estimate == 0.0


@pytest.mark.parametrize("seed", range(10))
def test_holm_matches_statsmodels_and_its_levels_agree(seed):
    rng = np.random.default_rng(seed)
    p = list(rng.uniform(0, 0.08, 7))
    assert holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]))
    levels = holm_levels(p, 0.05)
    reject = multipletests(p, alpha=0.05, method="holm")[0]
    for pi, level, r in zip(p, levels, reject):
        assert (pi < level) == bool(r)


def test_holm_ignores_undefined_p_values():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    adjusted = holm([0.2, float("nan")])
    assert adjusted[0] == pytest.approx(0.2) and math.isnan(adjusted[1])
    assert math.isnan(holm_levels([0.01, float("nan")], 0.05)[1])


@pytest.mark.parametrize("effect, sd, alpha", [(0.5, 1.0, 0.05), (0.03, 0.1, 0.0167),
                                               (0.2, 0.4, 0.01)])
def test_t_power_matches_statsmodels(effect, sd, alpha):
    n = t_rows_needed(sd, effect, alpha=alpha)
    ref = TTestPower().solve_power(effect_size=effect / sd, alpha=alpha, power=0.8)
    assert n == math.ceil(ref)
    mde = t_min_detectable(sd, 34, alpha=alpha)
    ref_es = TTestPower().solve_power(nobs=34, alpha=alpha, power=0.8)
    assert mde == pytest.approx(ref_es * sd, rel=1e-4)


def test_power_is_undefined_not_zero_when_nothing_differs():
    assert math.isnan(t_rows_needed(0.0, 0.1))
    assert math.isnan(t_rows_needed(0.2, 0.0))
    assert math.isnan(t_min_detectable(0.0, 30))
    assert math.isnan(connor_rows_needed(0.0, 0.0))
    assert math.isnan(connor_min_detectable(0.0, 30))


def _exact_power_by_enumeration(n, p10, p01, alpha):
    """Power of statsmodels' exact McNemar test, summed over every (b, c) table of n rows."""
    power = 0.0
    for b in range(n + 1):
        for c in range(n - b + 1):
            prob = st.multinomial.pmf([b, c, n - b - c], n, [p10, p01, 1 - p10 - p01])
            if prob > 1e-15 and mcnemar([[0, b], [c, n - b - c]], exact=True).pvalue < alpha:
                power += prob
    return power


@pytest.mark.parametrize("n, p10, p01", [(30, 0.2, 0.05), (40, 0.1, 0.1), (25, 0.3, 0.1)])
def test_exact_mcnemar_power_matches_enumeration(n, p10, p01):
    assert mcnemar_exact_power(n, p10, p01) == pytest.approx(
        _exact_power_by_enumeration(n, p10, p01, 0.05), abs=1e-9)


def test_rows_needed_for_the_exact_test_where_the_t_style_formula_falls_short():
    # 15% vs 5% discordant: the normal t-style formula says 150 rows, where the exact test has
    # power 0.75; Connor's formula says 155; the exact test needs 168.
    psi, delta = 0.2, 0.1
    z = st.norm.ppf(0.975) + st.norm.ppf(0.8)
    naive = math.ceil(z**2 * (psi - delta**2) / delta**2)
    assert naive == 150
    assert mcnemar_exact_power(150, 0.15, 0.05) == pytest.approx(0.7455, abs=1e-3)
    za, zb = st.norm.ppf(0.975), st.norm.ppf(0.8)
    connor = math.ceil((za * math.sqrt(psi) + zb * math.sqrt(psi - delta**2)) ** 2 / delta**2)
    assert connor_rows_needed(psi, delta) == connor == 155
    n = mcnemar_rows_needed(0.15, 0.05)
    assert n == 168
    assert mcnemar_exact_power(168, 0.15, 0.05) >= 0.8 > mcnemar_exact_power(167, 0.15, 0.05)
    assert mcnemar_min_detectable(psi, 168) == pytest.approx(0.1, abs=0.002)
    assert connor_min_detectable(psi, 155) == pytest.approx(0.1, abs=0.002)
    # At a Holm-adjusted level more rows are needed.
    assert mcnemar_rows_needed(0.15, 0.05, alpha=0.05 / 3) > 168


@pytest.mark.parametrize("method, scipy_method", [("percentile", "percentile"), ("bca", "BCa")])
def test_bootstrap_ci_agrees_with_scipy(method, scipy_method):
    x = np.random.default_rng(7).exponential(size=80)
    ours = bootstrap_ci(x, method=method, n_resamples=20_000, seed=1)
    ref = st.bootstrap((x,), np.mean, n_resamples=20_000, method=scipy_method,
                       rng=np.random.default_rng(2)).confidence_interval
    width = ref.high - ref.low
    assert ours.value == pytest.approx(x.mean())
    assert ours.ci_low == pytest.approx(ref.low, abs=0.03 * width)
    assert ours.ci_high == pytest.approx(ref.high, abs=0.03 * width)
    assert (ours.n, ours.n_resamples, ours.seed, ours.method) == (80, 20_000, 1, method)


def test_studentized_bootstrap_of_a_mean_is_close_to_the_t_interval():
    x = np.random.default_rng(3).normal(0.7, 0.1, 60)
    ours = bootstrap_ci(x, method="studentized", n_resamples=20_000, seed=2)
    lo, hi = st.t.interval(0.95, 59, loc=x.mean(), scale=st.sem(x))
    assert ours.ci_low == pytest.approx(lo, abs=0.15 * (hi - lo))
    assert ours.ci_high == pytest.approx(hi, abs=0.15 * (hi - lo))


def test_studentized_with_few_rows_uses_students_t_and_stays_in_bounds():
    res = bootstrap_ratios({"q": ([0.89, 0.69], [1, 1])}, bounds=(0, 1), n_resamples=500)["q"]
    assert res.method == "t (few rows)"
    assert (res.ci_low, res.ci_high) == (0.0, 1.0)  # t with 1 df, cut to the score range
    x = [0.7, 0.8, 0.75, 0.9]
    res = bootstrap_ratios({"q": (x, [1] * 4)}, n_resamples=500)["q"]
    assert (res.ci_low, res.ci_high) == pytest.approx(st.t.interval(0.95, 3, np.mean(x),
                                                                   st.sem(x)))


def test_weighted_bootstrap_matches_scipy_ratio_statistic():
    rng = np.random.default_rng(3)
    scores = rng.random(70)
    ok = (rng.random(70) < 0.7).astype(float)
    ours = bootstrap_ci(scores, weights=ok, n_resamples=20_000, seed=4)

    def ratio(s, w, axis=-1):
        return (s * w).sum(axis=axis) / w.sum(axis=axis)

    ref = st.bootstrap((scores, ok), ratio, paired=True, vectorized=True, n_resamples=20_000,
                       method="percentile", rng=np.random.default_rng(5)).confidence_interval
    width = ref.high - ref.low
    assert ours.value == pytest.approx(ratio(scores, ok))
    assert ours.ci_low == pytest.approx(ref.low, abs=0.03 * width)
    assert ours.ci_high == pytest.approx(ref.high, abs=0.03 * width)


def test_stratified_resamples_keep_the_class_sizes():
    feats = np.column_stack([np.r_[np.ones(6), np.zeros(24)], np.ones(30)])
    share = {"share": lambda s: s[..., 0] / s[..., 1]}
    free = bootstrap_metrics(feats, share, n_resamples=500, seed=0, keep_distribution=True)
    fixed = bootstrap_metrics(feats, share, n_resamples=500, seed=0, keep_distribution=True,
                              strata=[1] * 6 + [0] * 24)
    assert np.ptp(free["share"].distribution) > 0.1
    assert np.ptp(fixed["share"].distribution) == 0


def test_cluster_bootstrap_widens_the_interval_of_duplicated_rows():
    rng = np.random.default_rng(1)
    base = rng.random(20)
    values = np.repeat(base, 5)  # each description five times: 20 independent units, not 100
    rows = bootstrap_ratios({"m": (values, np.ones(100))}, method="percentile", seed=1)["m"]
    clusters = bootstrap_ratios({"m": (values, np.ones(100))}, method="percentile", seed=1,
                                clusters=list(np.repeat(np.arange(20), 5)))["m"]
    ratio = (clusters.ci_high - clusters.ci_low) / (rows.ci_high - rows.ci_low)
    assert ratio == pytest.approx(math.sqrt(5), rel=0.2)
    assert clusters.n == 20


def test_bootstrap_is_deterministic_for_a_seed_and_changes_with_it():
    x = np.arange(50, dtype=float)
    a = bootstrap_ci(x, seed=11, n_resamples=2000)
    b = bootstrap_ci(x, seed=11, n_resamples=2000)
    c = bootstrap_ci(x, seed=12, n_resamples=2000)
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)


@pytest.mark.parametrize("method", ["percentile", "bca"])
@pytest.mark.parametrize("seed", range(6))
def test_paired_bootstrap_p_value_inverts_its_own_interval(method, seed):
    rng = np.random.default_rng(seed)
    n = 40
    a = rng.random(n)
    b = a + rng.normal(0.03 * seed, 0.1, n)
    fa = np.column_stack([a, np.ones(n)])
    fb = np.column_stack([b, np.ones(n)])
    fn = {"mean": lambda s: s[..., 0] / s[..., 1]}
    for conf in (0.9, 0.95, 0.99):
        res, p = paired_bootstrap(fa, fb, fn, n_resamples=4000, seed=seed, method=method,
                                  confidence=conf)["mean"]
        excluded = res.ci_low > 0 or res.ci_high < 0
        if abs(p - (1 - conf)) > 0.003:  # Monte Carlo granularity at the boundary itself
            assert excluded == (p < 1 - conf), (p, res)


def test_paired_posterior_of_identical_checkpoints_is_centred_on_zero():
    s = PairedCounts(24, 0, 0)
    h = PairedCounts(6, 0, 0, both=1)
    res = paired_posterior_interval(lambda fa, ma, fb, mb: (fb - fa) + (mb - ma), [s, h],
                                    n_draws=4000, seed=0)
    assert res.value == 0 and res.ci_low < 0 < res.ci_high


@pytest.mark.parametrize("seed", range(3))
def test_cohen_kappa_matches_sklearn(seed):
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(seed)
    a = list(rng.integers(0, 2, 40))
    b = [x if rng.random() < 0.8 else 1 - x for x in a]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))


def test_design_effect_of_duplicated_rows_is_the_cluster_size():
    from domainyours_eval.stats import design_effect

    rng = np.random.default_rng(4)
    base = (rng.random(40) < 0.3).astype(float)
    groups = list(np.repeat(np.arange(40), 5))
    assert design_effect(np.repeat(base, 5), groups) == pytest.approx(5.0)
    # Unequal clusters: never above sum(m^2) / n.
    assert design_effect([1, 1, 1, 1, 0, 0], ["a"] * 4 + ["b", "c"]) <= (16 + 1 + 1) / 6
    # Independent rows in arbitrary groups: about 1, never below.
    assert design_effect((rng.random(200) < 0.3).astype(float), groups) < 1.5
    # No event observed: the conservative mean cluster size.
    assert design_effect(np.zeros(200), groups) == 5.0


def test_cluster_robust_paired_t_matches_statsmodels():
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    groups = np.repeat(np.arange(15), 4)
    d = rng.normal(0.05, 0.1, 15)[groups] + rng.normal(0, 0.05, 60)
    ours = paired_t_test(d, clusters=list(groups))
    fit = sm.OLS(d, np.ones(60)).fit(cov_type="cluster", cov_kwds={"groups": groups})
    se = (ours.ci_high - ours.estimate) / st.t.ppf(0.975, 14)
    assert se == pytest.approx(float(fit.bse[0]), rel=1e-6)
    assert ours.p_value == pytest.approx(2 * st.t.sf(abs(ours.estimate / se), 14))
    assert ours.method == "paired-t (cluster-robust)"


def test_share_times_mean_keeps_the_uncertainty_of_an_unseen_refusal():
    from domainyours_eval.stats import share_times_mean_interval

    scores = list(np.random.default_rng(2).uniform(0.6, 0.9, 24))
    res = share_times_mean_interval(scores, 0, n_draws=20_000, seed=1)
    assert res.value == pytest.approx(np.mean(scores)) and res.method == "jeffreys x t"
    lo, hi = st.t.interval(0.95, 23, np.mean(scores), st.sem(scores))
    assert res.ci_low < lo - 0.01  # a refusal rate of a few percent is still plausible
    assert res.ci_high == pytest.approx(hi, abs=0.01)
    refused = share_times_mean_interval(scores[:20], 4, n_draws=20_000, seed=1)
    assert refused.value == pytest.approx(sum(scores[:20]) / 24)
    assert refused.ci_low < refused.value < refused.ci_high


@pytest.mark.parametrize("refusal", [0.03, 0.15])
def test_share_times_mean_covers(refusal):
    from domainyours_eval.stats import share_times_mean_interval

    rng = np.random.default_rng(int(refusal * 100))
    truth, reps, covered = 0.75 * (1 - refusal), 300, 0
    for rep in range(reps):
        refused = rng.random(24) < refusal
        scores = list(rng.uniform(0.6, 0.9, int((~refused).sum())))
        res = share_times_mean_interval(scores, int(refused.sum()), n_draws=2000, seed=rep)
        covered += res.ci_low <= truth <= res.ci_high
    assert covered / reps >= 0.92


def test_paired_share_times_mean_of_identical_checkpoints():
    from domainyours_eval.stats import paired_share_times_mean_interval

    both = [(0.7, 0.7), (0.8, 0.8), (0.6, 0.6)] * 8
    res = paired_share_times_mean_interval(both, [], [], 1, all_a=[0.7, 0.8, 0.6],
                                           all_b=[0.7, 0.8, 0.6], n_draws=5000)
    assert res.value == 0 and res.ci_low < 0 < res.ci_high
    one_way = paired_share_times_mean_interval(both, [0.9] * 3, [], 0, n_draws=5000)
    assert one_way.value == pytest.approx(2.7 / 27) and one_way.ci_low > 0


def test_former_scoring_names_still_work_with_t_not_z():
    from domainyours_eval.scoring import min_detectable_difference, rows_needed

    d = [1.0, -1.0] * 50
    sd = float(np.std(d, ddof=1))
    es = TTestPower().solve_power(nobs=100, alpha=0.05, power=0.8)
    assert min_detectable_difference(d) == pytest.approx(es * sd, rel=1e-4)
    assert rows_needed(d, 0.3) == math.ceil(TTestPower().solve_power(effect_size=0.3 / sd,
                                                                      alpha=0.05, power=0.8))
    assert math.isnan(rows_needed([0.2] * 5, 0.1))


@pytest.mark.parametrize("level", ["nominal", "interval", "ordinal"])
def test_krippendorff_alpha_matches_the_reference_package(level):
    krippendorff = pytest.importorskip("krippendorff")
    from domainyours_eval.stats import krippendorff_alpha

    rng = np.random.default_rng(7)
    for trial in range(100):
        coders, units = int(rng.integers(2, 5)), int(rng.integers(3, 25))
        data = rng.integers(1, 6, size=(coders, units)).astype(float)
        if trial % 2:  # raters who mostly agree
            base = rng.integers(1, 6, size=units)
            data = np.where(rng.random((coders, units)) < 0.7, base, data)
        data[rng.random(data.shape) < 0.15] = np.nan  # missing verdicts
        with np.errstate(invalid="ignore", divide="ignore"):
            expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
        got = krippendorff_alpha([[v for v in data[:, u] if not np.isnan(v)]
                                  for u in range(units)], level=level)
        if np.isnan(expected):
            assert np.isnan(got)
        else:
            assert got == pytest.approx(expected, abs=1e-9)
    assert np.isnan(krippendorff_alpha([[1, 1], [1, 1]]))  # no expected disagreement
    assert krippendorff_alpha([["a", "a"], ["b", "b"], ["c", "c"]]) == 1.0
