"""Every stride of a trial measured: the per-stride table of both feet and its summary.

Input per foot is a :class:`FootRecording` (samples on the foot's own sample clock, gait
events as sample indices, the time of sample 0 on the trial's shared time axis); output
is a :class:`StrideTable`, one row per stride, columns named with their units.

Pipeline per foot: lost samples filled by linear interpolation
(:func:`uniform_samples`) → zero-velocity samples (:func:`~edge.strides.zupt.stance_mask`)
→ trajectory (:func:`~edge.strides.trajectory.smoothed_trajectory`; forward-only when
``smooth=False``) → stances (:func:`~edge.strides.zupt.rest_runs`) → spatial parameters
(:func:`~edge.strides.spatial.spatial_parameters`). Then, with both feet on the shared
time axis, the temporal parameters (:data:`TEMPORAL_COLUMNS`).

Temporal definitions (a stride's own heel strike ``hs``, its toe-off ``to`` and the heel
strike ``hs_prev`` that began the stance before it, all of this foot):
``stride_time_s = hs − hs_prev``; ``stance_time_s = to − hs_prev``;
``swing_time_s = hs − to``; ``stance_pct``, ``swing_pct`` of the stride time;
``cadence_spm = 120 / stride_time_s`` (steps per minute, two steps a stride);
``step_time_s``: from the other foot's last heel strike before ``hs`` to ``hs``;
``double_support_time_s``: how long, within ``hs_prev … to``, the other foot was on the
ground too (its heel strike to its next toe-off), and ``double_support_pct`` of the stride
time. NaN where an event is missing.

Which strides are kept at all (the rest are counted, never stored):

- a stride across lost samples (a filled run longer than :data:`MAX_FILL_S`): its
  integration is a guess;
- a stride moving for longer than :data:`MAX_MOVE_S`, or holding two heel strikes: a
  stance was missed and two strides ran together.

Steady walking (``steady``, what the summary averages), each rule a column of its own
reason: ``|turning_angle_deg| ≤`` :data:`TURN_DEG` (not a turn); ``stride_length_m ≥``
:data:`MIN_STRIDE_M` (not a shuffle while standing); not the first nor the last stride of
a walking bout (gait initiation and termination), a bout ending where the foot stands
longer than :data:`MAX_STANCE_S` or at a dropped stride.

Summary (:func:`summarise`): per foot and parameter, mean, SD (n − 1) and CV
(SD / |mean|) over steady strides; per parameter the symmetry index
``SI = 100 · (L − R) / ((L + R) / 2)`` of the two feet's means (Robinson et al. 1987,
J Manipulative Physiol Ther 10(4):172–176), NaN where the mean of both is near 0, and
not given for the parameters that cross zero (turning angle, minimum toe clearance), nor
is their CV.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from edge.strides.geometry import FootGeometry
from edge.strides.spatial import (
    SPATIAL_COLUMNS,
    FootAxes,
    foot_axes,
    pitch_deg,
    spatial_parameters,
)
from edge.strides.trajectory import Trajectory, smoothed_trajectory
from edge.strides.zupt import rest_runs, runs, stance_mask

__all__ = [
    "CURVES",
    "CURVE_POINTS",
    "FLOAT_COLUMNS",
    "TEMPORAL_COLUMNS",
    "FootMotion",
    "FootRecording",
    "StrideTable",
    "foot_motion",
    "side_columns",
    "summarise",
    "temporal_parameters",
    "trial_strides",
    "uniform_samples",
]

F64 = npt.NDArray[np.float64]

#: Longest run of filled-in (lost) samples a stride may hold [s].
MAX_FILL_S = 0.1
#: Longest movement between two stances that is one stride [s].
MAX_MOVE_S = 2.0
#: A stance longer than this [s] is standing: it ends a walking bout.
MAX_STANCE_S = 2.0
#: A stride turning more than this [deg] is a turn.
TURN_DEG = 20.0
#: A stride shorter than this [m] is a shuffle, not steady walking.
MIN_STRIDE_M = 0.3

#: Temporal parameters, per stride.
TEMPORAL_COLUMNS = (
    "stride_time_s",
    "stance_time_s",
    "swing_time_s",
    "stance_pct",
    "swing_pct",
    "cadence_spm",
    "step_time_s",
    "double_support_time_s",
    "double_support_pct",
)
#: Gait-cycle curves (:func:`trial_strides` with ``curves=True``): foot pitch and roll
#: [deg], the angular rate about the foot's mediolateral axis [deg/s, positive toes up],
#: ``|a|`` [m/s²] and the gait model's stance output [0–1].
CURVES = ("foot_pitch_deg", "foot_roll_deg", "sagittal_rate_dps", "acc_norm_mps2", "stance_prob")
#: Points of a gait-cycle curve: 0, 1, …, 100 % of the cycle.
CURVE_POINTS = 101
#: Every float parameter of a stride row, in table order.
FLOAT_COLUMNS = TEMPORAL_COLUMNS + SPATIAL_COLUMNS
#: Parameters that cross zero: a ratio to their mean (CV, symmetry index) says nothing.
_CROSSES_ZERO = ("turning_angle_deg", "min_toe_clearance_m")


@dataclasses.dataclass(frozen=True, slots=True)
class FootRecording:
    """One foot's samples and events.

    Attributes
    ----------
    side : {"L", "R"}
    rate_hz : float
        Sample rate [Hz].
    counter : ndarray, shape (n,), int64
        Sample counter, increasing; a missing value is a lost sample.
    imu : ndarray, shape (n, 6)
        acc [m/s², gravity included] then gyro [rad/s], sensor frame.
    t0_s : float
        Time of ``counter == counter[0]`` on the trial's shared time axis [s]; sample
        ``i`` is at ``t0_s + (counter[i] − counter[0]) / rate_hz``: durations come from
        the device's own sample clock, the host clock only places the piece on the
        shared axis (a replay at 4× real time compresses host time, not strides).
    heel_strikes, toe_offs : ndarray, shape (k,), int64
        Event times as counter values (empty: unknown).
    pressure : ndarray, shape (n, p), optional
        Cell pressures [kPa], NaN = no reading.
    stance_prob : ndarray, shape (n,), optional
        The gait model's stance output per sample (0–1), for its gait-cycle curve.
    """

    side: Literal["L", "R"]
    rate_hz: float
    counter: npt.NDArray[np.int64]
    imu: npt.NDArray[np.floating[Any]]
    t0_s: float = 0.0
    heel_strikes: npt.NDArray[np.int64] = dataclasses.field(
        default_factory=lambda: np.zeros(0, np.int64)
    )
    toe_offs: npt.NDArray[np.int64] = dataclasses.field(
        default_factory=lambda: np.zeros(0, np.int64)
    )
    pressure: npt.NDArray[np.floating[Any]] | None = None
    stance_prob: npt.NDArray[np.floating[Any]] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class StrideTable:
    """Every kept stride of a trial, both feet, in time order per foot.

    Attributes
    ----------
    columns : dict of str to ndarray, each shape (k,)
        ``side`` (str), ``t_start_s``, ``t_end_s`` (shared time axis [s]),
        ``counter_start``, ``counter_end`` (the foot's counter, int64), every one of
        :data:`FLOAT_COLUMNS` (float64), ``strike_class`` (str), ``steady`` (bool) and
        the reasons a stride is not steady: ``turn``, ``short``, ``bout_edge`` (bool).
    dropped : dict of str to int
        Per reason (``"lost samples"``, ``"merged strides"``) and foot (``"L: …"``), how
        many strides were left out.
    smoothed : bool
        Whether the trajectory was smoothed (offline) or forward only (live).
    curves : dict of str to ndarray, shape (k, CURVE_POINTS)
        With ``curves=True``: each stride's gait cycle (its previous heel strike to its own,
        0–100 %) of every one of :data:`CURVES`, row by row with ``columns``; NaN rows
        where an event is missing. Empty otherwise.
    """

    columns: dict[str, npt.NDArray[Any]]
    dropped: dict[str, int]
    smoothed: bool
    curves: dict[str, npt.NDArray[np.float64]] = dataclasses.field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.columns["side"])

    def rows(self) -> list[dict[str, Any]]:
        """One dict per stride, plain Python values (NaN for a missing float)."""
        keys = list(self.columns)
        cols = [self.columns[k].tolist() for k in keys]
        return [dict(zip(keys, vals, strict=True)) for vals in zip(*cols, strict=True)]


def uniform_samples(
    counter: npt.ArrayLike, values: npt.ArrayLike
) -> tuple[F64, npt.NDArray[np.bool_]]:
    """Samples on every counter value from the first to the last, lost ones interpolated.

    Parameters
    ----------
    counter : array_like, shape (n,), int
        Increasing counter values.
    values : array_like, shape (n, c)
        The samples.

    Returns
    -------
    filled : ndarray, shape (counter[-1] − counter[0] + 1, c), float64
    received : ndarray, shape (same,), bool
        False where a sample was filled in.
    """
    c = np.asarray(counter, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    if len(c) == 0:
        return np.zeros((0, v.shape[1] if v.ndim == 2 else 0)), np.zeros(0, bool)
    grid = np.arange(c[0], c[-1] + 1)
    received = np.zeros(len(grid), bool)
    received[c - c[0]] = True
    if received.all():
        return v.copy(), received
    filled = np.empty((len(grid), v.shape[1]))
    for j in range(v.shape[1]):
        filled[:, j] = np.interp(grid, c, v[:, j])
    return filled, received


def _longest_fill(received: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Per sample, the length of the run of filled samples it is in (0 if received)."""
    out = np.zeros(len(received), np.int64)
    for s, e in zip(*runs(~received), strict=True):
        out[s:e] = e - s
    return out


