"""Scoring of gait phase and gait events (and of any other target), per trial, per subject
and pooled.

Definitions:

- **Phase error** is circular: ``wrap(pred − true)`` to [−π, π), as % of the cycle
  (2π = 100 %), RMSE over the samples of a mask (``scored`` or ``steady``).
- **Region**: events are scored inside the same region as samples. A run of ``scored``
  samples (consecutive received samples, lost samples in between do not break it) covers
  the counters from its first sample up to and including the next received sample after
  it (the closing heel strike of the run's last cycle, where the phase is no longer
  defined, belongs to the run). See :func:`scored_intervals`.
- **Matching** (:func:`match_events`): one to one, within ``tolerance`` samples
  (60 ms), greedily by smallest distance (ties: earlier truth first). With events a
  stride apart and a tolerance of a few samples this is the optimal matching.
- **Counting** (:func:`event_scores`): every true event inside the region counts for
  recall; every prediction is matched against all true events given (inside or not).
  A prediction counts for precision when it is matched to a true event inside the region,
  or unmatched and itself inside the region. A prediction matched to a true event outside
  the region, or unmatched outside it, does not count (the region decides, not where the
  detector's estimate fell by a sample).
- **Timing error**: ``counter_at − true`` of matched pairs; MAE in ms. "Recall within
  30 ms" counts matched pairs with ``|error| <= 30 ms`` over the true events inside.
- **Delay**: ``counter_reported − true`` of matched pairs [ms] (from the true event to the
  sample at which the streaming detector reports it); pooled over heel strikes and
  toe-offs for ``event_delay_p95_ms``.
- **Strides**: pairs of consecutive true heel strikes inside the same scored run.

A model with other outputs (a lab's own targets, e.g. ``knee_angle_deg``) is scored by
:func:`score_targets`: RMSE and mean absolute error of each output against the trial's
column of the same name, in its unit (a binary target's logit output as its probability),
over the samples where that column is defined (not NaN) and, when the trial has one,
inside ``mask_scored``; pooled over samples.

An empty denominator gives NaN.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.events import GaitEvent, events_to_arrays

__all__ = [
    "POOLED_KEYS",
    "EventMatch",
    "EventScores",
    "TargetScores",
    "TrialScores",
    "circular_error",
    "event_scores",
    "inside",
    "match_events",
    "phase_from_cos_sin",
    "phase_rmse_pct",
    "pool",
    "pooled_scores",
    "pooled_target_scores",
    "score_targets",
    "score_trial",
    "scored_intervals",
    "scores_by_subject",
]

_TWO_PI = 2.0 * math.pi

#: The keys of a pooled (or per-subject) result.
POOLED_KEYS: tuple[str, ...] = (
    "phase_rmse_pct",
    "phase_rmse_steady_pct",
    "hs_recall",
    "hs_precision",
    "hs_mae_ms",
    "hs_recall_30ms",
    "to_recall",
    "to_precision",
    "to_mae_ms",
    "to_recall_30ms",
    "event_delay_p95_ms",
    "n_subjects",
    "n_strides",
)


# --------------------------------------------------------------------------- phase


def phase_from_cos_sin(phase_cos: npt.ArrayLike, phase_sin: npt.ArrayLike) -> npt.NDArray[Any]:
    """φ = atan2(sin, cos) in [0, 2π) [rad]; NaN where either input is."""
    phi = np.arctan2(np.asarray(phase_sin, dtype=np.float64), np.asarray(phase_cos, np.float64))
    return np.mod(phi, _TWO_PI)


def circular_error(pred_phase: npt.ArrayLike, true_phase: npt.ArrayLike) -> npt.NDArray[Any]:
    """``pred − true`` wrapped to [−π, π) [rad]."""
    d = np.asarray(pred_phase, dtype=np.float64) - np.asarray(true_phase, dtype=np.float64)
    return np.mod(d + math.pi, _TWO_PI) - math.pi


def _sse(pred: npt.ArrayLike, true: npt.ArrayLike, mask: npt.ArrayLike | None) -> tuple[float, int]:
    err = circular_error(pred, true)
    keep = np.isfinite(err)
    if mask is not None:
        keep &= np.asarray(mask, dtype=bool)
    e = err[keep]
    return float(np.dot(e, e)), int(e.size)


def phase_rmse_pct(
    pred_phase: npt.ArrayLike, true_phase: npt.ArrayLike, mask: npt.ArrayLike | None = None
) -> float:
    """Circular phase RMSE as % of the cycle over ``mask`` (and finite values); NaN if none.

    Example: 350° against 10° is an error of 20°, 5.56 % of the cycle.
    """
    sse, n = _sse(pred_phase, true_phase, mask)
    return math.sqrt(sse / n) / _TWO_PI * 100.0 if n else math.nan


# --------------------------------------------------------------------------- region


def scored_intervals(counter: npt.ArrayLike, mask: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Runs of masked samples as inclusive counter intervals, shape (m, 2).

    A run is consecutive received samples with the mask set; it covers from its first
    sample's counter to the counter of the next received sample after it (inclusive), or
    to its last sample's counter at the end of the recording.
    """
    c = np.asarray(counter, dtype=np.int64)
    m = np.asarray(mask, dtype=bool)
    if c.shape != m.shape:
        raise ValueError("counter and mask must have the same shape")
    edges = np.diff(np.concatenate([[False], m, [False]]).astype(np.int8))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)  # index after the run's last sample
    ends = np.where(stops < len(c), stops, stops - 1)
    return np.stack([c[starts], c[ends]], axis=1) if len(starts) else np.zeros((0, 2), np.int64)


