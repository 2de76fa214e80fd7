"""A stored trial in a few figures per shoe: what ``run``, ``replay`` and ``demo`` print.

Read from the store, so a trial recorded live and its replay are summarised the same way.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

from edge.events import median_stride_s
from edge.runtime.replay import segment_starts
from edge.store import TrialStore
from edge.strides.analysis import summarise
from edge.strides.stored import stored_table

__all__ = ["ShoeSummary", "TrialSummary", "summarize"]


@dataclasses.dataclass(frozen=True, slots=True)
class ShoeSummary:
    """One shoe of a stored trial.

    Attributes
    ----------
    samples : int
        Samples stored.
    lost : int
        Samples lost (the stored gaps' ``n_lost``); ``lost_pct`` of samples + lost [%].
    resets : int
        Times the model started the shoe afresh (:func:`edge.runtime.segment_starts`).
    heel_strikes, toe_offs : int
        Gait events stored.
    stride_time_s : float
        Median time between heel strikes [s]; NaN with fewer than two.
    steady_strides : int
        Strides of steady walking measured (:mod:`edge.strides`; 0 before they are).
    stride_length_m, gait_speed_mps : float
        Their mean stride length [m] and gait speed [m/s]; NaN without any.
    """

    side: str
    samples: int
    lost: int
    lost_pct: float
    resets: int
    heel_strikes: int
    toe_offs: int
    stride_time_s: float
    steady_strides: int = 0
    stride_length_m: float = math.nan
    gait_speed_mps: float = math.nan


@dataclasses.dataclass(frozen=True, slots=True)
class TrialSummary:
    """A stored trial: its status, who and what was recorded, one :class:`ShoeSummary` a side."""

    trial_id: int
    status: str
    subject: str
    shoe: str
    path: Path
    shoes: dict[str, ShoeSummary]

    def text(self) -> str:
        """The summary in a few lines, for people."""
        lines = [f"trial {self.trial_id}: {self.status}, subject {self.subject or '?'}, "
                 f"shoe {self.shoe or '?'}; stored in {self.path}"]  # fmt: skip
        for side, s in self.shoes.items():
            stride = s.stride_time_s
            cadence = f"{60.0 / stride:.0f} strides/min" if stride > 0 else "–"  # NaN: "–"
            lines.append(
                f"  {side}: {s.samples} samples stored, {s.lost} lost ({s.lost_pct:.1f} %), "
                f"{s.resets} model resets; {s.heel_strikes} heel strikes, {s.toe_offs} "
                f"toe-offs; median stride {stride:.2f} s ({cadence})"
            )
            if s.steady_strides:
                lines.append(
                    f"     {s.steady_strides} steady strides: {s.stride_length_m:.2f} m, "
                    f"{s.gait_speed_mps:.2f} m/s (gaitedge strides {self.trial_id} for all)"
                )
        return "\n".join(lines)


def summarize(store: TrialStore, trial_id: int) -> TrialSummary:
    """Summarise a stored trial (call :meth:`TrialStore.flush` first for a recording one).

    Shoes: those with a device or samples stored, in side order. Stride times use the
    device's sample rate.
    """
    trial = store.trial(trial_id)
    events, gaps = store.events(trial_id), store.gaps(trial_id)
    table = stored_table(store, trial_id)
    strides = summarise(table) if table is not None else {}
    shoes: dict[str, ShoeSummary] = {}
    for side in ("L", "R"):
        counter = store.samples(trial_id, side).counter
        if side not in trial.devices and not len(counter):
            continue
        own_gaps = [g for g in gaps if g.side == side]
        n, lost = len(counter), sum(g.n_lost for g in own_gaps)
        hs = [e.counter_at for e in events if e.side == side and e.kind == "HS"]
        device = trial.devices.get(side)
        rate_hz = device.sample_rate_hz if device is not None else math.nan
        shoes[side] = ShoeSummary(
            side=side, samples=n, lost=lost,
            lost_pct=100.0 * lost / (n + lost) if n + lost else 0.0,
            resets=len(segment_starts(counter, own_gaps)), heel_strikes=len(hs),
            toe_offs=sum(1 for e in events if e.side == side and e.kind == "TO"),
            stride_time_s=median_stride_s(hs, rate_hz),
        )  # fmt: skip
        if side in strides:  # the steady strides' figures (edge.strides)
            st = strides[side]
            shoes[side] = dataclasses.replace(
                shoes[side], steady_strides=st["stride_length_m"]["n"],
                stride_length_m=st["stride_length_m"]["mean"],
                gait_speed_mps=st["gait_speed_mps"]["mean"],
            )  # fmt: skip
    return TrialSummary(trial_id, trial.status, trial.subject, trial.shoe, store.path, shoes)