def _segmented_trajectory(
    imu: F64, rate_hz: float, rest: npt.NDArray[np.bool_], lost: npt.NDArray[np.bool_], smooth: bool
) -> Trajectory:
    """The trajectory, restarted after every long run of lost samples (``lost``).

    Integrating through a filled-in swing leaves the orientation wrong for many strides
    after it; restarting at the next rest (orientation from gravity again) does not. Each
    piece's position starts at 0; samples of a piece with no rest are NaN.
    """
    n = len(imu)
    rot = np.full((n, 3, 3), np.nan)
    vel = np.full((n, 3), np.nan)
    pos = np.full((n, 3), np.nan)
    for a, b in zip(*runs(~lost), strict=True):  # the pieces between long losses
        if rest[a:b].any():
            t = smoothed_trajectory(imu[a:b], rate_hz, rest[a:b], smooth=smooth)
            rot[a:b], vel[a:b], pos[a:b] = t.rotation, t.velocity, t.position
    return Trajectory(rot, vel, pos)


def _cycle_curves(
    imu: F64,
    traj: Trajectory,
    axes: FootAxes,
    start: npt.NDArray[np.int64],
    end: npt.NDArray[np.int64],
    stance: F64 | None,
) -> dict[str, F64]:
    """``curve_<name>`` (k, CURVE_POINTS) for the cycles ``start[i] → end[i]`` (samples;
    NaN rows where either is −1), each signal linearly interpolated onto 0–100 %."""
    signals = {
        "foot_pitch_deg": pitch_deg(traj.rotation, axes.forward),
        "foot_roll_deg": pitch_deg(traj.rotation, axes.left),
        "sagittal_rate_dps": -np.degrees(imu[:, 3:] @ axes.left),
        "acc_norm_mps2": np.linalg.norm(imu[:, :3], axis=1),
        "stance_prob": stance[:, 0] if stance is not None else np.full(len(imu), np.nan),
    }
    k = len(start)
    out = {f"curve_{name}": np.full((k, CURVE_POINTS), np.nan) for name in CURVES}
    frac = np.linspace(0.0, 1.0, CURVE_POINTS)
    grid = np.arange(len(imu))
    for i in range(k):
        if start[i] < 0 or end[i] <= start[i]:
            continue
        at = start[i] + frac * (end[i] - start[i])
        for name, sig in signals.items():
            out[f"curve_{name}"][i] = np.interp(at, grid, sig)
    return out


