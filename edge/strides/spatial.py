"""Spatial, angular, impact and pressure parameters of each stride, from the foot's trajectory.

A stride here runs from the last zero-velocity sample of one rest (the foot flat before
push-off) to the first of the next (the foot flat again after landing): the movement
between two stances, as gaitmap's mid-stance ("min_vel") strides. Both ends are anchored
by the zero-velocity update, so the displacement between them is the stride length
whatever happened in between. A stride's heel strike and toe-off are the gait events
that fall inside it (± :data:`EVENT_MARGIN_S`).

Foot axes. The foot's forward axis in the sensor frame is estimated once per foot from
the walk itself: the median, over strides, of the horizontal direction of travel seen in
the sensor frame at the stride's start (the foot points where it goes, to within its
toe-out angle, which cancels in pitch); the up axis is the median of gravity's direction
at those foot-flat samples. So any mounting works without a calibration pose.

Definitions (all relative to the foot flat at the stride's start):

- ``stride_length_m``: horizontal distance the heel point moved (:mod:`edge.strides.geometry`);
- ``gait_speed_mps``: ``stride_length_m`` over the stride time (heel strike to heel
  strike of this foot when both are known, otherwise from the start of the stance before
  the stride to the start of the one after it);
- ``strike_angle_deg``, ``toe_off_angle_deg``: foot pitch at heel strike and toe-off,
  positive toes up (so strike > 0, toe-off < 0 in walking);
- ``strike_class``: ``rearfoot`` above 8°, ``forefoot`` below −1.6°, else ``midfoot``
  (Altman & Davis 2012, Gait Posture 35(2):298–300, foot-strike angle thresholds);
- ``max_heel_clearance_m``, ``max_toe_clearance_m``: highest heel / toe point in swing
  (toe-off to heel strike; the whole stride when the events are missing) above its
  height at the start;
- ``min_toe_clearance_m``: the lowest toe point between its first and last local maxima
  in swing (NaN when there are fewer than two), the "MTC" of the gait literature;
- ``lateral_excursion_m``: the sensor's largest horizontal distance from the straight
  line between the stride's ends;
- ``turning_angle_deg``: change of the foot's heading over the stride, positive to the left;
- ``roll_range_deg``: range of the foot's roll (rotation about its long axis) over the
  stance that ends in this stride's toe-off (the previous heel strike to it);
- ``peak_roll_velocity_dps``: the largest absolute angular rate about the long axis in
  that stance [deg/s];
- ``impact_peak_acc_mps2``: the largest ``|a|`` from 50 ms before to 150 ms after the heel
  strike; ``impact_loading_rate_mps3``: its rise from the heel strike to that peak over
  the time it took;
- ``peak_pressure_kpa``: the highest cell reading in that stance; ``stance_impulse_kpa_s``:
  the time integral of the mean over cells in that stance (both NaN without pressure).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.strides.geometry import FootGeometry
from edge.strides.trajectory import Trajectory

__all__ = [
    "EVENT_MARGIN_S",
    "SPATIAL_COLUMNS",
    "FootAxes",
    "foot_axes",
    "pitch_deg",
    "spatial_parameters",
    "strike_class",
]

F64 = npt.NDArray[np.float64]

#: How far outside a stride a heel strike or toe-off may fall and still be its own [s]
#: (model events and rest borders each have tens of ms of jitter).
EVENT_MARGIN_S = 0.1

#: The float parameters :func:`spatial_parameters` returns, in order.
SPATIAL_COLUMNS = (
    "stride_length_m",
    "gait_speed_mps",
    "strike_angle_deg",
    "toe_off_angle_deg",
    "max_heel_clearance_m",
    "max_toe_clearance_m",
    "min_toe_clearance_m",
    "lateral_excursion_m",
    "turning_angle_deg",
    "roll_range_deg",
    "peak_roll_velocity_dps",
    "impact_peak_acc_mps2",
    "impact_loading_rate_mps3",
    "peak_pressure_kpa",
    "stance_impulse_kpa_s",
)

#: Foot-strike angle thresholds [deg] (Altman & Davis 2012).
REARFOOT_ABOVE_DEG = 8.0
FOREFOOT_BELOW_DEG = -1.6


def strike_class(angle_deg: float) -> str:
    """``"rearfoot"``, ``"midfoot"`` or ``"forefoot"`` for a strike angle; ``""`` for NaN."""
    if not math.isfinite(angle_deg):
        return ""
    if angle_deg > REARFOOT_ABOVE_DEG:
        return "rearfoot"
    return "forefoot" if angle_deg < FOREFOOT_BELOW_DEG else "midfoot"


class FootAxes:
    """The foot's forward, left and up axes in the sensor frame, unit (3,) each."""

    __slots__ = ("forward", "left", "up")

    def __init__(self, forward: F64, up: F64) -> None:
        up = up / np.linalg.norm(up)
        forward = forward - forward @ up * up
        norm = np.linalg.norm(forward)
        if not norm > 1e-6:
            raise ValueError("the foot's forward axis is vertical: the trajectory is unusable")
        self.up = up
        self.forward = forward / norm
        self.left = np.cross(self.up, self.forward)

    def in_sensor(self, offset: tuple[float, float, float]) -> F64:
        """A (forward, left, up) offset in the foot frame as a sensor-frame vector, (3,)."""
        return offset[0] * self.forward + offset[1] * self.left + offset[2] * self.up


