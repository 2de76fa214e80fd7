"""One shoe's link as the live loop sees it: transport, decoder, clock map, counts."""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np

from edge.clock import ClockMap
from edge.events import GaitEvent
from firmware_bridge import DeviceInfo, StreamDecoder, spec
from firmware_bridge.transports import Transport, TransportEvent

__all__ = ["Shoe", "ShoeStats"]


@dataclasses.dataclass
class ShoeStats:
    """What one shoe delivered so far (for the live status line)."""

    side: str
    url: str
    device: DeviceInfo | None = None
    samples: int = 0
    lost: int = 0
    resets: int = 0
    toe_offs: int = 0
    last_event: GaitEvent | None = None
    last_event_host_s: float = float("nan")
    battery_pct: int | None = None
    error_flags: int = 0
    disconnects: int = 0
    first_host_s: float = float("nan")
    last_host_s: float = float("nan")
    heel_strikes_at: list[float] = dataclasses.field(default_factory=list)  # counters
    last_stride: dict[str, Any] | None = None  # the live pass's last row (edge.strides)

    @property
    def lost_pct(self) -> float:
        total = self.samples + self.lost
        return 100.0 * self.lost / total if total else 0.0

    def line(self, now: float) -> str:
        """One status fragment: rate, lost %, battery, last event, last stride."""
        span = self.last_host_s - self.first_host_s
        rate = (self.samples - 1) / span if span > 0 else 0.0
        batt = "?" if self.battery_pct is None else f"{self.battery_pct}%"
        ev = (
            f"{self.last_event.kind} {now - self.last_event_host_s:.1f}s ago"
            if self.last_event is not None
            else "no event yet"
        )
        flags = spec.error_names(self.error_flags)
        err = f" FLAGS {'+'.join(flags)}" if flags else ""
        return (
            f"{self.side} {rate:5.1f} Hz lost {self.lost_pct:4.1f}% batt {batt}{err} {ev}"
            f"{self._stride_text()}"
        )

    def _stride_text(self) -> str:
        """`` 1.32 m 1.21 m/s 108/min`` of the last stride (what is known of it), or ""."""
        s = self.last_stride
        if s is None:
            return ""
        parts = [
            f"{v:.2f} {unit}"
            for key, unit in (("stride_length_m", "m"), ("gait_speed_mps", "m/s"))
            if math.isfinite(v := float(s[key]))
        ]
        if math.isfinite(cadence := float(s["cadence_spm"])):
            parts.append(f"{cadence:.0f}/min")
        return " " + " ".join(parts) if parts else ""


class Shoe:
    """One shoe's link state: transport, decoder, clock, stats."""

    def __init__(self, side: str, url: str) -> None:
        self.side, self.url = side, url
        self.decoder = StreamDecoder()
        self.clock = ClockMap()
        self.stats = ShoeStats(side, url)
        self.transport: Transport | None = None
        self.boot_id: int | None = None
        self.last_counter: int | None = None  # last sample received
        self.last_arrival = time.monotonic()
        self.ended = False
        self.events: list[TransportEvent] = []  # link events, for summaries
        self.first_counter: int | None = None
        self.last_host = -np.inf  # host time of the last sample [s]