class FootMotion(NamedTuple):
    """One foot's samples and the trajectory pass over them (:func:`foot_motion`).

    Attributes
    ----------
    imu : ndarray, shape (n, 6)
        On every counter value from the first to the last, lost samples filled.
    received : ndarray, shape (n,), bool
        False where a sample was filled in.
    long_fill : ndarray, shape (n,), bool
        Inside a run of filled samples longer than :data:`MAX_FILL_S`.
    rest : ndarray, shape (n,), bool
        Zero-velocity samples.
    stances : (first, last)
        :func:`~edge.strides.zupt.rest_runs`; at least two.
    traj : Trajectory
        Restarted after every long loss.
    axes : FootAxes
        The foot's axes estimated from its strides.
    """

    imu: F64
    received: npt.NDArray[np.bool_]
    long_fill: npt.NDArray[np.bool_]
    rest: npt.NDArray[np.bool_]
    stances: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]
    traj: Trajectory
    axes: FootAxes


def foot_motion(rec: FootRecording, *, smooth: bool = True) -> FootMotion | None:
    """The trajectory pass over one foot's recording (module docstring: the pipeline up to
    the parameters); None with fewer than two stances (no stride to measure)."""
    imu, received = uniform_samples(rec.counter, rec.imu)
    if not len(imu):
        return None
    rest = stance_mask(imu, rec.rate_hz) & received
    stances = rest_runs(rest, rec.rate_hz)
    if len(stances[0]) < 2:
        return None
    long_fill = _longest_fill(received) > MAX_FILL_S * rec.rate_hz
    traj = _segmented_trajectory(imu, rec.rate_hz, rest, long_fill, smooth)
    axes = foot_axes(traj, stances[1][:-1], stances[0][1:])
    return FootMotion(imu, received, long_fill, rest, stances, traj, axes)


