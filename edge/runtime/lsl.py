"""Live output to Lab Streaming Layer, so the shoes record beside motion capture in
LabRecorder (``gaitedge run --lsl``; the ``lsl`` extra: mne-lsl, which bundles liblsl for
x86_64 and aarch64 — pylsl has no aarch64 library).

:class:`LslSink` wraps the trial's sink: everything still goes to the store, and also, per
shoe, to three LSL streams:

- ``gaitedge-<side>-imu`` (type ``IMU``): 6 channels, acc [m/s²] then gyro [rad/s], at
  the insole's nominal rate;
- ``gaitedge-<side>-model`` (type ``Gait``): the model's outputs, one channel each;
- ``gaitedge-events`` (type ``Markers``, one string channel, irregular): ``"L HS"``,
  ``"R TO"`` … at the instant the event happened.

Timestamps are the samples' host times from the loop's clock map (the device clock mapped
onto this computer's), moved onto LSL's clock by the offset between the two read once at
the start (``time.time() − local_clock()``), so every sample carries when it was measured,
not when it was sent. Each stream's ``source_id`` is the insole's device id, so
LabRecorder can re-attach after a restart.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.events import GaitEvent
from edge.runtime.sink import TrialSink
from edge.store import StoreHealth, TrialStatus

__all__ = ["LslSink"]

#: Seconds of (counter, host time) kept per shoe to time-stamp the model's outputs.
_KEEP_S = 10.0


class LslSink:
    """A :class:`~edge.runtime.sink.TrialSink` that also streams to LSL (module docstring).

    Parameters
    ----------
    inner : TrialSink
        Where everything is stored.
    output_names : sequence of str
        The model's outputs (channels of the model streams).
    prefix : str
        Stream names start with it (default ``gaitedge``).
    """

    def __init__(self, inner: TrialSink, output_names: Sequence[str], prefix: str = "gaitedge"):
        from mne_lsl.lsl import StreamInfo, StreamOutlet, local_clock

        self.inner = inner
        self.trial_id = inner.trial_id
        self.names = list(output_names)
        self.prefix = prefix
        self._info, self._outlet = StreamInfo, StreamOutlet
        self.offset = time.time() - local_clock()  # host (unix) time -> LSL time
        self._imu: dict[str, Any] = {}
        self._model: dict[str, Any] = {}
        self._times: dict[str, collections.deque[tuple[np.ndarray, np.ndarray]]] = {}
        info = StreamInfo(f"{prefix}-events", "Markers", 1, 0.0, "string", f"{prefix}-events")
        self._events = StreamOutlet(info)

    @property
    def health(self) -> StoreHealth:
        return self.inner.health

    @property
    def status(self) -> str:
        return self.inner.status

    def device(
        self, side: str, *, device_id: int | str, firmware: str, sample_rate_hz: float,
        channels: Sequence[str], units: Sequence[str], transport: str,
    ) -> None:  # fmt: skip
        self.inner.device(
            side, device_id=device_id, firmware=firmware, sample_rate_hz=sample_rate_hz,
            channels=channels, units=units, transport=transport,
        )  # fmt: skip
        src = f"{self.prefix}-{side}-{device_id}"
        imu = self._info(f"{self.prefix}-{side}-imu", "IMU", 6, sample_rate_hz, "float32", src)
        imu.set_channel_names(["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"])
        imu.set_channel_units(["m/s^2"] * 3 + ["rad/s"] * 3)
        self._imu[side] = self._outlet(imu)
        model = self._info(f"{self.prefix}-{side}-model", "Gait", len(self.names),
                           sample_rate_hz, "float32", src + "-model")  # fmt: skip
        model.set_channel_names(self.names)
        self._model[side] = self._outlet(model)

    def samples(
        self, side: str, counter: npt.ArrayLike, t_host: npt.ArrayLike,
        t_device_us: npt.ArrayLike, imu: npt.ArrayLike, pressure: npt.ArrayLike | None,
    ) -> None:  # fmt: skip
        self.inner.samples(side, counter, t_host, t_device_us, imu, pressure)
        c, t = np.asarray(counter, np.int64), np.asarray(t_host, np.float64)
        times = self._times.setdefault(side, collections.deque())
        times.append((c, t))
        while len(times) > 1 and t[-1] - times[0][1][-1] > _KEEP_S:
            times.popleft()
        outlet = self._imu.get(side)
        if outlet is not None and len(c):
            outlet.push_chunk(np.asarray(imu, np.float32), timestamp=t - self.offset)

    def predictions(self, side: str, counter: npt.ArrayLike, outputs: npt.ArrayLike) -> None:
        self.inner.predictions(side, counter, outputs)
        outlet, times = self._model.get(side), self._times.get(side)
        c = np.asarray(counter, np.int64)
        if outlet is None or not times or not len(c):
            return
        cs = np.concatenate([a for a, _ in times])
        ts = np.concatenate([b for _, b in times])
        order = np.argsort(cs, kind="stable")
        t = np.interp(c, cs[order], ts[order])  # each output at its sample's host time
        outlet.push_chunk(np.asarray(outputs, np.float32), timestamp=t - self.offset)

    def event(self, side: str, event: GaitEvent, t_host: float) -> None:
        self.inner.event(side, event, t_host)
        times = self._times.get(side)
        at = t_host
        if times:  # the instant it happened, from its counter (it is reported later)
            cs = np.concatenate([a for a, _ in times])
            ts = np.concatenate([b for _, b in times])
            order = np.argsort(cs, kind="stable")
            at = float(np.interp(event.counter_at, cs[order], ts[order]))
        self._events.push_sample([f"{side} {event.kind}"], timestamp=at - self.offset)

    def gap(self, side: str, first_counter: int, n_lost: int, reason: str) -> None:
        self.inner.gap(side, first_counter, n_lost, reason)

    def error(self, side: str | None, message: str) -> None:
        self.inner.error(side, message)

    def strides(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.inner.strides(rows)

    def finish(self, status: TrialStatus) -> None:
        self.inner.finish(status)
        self._imu.clear()  # the outlets close as they go
        self._model.clear()
