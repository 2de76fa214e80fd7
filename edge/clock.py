"""Device clock → host clock: a running linear fit, robust to transport jitter.

A sample's device timestamp (µs, the insole's crystal) says exactly when it was taken on
the device's time axis; the host only knows when the bytes *arrived*, which is later by a
transport delay that varies (a BLE connection interval of 7.5–50 ms, USB polling, a busy
Pi). The delay is never negative, so the earliest arrivals carry the truth: the map is a
line ``t_host = offset + (1 + drift) · t_device`` fitted to the **lower envelope** of the
(device time, arrival time − device time) points.

How: arrivals are grouped into buckets of ``bucket_s`` device seconds; each bucket keeps
its smallest ``t_host − t_device`` (the least-delayed packet). Buckets later than any
believable drift allows (:data:`_MAX_DRIFT`, :data:`_LATE_S`: they held only a backlog,
read when a port opened or after a reconnect) are left out; the line's slope is the
median of the slopes between pairs of the other bucket minima of the last ``window_s``
seconds (Theil–Sen: robust to a bucket that was late by less), and it passes under them
all, through the lowest (fewer than three buckets: offset only, drift 0). With two shoes whose
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
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["ClockMap"]

#: Largest device clock error believed, host s per device s (crystals are specified to
#: ±20–100 ppm; 1000 ppm leaves room for a cheap one, and for temperature).
_MAX_DRIFT: Final = 1e-3
#: A bucket whose best arrival is this much later than the best bucket plus the largest
#: drift allows held only late arrivals, s (a wired link's floor jitter is < 1 ms, BLE's
#: a few ms).
_LATE_S: Final = 0.010


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
        x, d = np.array(list(self._buckets.values()), dtype=np.float64).T
        # A bucket whose best arrival is later than any drift can explain saw only late
        # arrivals (a backlog read when a port opens or after a reconnect): left out.
        best = int(np.argmin(d))
        ok = d <= d[best] + _MAX_DRIFT * np.abs(x - x[best]) + _LATE_S
        x, d = x[ok], d[ok]
        if len(x) < 3:  # too short to see drift: offset from the best point
            self.offset_s = float(d.min())
            self.drift = 0.0
            return
        # Theil–Sen: the median of the slopes between all pairs of bucket minima, robust
        # to a bucket that was late by less than that (after a 5 s unplug a least-squares
        # line maps the first samples 16–21 ms late, this one 1–2 ms)
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
