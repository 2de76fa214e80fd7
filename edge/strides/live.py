"""Strides while a trial records: one forward filter per shoe, each stride closed once
the foot stands again.

Per shoe, a :class:`_Track` keeps the last :data:`BUFFER_S` seconds of samples in fixed
arrays (lost samples up to :data:`~edge.strides.analysis.MAX_FILL_S` filled in by
interpolation, as offline; a longer loss or a device restart starts the shoe afresh) and
runs the same :class:`~edge.strides.trajectory.ZuptFilter` as the offline forward pass,
each sample once, as soon as its rest flag is settled (:func:`~edge.strides.zupt.settled`:
a few samples, or to the end of a rest). A stride closes :data:`CLOSE_S` after its next
stance begins (its heel strike, landing and next foot flat are in): one stride of
latency. Its parameters come from :func:`~edge.strides.spatial.spatial_parameters` on the
seconds around it, the foot's axes from the median over its last strides, and the
temporal ones from both shoes' events (:func:`~edge.strides.analysis.side_columns`).

What live rows cannot know: whether a stride is the first or the last of its walking bout
(that takes the bout), so live rows have ``bout_edge`` False and ``steady`` by the turn
and length rules only; strides left out (lost samples, a missed stance) are not counted
live. The offline pass at the end of the trial replaces every live row and counts exactly
(:func:`edge.strides.stored.measure_trial`).

Cost: each sample goes through the filter once (≈ 15 µs here) and a closed stride costs
one parameter pass over ~3 s of arrays; ``benchmarks/runtime.py`` reports the share of a
core.
"""

from __future__ import annotations

import collections
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.strides.analysis import MAX_FILL_S, MAX_MOVE_S, side_columns, uniform_samples
from edge.strides.geometry import FootGeometry
from edge.strides.spatial import FootAxes, spatial_parameters
from edge.strides.trajectory import Trajectory, ZuptFilter
from edge.strides.zupt import rest_runs, settled, stance_mask

__all__ = ["BUFFER_S", "CLOSE_S", "LiveStrides"]

#: Seconds of samples kept per shoe: a stride (≤ 2 s moving), the stances around it.
BUFFER_S = 8.0
#: A stride is reported once its next stance has lasted this long [s].
CLOSE_S = 0.2
#: Context before a stride's stance kept in its parameter pass [s] (its heel strike).
_BEFORE_S = 1.5
#: Strides whose directions vote on the foot's axes.
_AXES_STRIDES = 15


