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
[0, 2π)):

- **Heel strike (HS)**: φ wraps forward through zero between two consecutive received
  samples: φ_prev > φ_cur and the forward step d = wrap(φ_cur − φ_prev) (wrapped to
  (−π, π]) is positive and at most ``max_phase_rate_hz`` cycles per second of elapsed
  counter (a phase-velocity plausibility check: a noisy jump or a backward wrap is not a
  heel strike). The event time is the linearly interpolated zero crossing,
  ``counter_prev + gap · (2π − φ_prev) / d``. It becomes a candidate; a backward wrap
  through zero cancels the candidate, and it is reported once ``hs_confirm_ms`` have
  passed since its estimated time (0: at the crossing sample itself). A candidate closer
  than ``min_stride_ms`` to the previously reported heel strike is ignored (refractory).
- **Toe-off (TO)**: hysteresis on ``p_stance``. The detector is armed once
  ``p_stance >= 0.5 + hysteresis``. While armed, a downward crossing of 0.5 makes a
  candidate at the interpolated crossing, shifted by ``stance_offset_samples`` (the stance
  target switches at the first sample of the new state, so the interpolated 0.5 crossing
  lies half a sample before the labelled event; the shift is capped so the event is never
  after the current sample); an upward crossing cancels it. A candidate is accepted only
  if φ at the crossing sample lies inside ``to_phase_window`` (fractions of the cycle; not
  checked where φ is undefined) and it is at least ``min_stride_ms`` after the previous
  reported toe-off. It is reported when ``p_stance <= 0.5 − hysteresis`` or when
  ``max_delay_ms`` have passed since its estimated time, whichever comes first; then the
  detector disarms until stance rises again.
- **Delay**: ``counter_reported − counter_at`` is ≥ 0 and at most ``max_delay_ms`` plus
  the gap before the reporting sample (a gap is bounded by ``max_gap_ms``).
- **Lost samples** are counter jumps; no samples are invented: crossings are interpolated
  across the gap. A gap longer than ``max_gap_ms``, or a counter that does not increase
  (a new stream), resets the detector before the sample is used.
- **Undefined inputs**: a NaN phase (or a (cos, sin) vector shorter than
  ``min_phase_norm``) carries no phase: no wrap is detected across it and the TO phase
  window is not checked; a NaN ``p_stance`` restarts the toe-off logic (disarmed).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = ["GaitEvent", "GaitEventDetector", "events_to_arrays"]

