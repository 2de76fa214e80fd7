"""Replay: a stored trial through the model side of the loop again, as fast as possible."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from edge.model.backends import BackendKind
from edge.model.files import Model
from edge.runtime.sink import StoreSink
from edge.runtime.stepper import Stepper
from edge.store import GapRow, TrialStore
from firmware_bridge.errors import GaitedgeError

__all__ = ["push_segments", "replay_trial", "segment_starts"]

#: Gap reasons after which the live loop started the shoe afresh (a segment boundary).
_BOUNDARY_REASONS = ("reset", "stalled", "restart")


def segment_starts(counter: npt.NDArray[np.int64], gaps: list[GapRow]) -> list[int]:
    """Indices (arrival order) at which the live loop started a shoe afresh.

    ``gaps`` are that shoe's stored gaps, in order. A ``reset`` or ``stalled`` gap starts a
    segment at the first later sample whose counter is at least ``first_counter + n_lost``;
    a ``restart`` at the first later sample whose counter went back.
    """
    starts: list[int] = []
    at = 0
    c = np.asarray(counter, np.int64)
    for g in gaps:
        if g.reason not in _BOUNDARY_REASONS:
            continue
        if g.reason == "restart":
            back = np.flatnonzero(c[at + 1 :] <= c[at:-1])
            i = at + 1 + int(back[0]) if len(back) else len(c)
        else:
            later = np.flatnonzero(c[at:] >= g.first_counter + g.n_lost)
            i = at + int(later[0]) if len(later) else len(c)
        if 0 < i < len(c) and (not starts or i > starts[-1]):
            starts.append(i)
        at = max(at, i)
    return starts


def push_segments(
    stepper: Stepper,
    side: str,
    counter: npt.NDArray[np.int64],
    host: npt.NDArray[np.float64],
    imu: npt.NDArray[np.float32],
    gaps: list[GapRow],
) -> None:
    """Queue one shoe's stored samples on ``stepper`` with the segment ends the live loop
    had (:func:`segment_starts` of that shoe's stored ``gaps``)."""
    cuts = [0, *segment_starts(counter, gaps), len(counter)]
    for a, b in itertools.pairwise(cuts):
        stepper.push(side, counter[a:b], host[a:b], imu[a:b])
        stepper.end_segment(side)


def replay_trial(
    store: TrialStore,
    trial_id: int,
    model: Model,
    *,
    backend: BackendKind = "numpy",
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Run a stored trial through the model side of the loop again, as fast as possible.

    The samples, gaps and devices are copied into a new trial (notes say which trial and
    model); the new trial's predictions and events come from ``model``. Segment ends are
    taken from the stored gaps (:func:`segment_starts`), so with the model the trial was
    recorded with, predictions and events equal the live run's exactly. ``progress`` is
    called with (samples done, total). Returns the new trial's id.
    """
    src = store.trial(trial_id)
    note = f"replay of trial {trial_id} with {model.name}"
    info = dataclasses.replace(src.info, notes=f"{note}; {src.notes}" if src.notes else note)
    devices = src.devices
    for side, dev in devices.items():
        try:
            model.check_device(dict(zip(dev.channels, dev.units, strict=True)),
                               dev.sample_rate_hz)  # fmt: skip
        except GaitedgeError as e:
            raise GaitedgeError(f"trial {trial_id} shoe {side}: {e}") from None
    sides = sorted(devices) or ["L", "R"]
    data = {side: store.samples(trial_id, side) for side in sides}
    sides = [s for s in sides if len(data[s].counter)]
    if not sides:
        raise GaitedgeError(f"trial {trial_id} has no samples to replay")
    gaps = store.gaps(trial_id)
    sink = StoreSink.start(store, info, model)
    for side, dev in devices.items():
        sink.device(side, device_id=dev.device_id, firmware=dev.firmware,
                    sample_rate_hz=dev.sample_rate_hz, channels=dev.channels,
                    units=dev.units, transport=dev.transport)  # fmt: skip
    for g in gaps:
        sink.gap(g.side, g.first_counter, g.n_lost, g.reason)
    stepper = Stepper(model, sides, sink=sink, backend=backend)
    total = sum(len(d.counter) for d in data.values())
    done = 0
    chunk = 4096
    for side in sides:
        d = data[side]
        pressure = d.pressure
        for a in range(0, len(d.counter), chunk):
            b = a + chunk
            sink.samples(side, d.counter[a:b], d.t_host[a:b], d.t_device_us[a:b], d.imu[a:b],
                         None if pressure is None else pressure[a:b])  # fmt: skip
        push_segments(stepper, side, d.counter, d.t_host, d.imu,
                      [g for g in gaps if g.side == side])  # fmt: skip
    everyone = frozenset(stepper.lanes)
    while n := stepper.step(skip=everyone, max_calls=512):  # slices, for the progress bar
        stepper.reported.clear()  # stored through the sink; nobody shows them live
        done = min(total, done + n * stepper.k * len(sides))
        if progress is not None:
            progress(done, total)
    if progress is not None:
        progress(total, total)
    sink.finish("complete")
    return sink.trial_id
