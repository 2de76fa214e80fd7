"""Where a trial's data goes: the sink stage of the loop.

The loop (:class:`edge.runtime.TrialRecorder`, :func:`edge.runtime.replay_trial`) and the
model side (:class:`edge.runtime.Stepper`) hand everything they produce to one
:class:`TrialSink`, bound to one trial; they never name the store. :class:`StoreSink`
writes into a :class:`edge.store.TrialStore` (enqueues: it never waits for the disk).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy.typing as npt

from edge.events import GaitEvent
from edge.model.files import Model
from edge.store import StoreError, StoreHealth, TrialInfo, TrialStatus, TrialStore
from edge.strides.stored import geometry_of, geometry_record, measure_trial

__all__ = ["StoreSink", "TrialSink"]

log = logging.getLogger(__name__)


class TrialSink(Protocol):
    """One trial's destination. Sides are ``"L"``/``"R"``; counters are the decoder's
    unwrapped sample counters; host times are unix seconds."""

    trial_id: int

    @property
    def health(self) -> StoreHealth:
        """OK while everything handed over is kept; otherwise why not."""
        ...

    @property
    def status(self) -> str:
        """``"ok"``, or one line for people saying why data is no longer kept."""
        ...

    def device(
        self, side: str, *, device_id: int | str, firmware: str, sample_rate_hz: float,
        channels: Sequence[str], units: Sequence[str], transport: str,
    ) -> None:  # fmt: skip
        """The insole on ``side`` (again after a restart)."""

    def samples(
        self, side: str, counter: npt.ArrayLike, t_host: npt.ArrayLike,
        t_device_us: npt.ArrayLike, imu: npt.ArrayLike, pressure: npt.ArrayLike | None,
    ) -> None:  # fmt: skip
        """n samples: counter (n,), t_host (n,) [s], t_device_us (n,) [µs], imu (n, 6)
        [m/s², rad/s], pressure (n, p) [kPa] or None."""

    def gap(self, side: str, first_counter: int, n_lost: int, reason: str) -> None:
        """``n_lost`` samples lost from ``first_counter`` (reasons: :class:`edge.store.GapRow`)."""

    def predictions(self, side: str, counter: npt.ArrayLike, outputs: npt.ArrayLike) -> None:
        """The model's activated outputs (n, k) for the samples ``counter`` (n,)."""

    def event(self, side: str, event: GaitEvent, t_host: float) -> None:
        """A gait event, with the host time of the sample that reported it [s]."""

    def error(self, side: str | None, message: str) -> None:
        """An error of one shoe, or of the trial (``side`` None)."""

    def strides(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Strides the live pass closed (:class:`edge.strides.live.LiveStrides` rows)."""

    def finish(self, status: TrialStatus) -> None:
        """End the trial: ``status``, unless the sink stopped keeping data (its health
        then decides); then the offline stride pass replaces the live strides."""


@dataclasses.dataclass
class StoreSink:
    """A :class:`TrialSink` writing one trial of a :class:`TrialStore`; made by :meth:`start`."""

    store: TrialStore
    trial_id: int
    #: Where the IMU sits on the shoe (:data:`edge.strides.geometry.MOUNTINGS`).
    mounting: str = "dorsum"
    #: The trial's shoe size as entered (the foot geometry of its strides).
    shoe_size: str = ""

    @classmethod
    def start(cls, store: TrialStore, info: TrialInfo, model: Model) -> StoreSink:
        """Create a trial recorded with ``model`` (its name, weights hash and output names
        are stored with it) and return its sink."""
        info = dataclasses.replace(
            info, model_name=model.name, model_sha256=model.meta.weights.sha256
        )
        trial_id = store.start_trial(info)
        store.set_outputs(trial_id, [c.name for c in model.outputs])
        return cls(store, trial_id, shoe_size=info.shoe_size)

    @property
    def health(self) -> StoreHealth:
        return self.store.health

    @property
    def status(self) -> str:
        return self.store.status

    def device(
        self, side: str, *, device_id: int | str, firmware: str, sample_rate_hz: float,
        channels: Sequence[str], units: Sequence[str], transport: str,
    ) -> None:  # fmt: skip
        self.store.add_device(
            self.trial_id, side, device_id=device_id, firmware=firmware,
            sample_rate_hz=sample_rate_hz, channels=channels, units=units, transport=transport,
        )  # fmt: skip

    def samples(
        self, side: str, counter: npt.ArrayLike, t_host: npt.ArrayLike,
        t_device_us: npt.ArrayLike, imu: npt.ArrayLike, pressure: npt.ArrayLike | None,
    ) -> None:  # fmt: skip
        self.store.append_samples(self.trial_id, side, counter, t_host, t_device_us, imu, pressure)

    def gap(self, side: str, first_counter: int, n_lost: int, reason: str) -> None:
        self.store.append_gap(self.trial_id, side, first_counter, n_lost, reason)

    def predictions(self, side: str, counter: npt.ArrayLike, outputs: npt.ArrayLike) -> None:
        self.store.append_predictions(self.trial_id, side, counter, outputs)

    def event(self, side: str, event: GaitEvent, t_host: float) -> None:
        self.store.append_event(
            self.trial_id, side, event.kind, event.counter_at, event.counter_reported, t_host
        )

    def error(self, side: str | None, message: str) -> None:
        self.store.append_error(self.trial_id, side, message)

    def strides(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        geometry = geometry_record(geometry_of(self.shoe_size, self.mounting), self.mounting)
        self.store.append_strides(self.trial_id, rows, dropped={}, geometry=geometry)

    def finish(self, status: TrialStatus) -> None:
        health = self.store.health
        ok = health is StoreHealth.OK
        self.store.finish_trial(self.trial_id, status if ok else health.trial_status)
        if not ok:
            return  # the store stopped writing: the live strides stay as they are
        try:
            measure_trial(self.store, self.trial_id, mounting=self.mounting)
        except (StoreError, ValueError) as e:  # the trial is safe; only its strides are not
            log.warning("trial %d: strides not measured: %s", self.trial_id, e)