def _foot(
    rec: FootRecording, geometry: FootGeometry | None, smooth: bool, curves: bool = False
) -> tuple[dict[str, Any], dict[str, int]]:
    """Spatial rows of one foot plus its event times (and ``curve_<name>`` rows); and what
    was dropped."""
    dropped = {f"{rec.side}: lost samples": 0, f"{rec.side}: merged strides": 0}
    motion = foot_motion(rec, smooth=smooth)
    if motion is None:
        return {}, dropped
    imu, traj, axes, stances = motion.imu, motion.traj, motion.axes, motion.stances
    n = len(imu)
    c0 = int(rec.counter[0])
    pressure = None
    if rec.pressure is not None:
        pressure, _ = uniform_samples(rec.counter, rec.pressure)
    hs_idx = np.asarray(rec.heel_strikes, np.int64) - c0
    to_idx = np.asarray(rec.toe_offs, np.int64) - c0
    hs_idx = np.sort(hs_idx[(hs_idx >= 0) & (hs_idx < n)])
    to_idx = np.sort(to_idx[(to_idx >= 0) & (to_idx < n)])
    out = spatial_parameters(
        traj,
        imu,
        rec.rate_hz,
        stances,
        heel_strikes=hs_idx,
        toe_offs=to_idx,
        geometry=geometry,
        pressure=pressure,
        axes=axes,
    )
    a, b = out["start"], out["end"]
    if curves:
        stance = None
        if rec.stance_prob is not None:
            stance, _ = uniform_samples(rec.counter, np.asarray(rec.stance_prob)[:, None])
        out.update(_cycle_curves(imu, traj, axes, out["hs_prev"], out["heel_strike"], stance))
    csum_fill = np.concatenate([[0], np.cumsum(motion.long_fill)])
    gap = csum_fill[b + 1] - csum_fill[a] > 0
    n_hs = np.searchsorted(hs_idx, b, side="right") - np.searchsorted(hs_idx, a, side="right")
    merged = ((b - a) > MAX_MOVE_S * rec.rate_hz) | (n_hs > 1)
    dropped[f"{rec.side}: lost samples"] = int(gap.sum())
    dropped[f"{rec.side}: merged strides"] = int((merged & ~gap).sum())
    keep = ~gap & ~merged
    stance_s = (stances[1] - stances[0] + 1) / rec.rate_hz
    # a bout edge: the stance before or after the stride is standing, or a neighbour dropped
    long_before = stance_s[:-1] > MAX_STANCE_S
    long_after = stance_s[1:] > MAX_STANCE_S
    prev_dropped = np.concatenate([[True], ~keep[:-1]])
    next_dropped = np.concatenate([~keep[1:], [True]])
    out["bout_edge"] = long_before | long_after | prev_dropped | next_dropped
    times = rec.t0_s + np.arange(n) / rec.rate_hz
    to_time = lambda i: np.where(i >= 0, times[np.maximum(i, 0)], np.nan)  # noqa: E731
    out["t_hs"] = to_time(out["heel_strike"])
    out["t_to"] = to_time(out["toe_off"])
    out["t_hs_prev"] = to_time(out["hs_prev"])
    out["t_start_s"] = times[a]
    out["t_end_s"] = times[b]
    out["counter_start"] = a + c0
    out["counter_end"] = b + c0
    kept = {k: v[keep] for k, v in out.items()}
    kept["events_hs"] = times[hs_idx]
    kept["events_to"] = times[to_idx]
    return kept, dropped


