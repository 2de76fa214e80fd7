"""The live loop: transports → decoder → clock map → GRU (both shoes batched) → events → sink.

One :class:`TrialRecorder` records one trial of up to two shoes (any sides; usually "L"
and "R"), in one asyncio task per shoe plus the caller's. Per shoe::

    transport.read_stamped()  (chunks as received, each with its arrival time: serial
                               reads, BLE notifications, replay events; a live link is
                               read every ``step_interval_s``, all that came at once)
      → StreamDecoder.feed  → DeviceInfo (checked against the model, stored),
                              Status (battery, error flags: shown live),
                              SampleBlock (NumPy, SI units)
      → ClockMap            device µs → host seconds (``time.time()`` axis), lower envelope;
                            host times only ever increase (a refit that would move them
                            back holds them 1 µs apart instead)
      → sink.samples, sink.gap for lost samples (:mod:`edge.runtime.sink`)
      → pending samples of that shoe, and the shoe's window of the live stride pass

Whenever every connected shoe has ``packet_size`` samples pending, one
:meth:`Backend.step_packet` advances all streams at once (:class:`edge.runtime.Stepper`),
outputs are activated (σ for the stance logit), handed to the sink, and fed sample by sample to each
shoe's :class:`edge.events.GaitEventDetector` (built from the model's ``detector``
settings). Events go to the sink with the host time of the sample that reported them,
and to the live stride pass (:class:`edge.strides.live.LiveStrides`), which once a second
hands the strides that closed to the sink; the live status shows the last one. When the
trial ends, the sink replaces them with the smoothed offline pass.

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
  :meth:`edge.model.files.Model.check_device`; a mismatch ends the trial with status
  ``error`` and one line saying what to change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Final

import numpy as np

from edge.clock import ClockMap
from edge.model.backends import BackendKind
from edge.model.files import DEVICE_CHANNELS, Model, pressure_channels
from edge.runtime.link import Shoe
from edge.runtime.sink import StoreSink, TrialSink
from edge.runtime.stepper import Stepper
from edge.store import StoreHealth, TrialInfo, TrialStatus, TrialStore
from edge.strides.live import LiveStrides
from edge.strides.stored import geometry_of
from firmware_bridge import DeviceInfo, SampleBlock, Status, framing, spec
from firmware_bridge.errors import GaitedgeError
from firmware_bridge.transports import Transport, TransportEvent, open_transport

__all__ = ["TrialRecorder"]

log = logging.getLogger(__name__)

#: When a trial ends, how long each reader waits for bytes its link has received and
#: not yet handed over (a live link is read in batches), s.
_DRAIN_S: Final = 0.05


class TrialRecorder:
    """Record one trial from up to two shoes into a :class:`TrialStore`.

    Parameters
    ----------
    model : Model
        The model to run (its inputs must be what the insoles send).
    sources : mapping of side to transport URL
        E.g. ``{"L": "serial:///dev/serial/by-id/…", "R": "ble://AA:…"}``.
    store : TrialStore
        Where everything goes: the trial is created in it here (:attr:`trial_id`), with
        the model's name, weights hash and output names, and written through
        :attr:`sink`.
    info : TrialInfo
        What the operator entered (subject, shoe, condition …).
    backend : {"numpy", "tflite"}
        The engine.
    max_bridge_ms : float
        A counter gap longer than this resets the shoe's model state.
    max_wait_s : float
        How long a shoe with pending samples waits for a silent other shoe.
    step_interval_s : float
        A live link's bytes are taken in, decoded, clock-mapped (each chunk with the time
        its link received it) and stored once per this many seconds, and the model runs
        on what has arrived as often, a few packets back to back on warm caches. Results
        do not depend on it; events show on the live status up to twice this later.
    on_status : callable(str), optional
        Called about once a second with a one-line live status.
    opener : callable(url, on_event=…) -> Transport
        Makes each shoe's transport (default :func:`firmware_bridge.transports.open_transport`;
        tests pass one that opens BLE links on a simulated radio).
    lsl : bool
        Also stream samples, model outputs and events to Lab Streaming Layer
        (:mod:`edge.runtime.lsl`; the ``lsl`` extra).

    Attributes
    ----------
    trial_id : int
        The trial, created (status ``recording``) when the recorder is made.
    sink : TrialSink
        Where the trial's data goes (:class:`edge.runtime.sink.StoreSink`).
    shoes : dict of side to Shoe
        Each shoe's link state and live counts (:mod:`edge.runtime.link`).
    error : str or None
        The one line that ended the trial with ``error``, if any.
    """

    def __init__(
        self,
        model: Model,
        sources: Mapping[str, str],
        store: TrialStore,
        info: TrialInfo,
        *,
        backend: BackendKind = "numpy",
        max_bridge_ms: float = 200.0,
        max_wait_s: float = 0.5,
        step_interval_s: float = 0.1,
        on_status: Callable[[str], None] | None = None,
        opener: Callable[..., Transport] = open_transport,
        lsl: bool = False,
    ) -> None:
        if not 1 <= len(sources) <= 2:
            raise ValueError(f"sources has {len(sources)} shoes; give one or two")
        if not framing.using_cobs_c_core():  # a Pi without a compiler: say it, once a trial
            log.warning(
                "the cobs package runs without its C core (pure Python: framing ~8x slower, "
                "still fine for two 100 Hz shoes); with a compiler: pip install --force-reinstall "
                "--no-binary cobs cobs"
            )
        self.model = model
        self.sink: TrialSink = StoreSink.start(store, info, model)
        if lsl:  # also to Lab Streaming Layer (the lsl extra)
            from edge.runtime.lsl import LslSink

            self.sink = LslSink(self.sink, [c.name for c in model.outputs])
        self.trial_id = self.sink.trial_id
        try:
            self.stepper = Stepper(model, list(sources), sink=self.sink, backend=backend)
        except BaseException as e:  # the trial exists: end it, saying why
            self.sink.error(None, str(e))
            self.sink.finish("error")
            raise
        self.shoes = {side: Shoe(side, url) for side, url in sources.items()}
        self.strides = LiveStrides(geometry_of(info.shoe_size))
        self.max_bridge = max_bridge_ms * model.sample_rate_hz / 1000.0
        self.max_wait_s = max_wait_s
        self.step_interval_s = step_interval_s
        self.on_status = on_status
        self.opener = opener
        self.error: str | None = None
        self._ending: asyncio.Future[None] | None = None  # done when the trial ends

    # ------------------------------------------------------------------ running

    async def run(self, stop: asyncio.Event | None = None, duration_s: float | None = None) -> int:
        """Record until ``stop`` is set, ``duration_s`` passed, or every link ended.

        Returns the trial id. The trial ends ``complete`` (``stop`` set: the operator ended
        it; the duration reached; every link ended), ``error`` (a device the model cannot
        take, a link that gave up reconnecting, no sample from any shoe: the cause the
        links gave is in :attr:`error`) or ``disk_full`` (set by the store; the trial ends
        at once then: nothing more could be kept).
        """
        stop = stop or asyncio.Event()
        status: TrialStatus = "complete"
        started = time.monotonic()
        next_status = started + 1.0
        self._ending = asyncio.get_running_loop().create_future()
        readers = [asyncio.create_task(self._read(shoe)) for shoe in self.shoes.values()]
        stopped = asyncio.ensure_future(stop.wait())
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
                await asyncio.wait({stopped}, timeout=self.step_interval_s)
                self._step_ready()
                if self.sink.health is not StoreHealth.OK:  # nothing more can be kept: end
                    if self.on_status is not None:
                        self.on_status(self.status_line())
                    break
                if time.monotonic() >= next_status:
                    next_status += 1.0
                    self._take_strides()
                    if self.on_status is not None:
                        self.on_status(self.status_line())
        finally:
            stopped.cancel()
            self._ending.set_result(None)  # readers take in what their links received,
            await asyncio.wait(readers, timeout=_DRAIN_S + 0.1)  # then end
            for shoe, r in zip(self.shoes.values(), readers, strict=True):
                if not shoe.ended:  # still waiting for bytes; the others are closing their
                    r.cancel()  # links (a BLE disconnect takes a while): let them finish
            await asyncio.gather(*readers, return_exceptions=True)
            for r in readers:
                if not r.cancelled() and r.exception() is not None and self.error is None:
                    self.error = str(r.exception())
            if self.error is None and not any(s.stats.samples for s in self.shoes.values()):
                self.error = "no samples from any shoe" + self._link_cause()
            if self.error is not None:
                status = "error"
                self.sink.error(None, self.error)
            self.stepper.flush()
            self._take_events()
            self._take_strides()
            self.sink.finish(status)
        return self.trial_id

    async def _read(self, shoe: Shoe) -> None:
        def on_event(event: TransportEvent) -> None:
            shoe.events.append(event)
            if event.kind == "disconnected":
                shoe.stats.disconnects += 1
                log.warning("%s: link lost (%s); reconnecting", shoe.side, event.detail)
            elif event.kind == "reconnected":
                log.warning("%s: link back after %.1f s", shoe.side, event.gap_s)
            elif event.kind == "gave_up":
                log.error("%s: gave up reconnecting after %.1f s", shoe.side, event.gap_s)
                self.sink.error(shoe.side, f"link gave up: {event.detail}")

        shoe.transport = self.opener(shoe.url, on_event=on_event)
        ending = self._ending
        assert ending is not None  # set by run()
        try:
            transport = shoe.transport
            while parts := await transport.read_stamped():
                self._decode(shoe, parts)
                if transport.live:  # read a live link in batches (each chunk keeps its
                    await asyncio.wait({ending}, timeout=self.step_interval_s)  # stamp)
                if ending.done():  # the trial ends: take in what arrives within _DRAIN_S
                    # one deadline, not one per read: a live feed never goes quiet. Not
                    # wait_for: on 3.11 it swallows run()'s cancel when a read completes in
                    # the same tick (python/cpython#86296), and the drain never ended.
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(_DRAIN_S):
                            while last := await transport.read_stamped():
                                self._decode(shoe, last)
                    break
        finally:
            shoe.ended = True
            await shoe.transport.aclose()

    def _decode(self, shoe: Shoe, parts: list[tuple[bytes, float]]) -> None:
        """Decode stamped chunks (:meth:`Transport.read_stamped`) and take in what they hold."""
        for chunk, received in parts:
            if received != received:  # a link that does not stamp: now
                received = time.monotonic()
            for item in shoe.decoder.feed(chunk):
                if isinstance(item, SampleBlock):
                    if len(item):
                        self._samples(shoe, item, received)
                elif isinstance(item, DeviceInfo):
                    self._device(shoe, item)
                elif isinstance(item, Status):
                    self._status(shoe, item)

    # ------------------------------------------------------------------ decoding side

    def _status(self, shoe: Shoe, status: Status) -> None:
        st = shoe.stats
        st.battery_pct = status.battery_pct
        if status.error_flags != st.error_flags:  # store each change of the device's flags
            st.error_flags = status.error_flags
            names = spec.error_names(status.error_flags)
            text = "device flags: " + (" ".join(names) if names else "cleared")
            self.sink.error(shoe.side, text)
            if names:
                log.warning("%s: %s", shoe.side, text)

    def _device(self, shoe: Shoe, info: DeviceInfo) -> None:
        if info == shoe.stats.device:  # firmware repeats DEVICE_INFO: store it once
            return
        channels = {**DEVICE_CHANNELS, **pressure_channels(info.n_pressure)}
        try:
            self.model.check_device(channels, info.sample_rate_hz)
        except GaitedgeError as e:
            self.error = f"{shoe.side} ({shoe.url}): {e}"
            raise
        if shoe.boot_id is not None and info.boot_id != shoe.boot_id:
            log.warning("%s: the device restarted (new boot id)", shoe.side)
        # (its counter starts over: _samples ends the segment and restarts the clock map)
        shoe.boot_id = info.boot_id
        shoe.stats.device = info
        self.strides.device(shoe.side, info.sample_rate_hz, info.n_pressure)
        self.sink.device(
            shoe.side,
            device_id=info.device_id,
            firmware=".".join(map(str, info.firmware)),
            sample_rate_hz=info.sample_rate_hz,
            channels=list(channels),
            units=list(channels.values()),
            transport=shoe.url,
        )

    def _samples(self, shoe: Shoe, block: SampleBlock, received: float) -> None:
        """``received``: ``time.monotonic()`` when the link got the bytes."""
        shoe.last_arrival = received
        now = time.time() - (time.monotonic() - received)  # the same instant, unix time
        counter = block.seq
        side = shoe.side
        if shoe.last_counter is not None and counter[0] <= shoe.last_counter:
            # the counter went back: the device restarted; its clock starts over too
            if self.stepper.end_segment(side):
                self.sink.gap(side, int(counter[0]), 0, "restart")
            shoe.clock = ClockMap()
            shoe.last_counter = None
            shoe.last_host = -np.inf
        shoe.clock.observe(int(block.t_device_us[-1]), now)
        host = shoe.clock.host_time(block.t_device_us)
        # never reverse time (a refit that moves the line back, a fit still settling):
        # strictly increasing within the block and after the previous one, by >= 1 µs
        step = 1e-6 * np.arange(1, len(host) + 1)
        host = np.maximum(np.maximum.accumulate(host - step) + step, shoe.last_host + step)
        shoe.last_host = float(host[-1])
        if shoe.first_counter is None:
            shoe.first_counter = int(counter[0])
        st = shoe.stats
        if st.samples == 0:
            st.first_host_s = float(host[0])
        st.samples += len(counter)
        st.last_host_s = float(host[-1])
        pressure = block.pressure if block.pressure.shape[1] else None
        self.sink.samples(side, counter, host, block.t_device_us, block.imu, pressure)
        self.strides.samples(side, counter, host, block.imu, pressure)
        # gaps before this block and inside it; one the model cannot bridge ends a segment
        prev = shoe.last_counter
        starts = np.concatenate([[prev if prev is not None else counter[0] - 1], counter[:-1]])
        jumps = counter - starts - 1
        cut = 0
        for j in np.flatnonzero(jumps > 0).tolist():
            n_lost = int(jumps[j])
            st.lost += n_lost
            long = n_lost > self.max_bridge
            self.sink.gap(side, int(starts[j]) + 1, n_lost, "reset" if long else "bridged")
            if long:
                self.stepper.push(side, counter[cut:j], host[cut:j], block.imu[cut:j])
                if self.stepper.end_segment(side):
                    st.resets += 1
                cut = j
        self.stepper.push(side, counter[cut:], host[cut:], block.imu[cut:])
        shoe.last_counter = int(counter[-1])

    # ------------------------------------------------------------------ model side

    def _step_ready(self) -> None:
        """Step what every shoe has; a shoe silent for ``max_wait_s`` does not hold back.

        Silent means: the other shoe's link has received bytes that long after this one's
        last (arrival stamps, not the clock on the wall: a loop that has fallen behind,
        as on an overloaded host, does not take a shoe whose bytes it has not read yet for
        a silent one)."""
        latest = max(shoe.last_arrival for shoe in self.shoes.values())
        silent = set()
        for side, shoe in self.shoes.items():
            if self.stepper.lanes[side].has_packet(self.stepper.k):
                continue
            if shoe.ended or latest - shoe.last_arrival >= self.max_wait_s:
                silent.add(side)
        if len(silent) == len(self.shoes):
            return
        for side in silent:
            shoe = self.shoes[side]
            if self.stepper.end_segment(side) and not shoe.ended:
                nxt = (shoe.last_counter or 0) + 1
                self.sink.gap(side, nxt, 0, "stalled")
                shoe.stats.resets += 1
                log.warning("%s: silent for %.1f s; the other shoe goes on, %s starts afresh",
                            side, latest - shoe.last_arrival, side)  # fmt: skip
        self.stepper.step(skip=silent)
        self._take_events()

    def _take_events(self) -> None:
        """Count the events the model side reported (for the live status and summary)."""
        for side, e, host_s in self.stepper.reported:
            stats = self.shoes[side].stats
            if e.kind == "HS":
                stats.heel_strikes_at.append(e.counter_at)
            else:
                stats.toe_offs += 1
            stats.last_event, stats.last_event_host_s = e, host_s
            self.strides.event(side, e.kind, e.counter_at)
        self.stepper.reported.clear()

    def _take_strides(self) -> None:
        """Hand the strides the live pass closed to the sink; the last one to the status."""
        rows = self.strides.poll()
        self.sink.strides(rows)
        for row in rows:
            self.shoes[row["side"]].stats.last_stride = row

    def _link_cause(self) -> str:
        """``: <what the links said>`` (their last event with a detail), or ``""``."""
        said = [f"{side}: {e.kind} {e.detail}".strip() for side, shoe in self.shoes.items()
                for e in shoe.events[-1:] if e.detail]  # fmt: skip
        return ": " + "; ".join(said) if said else " (the links opened and ended, sending nothing)"

    # ------------------------------------------------------------------ reporting

    def status_line(self) -> str:
        now = time.time()
        line = " | ".join(s.stats.line(now) for s in self.shoes.values())
        if self.sink.health is not StoreHealth.OK:
            line += f" | STORE: {self.sink.status}"
        return line
