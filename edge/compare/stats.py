"""Shoe B against shoe A across the subjects who wore both: paired statistics and the
measurement's own noise.

Per parameter (every stride parameter of :mod:`edge.strides`), over the subjects with a
value in both shoes (:func:`~edge.compare.design.subject_means`):

- the paired difference B − A: mean, SD, 95 % confidence interval (Student's t,
  ``scipy.stats.ttest_rel``), and the effect size ``d_z`` = mean / SD of the differences
  (Cohen 1988; Lakens 2013, Front Psychol 4:863);
- the paired t-test's p, the one reported and corrected: it is the test the interval and
  ``d_z`` belong to, and each subject's value is a mean over dozens of strides, close to
  normal; Wilcoxon's signed-rank p (``scipy.stats.wilcoxon``) beside it as a check that
  needs no normality (``disagree`` marks a parameter where one is below α and the other
  not). With fewer than 6 subjects Wilcoxon cannot reach p < 0.05 at all;
- Holm's correction across the parameters compared (``statsmodels ... multipletests``);
- test–retest reliability from subjects with two or more trials in the same shoe:
  ICC(3,1) (two-way mixed, consistency, single measure; Shrout & Fleiss 1979, Psychol
  Bull 86(2):420–428; from the ANOVA mean squares, which neither SciPy nor statsmodels
  gives as ICC), SEM = √MSE (Weir 2005, J Strength Cond Res 19(1):231–240) and
  MDC95 = 1.96 · √2 · SEM; each difference smaller than MDC95 is flagged
  (``within_noise``): it may be real, but one trial per shoe could not tell it from the
  day-to-day scatter.

With ``mixed=True``, also a linear mixed model on the stride-level data (statsmodels'
``MixedLM``, REML, L-BFGS): ``value ~ shoe`` with a random intercept per subject and a
variance component per trial within it, so every stride counts and the day-to-day scatter
is modelled rather than averaged away: the shoe's fixed effect (``mm_diff``), its 95 %
interval and p. It answers the same question as the paired test from more data; where the
two disagree, read both. (With a ``vc_formula``, statsmodels drops the group's random
intercept unless ``re_formula="1"`` is given: without it the subjects' spread landed on
the trial component and the intervals came out five times too wide.)

Refused, each with one line: subjects who wore only one of the two shoes (left out and
listed), and a comparison with fewer than :data:`MIN_SUBJECTS` subjects (no interval).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

from edge.compare.design import StudyTrial, subject_curves, subject_means, trial_means
from edge.compare.spm import CurveResult, paired_spm
from edge.strides.analysis import FLOAT_COLUMNS

__all__ = [
    "ALPHA",
    "MIN_SUBJECTS",
    "Comparison",
    "ParameterResult",
    "compare",
    "icc_3_1",
    "mixed_model",
]

#: Significance level, two-sided, after Holm's correction.
ALPHA = 0.05
#: Fewest subjects with both shoes for a confidence interval and a test.
MIN_SUBJECTS = 3


@dataclasses.dataclass(frozen=True, slots=True)
class ParameterResult:
    """One parameter's comparison (module docstring); NaN where undefined."""

    parameter: str
    n: int
    mean_a: float
    mean_b: float
    diff: float
    diff_sd: float
    ci_low: float
    ci_high: float
    d_z: float
    p_t: float
    p_wilcoxon: float
    p_holm: float
    significant: bool
    disagree: bool
    icc: float
    sem: float
    mdc95: float
    within_noise: bool
    mm_diff: float = math.nan
    mm_ci_low: float = math.nan
    mm_ci_high: float = math.nan
    mm_p: float = math.nan


