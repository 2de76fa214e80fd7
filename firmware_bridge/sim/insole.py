"""A virtual insole: real recorded gait streamed as protocol frames, with faults on demand.

:class:`InsoleSimulator` turns a :class:`~firmware_bridge.sim.walks.Recording` into the
frames a firmware would send (DEVICE_INFO, SAMPLES, STATUS), each with the host time at
which it leaves the device. The recording's own lost samples become sequence gaps, as on a
real link. Faults (drop, corrupt, duplicate, reorder, disconnect) and a drifting device
clock are added deterministically from a seed.

Sinks: :class:`~firmware_bridge.sim.pty.PtyInsole` writes the stream into a
pseudo-terminal, so pyserial reads it like a USB insole; :func:`ble_insole` puts it on the
simulated radio of :mod:`firmware_bridge.sim.ble_radio`, so bleak finds it as a BLE
peripheral. ``gaitedge sim`` runs them from the command line.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import numpy as np

from firmware_bridge import spec
from firmware_bridge.packets import (
    DeviceInfo,
    Status,
    encode_device_info,
    encode_samples,
    encode_status,
    quantise_imu,
)
from firmware_bridge.sim.walks import Recording

if TYPE_CHECKING:
    from firmware_bridge.sim.ble_radio import SimRadio, VirtualPeripheral

__all__ = ["Faults", "InsoleSimulator", "ble_insole", "two_shoes"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class Faults:
    """Faults to inject, each a probability per frame (0–1) unless said otherwise.

    Attributes
    ----------
    drop : float
        The frame is never sent.
    corrupt : float
        One byte of the frame is changed (may hit the delimiter and merge two frames).
    duplicate : float
        The frame is sent twice.
    reorder : float
        The frame is sent after the next one.
    disconnects : tuple of (at_s, for_s)
        Link outages on the stream's timeline, s: the sink goes away at ``at_s`` for
        ``for_s``; frames the device sends meanwhile are lost (it keeps sampling).
    """

    drop: float = 0.0
    corrupt: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    disconnects: tuple[tuple[float, float], ...] = ()

    def down_at(self, t_s: float) -> tuple[float, float] | None:
        """The outage (start, end) in force at stream time ``t_s``, s, if any."""
        for at, length in self.disconnects:
            if at <= t_s < at + length:
                return at, at + length
        return None


@dataclasses.dataclass(slots=True)
class Injected:
    """What the simulator actually did (for tests and the demo summary)."""

    frames: int = 0
    samples: int = 0
    dropped_frames: int = 0
    dropped_samples: int = 0
    corrupted_frames: int = 0
    duplicated_frames: int = 0
    reordered_frames: int = 0


class InsoleSimulator:
    """One virtual insole streaming a recording.

    Parameters
    ----------
    recording : Recording
        What it streams; its counter becomes the packet sequence number.
    device_id : int, optional
        64-bit id; by default derived from the side.
    samples_per_packet : int
        Samples per SAMPLES packet (4 at 100 Hz is 25 packets/s).
    drift_ppm : float
        Device clock error, parts per million: +100 means the device's clock runs fast, so
        its samples arrive 100 ppm more often in host time than nominal.
    clock_start_us : int, optional
        Device clock at the first sample, µs; default random. Near 2**32 tests the wrap.
    ranges : int
        Accelerometer range code | gyroscope range code << 4 (0x43: ±16 g, ±2000 °/s).
    faults : Faults
        Faults to inject.
    seed : int
        Seeds the clock start, boot id and every fault.
    info_every_s, status_every_s : float
        Period of DEVICE_INFO and STATUS packets, s (the spec asks for <= 2 s).
    battery_pct : float
        State of charge at the start, %; falls by 1 % a minute.
    """

    def __init__(
        self,
        recording: Recording,
        *,
        device_id: int | None = None,
        samples_per_packet: int = 4,
        drift_ppm: float = 0.0,
        clock_start_us: int | None = None,
        ranges: int = 0x43,
        faults: Faults | None = None,
        seed: int = 0,
        info_every_s: float = 1.0,
        status_every_s: float = 1.0,
        battery_pct: float = 95.0,
    ) -> None:
        most = spec.max_samples_per_packet(0)
        if not 1 <= samples_per_packet <= most:
            raise ValueError(f"samples_per_packet={samples_per_packet!r}; must be 1..{most}")
        self.recording = recording
        self.samples_per_packet = samples_per_packet
        self.drift_ppm = drift_ppm
        self.ranges = ranges
        self.faults = faults or Faults()
        self.seed = seed
        self.info_every_s = info_every_s
        self.status_every_s = status_every_s
        self.battery_pct = battery_pct
        rng = np.random.default_rng(seed)
        side_code = spec.SIDE_LEFT if recording.side == "L" else spec.SIDE_RIGHT
        self.info = DeviceInfo(
            device_id=device_id if device_id is not None else 0x6E0000_5100 | side_code,
            side=recording.side,
            sample_rate_hz=recording.sample_rate_hz,
            accel_range_code=ranges & 0x0F,
            gyro_range_code=ranges >> 4,
            n_pressure=0,
            samples_per_packet=samples_per_packet,
            boot_id=int(rng.integers(1, 1 << 16)),
            firmware=(1, 0, 0),
            model="gaitedge-sim",
            axis_frame=spec.AXIS_FRAME_SENSOR,
        )
        self.clock_start_us = (
            int(rng.integers(0, spec.WRAP)) if clock_start_us is None else clock_start_us
        )
        self.injected = Injected()

    @property
    def name(self) -> str:
        """Advertised name, as PROTOCOL.md section 5.2 says."""
        return f"{spec.BLE_NAME_PREFIX}-{self.info.side}-{self.info.device_id & 0xFFFF:04X}"

    @property
    def ble_address(self) -> str:
        """Bluetooth address, from the low 48 bits of the device id."""
        low = self.info.device_id & 0xFFFF_FFFF_FFFF
        return ":".join(f"{(low >> (8 * i)) & 0xFF:02X}" for i in range(5, -1, -1))

    @property
    def duration_s(self) -> float:
        """Host time from the first sample to the last frame, s."""
        c = self.recording.counter
        return self._host_s(int(c[-1] - c[0] + 1))

    def _host_s(self, ticks: int) -> float:
        """Host seconds after ``ticks`` nominal sample periods of this device's clock."""
        return ticks / (self.recording.sample_rate_hz * (1.0 + self.drift_ppm * 1e-6))

    def clean_frames(self) -> Iterator[tuple[float, bytes, int]]:
        """(send time s, frame, samples in it) as a fault-free firmware would send them."""
        rec = self.recording
        counter, c0 = rec.counter, int(rec.counter[0])
        period_us = round(1e6 / rec.sample_rate_hz)
        counts = quantise_imu(rec.imu, self.ranges)
        # packets never straddle a gap: split the counter into consecutive runs
        breaks = np.flatnonzero(np.diff(counter) != 1) + 1
        starts = np.concatenate([[0], breaks])
        ends = np.concatenate([breaks, [len(counter)]])
        next_info, next_status = 0.0, 0.0
        k = self.samples_per_packet
        for run_start, run_end in zip(starts.tolist(), ends.tolist(), strict=True):
            for i in range(run_start, run_end, k):
                j = min(i + k, run_end)
                t_send = self._host_s(int(counter[j - 1]) - c0 + 1)
                while next_info <= t_send:
                    yield next_info, encode_device_info(self.info), 0
                    next_info += self.info_every_s
                while next_status <= t_send:
                    yield next_status, encode_status(self._status(next_status)), 0
                    next_status += self.status_every_s
                seq = int(counter[i])
                t_dev = self.clock_start_us + (seq - c0) * period_us
                yield t_send, encode_samples(seq, t_dev, period_us, self.ranges, counts[i:j]), j - i

    def _status(self, t_s: float) -> Status:
        pct = max(0.0, self.battery_pct - t_s / 60.0)
        ticks = round(t_s * self.recording.sample_rate_hz * (1.0 + self.drift_ppm * 1e-6))
        return Status(
            t_device_us=self.clock_start_us + ticks * round(1e6 / self.recording.sample_rate_hz),
            battery_pct=round(pct),
            battery_mv=round(3300 + 9 * pct),
            error_flags=spec.ERR_LOW_BATTERY if pct < 15 else 0,
            temperature_c=31,
        )

    def frames(self) -> Iterator[tuple[float, bytes]]:
        """(send time s, frame) with the faults applied, in sending order (deterministic)."""
        f, inj = self.faults, self.injected
        rng = np.random.default_rng(self.seed + 1)
        held: tuple[float, bytes, int] | None = None
        for t_s, frame, n in self.clean_frames():
            inj.frames += 1
            inj.samples += n
            if f.drop and rng.random() < f.drop:
                inj.dropped_frames += 1
                inj.dropped_samples += n
                continue
            if f.corrupt and rng.random() < f.corrupt:
                inj.corrupted_frames += 1
                pos = int(rng.integers(0, len(frame)))
                frame = (
                    frame[:pos] + bytes([frame[pos] ^ int(rng.integers(1, 256))]) + frame[pos + 1 :]
                )
            if held is not None:
                yield t_s, frame
                yield t_s, held[1]
                held = None
                continue
            if f.reorder and n and rng.random() < f.reorder:
                inj.reordered_frames += 1
                held = (t_s, frame, n)
                continue
            yield t_s, frame
            if f.duplicate and rng.random() < f.duplicate:
                inj.duplicated_frames += 1
                yield t_s, frame
        if held is not None:
            yield held[0], held[1]

    async def stream(
        self, speed: float | None = 1.0, start: float | None = None
    ) -> AsyncIterator[tuple[float, bytes]]:
        """Yield (send time s, frame) paced by the wall clock: real time at ``speed=1``,
        N× faster at ``speed=N``, no waiting at ``speed=None``. ``start``: the
        ``time.monotonic()`` of send time 0 (default: now); two shoes given the same one
        walk in step, as the recordings' synchronised sensors did."""
        start = time.monotonic() if start is None else start
        for t_s, frame in self.frames():
            if speed is not None:
                delay = start + t_s / speed - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            yield t_s, frame


