"""Zero-velocity (foot flat) detection and the stances it makes, from the foot IMU alone.

The detector is the angular-rate energy detector of Skog et al. (2010, "Zero-velocity
detection — an algorithm evaluation", IEEE TBME 57(11)), the ``ARE`` variant: a sample is
at rest when the mean of ``|ω|²`` over a window centred on it is below a threshold. It
needs no sensor frame and no gravity model, so it works for any mounting (dorsum,
lateral, insole) and any rate: the window is in seconds and the threshold in rad/s.
Acceleration is used once more: the rest must also be near 1 g (``|a| − g`` within
``acc_tol_mps2``), which keeps a foot swinging slowly through mid-swing out.

Two thresholds, because one does not serve both data sets at hand. A loose one
(0.9 rad/s, 52 °/s) finds a rest in every stance: on ipol-gait (dorsum, 100 Hz) it misses
10 of 2570 stances where 0.3 rad/s misses 486. A strict one (0.3 rad/s) keeps the
zero-velocity update to where the foot is really still: on gaitmap-example (lateral,
204.8 Hz, motion capture) the loose threshold alone shortens strides by 3 cm on average
(ZUPTs while the foot still rolls), the strict one by 2 cm. So: a rest is a run of the
loose detector; inside it, the samples under the strict threshold are the zero-velocity
samples, or, where there are none, the quietest ``min_rest_s`` of the run.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["GRAVITY_MPS2", "MIN_MOVE_S", "rest_runs", "runs", "settled", "stance_mask"]

#: Standard gravity [m/s²].
GRAVITY_MPS2 = 9.80665

#: The detector's defaults (module docstring): window [s], loose and strict angular-rate
#: thresholds [rad/s], tolerance of ``|a|`` around g [m/s²], shortest rest [s].
WINDOW_S = 0.05
LOOSE_RADPS = 0.9
STRICT_RADPS = 0.3
ACC_TOL_MPS2 = 2.5
MIN_REST_S = 0.03

#: Two rests less than this apart [s] are one stance (a twitch of the foot, not a step):
#: a walking stride moves for 0.5–1 s between its rests.
MIN_MOVE_S = 0.25


def runs(mask: npt.ArrayLike) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Where ``mask`` is True: the first index of each run and the index after its last,
    (k,) and (k,) int64 (``mask[starts[i]:ends[i]]`` is all True)."""
    m = np.asarray(mask, dtype=bool)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], m.astype(np.int8), [0]])))
    return edges[::2].astype(np.int64), edges[1::2].astype(np.int64)


def _moving_mean(x: npt.NDArray[np.float64], width: int) -> npt.NDArray[np.float64]:
    """Mean over a centred window of ``width`` samples (shrinking at the ends), (n,)."""
    c = np.concatenate([[0.0], np.cumsum(x)])
    n = len(x)
    i = np.arange(n)
    lo = np.clip(i - width // 2, 0, n)
    hi = np.clip(i - width // 2 + width, 0, n)
    return (c[hi] - c[lo]) / np.maximum(hi - lo, 1)


def _loose(
    x: npt.NDArray[np.float64], width: int, gyr_threshold: float, acc_tol: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Mean ``|ω|²`` over the window, (n,), and the loose detector's mask, (n,)."""
    gyr_energy = _moving_mean(np.einsum("ij,ij->i", x[:, 3:], x[:, 3:]), width)
    acc_dev = _moving_mean(np.abs(np.linalg.norm(x[:, :3], axis=1) - GRAVITY_MPS2), width)
    return gyr_energy, (gyr_energy < gyr_threshold**2) & (acc_dev < acc_tol)


def settled(imu: npt.ArrayLike, rate_hz: float) -> int:
    """How many leading samples of a stream so far have a :func:`stance_mask` flag (with
    its default settings) that later samples cannot change: the live loop feeds its
    filter only those.

    Not the last half window (its moving means are not complete), and not a rest still
    going on at the end that is shorter than ``MIN_REST_S`` or has no sample under the
    strict threshold yet (whether it counts, and where its quietest part lies, is not
    known until it ends).
    """
    x = np.asarray(imu, dtype=np.float64)
    n = len(x)
    width = max(1, round(WINDOW_S * rate_hz))
    end = max(0, n - width // 2 - 1)
    gyr_energy, loose = _loose(x, width, LOOSE_RADPS, ACC_TOL_MPS2)
    if n and loose[-1]:
        start = n - int(np.argmin(loose[::-1])) if not loose.all() else 0
        short = n - start < max(1, round(MIN_REST_S * rate_hz))
        if short or not (gyr_energy[start:end] < STRICT_RADPS**2).any():
            end = min(end, start)
    return end


def stance_mask(
    imu: npt.ArrayLike,
    rate_hz: float,
    *,
    window_s: float = WINDOW_S,
    gyr_threshold_radps: float = LOOSE_RADPS,
    strict_threshold_radps: float = STRICT_RADPS,
    acc_tol_mps2: float = ACC_TOL_MPS2,
    min_rest_s: float = MIN_REST_S,
) -> npt.NDArray[np.bool_]:
    """Where the foot rests on the ground (zero velocity).

    Parameters
    ----------
    imu : array_like, shape (n, 6)
        acc [m/s², gravity included] then gyro [rad/s], any sensor frame.
    rate_hz : float
        Sample rate [Hz].
    window_s, gyr_threshold_radps, acc_tol_mps2 : float
        The detector's window [s], loose angular-rate threshold [rad/s] and the tolerance
        of ``|a|`` around g [m/s²].
    strict_threshold_radps : float
        The strict threshold inside a rest [rad/s] (module docstring).
    min_rest_s : float
        Rests shorter than this are dropped [s]; a rest with no sample under the strict
        threshold keeps its quietest ``min_rest_s``.

    Returns
    -------
    ndarray, shape (n,), bool
    """
    x = np.asarray(imu, dtype=np.float64)
    width = max(1, round(window_s * rate_hz))
    gyr_energy, rest = _loose(x, width, gyr_threshold_radps, acc_tol_mps2)
    # drop rests shorter than min_rest_s
    starts, ends = runs(rest)
    keep = max(1, round(min_rest_s * rate_hz))
    still = gyr_energy < strict_threshold_radps**2
    out = np.zeros_like(rest)
    for s, e in zip(starts, ends, strict=True):
        if e - s < keep:
            continue
        if still[s:e].any():
            out[s:e] = still[s:e]
        else:
            m = s + int(np.argmin(gyr_energy[s:e]))
            lo = min(max(s, m - keep // 2), e - keep)
            out[lo : lo + keep] = True
    return out


def rest_runs(
    rest: npt.NDArray[np.bool_], rate_hz: float, *, min_move_s: float = MIN_MOVE_S
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The stances: first and last sample of each run of rest, runs closer than
    ``min_move_s`` merged.

    Returns
    -------
    first, last : ndarray, shape (k,), int64
        Stance ``i`` is ``first[i] … last[i]`` (inclusive); stride ``i`` moves from
        ``last[i]`` to ``first[i + 1]``.
    """
    first, end = runs(rest)
    last = end - 1
    if len(first) < 2:
        return first, last
    # a run starts a new stance when the foot moved long enough since the previous one
    new = np.concatenate([[True], first[1:] - last[:-1] >= min_move_s * rate_hz])
    begins = np.flatnonzero(new)
    return first[begins], last[np.concatenate([begins[1:] - 1, [len(first) - 1]])]