class _Track:
    """One shoe: recent samples, their settled rest flags and forward trajectory."""

    def __init__(self, side: str, rate_hz: float, n_pressure: int, geometry: FootGeometry):
        self.side, self.rate_hz, self.geometry = side, rate_hz, geometry
        cap = round(BUFFER_S * rate_hz)
        self.counter = np.zeros(cap, np.int64)
        self.t = np.zeros(cap)
        self.imu = np.zeros((cap, 6))
        self.received = np.zeros(cap, bool)
        self.rest = np.zeros(cap, bool)
        self.rot = np.full((cap, 3, 3), np.nan)
        self.pos = np.full((cap, 3), np.nan)
        self.pressure = np.full((cap, n_pressure), np.nan) if n_pressure else None
        self.events: list[tuple[str, float]] = []  # (kind, counter_at)
        self.forward: collections.deque[npt.NDArray[np.float64]] = collections.deque(
            maxlen=_AXES_STRIDES
        )
        self.up: collections.deque[npt.NDArray[np.float64]] = collections.deque(
            maxlen=_AXES_STRIDES
        )
        self.reset()

    def reset(self) -> None:
        """Start afresh (a restart, a long loss): no samples, no filter."""
        self.n = 0  # samples held
        self.fed = 0  # samples through the filter (their flags settled)
        self.kf: ZuptFilter | None = None
        self.reported_end = -(2**62)  # counter_end of the last stride handed out
        self.t0, self.c0 = 0.0, 0  # time of counter c0 [s]: the shoe's clock anchor

    # ------------------------------------------------------------------ samples in

    def append(
        self,
        counter: npt.NDArray[np.int64],
        t: npt.NDArray[np.float64],
        imu: npt.NDArray[np.float64],
        pressure: npt.NDArray[np.float64] | None,
    ) -> None:
        if self.n and counter[0] <= self.counter[self.n - 1]:
            self.reset()  # the counter went back: a device restart
        fill = MAX_FILL_S * self.rate_hz
        prev = self.counter[self.n - 1] if self.n else counter[0] - 1
        jumps = np.diff(np.concatenate([[prev], counter])) - 1
        long = np.flatnonzero(jumps > fill)
        if len(long):  # a loss too long to fill: start afresh after the last one
            j = int(long[-1])
            self.reset()
            counter, t, imu = counter[j:], t[j:], imu[j:]
            pressure = None if pressure is None else pressure[j:]
        if not self.n:
            self.c0, self.t0 = int(counter[0]), float(t[0])
        # lost samples filled as the offline pass fills them, from the last one held
        held = slice(self.n - 1, self.n) if self.n else slice(0, 0)
        filled, received = uniform_samples(
            np.concatenate([self.counter[held], counter]), np.concatenate([self.imu[held], imu])
        )
        if self.n:
            filled, received = filled[1:], received[1:]
        grid = np.arange(counter[-1] + 1 - len(filled), counter[-1] + 1)
        m = len(grid)
        self._make_room(m)
        a, b = self.n, self.n + m
        self.counter[a:b] = grid
        self.t[a:b] = self.t0 + (grid - self.c0) / self.rate_hz
        self.imu[a:b] = filled
        self.received[a:b] = received
        self.rot[a:b], self.pos[a:b] = np.nan, np.nan
        if self.pressure is not None:
            self.pressure[a:b] = np.nan
            if pressure is not None:
                self.pressure[a + (counter - grid[0])] = pressure
        self.n = b

    def _make_room(self, m: int) -> None:
        cap = len(self.counter)
        if m > cap:  # more than the buffer at once (a backlog): keep the newest
            raise ValueError(f"{m} samples at once: more than the {BUFFER_S:g} s buffer")
        drop = self.n + m - cap
        if drop <= 0:
            return
        keep = slice(drop, self.n)
        for arr in (self.counter, self.t, self.imu, self.received, self.rest, self.rot,
                    self.pos, self.pressure):  # fmt: skip
            if arr is not None:
                arr[: self.n - drop] = arr[keep]
        self.n -= drop
        self.fed = max(0, self.fed - drop)
        first = self.counter[0]
        self.events = [e for e in self.events if e[1] >= first - _BEFORE_S * self.rate_hz]

    # ------------------------------------------------------------------ the filter

    def advance(self) -> None:
        """Run the filter over every sample whose rest flag has settled."""
        n = self.n
        if n < 2:
            return
        imu = self.imu[:n]
        end = settled(imu, self.rate_hz)
        if end <= self.fed:
            return
        rest = stance_mask(imu, self.rate_hz) & self.received[:n]
        self.rest[self.fed : end] = rest[self.fed : end]
        k0 = self.fed
        if self.kf is None:
            at = np.flatnonzero(self.rest[k0:end])
            if not len(at):
                self.fed = end
                return
            k0 += int(at[0])
            stop = k0 + int(np.argmin(self.rest[k0:end])) if not self.rest[k0:end].all() else end
            self.kf = ZuptFilter(self.rate_hz, imu[k0:stop, :3].mean(axis=0))
            self.rot[k0], self.pos[k0] = self.kf.rotation, self.kf.position
            k0 += 1
        kf, acc, gyr, flags = self.kf, imu[:, :3], imu[:, 3:], self.rest[:end].tolist()
        for k in range(k0, end):
            kf.step(acc[k - 1], gyr[k - 1], flags[k])
            self.rot[k], self.pos[k] = kf.rotation, kf.position
        self.fed = end

    # ------------------------------------------------------------------ strides out

    def closed(self) -> list[dict[str, Any]]:
        """The strides that closed since the last call, as ``own`` dicts of one stride
        each (:func:`~edge.strides.analysis.side_columns`)."""
        fed, rate = self.fed, self.rate_hz
        if self.kf is None or fed < 2:
            return []
        first, last = rest_runs(self.rest[:fed], rate)
        out = []
        for k in range(len(first) - 1):
            a, b = int(last[k]), int(first[k + 1])
            if self.counter[b] <= self.reported_end or b + CLOSE_S * rate > fed:
                continue
            self.reported_end = int(self.counter[b])
            if np.isnan(self.pos[a, 0]) or b - a > MAX_MOVE_S * rate:
                continue  # before the filter started, or two strides run together
            own = self._measure(int(first[k]), a, b)
            if own is not None:
                out.append(own)
        return out

    def _measure(self, f0: int, a: int, b: int) -> dict[str, Any] | None:
        lo = max(0, f0 - round(_BEFORE_S * self.rate_hz))
        hi = self.fed
        c_lo = self.counter[lo]
        hs = np.array(sorted(round(c) for k, c in self.events if k == "HS"), np.int64) - c_lo
        to = np.array(sorted(round(c) for k, c in self.events if k == "TO"), np.int64) - c_lo
        if ((hs > a - lo) & (hs <= b - lo)).sum() > 1:
            return None  # two heel strikes: a stance was missed
        rot = self.rot[lo:hi]
        d = self.pos[b, :2] - self.pos[a, :2]
        length = float(np.hypot(*d))
        if length > 0.2:  # this stride votes on the foot's axes (sensor frame)
            self.forward.append(self.rot[a].T @ np.array([d[0], d[1], 0.0]) / length)
        self.up.append(self.rot[a][2].copy())
        forward = np.median(self.forward, axis=0) if self.forward else np.array([1.0, 0, 0])
        try:
            axes = FootAxes(forward, np.median(self.up, axis=0))
        except ValueError:
            return None
        own = spatial_parameters(
            Trajectory(rot, np.zeros((hi - lo, 3)), self.pos[lo:hi]),
            self.imu[lo:hi], self.rate_hz,
            (np.array([f0 - lo, b - lo]), np.array([a - lo, b - lo])),
            heel_strikes=hs[(hs >= 0) & (hs < hi - lo)],
            toe_offs=to[(to >= 0) & (to < hi - lo)],
            geometry=self.geometry,
            pressure=None if self.pressure is None else self.pressure[lo:hi],
            axes=axes,
        )  # fmt: skip
        own["t_start_s"], own["t_end_s"] = self.t[[a]], self.t[[b]]
        own["counter_start"], own["counter_end"] = self.counter[[a]], self.counter[[b]]
        for key, idx in (("t_hs", "heel_strike"), ("t_to", "toe_off"), ("t_hs_prev", "hs_prev")):
            i = own[idx]
            own[key] = np.where(i >= 0, self.t0 + (c_lo + i - self.c0) / self.rate_hz, np.nan)
        own["bout_edge"] = np.zeros(1, bool)  # the bout rules need the whole bout: offline
        return own

    def event_times(self) -> dict[str, npt.NDArray[np.float64]]:
        """This shoe's events as times on the shared axis [s], increasing."""
        out = {}
        for kind, key in (("HS", "events_hs"), ("TO", "events_to")):
            c = np.array(sorted(x for k, x in self.events if k == kind), np.float64)
            out[key] = self.t0 + (c - self.c0) / self.rate_hz
        return out


