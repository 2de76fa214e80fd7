"""Where along the gait cycle two shoes differ: a paired t on curves, with a permutation
threshold.

Statistical parametric mapping in one dimension (Pataky 2010, J Biomech 43(10):1976–1982)
done as a permutation test (Nichols & Holmes 2002, Hum Brain Mapp 15(1):1–25), which is
exact and short in NumPy: the paired t-statistic at each of the 101 points of the cycle;
under the null hypothesis each subject's difference curve is as likely with its sign
flipped, so the largest ``|t|`` over the cycle is recomputed for every sign pattern (all
2ⁿ of them up to :data:`MAX_EXACT` subjects, otherwise :data:`PERMUTATIONS` random ones);
its 95th percentile is the threshold that holds the family-wise error over the whole
curve at 5 %. The regions where ``|t|`` crosses it are where the shoes differ; each
region's p is the share of permutations whose largest ``|t|`` reaches the region's peak.
(spm1d and pingouin do this too but are GPL-3: not used, nothing of theirs copied.)
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import numpy.typing as npt

from edge.strides.zupt import runs

__all__ = ["MAX_EXACT", "PERMUTATIONS", "CurveResult", "paired_spm"]

#: Up to this many subjects every sign pattern is used (2¹² = 4096).
MAX_EXACT = 12
#: Random sign patterns beyond that.
PERMUTATIONS = 10_000

F64 = npt.NDArray[np.float64]


@dataclasses.dataclass(frozen=True, slots=True)
class CurveResult:
    """One curve compared over the cycle.

    Attributes
    ----------
    n : int
        Subjects with both shoes' curves.
    mean_a, sd_a, mean_b, sd_b : ndarray, shape (m,)
        Across subjects, of their mean curves.
    t : ndarray, shape (m,)
        Paired t of B − A at each point (NaN where the differences do not vary).
    threshold : float
        The critical ``|t|`` (NaN with fewer than 3 subjects).
    regions : list of (int, int, float)
        First and last point (% of the cycle) of each supra-threshold region, and its p.
    """

    n: int
    mean_a: F64
    sd_a: F64
    mean_b: F64
    sd_b: F64
    t: F64
    threshold: float
    regions: list[tuple[int, int, float]]


def _t(d: F64) -> F64:
    """Paired t of each column of the (n, m) differences."""
    sd = d.std(axis=-2, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return d.mean(axis=-2) / (sd / np.sqrt(d.shape[-2]))


def paired_spm(
    a: npt.ArrayLike, b: npt.ArrayLike, *, alpha: float = 0.05, seed: int = 0
) -> CurveResult:
    """Compare (n subjects, m points) curves of shoe B with shoe A (module docstring)."""
    xa, xb = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if xa.shape != xb.shape or xa.ndim != 2:
        raise ValueError(
            f"curves must be two (n, m) arrays of one shape; got {xa.shape}, {xb.shape}"
        )
    ok = np.isfinite(xa).all(axis=1) & np.isfinite(xb).all(axis=1)
    xa, xb = xa[ok], xb[ok]
    n, m = xa.shape
    d = xb - xa
    nan = np.full(m, np.nan)
    stats = {
        "mean_a": xa.mean(axis=0) if n else nan, "sd_a": xa.std(axis=0, ddof=1) if n > 1 else nan,
        "mean_b": xb.mean(axis=0) if n else nan, "sd_b": xb.std(axis=0, ddof=1) if n > 1 else nan,
    }  # fmt: skip
    if n < 3:
        return CurveResult(n, t=nan, threshold=np.nan, regions=[], **stats)
    t = _t(d)
    if n <= MAX_EXACT:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=n)))
    else:
        signs = np.random.default_rng(seed).choice((1.0, -1.0), size=(PERMUTATIONS, n))
    peaks = np.empty(len(signs))
    for i in range(0, len(signs), 512):  # (chunk, n, m) at a time: bounded memory
        tt = _t(signs[i : i + 512, :, None] * d[None])
        peaks[i : i + 512] = np.nanmax(np.abs(tt), axis=1)
    threshold = float(np.quantile(peaks, 1.0 - alpha))
    above = np.abs(np.nan_to_num(t)) > threshold
    regions = []
    for s, e in zip(*runs(above), strict=True):
        peak = float(np.abs(t[s:e]).max())
        regions.append((int(s), int(e - 1), float((peaks >= peak).mean())))
    return CurveResult(n, t=t, threshold=threshold, regions=regions, **stats)
