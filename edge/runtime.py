"""The streaming loop: transports → decoder → clock map → GRU (both shoes batched) → events → store.

One :class:`TrialRecorder` records one trial of up to two shoes (any sides; usually "L"
and "R"), in one asyncio task per shoe plus the caller's. Per shoe::

    transport.read()  (any chunk: a serial read, a BLE notification, a replay event)
      → StreamDecoder.feed  → DeviceInfo (checked against the model, stored),
                              Status (battery, error flags: shown live),
                              SampleBlock (NumPy, SI units)
      → ClockMap            device µs → host seconds (``time.time()`` axis), lower envelope;
                            a block never starts before the previous one ended (a refit
                            that moves the line back shifts the block forward)
      → store.append_samples, append_gap for lost samples
      → pending samples of that shoe

Whenever every connected shoe has ``packet_size`` samples pending, one
:meth:`Backend.step_packet` advances all streams at once (the engine issue's live shape),
outputs are activated (σ for the stance logit), stored, and fed sample by sample to each
shoe's :class:`edge.events.GaitEventDetector` (built from the model's ``detector``
settings). Events are stored with the host time of the sample that reported them.

Rules:

- **Lost samples are not invented.** A counter jump is stored as a gap. A jump longer than
  ``max_bridge_ms`` resets that shoe's GRU state and detector before the next sample (the
  model cannot bridge it); shorter ones are fed as they are, the model having seen such
  gaps in training (ipol-gait's real radio losses).
- **A stalled shoe does not hold the other back.** When one shoe has samples waiting and
  the other has sent nothing for ``max_wait_s``, the waiting shoe is stepped alone (the
  silent shoe's row gets zeros and is reset before its next real sample: a silence that
  long is a gap no model bridges).
- **A reconnect continues the same trial**: the transport reports the outage, the decoder
  counts the lost samples, the gap is stored. A device restart (new ``boot_id``) starts a
  new clock map; its counter starts over.
- **The model must fit the device**: DEVICE_INFO's channels and rate are checked with
  :meth:`edge.model_file.Model.check_device`; a mismatch ends the trial with status
  ``error`` and one line saying what to change.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from firmware_bridge.codec import DeviceInfo, SampleBlock, Status, StreamDecoder
from firmware_bridge.errors import GaitedgeError
from firmware_bridge.transports import Transport, TransportEvent, open_transport

from .backends import Backend
from .clock import ClockMap
from .evaluate import activate, make_detector
from .events import GaitEvent, GaitEventDetector
from .model_file import DEVICE_CHANNELS, Model, pressure_channels
from .store import TrialInfo, TrialStore

__all__ = ["ShoeStats", "TrialRecorder"]

log = logging.getLogger(__name__)


@dataclasses.dataclass
class ShoeStats:
    """What one shoe delivered so far (for the live status line and the summary)."""

    side: str
    url: str
    device: DeviceInfo | None = None
    samples: int = 0
    lost: int = 0
    resets: int = 0
    heel_strikes: int = 0
    toe_offs: int = 0
    last_event: GaitEvent | None = None
    last_event_host_s: float = float("nan")
    battery_pct: int | None = None
    disconnects: int = 0
    first_host_s: float = float("nan")
    last_host_s: float = float("nan")
    stride_s: list[float] = dataclasses.field(default_factory=list)
    last_hs_counter: float | None = None

    @property
    def lost_pct(self) -> float:
        total = self.samples + self.lost
        return 100.0 * self.lost / total if total else 0.0

    def line(self, now: float) -> str:
        """One status fragment: rate, lost %, battery, last event."""
        span = self.last_host_s - self.first_host_s
        rate = (self.samples - 1) / span if span > 0 else 0.0
        batt = "?" if self.battery_pct is None else f"{self.battery_pct}%"
        ev = (
            f"{self.last_event.kind} {now - self.last_event_host_s:.1f}s ago"
            if self.last_event is not None
            else "no event yet"
        )
        return f"{self.side} {rate:5.1f} Hz lost {self.lost_pct:4.1f}% batt {batt} {ev}"


class _Shoe:
    """One shoe's live state: link, decoder, clock, pending samples, detector."""

    def __init__(self, side: str, url: str, row: int, detector: GaitEventDetector) -> None:
        self.side, self.url, self.row = side, url, row
        self.decoder = StreamDecoder()
        self.clock = ClockMap()
        self.detector = detector
        self.stats = ShoeStats(side, url)
        self.transport: Transport | None = None
        self.boot_id: int | None = None
        # pending samples (not yet stepped): counter, host time, normalised input
        self.p_counter: list[npt.NDArray[np.int64]] = []
        self.p_host: list[npt.NDArray[np.float64]] = []
        self.p_x: list[npt.NDArray[np.float32]] = []
        self.n_pending = 0
        self.last_counter: int | None = None  # last sample stepped or queued
        self.reset_before: int | None = None  # reset the state before this pending index
        self.last_arrival = time.monotonic()
        self.ended = False
        self.events: list[TransportEvent] = []  # link events, for summaries
        self.first_counter: int | None = None
        self.last_host = -np.inf  # host time of the last sample [s]

    def take(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The first ``k`` pending samples (counter, host time, x), removed."""
        c, h, x = (np.concatenate(a) for a in (self.p_counter, self.p_host, self.p_x))
        self.p_counter, self.p_host, self.p_x = [c[k:]], [h[k:]], [x[k:]]
        self.n_pending = len(c) - k
        return c[:k], h[:k], x[:k]


class TrialRecorder:
    """Record one trial from up to two shoes into a :class:`TrialStore`.

    Parameters
    ----------
    model : Model
        The model to run (its inputs must be what the insoles send).
    sources : mapping of side to transport URL
        E.g. ``{"L": "serial:///dev/serial/by-id/…", "R": "ble://AA:…"}``.
    store : TrialStore
        Where everything goes; the trial is created by :meth:`run`.
    info : TrialInfo
        What the operator entered (subject, shoe, condition …).
    backend : {"numpy", "tflite"}
        The engine.
    max_bridge_ms : float
        A counter gap longer than this resets the shoe's model state.
    max_wait_s : float
        How long a shoe with pending samples waits for a silent other shoe.
    on_status : callable(str), optional
        Called about once a second with a one-line live status.
    """

    def __init__(
        self,
        model: Model,
        sources: Mapping[str, str],
        store: TrialStore,
        info: TrialInfo,
        *,
        backend: str = "numpy",
        max_bridge_ms: float = 200.0,
        max_wait_s: float = 0.5,
        on_status: Callable[[str], None] | None = None,
    ) -> None:
        if not 1 <= len(sources) <= 2:
            raise ValueError(f"sources has {len(sources)} shoes; give one or two")
        self.model, self.store, self.info = model, store, info
        self.engine: Backend = model.backend(backend)  # type: ignore[arg-type]
        self.k = model.packet_size or 4
        self.units = [c.unit for c in model.outputs]
        names = [c.name for c in model.outputs]
        self._gait = all(n in names for n in ("phase_cos", "phase_sin", "stance"))
        self._cols = (
            [names.index(n) for n in ("phase_cos", "phase_sin", "stance")] if self._gait else []
        )
        self.shoes: dict[str, _Shoe] = {}
        for row, (side, url) in enumerate(sources.items()):
            self.engine.add_stream(side)
            det = make_detector(model, model.sample_rate_hz)
            self.shoes[side] = _Shoe(side, url, row, det)
        self.max_bridge = max_bridge_ms * model.sample_rate_hz / 1000.0
        self.max_wait_s = max_wait_s
        self.on_status = on_status
        self.trial_id: int | None = None
        self.error: str | None = None
        self._x = np.zeros((self.k, len(self.shoes), len(model.inputs)), np.float32)

    # ------------------------------------------------------------------ running

    async def run(self, stop: asyncio.Event | None = None, duration_s: float | None = None) -> int:
        """Record until ``stop`` is set, ``duration_s`` passed, or every link ended.

        Returns the trial id. The trial ends ``complete`` (``stop`` set: the operator ended
        it; the duration reached; every link ended), ``error`` (a device the model cannot
        take, a link that gave up reconnecting) or ``disk_full`` (set by the store).
        """
        stop = stop or asyncio.Event()
        self.trial_id = self.store.start_trial(self.info)
        self.store.set_outputs(self.trial_id, [c.name for c in self.model.outputs])
        status = "complete"
        started = time.monotonic()
        readers = [asyncio.create_task(self._read(shoe)) for shoe in self.shoes.values()]
        try:
            while True:
                done = all(r.done() for r in readers)
                if done or stop.is_set():  # links ended, or the operator ended the trial
                    break
                if duration_s is not None and time.monotonic() - started >= duration_s:
                    break
                if self.error is not None:
                    status = "error"
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
                self._step_ready()
                if self.on_status is not None:
                    self.on_status(self.status_line())
        finally:
            for r in readers:
                r.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
            for r in readers:
                if not r.cancelled() and r.exception() is not None and self.error is None:
                    self.error = str(r.exception())
            if self.error is not None:
                status = "error"
                self.store.append_error(self.trial_id, None, self.error)
            self._drain()
            if self.store.status != "ok":
                status = "disk_full" if "disk" in self.store.status else "error"
            self.store.finish_trial(self.trial_id, status)
        return self.trial_id

    async def _read(self, shoe: _Shoe) -> None:
        def on_event(event: TransportEvent) -> None:
            shoe.events.append(event)
            if event.kind == "disconnected":
                shoe.stats.disconnects += 1
                log.warning("%s: link lost (%s); reconnecting", shoe.side, event.detail)
            elif event.kind == "reconnected":
                log.warning("%s: link back after %.1f s", shoe.side, event.gap_s)
            elif event.kind == "gave_up":
                log.error("%s: gave up reconnecting after %.1f s", shoe.side, event.gap_s)
                self.store.append_error(self.trial_id, shoe.side, f"link gave up: {event.detail}")

        shoe.transport = open_transport(shoe.url, on_event=on_event)
        try:
            while chunk := await shoe.transport.read():
                now = time.time()
                for item in shoe.decoder.feed(chunk):
                    if isinstance(item, SampleBlock):
                        if len(item):
                            self._samples(shoe, item, now)
                    elif isinstance(item, DeviceInfo):
                        self._device(shoe, item)
                    elif isinstance(item, Status):
                        shoe.stats.battery_pct = item.battery_pct
                self._step_ready()
        finally:
            shoe.ended = True
            await shoe.transport.aclose()

    # ------------------------------------------------------------------ decoding side

    def _device(self, shoe: _Shoe, info: DeviceInfo) -> None:
        if info == shoe.stats.device:  # firmware repeats DEVICE_INFO: store it once
            return
        channels = {**DEVICE_CHANNELS, **pressure_channels(info.n_pressure)}
        try:
            self.model.check_device(channels, info.sample_rate_hz)
        except GaitedgeError as e:
            self.error = f"{shoe.side} ({shoe.url}): {e}"
            raise
        if shoe.boot_id is not None and info.boot_id != shoe.boot_id:
            shoe.clock = ClockMap()  # the device restarted: its clock starts over
            shoe.last_counter = None
            shoe.reset_before = shoe.n_pending
        shoe.boot_id = info.boot_id
        shoe.stats.device = info
        self.store.add_device(
            self.trial_id,
            shoe.side,
            device_id=info.device_id,
            firmware=".".join(map(str, info.firmware)),
            sample_rate_hz=info.sample_rate_hz,
            channels=list(channels),
            units=list(channels.values()),
            transport=shoe.url,
        )

    def _samples(self, shoe: _Shoe, block: SampleBlock, now: float) -> None:
        shoe.last_arrival = time.monotonic()
        shoe.clock.observe(int(block.t_device_us[-1]), now)
        host = shoe.clock.host_time(block.t_device_us)
        if host[0] <= shoe.last_host:  # a refit moved the line back: never reverse time
            host += shoe.last_host + 1e-6 - host[0]
        shoe.last_host = float(host[-1])
        counter = block.seq
        if shoe.first_counter is None:
            shoe.first_counter = int(counter[0])
        st = shoe.stats
        if st.samples == 0:
            st.first_host_s = float(host[0])
        st.samples += len(counter)
        st.last_host_s = float(host[-1])
        self.store.append_samples(
            self.trial_id, shoe.side, counter, host, block.t_device_us, block.imu,
            block.pressure if block.pressure.shape[1] else None,
        )  # fmt: skip
        # gaps: before this block and inside it
        prev = shoe.last_counter
        starts = np.concatenate([[prev if prev is not None else counter[0] - 1], counter[:-1]])
        jumps = counter - starts - 1
        for j in np.flatnonzero(jumps > 0):
            n_lost = int(jumps[j])
            st.lost += n_lost
            reason = "reset" if n_lost > self.max_bridge else "bridged"
            self.store.append_gap(self.trial_id, shoe.side, int(starts[j]) + 1, n_lost, reason)
            at = shoe.n_pending + int(j)
            if n_lost > self.max_bridge and (shoe.reset_before is None or at < shoe.reset_before):
                shoe.reset_before = at  # (a second long gap in the same pending run: one reset)
        shoe.last_counter = int(counter[-1])
        shoe.p_counter.append(counter)
        shoe.p_host.append(host)
        shoe.p_x.append(self.model.normalise(block.imu))
        shoe.n_pending += len(counter)

    # ------------------------------------------------------------------ model side

    def _step_ready(self) -> None:
        """Step while every shoe has a packet pending, or the ones without are silent."""
        shoes = list(self.shoes.values())
        now = time.monotonic()
        while True:
            ready = [s for s in shoes if s.n_pending >= self.k]
            if not ready:
                return
            waiting = [s for s in shoes if s.n_pending < self.k]
            if any(not s.ended and now - s.last_arrival < self.max_wait_s for s in waiting):
                return  # its packet is expected any moment
            for s in waiting:
                if s.reset_before != 0 and not s.ended:
                    log.warning("%s: silent for %.1f s; stepping the other shoe alone",
                                s.side, now - s.last_arrival)  # fmt: skip
            self._step(ready, waiting)

    def _step(self, ready: list[_Shoe], silent: list[_Shoe]) -> None:
        k = self.k
        # a reset point inside the packet: step only up to it this time
        for s in ready:
            if s.reset_before is not None and 0 < s.reset_before < k:
                k = s.reset_before
        for s in ready:
            if s.reset_before == 0:
                self.engine.reset_stream(s.side)
                s.detector.reset()
                s.stats.resets += 1
                s.reset_before = None
        x = self._x[:k]
        x[...] = 0.0
        taken = {}
        for s in ready:
            c, h, xs = s.take(k)
            x[:, s.row] = xs
            taken[s.side] = (c, h)
            if s.reset_before is not None:
                s.reset_before -= k
        y = activate(self.engine.step_packet(x), self.units)
        for s in silent:  # its row ran on zeros: start it afresh when it speaks again
            s.reset_before = 0
        for s in ready:
            c, h = taken[s.side]
            out = y[:, s.row]
            self.store.append_predictions(self.trial_id, s.side, c, out)
            if self._gait:
                self._events(s, c, h, out)

    def _events(self, shoe: _Shoe, counter: np.ndarray, host: np.ndarray, y: np.ndarray) -> None:
        pc, ps, st = (y[:, j].tolist() for j in self._cols)
        update = shoe.detector.update
        for i, c in enumerate(counter.tolist()):
            for e in update(c, pc[i], ps[i], st[i]):
                self.store.append_event(
                    self.trial_id, shoe.side, e.kind, e.counter_at, e.counter_reported,
                    float(host[i]),
                )  # fmt: skip
                stats = shoe.stats
                if e.kind == "HS":
                    if stats.heel_strikes and stats.last_hs_counter is not None:
                        stats.stride_s.append(
                            (e.counter_at - stats.last_hs_counter) / self.model.sample_rate_hz
                        )
                    stats.last_hs_counter = e.counter_at
                    stats.heel_strikes += 1
                else:
                    stats.toe_offs += 1
                stats.last_event, stats.last_event_host_s = e, float(host[i])

    def _drain(self) -> None:
        """Step what is left at the end (shorter packets; silent rows on zeros)."""
        shoes = list(self.shoes.values())
        while any(s.n_pending for s in shoes):
            k = min(s.n_pending for s in shoes if s.n_pending)
            ready = [s for s in shoes if s.n_pending >= k]
            saved, self.k = self.k, k
            try:
                self._step(ready, [s for s in shoes if s not in ready])
            finally:
                self.k = saved

    # ------------------------------------------------------------------ reporting

    def status_line(self) -> str:
        now = time.time()
        line = " | ".join(s.stats.line(now) for s in self.shoes.values())
        if self.store.status != "ok":
            line += f" | STORE: {self.store.status}"
        return line

    def summary(self) -> dict[str, Any]:
        """Per shoe: samples, lost, resets, events, cadence; for the CLI's summary."""
        out: dict[str, Any] = {"trial_id": self.trial_id, "shoes": {}}
        for side, s in self.shoes.items():
            st = s.stats
            strides = np.array(st.stride_s)
            out["shoes"][side] = {
                "url": s.url,
                "samples": st.samples,
                "lost": st.lost,
                "lost_pct": st.lost_pct,
                "resets": st.resets,
                "heel_strikes": st.heel_strikes,
                "toe_offs": st.toe_offs,
                "stride_time_s": float(np.median(strides)) if strides.size else float("nan"),
                "disconnects": st.disconnects,
            }
        return out
