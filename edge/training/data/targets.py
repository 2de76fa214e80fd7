"""Gait targets of one foot (phase, stance, scoring masks) from its footstep events."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from edge.errors import DatasetError

#: ipol-gait's metadata key of each foot's [toe-off, heel strike] pairs.
_SIDE_KEYS = {"L": "LeftFootEvents", "R": "RightFootEvents"}


@dataclasses.dataclass(frozen=True, slots=True)
class Targets:
    """Per-sample gait targets of one foot, aligned to the recording's counter.

    A lost sample has no row (the arrays follow ``counter``, not a dense time axis).

    Attributes
    ----------
    counter : ndarray, shape (n,), int64
        The recording's counter [samples at 100 Hz for ipol-gait].
    phase : ndarray, shape (n,), float64
        Gait phase φ [rad] in [0, 2π): 0 at a heel strike, rising linearly with the counter
        to 2π at the next heel strike of the same foot. NaN outside such a cycle.
    phase_cos, phase_sin : ndarray, shape (n,), float32
        cos φ and sin φ; NaN where φ is.
    stance : ndarray, shape (n,), float32
        1 from a heel strike to the next toe-off (foot on the ground), 0 from a toe-off to
        the next heel strike (swing). NaN outside the trial and where the state is unknown
        (see :func:`gait_targets`).
    cycle : ndarray, shape (n,), int64
        Index of the cycle (into ``heel_strikes``: cycle i runs from ``heel_strikes[i]``
        to ``heel_strikes[i + 1]``) a sample belongs to; -1 where φ is NaN.
    in_trial : ndarray, shape (n,), bool
        Inside ``TrialBoundaries`` (both ends included).
    scored : ndarray, shape (n,), bool
        ``in_trial``, outside ``UTurnBoundaries`` (both ends included) and φ defined.
    steady : ndarray, shape (n,), bool
        ``scored`` and in a steady cycle: not the trial's first cycle, not its last
        (stopping) cycle, and not within the turn margin of ``UTurnBoundaries``.
    heel_strikes, toe_offs : ndarray, shape (k,), int64
        The foot's events inside the trial, as counter values, increasing.
    """

    counter: npt.NDArray[np.int64]
    phase: npt.NDArray[np.float64]
    phase_cos: npt.NDArray[np.float32]
    phase_sin: npt.NDArray[np.float32]
    stance: npt.NDArray[np.float32]
    cycle: npt.NDArray[np.int64]
    in_trial: npt.NDArray[np.bool_]
    scored: npt.NDArray[np.bool_]
    steady: npt.NDArray[np.bool_]
    heel_strikes: npt.NDArray[np.int64]
    toe_offs: npt.NDArray[np.int64]

    @property
    def n_cycles(self) -> int:
        """Cycles (heel strike to next heel strike) inside the trial."""
        return max(len(self.heel_strikes) - 1, 0)


def read_boundaries(meta: Mapping[str, Any], key: str) -> tuple[int, int] | None:
    """``meta[key]`` as ``(start, end)`` counter values, ``None`` if absent."""
    value = meta.get(key)
    if value is None:
        return None
    try:
        start, end = (int(v) for v in value)
    except (TypeError, ValueError) as e:
        raise DatasetError(f"{key} is {value!r}; expected [start, end] in counter units") from e
    return start, end


def gait_targets(
    counter: npt.ArrayLike,
    meta: Mapping[str, Any],
    side: Literal["L", "R"],
    *,
    sample_rate_hz: float = 100.0,
    turn_margin_s: float = 0.5,
    events: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
) -> Targets:
    """Gait phase, stance and scoring masks of one foot from its footstep events.

    Parameters
    ----------
    counter : array_like, shape (n,), int
        The recording's sample counter, strictly increasing (gaps are lost samples).
    meta : mapping
        ipol-gait trial metadata: ``TrialBoundaries`` [start, end] (required),
        ``UTurnBoundaries`` [start, end] (optional), ``LeftFootEvents`` /
        ``RightFootEvents``: [toe-off, heel strike] pairs, all in counter units. An
        optional ``Slice`` [first, stop) says the recording was cut from a longer trial
        (the bundled demo slice), with the events cut to match.
    side : {"L", "R"}
        Which foot's events to use.
    sample_rate_hz : float
        Rate of the counter, Hz.
    turn_margin_s : float
        A cycle this close to the turn, or closer, is not steady [s].
    events : (toe_offs, heel_strikes), optional
        The foot's events as two counter lists, instead of ``meta``'s footstep pairs (the
        plain format's ``events``).

    Returns
    -------
    Targets

    Notes
    -----
    Definitions (all intervals in counter values):

    - **Events used**: only toe-offs and heel strikes inside ``TrialBoundaries``; several
      ipol-gait recordings go on past the trial (the subject walks off), and those events
      are dropped. No event pair straddles a boundary in ipol-gait.
    - **Cycle** i: ``heel_strikes[i] <= counter < heel_strikes[i + 1]``, with
      φ = 2π (counter − HS_i) / (HS_i+1 − HS_i). Before the first heel strike of the trial
      (standing, then the first step, which starts with a toe-off) and from the last heel
      strike on, φ is NaN: a cycle needs two heel strikes. Cycles across the turn are
      cycles like any other (their turn samples are not ``scored``).
    - **Stance** is constant between events: 1 after a heel strike, 0 after a toe-off.
      Before the trial's first event it is the state that event ends: a trial starting
      with a toe-off (as every ipol-gait trial does: the subject stands first) has stance
      1 from the trial start; one starting with a heel strike has 0. After the last event
      it stays: 1 after a closing heel strike (the subject stands still). Outside
      ``TrialBoundaries`` it is NaN. Where ``Slice`` cut the trial, stance is NaN
      between the cut and the nearest event (the state there is unknown).
    - **in_trial**: ``start <= counter <= end`` of ``TrialBoundaries``.
    - **scored**: ``in_trial`` and not ``u0 <= counter <= u1`` of ``UTurnBoundaries`` and
      φ defined.
    - **steady**: ``scored`` and the sample's cycle i is none of: the first cycle of the
      trial (i = 0), the last one (the stopping cycle), or near the turn, meaning the gap
      between the cycle [HS_i, HS_i+1] and the turn [u0, u1] is at most
      ``round(turn_margin_s * sample_rate_hz)`` samples (50 at 100 Hz):
      ``max(u0 − HS_i+1, HS_i − u1) <= 50``, which includes every cycle overlapping the
      turn. When ``Slice`` cut the trial short, the cycles next to the cut are not the
      trial's first or last and stay steady.
    """
    counter = np.asarray(counter, dtype=np.int64)
    if counter.ndim != 1 or np.any(np.diff(counter) <= 0):
        raise DatasetError("counter must be 1-D and strictly increasing (sample counter values)")
    if side not in _SIDE_KEYS:
        raise DatasetError(f"side is {side!r}; expected 'L' or 'R'")
    trial = read_boundaries(meta, "TrialBoundaries")
    if trial is None:
        raise DatasetError(
            "metadata has no TrialBoundaries; gait targets need [start, end] of the walk "
            "in counter units (ipol-gait JSON)"
        )
    t0, t1 = trial
    turn = read_boundaries(meta, "UTurnBoundaries")
    key = _SIDE_KEYS[side] if events is None else "events"
    if events is None:
        pairs = np.asarray(meta.get(key, []), dtype=np.int64).reshape(-1, 2)
        events = (pairs[:, 0], pairs[:, 1])
    toe_offs, heel_strikes = (np.sort(np.asarray(e, dtype=np.int64).reshape(-1)) for e in events)
    toe_offs = toe_offs[(toe_offs >= t0) & (toe_offs <= t1)]
    heel_strikes = heel_strikes[(heel_strikes >= t0) & (heel_strikes <= t1)]
    both = np.concatenate([toe_offs, heel_strikes])
    kinds = np.concatenate([np.zeros(len(toe_offs)), np.ones(len(heel_strikes))])  # 1 = HS
    order = np.argsort(both, kind="stable")
    both, kinds = both[order], kinds[order]
    same = np.flatnonzero(np.diff(both) <= 0)
    if same.size:
        raise DatasetError(f"{key}: two events at counter {both[same[0]]}; fix them")

    cut = read_boundaries(meta, "Slice")
    cut_start = cut is not None and cut[0] > t0
    cut_end = cut is not None and cut[1] - 1 < t1

    n = len(counter)
    in_trial = (counter >= t0) & (counter <= t1)

    # phase and cycle index
    phase = np.full(n, np.nan)
    cycle = np.full(n, -1, dtype=np.int64)
    if len(heel_strikes) >= 2:
        i = np.searchsorted(heel_strikes, counter, side="right") - 1
        inside = (i >= 0) & (i < len(heel_strikes) - 1)
        hs0 = heel_strikes[i[inside]]
        hs1 = heel_strikes[i[inside] + 1]
        phase[inside] = 2 * np.pi * (counter[inside] - hs0) / (hs1 - hs0)
        cycle[inside] = i[inside]

    # stance: state after the latest event; before the first, the state that event ends
    stance = np.full(n, np.nan, dtype=np.float32)
    if len(both):
        j = np.searchsorted(both, counter, side="right") - 1
        after = j >= 0
        stance[after] = kinds[j[after]]
        stance[~after] = 1.0 - kinds[0]
        if cut_start:
            stance[~after] = np.nan
        if cut_end:
            stance[counter >= both[-1]] = np.nan
    stance[~in_trial] = np.nan

    # masks
    defined = cycle >= 0
    scored = in_trial & defined
    if turn is not None:
        scored &= ~((counter >= turn[0]) & (counter <= turn[1]))
    n_cycles = max(len(heel_strikes) - 1, 0)
    steady_cycle = np.ones(n_cycles, dtype=bool)
    if n_cycles:
        if not cut_start:
            steady_cycle[0] = False
        if not cut_end:
            steady_cycle[-1] = False
        if turn is not None:
            margin = round(turn_margin_s * sample_rate_hz)
            gap = np.maximum(turn[0] - heel_strikes[1:], heel_strikes[:-1] - turn[1])
            steady_cycle &= gap > margin
    steady = scored.copy()
    steady[defined] &= steady_cycle[cycle[defined]]

    return Targets(
        counter=counter,
        phase=phase,
        phase_cos=np.cos(phase).astype(np.float32),
        phase_sin=np.sin(phase).astype(np.float32),
        stance=stance,
        cycle=cycle,
        in_trial=in_trial,
        scored=scored,
        steady=steady,
        heel_strikes=heel_strikes,
        toe_offs=toe_offs,
    )
