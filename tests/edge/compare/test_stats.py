"""Paired comparison: an injected effect is found with the right interval; none, at the
stated rate; the numbers are SciPy's and statsmodels'; refusals are one line each."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from edge.compare.design import StudyTrial, subject_means
from edge.compare.stats import ALPHA, compare, icc_3_1
from edge.strides.analysis import FLOAT_COLUMNS, StrideTable

PARAMS = ("stride_length_m", "gait_speed_mps", "strike_angle_deg", "stance_pct")
TRUTH = {
    "stride_length_m": 1.30,
    "gait_speed_mps": 1.20,
    "strike_angle_deg": 20.0,
    "stance_pct": 61.0,
}
BETWEEN = {
    "stride_length_m": 0.10,
    "gait_speed_mps": 0.10,
    "strike_angle_deg": 4.0,
    "stance_pct": 1.5,
}
DAY = {"stride_length_m": 0.02, "gait_speed_mps": 0.03, "strike_angle_deg": 1.0, "stance_pct": 0.5}
STRIDE = {
    "stride_length_m": 0.04,
    "gait_speed_mps": 0.05,
    "strike_angle_deg": 2.0,
    "stance_pct": 1.0,
}


def _table(rng: np.random.Generator, mean: dict[str, float], n: int = 30) -> StrideTable:
    cols: dict[str, np.ndarray] = {c: np.full(n, np.nan) for c in FLOAT_COLUMNS}
    for p in PARAMS:
        cols[p] = mean[p] + rng.normal(0.0, STRIDE[p], n)
    cols["side"] = np.array(["L", "R"] * (n // 2))
    cols["steady"] = np.ones(n, bool)
    return StrideTable(columns=cols, dropped={}, smoothed=True)


def study(
    rng: np.random.Generator,
    *,
    subjects: int = 12,
    trials: int = 2,
    effect: dict[str, float] | None = None,
) -> list[StudyTrial]:
    """Subjects with their own gait, walking each shoe ``trials`` times in random order;
    shoe B adds ``effect`` to each parameter's true value."""
    effect = effect or {}
    out = []
    t = 0.0
    for s in range(subjects):
        own = {p: TRUTH[p] + rng.normal(0.0, BETWEEN[p]) for p in PARAMS}
        runs = [(shoe, k) for shoe in ("A", "B") for k in range(trials)]
        rng.shuffle(runs)
        for shoe, _ in runs:
            day = {
                p: own[p] + (effect.get(p, 0.0) if shoe == "B" else 0.0) + rng.normal(0, DAY[p])
                for p in PARAMS
            }
            t += 60.0
            out.append(StudyTrial(f"{s}-{t:g}", f"S{s:02d}", shoe, "walk", t, _table(rng, day)))
    return out


def test_an_injected_5_cm_longer_stride_is_found_with_the_right_interval() -> None:
    rng = np.random.default_rng(7)
    trials = study(rng, effect={"stride_length_m": 0.05})
    c = compare(trials, "A", "B", PARAMS)
    r = {x.parameter: x for x in c.results}["stride_length_m"]
    assert r.n == 12 and r.significant
    assert r.ci_low < 0.05 < r.ci_high  # the true effect inside the 95 % interval
    assert 0.02 < r.diff < 0.08 and r.d_z > 1.0
    assert 0.8 < r.icc < 1.0  # between-subject spread 10 cm against ~2 cm day to day
    # MDC95 = 1.96·√2·SEM, SEM ≈ the day-to-day SD (2 cm, plus 4 cm / √30 of strides)
    assert 0.05 < r.mdc95 < 0.08
    assert r.within_noise == (abs(r.diff) < r.mdc95)


def test_the_numbers_are_scipys_and_statsmodels() -> None:
    rng = np.random.default_rng(3)
    trials = study(rng, effect={"stride_length_m": 0.03, "stance_pct": -0.5})
    c = compare(trials, "A", "B", PARAMS)
    means = subject_means(trials, PARAMS)
    subjects = sorted({t.subject for t in trials})
    ps = []
    for r in c.results:
        a = np.array([means[(s, "A")][r.parameter] for s in subjects])
        b = np.array([means[(s, "B")][r.parameter] for s in subjects])
        d = b - a
        half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
        assert r.ci_low == pytest.approx(d.mean() - half)
        assert r.ci_high == pytest.approx(d.mean() + half)
        assert r.p_t == pytest.approx(stats.ttest_rel(b, a).pvalue)
        assert r.p_wilcoxon == pytest.approx(stats.wilcoxon(d).pvalue)
        assert r.d_z == pytest.approx(d.mean() / d.std(ddof=1))
        ps.append(r.p_t)
    holm = multipletests(ps, method="holm")[1]
    assert [r.p_holm for r in c.results] == pytest.approx(list(holm))


@pytest.mark.slow  # statsmodels' multipletests calls gc.collect() each time: ~75 ms here
def test_no_effect_is_found_at_the_stated_rate() -> None:
    """400 studies without an effect: the uncorrected paired t rejects about 5 % of them."""
    rng = np.random.default_rng(11)
    rejected = 0
    n = 400
    for _ in range(n):
        c = compare(study(rng, subjects=10, trials=1), "A", "B", ("stride_length_m",))
        rejected += c.results[0].p_t < ALPHA
    rate = rejected / n
    assert 0.025 < rate < 0.085, rate  # 5 % ± 3 binomial SDs


def test_icc_of_known_variance_components() -> None:
    rng = np.random.default_rng(5)
    subj = rng.normal(0, 2.0, (400, 1))
    x = subj + rng.normal(0, 1.0, (400, 2))
    icc, mse = icc_3_1(x)
    assert icc == pytest.approx(4.0 / 5.0, abs=0.05)
    assert mse == pytest.approx(1.0, abs=0.15)
    assert math.isnan(icc_3_1(x[:1])[0])


def test_subjects_with_one_shoe_are_listed_and_too_few_refused() -> None:
    rng = np.random.default_rng(2)
    trials = study(rng, subjects=2, trials=1)
    trials.append(StudyTrial("x", "S99", "A", "walk", 1e9, _table(rng, TRUTH)))
    c = compare(trials, "A", "B", PARAMS)
    assert c.subjects == ["S00", "S01"]
    assert c.left_out == ["subject S99: only shoe A"]
    assert any("needs at least 3" in n for n in c.notes)
    assert all(math.isnan(r.p_t) and not r.significant for r in c.results)
    assert any("no reliability" in n for n in c.notes)  # one trial per shoe
    with pytest.raises(ValueError, match="two different shoes"):
        compare(trials, "A", "A")


def test_the_stride_level_mixed_model_finds_the_same_effect() -> None:
    """statsmodels' MixedLM (subject intercept, trial component) on the strides: the +5 cm
    inside its interval, beside the paired test's estimate."""
    rng = np.random.default_rng(7)
    trials = study(rng, effect={"stride_length_m": 0.05})
    c = compare(trials, "A", "B", ("stride_length_m", "stance_pct"), mixed=True)
    sl, st = c.results
    assert sl.mm_ci_low < 0.05 < sl.mm_ci_high and sl.mm_p < 0.01
    assert sl.mm_diff == pytest.approx(sl.diff, abs=0.01)  # the same question, more data
    assert st.mm_ci_low < 0.0 < st.mm_ci_high  # no effect there
    plain = compare(trials, "A", "B", ("stride_length_m",))
    assert math.isnan(plain.results[0].mm_diff)  # only when asked