def temporal_parameters(own: dict[str, Any], other: dict[str, Any] | None) -> dict[str, F64]:
    """:data:`TEMPORAL_COLUMNS` of one foot's strides (module docstring).

    ``own``: ``t_hs``, ``t_to``, ``t_hs_prev`` (k,) [s, NaN if unknown] per stride;
    ``other``: the other foot's ``events_hs``, ``events_to`` (increasing times [s]) or None.
    """
    hs, to, prev = own["t_hs"], own["t_to"], own["t_hs_prev"]
    stride = hs - prev
    out = {
        "stride_time_s": stride,
        "stance_time_s": to - prev,
        "swing_time_s": hs - to,
    }
    with np.errstate(invalid="ignore", divide="ignore"):
        out["stance_pct"] = 100.0 * out["stance_time_s"] / stride
        out["swing_pct"] = 100.0 * out["swing_time_s"] / stride
        out["cadence_spm"] = 120.0 / stride
    k = len(hs)
    step = np.full(k, np.nan)
    ds = np.full(k, np.nan)
    if other is not None and len(other.get("events_hs", [])):
        ohs, oto = other["events_hs"], other["events_to"]
        j = np.searchsorted(ohs, hs, side="left") - 1
        okj = (j >= 0) & np.isfinite(hs)
        step[okj] = hs[okj] - ohs[j[okj]]
        step[okj & (step > stride)] = np.nan  # no heel strike of the other foot in between
        # the other foot's stance intervals: each heel strike to its next toe-off (none:
        # it stood to the end), and from the start to a first toe-off with no heel
        # strike before it
        nxt = np.searchsorted(oto, ohs, side="right")
        s_lo = ohs
        s_hi = np.where(nxt < len(oto), oto[np.minimum(nxt, len(oto) - 1)], np.inf)
        if len(oto) and (not len(ohs) or oto[0] < ohs[0]):
            s_lo, s_hi = np.append(-np.inf, s_lo), np.append(oto[0], s_hi)
        for i in range(k):
            if np.isfinite(prev[i]) and np.isfinite(to[i]):
                overlap = np.minimum(s_hi, to[i]) - np.maximum(s_lo, prev[i])
                ds[i] = overlap[overlap > 0].sum()
    out["step_time_s"] = step
    out["double_support_time_s"] = ds
    with np.errstate(invalid="ignore", divide="ignore"):
        out["double_support_pct"] = 100.0 * ds / stride
    return out


def trial_strides(
    feet: Sequence[FootRecording],
    *,
    geometry: FootGeometry | dict[str, FootGeometry] | None = None,
    smooth: bool = True,
    curves: bool = False,
) -> StrideTable:
    """The stride table of a trial (module docstring).

    Parameters
    ----------
    feet : sequence of FootRecording
        One or two feet (temporal parameters between feet need both); a foot may come
        as several recordings in time order (pieces between device restarts).
    geometry : FootGeometry or dict of side to FootGeometry, optional
        Heel and toe offsets (default: :class:`FootGeometry`).
    smooth : bool
        ``False``: the forward filter only (what the live loop has).
    curves : bool
        Also each stride's gait-cycle curves (:attr:`StrideTable.curves`).
    """
    per_side: dict[str, dict[str, Any]] = {}
    dropped: dict[str, int] = {}
    for rec in feet:  # a side may come in pieces (a device restart): their rows join
        geo = geometry.get(rec.side) if isinstance(geometry, dict) else geometry
        rows, d = _foot(rec, geo, smooth, curves)
        for k, v in d.items():
            dropped[k] = dropped.get(k, 0) + v
        if not rows:
            continue
        have = per_side.get(rec.side)
        per_side[rec.side] = (
            rows if have is None else {k: np.concatenate([have[k], rows[k]]) for k in rows}
        )
    parts = [
        side_columns(side, own, next((v for s, v in per_side.items() if s != side), None))
        for side, own in per_side.items()
    ]
    if not parts:
        columns = _empty_columns()
    else:
        columns = {c: np.concatenate([p[c] for p in parts]) for c in parts[0]}
    cycle: dict[str, npt.NDArray[np.float64]] = {}
    if curves:
        for name in CURVES:
            blocks = [own[f"curve_{name}"] for own in per_side.values()]
            cycle[name] = np.concatenate(blocks) if blocks else np.zeros((0, CURVE_POINTS))
    return StrideTable(columns=columns, dropped=dropped, smoothed=smooth, curves=cycle)