def two_shoes(
    left: Recording,
    right: Recording,
    *,
    drift_ppm: tuple[float, float] = (0.0, 0.0),
    faults: Faults | None = None,
    seed: int = 0,
    **kwargs: object,
) -> tuple[InsoleSimulator, InsoleSimulator]:
    """A left and a right insole with their own ids, boot ids, clocks and fault draws."""
    return (
        InsoleSimulator(left, drift_ppm=drift_ppm[0], faults=faults, seed=seed, **kwargs),  # type: ignore[arg-type]
        InsoleSimulator(right, drift_ppm=drift_ppm[1], faults=faults, seed=seed + 100, **kwargs),  # type: ignore[arg-type]
    )


def ble_insole(radio: SimRadio, sim: InsoleSimulator, speed: float = 1.0) -> VirtualPeripheral:
    """Put ``sim`` on a simulated BLE radio (:class:`~firmware_bridge.sim.ble_radio.SimRadio`).

    It advertises ``sim.name`` and the gaitedge service, and once a central subscribes,
    streams at ``speed`` x real time in notifications of MTU - 3 bytes. Each of the faults'
    disconnects drops the link for its length (scaled by ``speed``); bytes sent meanwhile
    are lost, as over the air.
    """

    async def source() -> AsyncIterator[bytes]:
        done: set[tuple[float, float]] = set()
        async for t_s, frame in sim.stream(speed):
            down = sim.faults.down_at(t_s)
            if down is not None and down not in done:
                done.add(down)
                radio.drop_link(sim.ble_address, (down[1] - down[0]) / speed)
            yield frame

    return radio.add_insole(sim.ble_address, sim.name, source())