def foot_axes(
    traj: Trajectory, starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64]
) -> FootAxes:
    """Estimate the foot's axes from its strides ``starts[i] → ends[i]`` (module docstring).

    Strides shorter than 0.2 m (shuffles, standing) do not vote; with none left, the
    sensor's x axis is taken as forward. (Tried: the principal axis of the angular rate
    in swing as the mediolateral axis; it put the toe-off angle 0.6° further from the
    motion capture on gaitmap-example.)
    """
    rot_a = traj.rotation[starts]  # (k, 3, 3) sensor → world
    up = np.median(rot_a[:, 2, :], axis=0) if len(starts) else np.array([0.0, 0.0, 1.0])
    d = traj.position[ends] - traj.position[starts]
    d[:, 2] = 0.0
    length = np.linalg.norm(d, axis=1)
    ok = length > 0.2
    if ok.any():
        direction = d[ok] / length[ok, None]
        forward = np.median(np.einsum("kji,kj->ki", rot_a[ok], direction), axis=0)
    else:
        forward = np.array([1.0, 0.0, 0.0])
    return FootAxes(forward, up)


def _events_in(
    events: npt.NDArray[np.int64], lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per window [lo, hi]: the first event inside (−1 if none) and how many there are."""
    if not len(events):
        return np.full(len(lo), -1, np.int64), np.zeros(len(lo), np.int64)
    first = np.searchsorted(events, lo, side="left")
    count = (np.searchsorted(events, hi, side="right") - first).astype(np.int64)
    return np.where(count > 0, events[np.minimum(first, len(events) - 1)], -1), count


def pitch_deg(rotation: F64, forward: F64) -> F64:
    """Elevation of a sensor-frame axis above the horizontal [deg], (...,): the foot's
    pitch for its forward axis, its roll for its left axis."""
    z = np.clip(rotation[..., 2, :] @ forward, -1.0, 1.0)
    return np.degrees(np.arcsin(z))


def _local_maxima(z: F64) -> npt.NDArray[np.int64]:
    """Indices of strict interior local maxima of ``z`` (plateaus count once)."""
    if len(z) < 3:
        return np.zeros(0, np.int64)
    dz = np.sign(np.diff(z))
    # carry a flat step's sign from the last non-flat one so plateaus count once
    nz = np.flatnonzero(dz)
    if not len(nz):
        return np.zeros(0, np.int64)
    filled = dz[nz[np.maximum(np.searchsorted(nz, np.arange(len(dz)), side="right") - 1, 0)]]
    return (np.flatnonzero((filled[:-1] > 0) & (dz[1:] < 0)) + 1).astype(np.int64)


def spatial_parameters(
    traj: Trajectory,
    imu: npt.ArrayLike,
    rate_hz: float,
    stances: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
    axes: FootAxes,
    *,
    heel_strikes: npt.ArrayLike | None = None,
    toe_offs: npt.ArrayLike | None = None,
    geometry: FootGeometry | None = None,
    pressure: npt.ArrayLike | None = None,
) -> dict[str, Any]:
    """Every parameter of the module docstring for the strides between stances.

    Parameters
    ----------
    traj : Trajectory
        The foot's trajectory (:func:`~edge.strides.trajectory.smoothed_trajectory`).
    imu : array_like, shape (n, 6)
        The samples it came from: acc [m/s²] then gyro [rad/s].
    rate_hz : float
        Sample rate [Hz].
    stances : (first, last), each ndarray of shape (k + 1,), int64
        The stances (:func:`~edge.strides.zupt.rest_runs`); stride ``i`` moves from
        ``last[i]`` to ``first[i + 1]``, and stance ``i`` is its foot flat: the zero of its
        pitch and heights.
    axes : FootAxes
        The foot's axes (:func:`foot_axes`; live, a running median over its strides).
    heel_strikes, toe_offs : array_like of int, optional
        Event sample indices of this foot, increasing. Without them the angles at the
        events, roll, impact and pressure are NaN and clearances span the whole stride.
    geometry : FootGeometry, optional
        Heel and toe offsets; default :class:`FootGeometry` (EU 42 on the dorsum).
    pressure : array_like, shape (n, p), optional
        Cell pressures [kPa], NaN = no reading.

    Returns
    -------
    dict
        ``start``, ``end``: (k,) int64, each stride's first and last sample (both at
        rest); each of :data:`SPATIAL_COLUMNS` as (k,) float64; ``strike_class`` (k,) str;
        ``heel_strike`` and ``toe_off``: (k,) int64 sample of the stride's events, −1 if
        none; ``hs_prev``: the heel strike that began the stance before it, −1 if none.
    """
    x = np.asarray(imu, dtype=np.float64)
    geo = geometry or FootGeometry()
    flat_first, flat_last = stances
    starts, ends = flat_last[:-1], flat_first[1:]
    k = len(starts)
    heel = traj.position + traj.rotation @ axes.in_sensor(geo.heel_m)
    toe = traj.position + traj.rotation @ axes.in_sensor(geo.toe_m)
    pitch = pitch_deg(traj.rotation, axes.forward)
    roll = pitch_deg(traj.rotation, axes.left)
    roll_rate = np.degrees(x[:, 3:] @ axes.forward)
    acc_norm = np.linalg.norm(x[:, :3], axis=1)
    p = None if pressure is None else np.asarray(pressure, dtype=np.float64)

    margin = round(EVENT_MARGIN_S * rate_hz)
    hs_all = np.asarray(heel_strikes if heel_strikes is not None else [], dtype=np.int64)
    to_all = np.asarray(toe_offs if toe_offs is not None else [], dtype=np.int64)
    hs, _ = _events_in(hs_all, starts + 1, ends + margin)
    to, _ = _events_in(to_all, starts - margin, ends - 1)
    prev_i = np.searchsorted(hs_all, starts, side="right") - 1 if len(hs_all) else None
    hs_prev = (
        np.where(prev_i >= 0, hs_all[np.maximum(prev_i, 0)], -1)
        if prev_i is not None
        else np.full(k, -1, np.int64)
    )
    # a toe-off must come before the heel strike it pairs with
    to = np.where((to >= 0) & (hs >= 0) & (to >= hs), -1, to)

    nan = np.full(k, np.nan)
    out: dict[str, Any] = {c: nan.copy() for c in SPATIAL_COLUMNS}
    d = heel[ends, :2] - heel[starts, :2]
    out["stride_length_m"] = np.hypot(d[:, 0], d[:, 1])
    period = np.diff(flat_first) / rate_hz  # stance start to stance start
    stride_s = np.where((hs >= 0) & (hs_prev >= 0), (hs - hs_prev) / rate_hz, period)
    out["gait_speed_mps"] = out["stride_length_m"] / stride_s
    # the foot flat: means over the stance before the stride
    # (NaN before the first rest, where nothing anchors the trajectory: kept out of the sums)
    flat_vals = np.nan_to_num(np.stack([pitch, heel[:, 2], toe[:, 2]], 1))
    csum = np.concatenate([np.zeros((1, 3)), np.cumsum(flat_vals, 0)])
    flat = (csum[starts + 1] - csum[flat_first[:-1]]) / (starts + 1 - flat_first[:-1])[:, None]
    p0, heel0, toe0 = flat[:, 0], flat[:, 1], flat[:, 2]
    out["strike_angle_deg"] = np.where(hs >= 0, pitch[np.maximum(hs, 0)] - p0, np.nan)
    out["toe_off_angle_deg"] = np.where(to >= 0, pitch[np.maximum(to, 0)] - p0, np.nan)
    fwd_world = traj.rotation @ axes.forward  # (n, 3)
    yaw = np.degrees(np.arctan2(fwd_world[:, 1], fwd_world[:, 0]))
    out["turning_angle_deg"] = (yaw[ends] - yaw[starts] + 180.0) % 360.0 - 180.0

    n = len(x)
    for i in range(k):
        a, b = int(starts[i]), int(ends[i])
        s0 = int(to[i]) if to[i] >= 0 else a
        s1 = int(hs[i]) if hs[i] >= 0 else b
        swing = slice(s0, s1 + 1)
        out["max_heel_clearance_m"][i] = (heel[swing, 2] - heel0[i]).max()
        tz = toe[swing, 2] - toe0[i]
        out["max_toe_clearance_m"][i] = tz.max()
        peaks = _local_maxima(tz)
        if len(peaks) >= 2:
            out["min_toe_clearance_m"][i] = tz[peaks[0] : peaks[-1] + 1].min()
        line = traj.position[b, :2] - traj.position[a, :2]
        length = math.hypot(*line)
        if length > 1e-3:
            rel = traj.position[a : b + 1, :2] - traj.position[a, :2]
            out["lateral_excursion_m"][i] = np.abs(rel @ [-line[1], line[0]]).max() / length
        if hs_prev[i] >= 0 and to[i] > hs_prev[i]:
            stance = slice(int(hs_prev[i]), int(to[i]) + 1)
            out["roll_range_deg"][i] = np.ptp(roll[stance])
            out["peak_roll_velocity_dps"][i] = np.abs(roll_rate[stance]).max()
            if p is not None and np.isfinite(p[stance]).any():
                out["peak_pressure_kpa"][i] = np.nanmax(p[stance])
                ok = np.isfinite(p[stance])
                cells = np.maximum(ok.sum(axis=1), 1)
                cell_mean = np.where(ok, p[stance], 0.0).sum(axis=1) / cells
                out["stance_impulse_kpa_s"][i] = cell_mean.sum() / rate_hz
        if hs[i] >= 0:
            h = int(hs[i])
            lo, hi = max(0, h - round(0.05 * rate_hz)), min(n, h + round(0.15 * rate_hz) + 1)
            j = lo + int(np.argmax(acc_norm[lo:hi]))
            out["impact_peak_acc_mps2"][i] = acc_norm[j]
            if j > h:
                out["impact_loading_rate_mps3"][i] = (acc_norm[j] - acc_norm[h]) * rate_hz / (j - h)
    out["strike_class"] = np.array([strike_class(v) for v in out["strike_angle_deg"]])
    out["heel_strike"], out["toe_off"], out["hs_prev"] = hs, to, hs_prev
    out["start"], out["end"] = starts, ends
    return out