def inside(counters: npt.ArrayLike, intervals: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Whether each counter value (float allowed) lies in one of the inclusive intervals."""
    x = np.asarray(counters, dtype=np.float64)
    if len(intervals) == 0:
        return np.zeros(x.shape, dtype=bool)
    i = np.searchsorted(intervals[:, 0], x, side="right") - 1
    ok = i >= 0
    out = np.zeros(x.shape, dtype=bool)
    out[ok] = x[ok] <= intervals[i[ok], 1]
    return out


# --------------------------------------------------------------------------- events


@dataclasses.dataclass(frozen=True)
class EventMatch:
    """One-to-one matching of predicted to true events.

    Attributes
    ----------
    pairs : ndarray, shape (k, 2), int64
        (index into pred, index into true) of each match, sorted by the true index.
    missed : ndarray, int64
        Indices of unmatched true events.
    false_alarms : ndarray, int64
        Indices of unmatched predictions.
    errors : ndarray, shape (k,), float64
        ``pred − true`` of each pair [samples].
    """

    pairs: npt.NDArray[np.int64]
    missed: npt.NDArray[np.int64]
    false_alarms: npt.NDArray[np.int64]
    errors: npt.NDArray[np.float64]


def match_events(
    pred_counters: npt.ArrayLike, true_counters: npt.ArrayLike, tolerance_samples: float
) -> EventMatch:
    """Match predictions to true events one to one within ``tolerance_samples`` (inclusive).

    Greedy by distance: all pairs within the tolerance, smallest ``|pred − true|`` first
    (ties: earlier true, then earlier prediction), each event used at most once.
    """
    p = np.asarray(pred_counters, dtype=np.float64).reshape(-1)
    t = np.asarray(true_counters, dtype=np.float64).reshape(-1)
    order = np.argsort(p, kind="stable")
    ps = p[order]
    cand: list[tuple[float, int, int]] = []
    for j, tj in enumerate(t.tolist()):
        lo = np.searchsorted(ps, tj - tolerance_samples, side="left")
        hi = np.searchsorted(ps, tj + tolerance_samples, side="right")
        for k in range(lo, hi):
            i = int(order[k])
            cand.append((abs(float(p[i]) - tj), j, i))
    cand.sort()
    used_p = np.zeros(len(p), dtype=bool)
    used_t = np.zeros(len(t), dtype=bool)
    pairs = []
    for _, j, i in cand:
        if not used_p[i] and not used_t[j]:
            used_p[i] = used_t[j] = True
            pairs.append((i, j))
    pairs.sort(key=lambda ij: ij[1])
    arr = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return EventMatch(
        pairs=arr,
        missed=np.flatnonzero(~used_t).astype(np.int64),
        false_alarms=np.flatnonzero(~used_p).astype(np.int64),
        errors=p[arr[:, 0]] - t[arr[:, 1]],
    )


@dataclasses.dataclass(frozen=True)
class EventScores:
    """Counts and per-match values of one event kind; add two with ``+`` to pool.

    Attributes
    ----------
    n_true : int
        True events inside the region.
    n_pred : int
        Predictions that count (module docstring).
    n_matched : int
        Matches whose true event is inside the region.
    n_within_30ms : int
        Of those, ``|error| <= 30 ms``.
    abs_errors_ms : ndarray
        ``|counter_at − true|`` of the counted matches [ms].
    delays_ms : ndarray
        ``counter_reported − true`` of the counted matches [ms].
    """

    n_true: int = 0
    n_pred: int = 0
    n_matched: int = 0
    n_within_30ms: int = 0
    abs_errors_ms: npt.NDArray[np.float64] = dataclasses.field(default_factory=lambda: np.zeros(0))
    delays_ms: npt.NDArray[np.float64] = dataclasses.field(default_factory=lambda: np.zeros(0))

    def __add__(self, other: EventScores) -> EventScores:
        return EventScores(
            self.n_true + other.n_true,
            self.n_pred + other.n_pred,
            self.n_matched + other.n_matched,
            self.n_within_30ms + other.n_within_30ms,
            np.concatenate([self.abs_errors_ms, other.abs_errors_ms]),
            np.concatenate([self.delays_ms, other.delays_ms]),
        )

    @property
    def recall(self) -> float:
        return self.n_matched / self.n_true if self.n_true else math.nan

    @property
    def precision(self) -> float:
        return self.n_matched / self.n_pred if self.n_pred else math.nan

    @property
    def recall_30ms(self) -> float:
        return self.n_within_30ms / self.n_true if self.n_true else math.nan

    @property
    def mae_ms(self) -> float:
        return float(np.mean(self.abs_errors_ms)) if self.abs_errors_ms.size else math.nan


def event_scores(
    pred_at: npt.ArrayLike,
    pred_reported: npt.ArrayLike,
    true_counters: npt.ArrayLike,
    intervals: npt.NDArray[np.int64] | None = None,
    *,
    sample_rate_hz: float = 100.0,
    tolerance_ms: float = 60.0,
    within_ms: float = 30.0,
) -> EventScores:
    """Score one kind of event of one trial (counting rules: module docstring).

    Parameters
    ----------
    pred_at, pred_reported : array_like, shape (k,)
        Estimated and reporting counters of the detector's events.
    true_counters : array_like, shape (m,)
        The true events (all of the trial; those outside ``intervals`` are matched but
        not counted).
    intervals : ndarray, shape (r, 2), optional
        The scored region (:func:`scored_intervals`); None: everything counts.
    sample_rate_hz, tolerance_ms, within_ms : float
        Rate of the counters [Hz], matching tolerance [ms], the "recall within" bound [ms].
    """
    at = np.asarray(pred_at, dtype=np.float64).reshape(-1)
    rep = np.asarray(pred_reported, dtype=np.float64).reshape(-1)
    true = np.asarray(true_counters, dtype=np.float64).reshape(-1)
    if at.shape != rep.shape:
        raise ValueError("pred_at and pred_reported must have the same length")
    ms = 1000.0 / sample_rate_hz
    m = match_events(at, true, tolerance_ms / ms)
    if intervals is None:
        true_in = np.ones(len(true), dtype=bool)
        pred_in = np.ones(len(at), dtype=bool)
    else:
        true_in = inside(true, intervals)
        pred_in = inside(at, intervals)
    pi, ti = m.pairs[:, 0], m.pairs[:, 1]
    keep = true_in[ti]
    counted_pred = np.zeros(len(at), dtype=bool)
    counted_pred[pi[keep]] = True
    counted_pred[m.false_alarms] = pred_in[m.false_alarms]
    abs_err = np.abs(m.errors[keep]) * ms
    return EventScores(
        n_true=int(true_in.sum()),
        n_pred=int(counted_pred.sum()),
        n_matched=int(keep.sum()),
        n_within_30ms=int(np.sum(abs_err <= within_ms + 1e-9)),
        abs_errors_ms=abs_err,
        delays_ms=(rep[pi[keep]] - true[ti[keep]]) * ms,
    )


# --------------------------------------------------------------------------- trials


@dataclasses.dataclass(frozen=True)
class TrialScores:
    """What one trial (one foot) contributes to per-subject and pooled results.

    Attributes
    ----------
    subject : str
    phase_sse_rad2, phase_n : float, int
        Sum of squared circular errors [rad²] and sample count over ``scored``.
    steady_sse_rad2, steady_n : float, int
        The same over ``steady``.
    hs, to : EventScores
    n_strides : int
    """

    subject: str
    phase_sse_rad2: float
    phase_n: int
    steady_sse_rad2: float
    steady_n: int
    hs: EventScores
    to: EventScores
    n_strides: int


def score_trial(
    subject: str,
    counter: npt.ArrayLike,
    pred_phase: npt.ArrayLike,
    true_phase: npt.ArrayLike,
    scored: npt.ArrayLike,
    steady: npt.ArrayLike,
    events: Sequence[GaitEvent],
    true_heel_strikes: npt.ArrayLike,
    true_toe_offs: npt.ArrayLike,
    *,
    sample_rate_hz: float = 100.0,
    tolerance_ms: float = 60.0,
) -> TrialScores:
    """Score one trial: phase over ``scored``/``steady``, events inside the scored region.

    ``events`` are the detector's output over the whole trial
    (:meth:`edge.events.GaitEventDetector.detect`); phases in radians.
    """
    intervals = scored_intervals(counter, scored)
    sse, n = _sse(pred_phase, true_phase, scored)
    sse_s, n_s = _sse(pred_phase, true_phase, steady)
    kw = {"sample_rate_hz": sample_rate_hz, "tolerance_ms": tolerance_ms}
    hs_at, hs_rep = events_to_arrays(events, "HS")
    to_at, to_rep = events_to_arrays(events, "TO")
    hs_true = np.asarray(true_heel_strikes, dtype=np.float64)
    hs = event_scores(hs_at, hs_rep, hs_true, intervals, **kw)
    to = event_scores(to_at, to_rep, true_toe_offs, intervals, **kw)
    run = np.searchsorted(intervals[:, 0], hs_true, side="right") - 1
    hs_in = inside(hs_true, intervals)
    same_run = hs_in[:-1] & hs_in[1:] & (run[:-1] == run[1:])
    return TrialScores(
        subject=str(subject),
        phase_sse_rad2=sse,
        phase_n=n,
        steady_sse_rad2=sse_s,
        steady_n=n_s,
        hs=hs,
        to=to,
        n_strides=int(np.sum(same_run)),
    )


def pooled_scores(trials: Iterable[TrialScores]) -> dict[str, float | int]:
    """Pool trial scores into a dict with exactly :data:`POOLED_KEYS`.

    Phase RMSE pools squared errors over all samples (not a mean of trial RMSEs); event
    rates pool counts; ``event_delay_p95_ms`` is the 95th percentile of the heel-strike
    and toe-off delays together. Rates are fractions (0–1), times ms, phase % of cycle.
    """
    items = list(trials)
    sse = sum(t.phase_sse_rad2 for t in items)
    n = sum(t.phase_n for t in items)
    sse_s = sum(t.steady_sse_rad2 for t in items)
    n_s = sum(t.steady_n for t in items)
    hs = sum((t.hs for t in items), EventScores())
    to = sum((t.to for t in items), EventScores())
    delays = np.concatenate([hs.delays_ms, to.delays_ms])

    def rmse_pct(s: float, k: int) -> float:
        return math.sqrt(s / k) / _TWO_PI * 100.0 if k else math.nan

    return {
        "phase_rmse_pct": rmse_pct(sse, n),
        "phase_rmse_steady_pct": rmse_pct(sse_s, n_s),
        "hs_recall": hs.recall,
        "hs_precision": hs.precision,
        "hs_mae_ms": hs.mae_ms,
        "hs_recall_30ms": hs.recall_30ms,
        "to_recall": to.recall,
        "to_precision": to.precision,
        "to_mae_ms": to.mae_ms,
        "to_recall_30ms": to.recall_30ms,
        "event_delay_p95_ms": float(np.percentile(delays, 95)) if delays.size else math.nan,
        "n_subjects": len({t.subject for t in items}),
        "n_strides": sum(t.n_strides for t in items),
    }


def scores_by_subject(
    trials: Iterable[TrialScores | TargetScores],
) -> dict[str, dict[str, float | int]]:
    """Each subject's trials pooled (:func:`pooled_scores`, or :func:`pooled_target_scores`
    for :class:`TargetScores`), keyed by subject, in first-seen order."""
    groups: dict[str, list[Any]] = {}
    for t in trials:
        groups.setdefault(t.subject, []).append(t)
    return {s: pool(g) for s, g in groups.items()}


def pool(trials: Sequence[TrialScores | TargetScores]) -> dict[str, float | int]:
    """:func:`pooled_scores` or :func:`pooled_target_scores`, by what ``trials`` hold."""
    if trials and all(isinstance(t, TargetScores) for t in trials):
        return pooled_target_scores(trials)  # type: ignore[arg-type]
    if any(isinstance(t, TargetScores) for t in trials):
        raise ValueError("cannot pool gait scores with plain-target scores")
    return pooled_scores(trials)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- other targets


@dataclasses.dataclass(frozen=True, slots=True)
class TargetScores:
    """One trial's errors on plain targets (a model that is not a gait-phase model).

    Attributes
    ----------
    subject : str
    sse, sae : dict of str to float
        Per target: sum of squared errors [unit²] and of absolute errors [unit].
    n : dict of str to int
        Per target: samples scored.
    """

    subject: str
    sse: dict[str, float]
    sae: dict[str, float]
    n: dict[str, int]


def score_targets(
    subject: str,
    pred: Mapping[str, npt.ArrayLike],
    true: Mapping[str, npt.ArrayLike],
    scored: npt.ArrayLike | None = None,
) -> TargetScores:
    """Errors of each ``pred[name]`` against ``true[name]``, shape (n,) each, over the
    samples where the truth is defined (not NaN) and inside ``scored`` when given."""
    sse, sae, n = {}, {}, {}
    for name, p in pred.items():
        t = np.asarray(true[name], dtype=np.float64)
        e = np.asarray(p, dtype=np.float64) - t
        keep = ~np.isnan(t)
        if scored is not None:
            keep &= np.asarray(scored, dtype=bool)
        sse[name] = float(np.sum(e[keep] ** 2))
        sae[name] = float(np.sum(np.abs(e[keep])))
        n[name] = int(np.sum(keep))
    return TargetScores(str(subject), sse, sae, n)


def pooled_target_scores(trials: Iterable[TargetScores]) -> dict[str, float | int]:
    """``{"<name>_rmse", "<name>_mae"}`` per target [its unit], pooled over samples, then
    ``n_subjects`` and ``n_samples`` (samples scored, of the target with the most)."""
    items = list(trials)
    names = list(items[0].n) if items else []
    out: dict[str, float | int] = {}
    for name in names:
        k = sum(t.n[name] for t in items)
        out[f"{name}_rmse"] = math.sqrt(sum(t.sse[name] for t in items) / k) if k else math.nan
        out[f"{name}_mae"] = sum(t.sae[name] for t in items) / k if k else math.nan
    out["n_subjects"] = len({t.subject for t in items})
    out["n_samples"] = max((sum(t.n[name] for t in items) for name in names), default=0)
    return out
