"""Device clock → host clock: a running linear fit, robust to transport jitter.

A sample's device timestamp (µs, the insole's crystal) says exactly when it was taken on
the device's time axis; the host only knows when the bytes *arrived*, which is later by a
transport delay that varies (a BLE connection interval of 7.5–50 ms, USB polling, a busy
Pi). The delay is never negative, so the earliest arrivals carry the truth: the map is a
line ``t_host = offset + (1 + drift) · t_device`` fitted to the **lower envelope** of the
(device time, arrival time − device time) points.

How: arrivals are grouped into buckets of ``bucket_s`` device seconds; each bucket keeps
its smallest ``t_host − t_device`` (the least-delayed packet). The line's slope is the
median of the slopes between pairs of bucket minima of the last ``window_s`` seconds
(Theil–Sen: robust to buckets that saw only late arrivals), and it passes under them all,
through the lowest (fewer than three buckets: offset only, drift 0). With two shoes whose
links have the same smallest delay (the same kind of link), both map onto one host axis
to within that delay's jitter floor, far below 5 ms; what remains is the constant part of
the delay, the same for both shoes. The first packets of a trial, with nothing to compare
them with, are mapped as late as they arrived (a backlog when the port opens). A device restart
(its counter or clock starting over) is a new :class:`ClockMap`.

All times in seconds as float64 (host: ``time.monotonic()`` or ``time.time()``, whichever
the caller feeds; device: µs / 1e6).
"""

from __future__ import annotations

import collections

import numpy as np
import numpy.typing as npt

__all__ = ["ClockMap"]


class ClockMap:
    """Map one device's µs clock to host seconds (see module docstring).

    Parameters
    ----------
    bucket_s : float
        Device seconds per lower-envelope bucket.
    window_s : float
        How many device seconds of buckets the fit uses (older ones are dropped), so a
        slowly changing drift (temperature) is followed.
    """

    def __init__(self, *, bucket_s: float = 1.0, window_s: float = 60.0) -> None:
        if not (0 < bucket_s <= window_s):
            raise ValueError(f"bucket_s {bucket_s!r} and window_s {window_s!r}: need 0 < b <= w")
        self.bucket_s, self.window_s = bucket_s, window_s
        self._buckets: collections.OrderedDict[int, tuple[float, float]] = collections.OrderedDict()
        self._origin: float | None = None  # first device time [s]: keeps the fit well scaled
        self.offset_s = 0.0  # host time at device time == origin
        self.drift = 0.0  # host seconds per device second, minus 1

    @property
    def ready(self) -> bool:
        """True once any arrival was seen."""
        return self._origin is not None

    def observe(self, t_device_us: int, t_host_s: float) -> None:
        """One arrival: the newest sample's device time and the host time its bytes came.

        Call once per decoded block with its last sample (the one that was complete when the
        bytes arrived).
        """
        td = t_device_us * 1e-6
        if self._origin is None:
            self._origin = td
        x = td - self._origin
        key = int(x // self.bucket_s)
        d = t_host_s - td
        old = self._buckets.get(key)
        changed = old is None or d < old[1]
        if changed:
            self._buckets[key] = (x, d)
        while self._buckets and next(iter(self._buckets)) < key - self.window_s / self.bucket_s:
            self._buckets.popitem(last=False)
            changed = True
        if changed:  # most arrivals are later than their bucket's best: nothing to refit
            self._fit()

    def _fit(self) -> None:
        pts = np.array(list(self._buckets.values()), dtype=np.float64)
        if len(pts) < 3:  # too short to see drift: offset from the best point
            self.offset_s = float(pts[:, 1].min())
            self.drift = 0.0
            return
        x, d = pts[:, 0], pts[:, 1]
        # Theil–Sen: the median of the slopes between all pairs of bucket minima. A bucket
        # whose every arrival was late (the backlog read after a reconnect) does not tilt
        # it, as it tilted a least-squares line: measured on a 5 s unplug, the first
        # samples after it were mapped 16–21 ms late by least squares, 1–2 ms by this.
        i, j = np.triu_indices(len(x), 1)
        slope = float(np.median((d[j] - d[i]) / (x[j] - x[i])))
        # the line under the points (lower envelope): through the lowest one
        self.offset_s, self.drift = float(np.min(d - slope * x)), slope

    def host_time(self, t_device_us: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Host seconds of device timestamps (µs), shape as given."""
        if self._origin is None:
            raise RuntimeError("ClockMap.host_time before any observe(); feed an arrival first")
        td = np.asarray(t_device_us, dtype=np.float64) * 1e-6
        x = td - self._origin
        return td + self.offset_s + self.drift * x