class LiveStrides:
    """Forward-only stride analytics for the shoes of one live trial (module docstring).

    Parameters
    ----------
    geometry : FootGeometry, optional
        Heel and toe offsets (default :class:`FootGeometry`).
    """

    def __init__(self, geometry: FootGeometry | None = None) -> None:
        self.geometry = geometry or FootGeometry()
        self._tracks: dict[str, _Track] = {}
        #: The last reported stride of each side: a row (for the live status line).
        self.last: dict[str, dict[str, Any]] = {}

    def device(self, side: str, rate_hz: float, n_pressure: int = 0) -> None:
        """A shoe (again after a device restart: it starts afresh)."""
        self._tracks[side] = _Track(side, rate_hz, n_pressure, self.geometry)

    def samples(
        self,
        side: str,
        counter: npt.ArrayLike,
        t_host: npt.ArrayLike,
        imu: npt.ArrayLike,
        pressure: npt.ArrayLike | None = None,
    ) -> None:
        """n samples of one shoe: counter (n,), t_host (n,) [s], imu (n, 6) [m/s², rad/s],
        pressure (n, p) [kPa] or None. Only the host time of a shoe's first sample is used
        (it places the shoe on the shared axis); durations come from the sample clock."""
        track = self._tracks.get(side)
        c = np.asarray(counter, np.int64)
        if track is None or not len(c):
            return
        x = np.asarray(imu, np.float64)
        p = None if pressure is None else np.asarray(pressure, np.float64)
        keep = len(track.counter) // 2
        if len(c) > keep:  # a backlog longer than the buffer: the newest part only
            c, x, p = c[-keep:], x[-keep:], None if p is None else p[-keep:]
            t_host = np.asarray(t_host)[-keep:]
        track.append(c, np.asarray(t_host, np.float64), x, p)

    def event(self, side: str, kind: str, counter_at: float) -> None:
        """A gait event (``"HS"`` / ``"TO"``) at ``counter_at`` [samples]."""
        track = self._tracks.get(side)
        if track is not None:
            track.events.append((kind, float(counter_at)))

    def poll(self) -> list[dict[str, Any]]:
        """Run the filters on what arrived; the strides closed since the last poll, as rows
        (columns of :class:`~edge.strides.analysis.StrideTable`), in time order per side."""
        rows: list[dict[str, Any]] = []
        for side, track in self._tracks.items():
            track.advance()
            closed = track.closed()
            if not closed:
                continue
            own = {k: np.concatenate([c[k] for c in closed]) for k in closed[0]}
            other = next((t.event_times() for s, t in self._tracks.items() if s != side), None)
            cols = side_columns(side, own, other)
            keys = list(cols)
            for i in range(len(cols["side"])):
                rows.append({k: cols[k][i].item() for k in keys})
        for row in rows:
            self.last[row["side"]] = row
        return rows

    def status(self) -> dict[str, dict[str, Any]]:
        """Per side, the last reported stride's row (empty until one closed)."""
        return self.last