_TWO_PI = 2.0 * math.pi
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
    max_phase_rate_hz : float
        Fastest plausible phase advance across the wrap [cycles/s]; 10 Hz is 0.1 cycle per
        sample at 100 Hz, ten times a normal cadence.
    hs_confirm_ms : float
        How long after its estimated time a heel-strike candidate must survive (no backward
        wrap) before it is reported; 0 reports at the crossing sample.
    hysteresis : float
        Toe-off arms at ``p_stance >= 0.5 + hysteresis`` and confirms at
        ``p_stance <= 0.5 − hysteresis``.
    stance_offset_samples : float
        Added to the interpolated 0.5 crossing of ``p_stance`` (label convention, see
        module docstring).
    to_phase_window : tuple of float
        (low, high) fractions of the cycle inside which a toe-off is plausible.
    max_delay_ms : float
        A toe-off candidate is reported at the latest this long after its estimated time;
        ``hs_confirm_ms`` must not exceed it.
    max_gap_ms : float
        A counter jump longer than this resets the detector.
    min_phase_norm : float
        A (cos, sin) output shorter than this is treated as undefined phase; 0 disables.

    Attributes
    ----------
    min_stride_samples_, hs_confirm_samples_, max_delay_samples_, max_gap_samples_ : float
        The millisecond parameters in samples.
    max_phase_step_rad_ : float
        Largest phase step per sample accepted across the wrap [rad].
    """

    def __init__(
        self,
        *,
        sampling_rate_hz: float = 100.0,
        min_stride_ms: float = 400.0,
        max_phase_rate_hz: float = 10.0,
        hs_confirm_ms: float = 0.0,
        hysteresis: float = 0.1,
        stance_offset_samples: float = 0.5,
        to_phase_window: tuple[float, float] = (0.35, 0.9),
        max_delay_ms: float = 50.0,
        max_gap_ms: float = 200.0,
        min_phase_norm: float = 0.0,
    ) -> None:
        self.sampling_rate_hz = sampling_rate_hz
        self.min_stride_ms = min_stride_ms
        self.max_phase_rate_hz = max_phase_rate_hz
        self.hs_confirm_ms = hs_confirm_ms
        self.hysteresis = hysteresis
        self.stance_offset_samples = stance_offset_samples
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
        if self.hs_confirm_ms > self.max_delay_ms:
            raise ValueError(
                f"hs_confirm_ms ({self.hs_confirm_ms}) exceeds max_delay_ms "
                f"({self.max_delay_ms}); the delay bound would not hold"
            )
        lo, hi = self.to_phase_window
        if not 0.0 <= lo < hi <= 1.0:
            raise ValueError(
                f"to_phase_window is {self.to_phase_window!r}; give (low, high) with "
                "0 <= low < high <= 1 (fractions of the cycle)"
            )
        per_ms = self.sampling_rate_hz / 1000.0
        self.min_stride_samples_ = self.min_stride_ms * per_ms
        self.hs_confirm_samples_ = self.hs_confirm_ms * per_ms
        self.max_delay_samples_ = self.max_delay_ms * per_ms
        self.max_gap_samples_ = self.max_gap_ms * per_ms
        self.max_phase_step_rad_ = _TWO_PI * self.max_phase_rate_hz / self.sampling_rate_hz
        self._to_lo_rad = _TWO_PI * lo
        self._to_hi_rad = _TWO_PI * hi
        self._clear()

    def _clear(self) -> None:
        self._counter = -1  # counter of the previous sample; -1: none yet
        self._started = False
        self._phase = math.nan  # previous φ [rad], NaN if undefined
        self._stance = math.nan  # previous p_stance
        self._last_hs = -math.inf  # counter_at of the last reported HS
        self._last_to = -math.inf
        self._hs_cand = math.nan  # pending HS candidate's counter_at, NaN if none
        self._to_cand = math.nan
        self._armed = False

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

        # phase of this sample
        norm = math.hypot(phase_cos, phase_sin)
        if norm > self.min_phase_norm and norm == norm:  # norm == norm: not NaN
            phase = math.atan2(phase_sin, phase_cos)
            if phase < 0.0:
                phase += _TWO_PI
        else:
            phase = math.nan
        out: tuple[GaitEvent, ...] = _NO_EVENTS

        # ---- heel strike
        prev_phase = self._phase
        self._phase = phase
        if gap and phase == phase and prev_phase == prev_phase:
            d = phase - prev_phase
            if d > math.pi:
                d -= _TWO_PI
            elif d <= -math.pi:
                d += _TWO_PI
            if phase < prev_phase and 0.0 < d <= self.max_phase_step_rad_ * gap:
                at = prev_counter + gap * (_TWO_PI - prev_phase) / d
                if at - self._last_hs >= self.min_stride_samples_:
                    self._hs_cand = at
            elif phase > prev_phase and d < 0.0:  # backward wrap: cancel
                self._hs_cand = math.nan
        elif phase != phase:
            self._hs_cand = math.nan
        cand = self._hs_cand
        if cand == cand and counter - cand >= self.hs_confirm_samples_:
            self._hs_cand = math.nan
            self._last_hs = cand
            out = (GaitEvent("HS", cand, counter),)

        # ---- toe-off
        prev_stance = self._stance
        self._stance = p_stance
        if p_stance != p_stance:
            self._armed = False
            self._to_cand = math.nan
            return out
        if not self._armed:
            if p_stance >= 0.5 + self.hysteresis:
                self._armed = True
            return out
        if gap and prev_stance == prev_stance:
            if prev_stance >= 0.5 > p_stance:
                at = prev_counter + gap * (prev_stance - 0.5) / (prev_stance - p_stance)
                at = min(at + self.stance_offset_samples, float(counter))
                ok = at - self._last_to >= self.min_stride_samples_
                if ok and phase == phase:
                    ok = self._to_lo_rad <= phase <= self._to_hi_rad
                self._to_cand = at if ok else math.nan
            elif prev_stance < 0.5 <= p_stance:
                self._to_cand = math.nan
        cand = self._to_cand
        if cand == cand and (
            p_stance <= 0.5 - self.hysteresis or counter - cand >= self.max_delay_samples_
        ):
            self._to_cand = math.nan
            self._armed = False
            self._last_to = cand
            event = GaitEvent("TO", cand, counter)
            out = (*out, event) if out else (event,)
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