def side_columns(
    side: str, own: dict[str, Any], other: dict[str, Any] | None
) -> dict[str, npt.NDArray[Any]]:
    """The table columns of one foot's strides: its spatial rows (``own``: what
    :func:`~edge.strides.spatial.spatial_parameters` gives plus ``t_hs``, ``t_to``,
    ``t_hs_prev``, ``t_start_s``, ``t_end_s``, ``counter_start``, ``counter_end`` and
    ``bout_edge``), temporal parameters against ``other`` and the steady flags."""
    temporal = temporal_parameters(own, other)
    turn = np.abs(own["turning_angle_deg"]) > TURN_DEG
    short = own["stride_length_m"] < MIN_STRIDE_M
    part: dict[str, npt.NDArray[Any]] = {
        "side": np.full(len(turn), side),
        "t_start_s": np.asarray(own["t_start_s"], np.float64),
        "t_end_s": np.asarray(own["t_end_s"], np.float64),
        "counter_start": np.asarray(own["counter_start"], np.int64),
        "counter_end": np.asarray(own["counter_end"], np.int64),
    }
    for c in FLOAT_COLUMNS:
        part[c] = np.asarray(temporal[c] if c in temporal else own[c], dtype=np.float64)
    part["strike_class"] = np.asarray(own["strike_class"]).astype(str)
    part["turn"], part["short"] = turn, short
    part["bout_edge"] = np.asarray(own["bout_edge"], bool)
    part["steady"] = ~turn & ~short & ~part["bout_edge"]
    return part


def _empty_columns() -> dict[str, npt.NDArray[Any]]:
    cols: dict[str, npt.NDArray[Any]] = {
        "side": np.zeros(0, "<U1"),
        "t_start_s": np.zeros(0),
        "t_end_s": np.zeros(0),
        "counter_start": np.zeros(0, np.int64),
        "counter_end": np.zeros(0, np.int64),
    }
    cols.update({c: np.zeros(0) for c in FLOAT_COLUMNS})
    cols["strike_class"] = np.zeros(0, "<U8")
    for c in ("turn", "short", "bout_edge", "steady"):
        cols[c] = np.zeros(0, bool)
    return cols


def summarise(table: StrideTable) -> dict[str, Any]:
    """Mean, SD, CV and n of every parameter over steady strides, per foot; symmetry.

    Returns
    -------
    dict
        ``{"L": {param: {"mean", "sd", "cv", "n"}}, "R": {...}, "symmetry_index_pct":
        {param: SI}, "n_strides": {side: all kept}, "n_steady": {side: steady},
        "dropped": table.dropped, "smoothed": bool}``; floats NaN where undefined.
    """
    cols = table.columns
    out: dict[str, Any] = {"n_strides": {}, "n_steady": {}}
    means: dict[str, dict[str, float]] = {}
    for side in ("L", "R"):
        mine = cols["side"] == side
        if not mine.any():
            continue
        sel = mine & cols["steady"]
        out["n_strides"][side] = int(mine.sum())
        out["n_steady"][side] = int(sel.sum())
        stats = {}
        for c in FLOAT_COLUMNS:
            v = cols[c][sel]
            v = v[np.isfinite(v)]
            mean = float(v.mean()) if len(v) else math.nan
            sd = float(v.std(ddof=1)) if len(v) > 1 else math.nan
            crosses = c in _CROSSES_ZERO
            cv = sd / abs(mean) if len(v) > 1 and abs(mean) > 1e-12 and not crosses else math.nan
            stats[c] = {"mean": mean, "sd": sd, "cv": cv, "n": len(v)}
        out[side] = stats
        means[side] = {c: s["mean"] for c, s in stats.items()}
    si: dict[str, float] = {}
    if "L" in means and "R" in means:
        for c in FLOAT_COLUMNS:
            if c in _CROSSES_ZERO:
                continue
            left, right = means["L"][c], means["R"][c]
            mid = (left + right) / 2.0
            si[c] = 100.0 * (left - right) / mid if abs(mid) > 1e-9 else math.nan
    out["symmetry_index_pct"] = si
    out["dropped"] = dict(table.dropped)
    out["smoothed"] = table.smoothed
    return out
