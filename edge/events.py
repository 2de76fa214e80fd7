"""Causal gait-event detection (heel strike, toe-off) from predicted phase and stance.

One :class:`GaitEventDetector` per foot (per stream) is fed one sample at a time with the
model's outputs ``(phase_cos, phase_sin, p_stance)`` and the sample's counter;
:meth:`GaitEventDetector.update` returns the events it reports at that sample, each with
the counter at which the event is estimated to have happened (``counter_at``, may lie in
the past and between samples) and the counter at which it was reported
(``counter_reported``, the current sample). :meth:`GaitEventDetector.detect` runs the same
``update`` over a whole recording, so offline scoring sees exactly what the streaming loop
reports.

Rules (counters in samples at ``sampling_rate_hz``; φ = atan2(phase_sin, phase_cos) in
[0, 2π)). Both events are edges of ``p_stance`` through 0.5, timed by the stance signal
and checked against the phase: a causal model recognises the foot landing and lifting
as they happen (an impact, a push-off), while its phase must anticipate where the cycle
ends and carries that uncertainty. Measured on held-out subjects (two, with a hidden-64
model): heel strikes timed by the stance edge had a mean absolute error of 7.8 ms, by the
phase's interpolated wrap through zero 9.6 ms.

- **Heel strike (HS)**: an upward crossing of 0.5 after the foot was in swing
  (``p_stance <= 0.5 − hysteresis`` arms it), with φ at the crossing sample inside
  ``hs_phase_window`` (a window around the wrap: (low, high) with low > high means
  φ ≥ low or φ ≤ high, in fractions of the cycle).
- **Toe-off (TO)**: a downward crossing of 0.5 after the foot was on the ground
  (``p_stance >= 0.5 + hysteresis`` arms it), with φ inside ``to_phase_window``.
- For both: the event time is the interpolated 0.5 crossing, shifted by
  ``stance_offset_samples`` (the stance target switches at the first sample of the new
  state, so the interpolated crossing lies half a sample before the labelled event; the
  shift is capped so the event is never after the current sample). A crossing back
  cancels the candidate; a crossing outside the phase window or inside the refractory
  period is rejected and disarms the edge (it must come back from the other state). A
  candidate is reported when ``p_stance`` passes the far threshold (``0.5 ± hysteresis``)
  or ``max_delay_ms`` after its estimated time, whichever comes first; then that edge
  disarms until the foot is in the other state again. A candidate closer than
  ``min_stride_ms`` to the previous reported event of its kind is rejected (refractory).
- **Delay**: ``counter_reported − counter_at`` is ≥ 0 and at most ``max_delay_ms`` plus
  the gap before the reporting sample (a gap is bounded by ``max_gap_ms``).
- **Lost samples** are counter jumps; no samples are invented: crossings are interpolated
  across the gap. A gap longer than ``max_gap_ms``, or a counter that does not increase
  (a new stream), resets the detector before the sample is used.
- **Undefined inputs**: a NaN phase (or a (cos, sin) vector shorter than
  ``min_phase_norm``: the shipped models shrink it to zero while the subject stands) is
  not checked against the phase windows; a NaN ``p_stance`` disarms both edges.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "GAIT_PHASE_DETECTOR",
    "GaitEvent",
    "GaitEventDetector",
    "events_to_arrays",
    "median_stride_s",
]

_TWO_PI = 2.0 * math.pi

#: Detector settings that ``gaitedge train`` writes into a gait-phase model's model.json
#: (``detector``); evaluation and the streaming loop build the detector from that block.
GAIT_PHASE_DETECTOR: dict[str, float | tuple[float, float]] = {
    "min_stride_ms": 400.0,
    "hysteresis": 0.1,
    "stance_offset_samples": 0.5,
    "hs_phase_window": (0.75, 0.25),
    "to_phase_window": (0.35, 0.9),
    "max_delay_ms": 50.0,
    "max_gap_ms": 200.0,
    "min_phase_norm": 0.5,
}
_NO_EVENTS: tuple[GaitEvent, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class GaitEvent:
    """One detected gait event.

    Attributes
    ----------
    kind : {"HS", "TO"}
        Heel strike or toe-off.
    counter_at : float
        Counter at which the event is estimated to have happened [samples]; may lie between
        samples and before ``counter_reported``.
    counter_reported : int
        Counter of the sample at which the detector reported it.
    """

    kind: Literal["HS", "TO"]
    counter_at: float
    counter_reported: int

    @property
    def delay_samples(self) -> float:
        """``counter_reported − counter_at`` [samples], ≥ 0."""
        return self.counter_reported - self.counter_at


class GaitEventDetector:
    """Causal heel-strike and toe-off detector for one foot (rules: module docstring).

    Parameters
    ----------
    sampling_rate_hz : float
        Rate of the counter [Hz].
    min_stride_ms : float
        Refractory period: two heel strikes (or two toe-offs) closer than this are one.
    hysteresis : float
        An edge arms when ``p_stance`` is this far on the other side of 0.5 and is
        reported, at the latest, when it is this far past 0.5.
    stance_offset_samples : float
        Added to the interpolated 0.5 crossing of ``p_stance`` (label convention, see
        module docstring).
    hs_phase_window, to_phase_window : tuple of float
        (low, high) fractions of the cycle inside which a heel strike / toe-off is
        plausible; low > high (heel strike) wraps through 0.
    max_delay_ms : float
        A candidate is reported at the latest this long after its estimated time.
    max_gap_ms : float
        A counter jump longer than this resets the detector.
    min_phase_norm : float
        A (cos, sin) output shorter than this is treated as undefined phase; 0 disables.

    Attributes
    ----------
    min_stride_samples_, max_delay_samples_, max_gap_samples_ : float
        The millisecond parameters in samples.
    """

    def __init__(
        self,
        *,
        sampling_rate_hz: float = 100.0,
        min_stride_ms: float = 400.0,
        hysteresis: float = 0.1,
        stance_offset_samples: float = 0.5,
        hs_phase_window: tuple[float, float] = (0.75, 0.25),
        to_phase_window: tuple[float, float] = (0.35, 0.9),
        max_delay_ms: float = 50.0,
        max_gap_ms: float = 200.0,
        min_phase_norm: float = 0.0,
    ) -> None:
        self.sampling_rate_hz = sampling_rate_hz
        self.min_stride_ms = min_stride_ms
        self.hysteresis = hysteresis
        self.stance_offset_samples = stance_offset_samples
        self.hs_phase_window = hs_phase_window
        self.to_phase_window = to_phase_window
        self.max_delay_ms = max_delay_ms
        self.max_gap_ms = max_gap_ms
        self.min_phase_norm = min_phase_norm
        self.reset()

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        """Forget the stream: the next sample starts afresh (derived values recomputed)."""
        if self.sampling_rate_hz <= 0:
            raise ValueError(f"sampling_rate_hz is {self.sampling_rate_hz!r}; give a rate > 0")
        if not 0.0 <= self.hysteresis < 0.5:
            raise ValueError(f"hysteresis is {self.hysteresis!r}; choose 0 <= hysteresis < 0.5")
        for name in ("hs_phase_window", "to_phase_window"):
            lo, hi = getattr(self, name)
            if not (0.0 <= lo <= 1.0 and 0.0 <= hi <= 1.0 and lo != hi):
                raise ValueError(
                    f"{name} is {getattr(self, name)!r}; give (low, high), fractions of the "
                    "cycle in [0, 1] (low > high: a window through the wrap)"
                )
        if self.to_phase_window[0] > self.to_phase_window[1]:
            raise ValueError(
                f"to_phase_window is {self.to_phase_window!r}; give low < high (toe-off lies "
                "inside the cycle)"
            )
        per_ms = self.sampling_rate_hz / 1000.0
        self.min_stride_samples_ = self.min_stride_ms * per_ms
        self.max_delay_samples_ = self.max_delay_ms * per_ms
        self.max_gap_samples_ = self.max_gap_ms * per_ms
        self._edges = (
            _Edge("HS", rising=True, window=self.hs_phase_window, det=self),
            _Edge("TO", rising=False, window=self.to_phase_window, det=self),
        )
        self._clear()

    def _clear(self) -> None:
        self._counter = -1  # counter of the previous sample; -1: none yet
        self._started = False
        self._stance = math.nan  # previous p_stance
        for edge in self._edges:
            edge.clear()

    # ------------------------------------------------------------------ streaming

    def update(
        self, counter: int, phase_cos: float, phase_sin: float, p_stance: float
    ) -> tuple[GaitEvent, ...]:
        """Feed one sample; return the events reported at it (usually the empty tuple).

        Parameters
        ----------
        counter : int
            The sample's counter; a jump > 1 means lost samples.
        phase_cos, phase_sin : float
            The model's phase output (need not be unit length).
        p_stance : float
            Stance probability.
        """
        if self._started:
            gap = counter - self._counter
            if gap <= 0 or gap > self.max_gap_samples_:
                self._clear()
                gap = 0
        else:
            gap = 0
        self._started = True
        prev_counter = self._counter
        self._counter = counter
        norm = math.hypot(phase_cos, phase_sin)
        if norm > self.min_phase_norm and norm == norm:  # norm == norm: not NaN
            phase = math.atan2(phase_sin, phase_cos) / _TWO_PI
            if phase < 0.0:
                phase += 1.0
        else:
            phase = math.nan
        prev_stance = self._stance
        self._stance = p_stance
        out: tuple[GaitEvent, ...] = _NO_EVENTS
        for edge in self._edges:
            event = edge.update(counter, prev_counter, gap, phase, prev_stance, p_stance)
            if event is not None:
                out = (*out, event)
        return out

    # ------------------------------------------------------------------ whole recordings

    def detect(
        self,
        counter: npt.ArrayLike,
        phase_cos: npt.ArrayLike,
        phase_sin: npt.ArrayLike,
        p_stance: npt.ArrayLike,
    ) -> list[GaitEvent]:
        """Run :meth:`update` over a whole recording from a fresh state.

        Identical to feeding the samples one by one after :meth:`reset` (it is that loop).

        Parameters
        ----------
        counter : array_like, shape (n,), int
            Sample counters, increasing (a jump is lost samples).
        phase_cos, phase_sin, p_stance : array_like, shape (n,)
            Model outputs per sample.

        Returns
        -------
        list of GaitEvent
            In reporting order.
        """
        c = np.asarray(counter, dtype=np.int64)
        arrays = [np.asarray(a, dtype=np.float64) for a in (phase_cos, phase_sin, p_stance)]
        if c.ndim != 1 or any(a.shape != c.shape for a in arrays):
            raise ValueError("counter, phase_cos, phase_sin and p_stance must be 1-D, same length")
        self.reset()
        events: list[GaitEvent] = []
        update = self.update
        for k, pc, ps, st in zip(c.tolist(), *(a.tolist() for a in arrays), strict=True):
            found = update(k, pc, ps, st)
            if found:
                events.extend(found)
        return events


def events_to_arrays(
    events: Sequence[GaitEvent], kind: Literal["HS", "TO"]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """``(counter_at, counter_reported)`` arrays of the events of one kind, in order."""
    sel = [e for e in events if e.kind == kind]
    return (
        np.array([e.counter_at for e in sel], dtype=np.float64),
        np.array([e.counter_reported for e in sel], dtype=np.int64),
    )


class _Edge:
    """One edge of ``p_stance`` through 0.5 (HS rising, TO falling): module docstring."""

    __slots__ = ("_det", "armed", "cand", "hi", "kind", "last", "lo", "rising", "wraps")

    def __init__(
        self,
        kind: Literal["HS", "TO"],
        *,
        rising: bool,
        window: tuple[float, float],
        det: GaitEventDetector,
    ) -> None:
        self.kind, self.rising, self._det = kind, rising, det
        self.lo, self.hi = window
        self.wraps = self.lo > self.hi
        self.clear()

    def clear(self) -> None:
        self.armed = False
        self.cand = math.nan  # pending candidate's counter_at, NaN if none
        self.last = -math.inf  # counter_at of the last reported event

    def _in_window(self, phase: float) -> bool:
        if phase != phase:
            return True
        if self.wraps:
            return phase >= self.lo or phase <= self.hi
        return self.lo <= phase <= self.hi

    def update(
        self,
        counter: int,
        prev_counter: int,
        gap: int,
        phase: float,
        prev_stance: float,
        p_stance: float,
    ) -> GaitEvent | None:
        det = self._det
        if p_stance != p_stance:
            self.armed = False
            self.cand = math.nan
            return None
        # work on s = p_stance for a falling edge, 1 − p_stance for a rising one
        s = 1.0 - p_stance if self.rising else p_stance
        if not self.armed:
            if s >= 0.5 + det.hysteresis:
                self.armed = True
            return None
        if gap and prev_stance == prev_stance:
            s_prev = 1.0 - prev_stance if self.rising else prev_stance
            if s_prev >= 0.5 > s:
                at = prev_counter + gap * (s_prev - 0.5) / (s_prev - s)
                at = min(at + det.stance_offset_samples, float(counter))
                if at - self.last >= det.min_stride_samples_ and self._in_window(phase):
                    self.cand = at
                else:  # rejected: disarm, so a wobble around 0.5 cannot fire later
                    self.cand = math.nan
                    self.armed = False
                    return None
            elif s_prev < 0.5 <= s:
                self.cand = math.nan
        cand = self.cand
        if cand == cand and (s <= 0.5 - det.hysteresis or counter - cand >= det.max_delay_samples_):
            self.cand = math.nan
            self.armed = False
            self.last = cand
            return GaitEvent(self.kind, cand, counter)
        return None


def median_stride_s(
    heel_strikes_at: Sequence[float], sampling_rate_hz: float, *, max_stride_s: float = 2.5
) -> float:
    """Median time between consecutive heel strikes of one foot [s]; NaN if none.

    ``heel_strikes_at`` : counters of the heel strikes, in order. Intervals longer than
    ``max_stride_s`` span a stop or a lost stretch and are left out, and so are those that
    are not positive: where a device restarted, its counter started over.
    """
    hs = np.asarray(heel_strikes_at, dtype=np.float64)
    strides = np.diff(hs) / sampling_rate_hz
    strides = strides[(strides > 0) & (strides < max_stride_s)]
    return float(np.median(strides)) if strides.size else math.nan