@dataclasses.dataclass(frozen=True, slots=True)
class Comparison:
    """Shoe B against shoe A: the design and one :class:`ParameterResult` per parameter.

    Attributes
    ----------
    shoe_a, shoe_b : str
    subjects : list of str
        Those who wore both (the paired sample).
    left_out : list of str
        One line per subject left out, and why.
    notes : list of str
        Lines a reader must see (too few subjects, no reliability data …).
    n_trials : dict of str to int
        Trials used per shoe.
    n_strides : dict of str to int
        Steady strides used per shoe.
    results : list of ParameterResult
    curves : dict of str to CurveResult
        Per gait-cycle curve, where along the cycle the shoes differ
        (:func:`~edge.compare.spm.paired_spm`); empty when the trials carry no curves.
    """

    shoe_a: str
    shoe_b: str
    subjects: list[str]
    left_out: list[str]
    notes: list[str]
    n_trials: dict[str, int]
    n_strides: dict[str, int]
    results: list[ParameterResult]
    curves: dict[str, CurveResult] = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain values (JSON-ready after NaN → None)."""
        return dataclasses.asdict(self)


def icc_3_1(x: np.ndarray) -> tuple[float, float]:
    """ICC(3,1) and the residual mean square of an (n subjects, k trials) matrix.

    Two-way ANOVA without replication: ``ICC = (MSR − MSE) / (MSR + (k − 1) MSE)``,
    rows subjects, columns trials (Shrout & Fleiss 1979). NaN with fewer than 2 rows or
    columns, or no variance.
    """
    n, k = x.shape
    if n < 2 or k < 2:
        return math.nan, math.nan
    grand = x.mean()
    ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_err = ((x - grand) ** 2).sum() - ss_rows - ss_cols
    msr = ss_rows / (n - 1)
    mse = ss_err / ((n - 1) * (k - 1))
    denom = msr + (k - 1) * mse
    return (float((msr - mse) / denom) if denom > 0 else math.nan), float(mse)


def _retest(trials: Sequence[StudyTrial], parameter: str) -> np.ndarray:
    """(pairs, 2) matrix: the first two trials, in time order, of every (subject, shoe)
    with at least two that have the parameter."""
    per: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for t in trials:
        v = trial_means(t, [parameter])[parameter]
        if math.isfinite(v):
            per.setdefault((t.subject, t.shoe), []).append((t.start_unix_s, v))
    rows = [[v for _, v in sorted(r)[:2]] for r in per.values() if len(r) >= 2]
    return np.array(rows, dtype=np.float64).reshape(-1, 2)


def mixed_model(
    trials: Sequence[StudyTrial], shoe_a: str, shoe_b: str, parameter: str
) -> tuple[float, float, float, float, str]:
    """The shoe's fixed effect in the stride-level mixed model (module docstring):
    estimate, 95 % CI, p, and a note ("" or why it is NaN / what statsmodels warned)."""
    import warnings

    import pandas as pd
    import statsmodels.formula.api as smf

    rows = []
    for t in trials:
        c = t.strides.columns
        v = c[parameter][c["steady"]]
        v = v[np.isfinite(v)]
        rows += [(t.subject, t.shoe, t.trial, float(x)) for x in v]
    df = pd.DataFrame(rows, columns=["subject", "shoe", "trial", "y"])
    if df["subject"].nunique() < MIN_SUBJECTS or df["shoe"].nunique() < 2:
        return math.nan, math.nan, math.nan, math.nan, "too few subjects or one shoe"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit = smf.mixedlm(
                f"y ~ C(shoe, Treatment({shoe_a!r}))", df, groups="subject", re_formula="1",
                vc_formula={"trial": "0 + C(trial)"},
            ).fit(reml=True, method=["lbfgs"])  # fmt: skip
    except (ValueError, np.linalg.LinAlgError) as e:
        return math.nan, math.nan, math.nan, math.nan, f"MixedLM failed: {e}"
    name = f"C(shoe, Treatment({shoe_a!r}))[T.{shoe_b}]"
    lo, hi = fit.conf_int().loc[name].tolist()
    note = "; ".join(sorted({str(w.message) for w in caught}))
    return float(fit.params[name]), float(lo), float(hi), float(fit.pvalues[name]), note


def compare(
    trials: Sequence[StudyTrial],
    shoe_a: str,
    shoe_b: str,
    parameters: Sequence[str] = FLOAT_COLUMNS,
    *,
    mixed: bool = False,
) -> Comparison:
    """Compare shoe B with shoe A over the subjects who wore both (module docstring);
    ``mixed``: also the stride-level mixed model per parameter."""
    if shoe_a == shoe_b:
        raise ValueError(f"shoes A and B are both {shoe_a!r}; name two different shoes")
    mine = [t for t in trials if t.shoe in (shoe_a, shoe_b)]
    means = subject_means(mine, parameters)
    subjects_all = sorted({t.subject for t in mine})
    both = [s for s in subjects_all if (s, shoe_a) in means and (s, shoe_b) in means]
    left_out = [
        f"subject {s}: only shoe {shoe_a if (s, shoe_a) in means else shoe_b}"
        for s in subjects_all
        if s not in both
    ]
    notes: list[str] = []
    if len(both) < MIN_SUBJECTS:
        notes.append(
            f"{len(both)} subject(s) wore both shoes; a comparison needs at least "
            f"{MIN_SUBJECTS}: no interval or test"
        )
    used = [t for t in mine if t.subject in both]
    n_trials = {s: sum(t.shoe == s for t in used) for s in (shoe_a, shoe_b)}
    n_strides = {
        s: int(sum(t.strides.columns["steady"].sum() for t in used if t.shoe == s))
        for s in (shoe_a, shoe_b)
    }
    rows: list[dict[str, Any]] = []
    for p in parameters:
        a = np.array([means[(s, shoe_a)][p] for s in both])
        b = np.array([means[(s, shoe_b)][p] for s in both])
        ok = np.isfinite(a) & np.isfinite(b)
        a, b = a[ok], b[ok]
        d = b - a
        n = len(d)
        row: dict[str, Any] = {
            "parameter": p, "n": n,
            "mean_a": float(a.mean()) if n else math.nan,
            "mean_b": float(b.mean()) if n else math.nan,
            "diff": float(d.mean()) if n else math.nan,
            "diff_sd": float(d.std(ddof=1)) if n > 1 else math.nan,
            "ci_low": math.nan, "ci_high": math.nan, "d_z": math.nan,
            "p_t": math.nan, "p_wilcoxon": math.nan,
        }  # fmt: skip
        if n >= MIN_SUBJECTS and row["diff_sd"] > 0:
            t = stats.ttest_rel(b, a)
            ci = t.confidence_interval(1 - ALPHA)
            row.update(
                ci_low=float(ci.low), ci_high=float(ci.high), p_t=float(t.pvalue),
                d_z=row["diff"] / row["diff_sd"],
                p_wilcoxon=float(stats.wilcoxon(d).pvalue) if np.any(d != 0) else 1.0,
            )  # fmt: skip
        retest = _retest([t for t in used if t.shoe in (shoe_a, shoe_b)], p)
        icc, mse = icc_3_1(retest)
        sem = math.sqrt(mse) if math.isfinite(mse) else math.nan
        row.update(icc=icc, sem=sem, mdc95=1.96 * math.sqrt(2.0) * sem)
        rows.append(row)
    tested = [i for i, r in enumerate(rows) if math.isfinite(r["p_t"])]
    holm = [math.nan] * len(rows)
    if tested:
        _, adjusted, _, _ = multipletests([rows[i]["p_t"] for i in tested], method="holm")
        for i, q in zip(tested, adjusted, strict=True):
            holm[i] = float(q)
    if not any(len(_retest(used, p)) for p in parameters[:1]):
        notes.append(
            "no subject has two trials in the same shoe: no reliability (ICC, SEM, MDC95); "
            "record each shoe twice to have it"
        )
    results = []
    for r, q in zip(rows, holm, strict=True):
        significant = math.isfinite(q) and q < ALPHA
        raw_t = math.isfinite(r["p_t"]) and r["p_t"] < ALPHA
        raw_w = math.isfinite(r["p_wilcoxon"]) and r["p_wilcoxon"] < ALPHA
        within = math.isfinite(r["mdc95"]) and abs(r["diff"]) < r["mdc95"]
        if mixed and r["n"] >= MIN_SUBJECTS:
            est, lo, hi, p_mm, note = mixed_model(used, shoe_a, shoe_b, r["parameter"])
            r.update(mm_diff=est, mm_ci_low=lo, mm_ci_high=hi, mm_p=p_mm)
            if note and "boundary" not in note:  # a variance at 0 is a fit, not a failure
                notes.append(f"{r['parameter']}: mixed model: {note}")
        results.append(
            ParameterResult(
                **r,
                p_holm=q,
                significant=significant,
                disagree=raw_t != raw_w,
                within_noise=within,
            )
        )
    curves: dict[str, CurveResult] = {}
    mean_curves = subject_curves(used)
    names = sorted({n for c in mean_curves.values() for n in c})
    for name in names:
        pairs = [
            (mean_curves[(s, shoe_a)][name], mean_curves[(s, shoe_b)][name])
            for s in both
            if name in mean_curves.get((s, shoe_a), {}) and name in mean_curves.get((s, shoe_b), {})
        ]
        if pairs:
            curves[name] = paired_spm([p[0] for p in pairs], [p[1] for p in pairs], alpha=ALPHA)
    return Comparison(shoe_a, shoe_b, both, left_out, notes, n_trials, n_strides, results, curves)
