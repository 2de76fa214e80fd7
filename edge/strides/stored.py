"""Strides of a stored trial: read through the store's typed reader, measured, stored back.

:func:`stored_feet` turns a trial's samples and events into :class:`FootRecording` pieces
(a device restart, where the counter goes back, starts a new piece; a repeated counter
keeps its first arrival); :func:`measure_trial` runs the offline pass and puts it in
place of whatever strides the trial had (the live rows, an older pass).

The foot geometry comes from the trial's ``shoe_size`` (an EU size, the first number in
the text; :data:`DEFAULT_EU_SIZE` when there is none or it is no EU size) and the
mounting, ``dorsum`` unless given (the bundled walk's and ipol-gait's).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from typing import Any

import numpy as np

from edge.store import EventRow, TrialStore
from edge.strides.analysis import FootRecording, StrideTable, trial_strides
from edge.strides.geometry import FootGeometry

__all__ = [
    "DEFAULT_EU_SIZE",
    "geometry_of",
    "geometry_record",
    "host_anchor",
    "measure_trial",
    "stored_feet",
    "stored_geometry",
    "stored_table",
    "trial_curves",
]

#: The shoe size assumed when a trial has none [EU].
DEFAULT_EU_SIZE = 42.0


def geometry_of(shoe_size: str, mounting: str = "dorsum") -> FootGeometry:
    """The foot geometry for a trial's ``shoe_size`` text (module docstring) and ``mounting``."""
    m = re.search(r"\d+(?:[.,]\d+)?", shoe_size)
    size = float(m.group().replace(",", ".")) if m else DEFAULT_EU_SIZE
    if not 30.0 <= size <= 55.0:  # a UK/US size or a typo: do not build a child's foot
        size = DEFAULT_EU_SIZE
    return FootGeometry.from_shoe_size(size, mounting)


def stored_feet(store: TrialStore, trial_id: int) -> list[FootRecording]:
    """A stored trial's shoes as :class:`FootRecording` pieces, L then R, each in time order."""
    trial = store.trial(trial_id)
    events = store.events(trial_id)
    out: list[FootRecording] = []
    for side in sorted(trial.devices):
        rate = trial.devices[side].sample_rate_hz
        data = store.samples(trial_id, side)
        if not len(data.counter):
            continue
        c = data.counter
        pred = store.predictions(trial_id, side)
        stance = None  # the model's stance output, where it ran on exactly these samples
        if "stance" in pred.names and np.array_equal(pred.counter, c):
            stance = pred.outputs[:, pred.names.index("stance")].astype(np.float64)
        cuts = np.flatnonzero(np.diff(c) < 0) + 1  # a restart: the counter went back
        bounds = [0, *cuts.tolist(), len(c)]
        mine = [e for e in events if e.side == side]
        for k, (a, b) in enumerate(itertools.pairwise(bounds)):
            seg_c, first = np.unique(c[a:b], return_index=True)  # sorted; repeats dropped
            idx = a + first
            t_lo = data.t_host[a]
            t_hi = data.t_host[bounds[k + 1]] if k + 2 < len(bounds) else np.inf
            out.append(
                FootRecording(
                    side=side,  # type: ignore[arg-type]
                    rate_hz=rate,
                    counter=seg_c,
                    imu=data.imu[idx],
                    t0_s=host_anchor(seg_c, data.t_host[idx], rate),
                    heel_strikes=_event_counters(mine, "HS", t_lo, t_hi, seg_c),
                    toe_offs=_event_counters(mine, "TO", t_lo, t_hi, seg_c),
                    pressure=None if data.pressure is None else data.pressure[idx],
                    stance_prob=None if stance is None else stance[idx],
                )
            )
    return out


def host_anchor(counter: np.ndarray, t_host: np.ndarray, rate_hz: float) -> float:
    """Host time of ``counter[0]`` [s]: the median over the first second of each sample's
    host time less its sample-clock offset (one late first sample does not move it)."""
    head = slice(0, max(1, round(rate_hz)))
    return float(np.median(t_host[head] - (counter[head] - counter[0]) / rate_hz))


def _event_counters(
    events: list[EventRow], kind: str, t_lo: float, t_hi: float, counter: np.ndarray
) -> np.ndarray:
    """Counters (rounded) of one kind of event reported while this piece was arriving."""
    at = [e.counter_at for e in events if e.kind == kind and t_lo <= e.t_host < t_hi]
    c = np.round(np.asarray(at, dtype=np.float64)).astype(np.int64)
    return np.sort(c[(c >= counter[0]) & (c <= counter[-1])]) if len(c) else c


def geometry_record(geometry: FootGeometry, mounting: str) -> dict[str, object]:
    """What is stored with a trial's strides about the geometry used."""
    return {**dataclasses.asdict(geometry), "mounting": mounting}


def measure_trial(
    store: TrialStore, trial_id: int, *, mounting: str = "dorsum", smooth: bool = True
) -> StrideTable:
    """Measure a stored trial's strides offline and store them in place of any before.

    Returns the table stored (possibly empty: standing only, one stride, no samples).
    """
    trial = store.trial(trial_id)
    geometry = geometry_of(trial.shoe_size, mounting)
    table = trial_strides(stored_feet(store, trial_id), geometry=geometry, smooth=smooth)
    store.replace_strides(
        trial_id,
        table.rows(),
        source="offline" if smooth else "live",
        dropped=table.dropped,
        geometry=geometry_record(geometry, mounting),
    )
    return table


def stored_geometry(record: dict[str, Any]) -> FootGeometry | None:
    """The :class:`FootGeometry` a stride pass stored (``stride_passes.geometry``), or None."""
    try:
        return FootGeometry(heel_m=tuple(record["heel_m"]), toe_m=tuple(record["toe_m"]))
    except (KeyError, TypeError, ValueError):
        return None


def trial_curves(store: TrialStore, trial_id: int) -> StrideTable:
    """The trial's strides measured again offline with their gait-cycle curves (the
    geometry of its stored pass, if any): what a report draws."""
    geometry = stored_geometry(store.strides(trial_id).geometry)
    return trial_strides(stored_feet(store, trial_id), geometry=geometry, curves=True)


def stored_table(store: TrialStore, trial_id: int) -> StrideTable | None:
    """The strides stored with a trial as a :class:`StrideTable`; None if never measured
    (a trial of a store from before strides, or one still recording with none closed)."""
    rows = store.strides(trial_id)
    if rows.source is None:
        return None
    return StrideTable(
        columns=dict(rows.columns), dropped=dict(rows.dropped), smoothed=rows.source == "offline"
    )
