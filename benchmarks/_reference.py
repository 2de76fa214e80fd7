"""The validation protocol of per-stride spatial parameters (issue 12), shared by the benchmarks.

Two references, both read with NumPy only (this module is imported from gaitedge's own
environment, which has neither pandas nor SciPy):

- ``gaitmap-example`` (``../shared/data/gaitmap-example``): one walk of 2 × 20 m with NilsPod
  IMUs on the lateral side of both shoes (204.8 Hz) and Qualisys markers on both feet (100 Hz),
  with 28 left + 29 right reference strides from the motion capture. :func:`load_gaitmap_example`
  loads the IMU and the strides, :func:`mocap_reference` computes the reference value of every
  figure per stride from the markers.
- ``ipol-gait`` (``../shared/data/ipol-gait``): 80 trials of "stand still, walk 10 m, turn 180°,
  walk back, stop", Xsens IMUs on the dorsum of both shoes at 100 Hz. :func:`ipol_passes` gives
  the two straight passes of every trial and foot; :func:`pass_figures` scores the distance a
  method measures over each pass against the nominal 10 m.

Definitions (quoted by ``benchmarks/gaitmap_spatial.py`` and ``benchmarks/spatial.py``)
-------------------------------------------------------------------------------------

Time. IMU sample ``i`` is at ``i / 204.8`` s and motion-capture sample ``j`` at ``j / 100`` s;
both recordings start at the same instant (the data set's README). A stride event (an IMU sample
index) is looked up in the markers by linear interpolation at fractional mocap index
``i * 100 / 204.8``. Markers are converted from mm to m; the lab frame's z is up, so "height" is
z and "horizontal" is the (x, y) plane.

Reference strides (``stride_events_sample.csv``, per foot, in file order): ``start`` and ``end``
are the stride borders at minimal foot velocity (mid-stance, ``start == min_vel``), ``tc`` is the
toe-off inside the stride, ``ic`` the heel strike that ends its swing, ``pre_ic`` the heel strike
of the stance the stride starts in. ``s_id`` is the file's, unique over both feet (left 0–27,
right 28–56).

Foot flat of a stride: the motion-capture samples in the last ``FOOT_FLAT_S`` = 0.1 s of the
stance before the stride's start, i.e. times in ``[t(start) − 0.1 s, t(start)]``. In this walk
``start − pre_ic`` is at least 43 IMU samples (0.21 s), so the window begins more than 0.1 s after
the heel strike, past the heel-strike roll-over (the toe–heel pitch falls from about +28° at
heel strike to ~+3° in 0.12 s, then drifts by ~1° to the stride's start).

Pitch of the foot at time t: ``atan2(dz, hypot(dx, dy))`` of the vector TOE − FCC (toe marker
minus heel marker), in degrees: the angle of the heel-to-toe line above the horizontal.

Per reference stride (arrays in stride order, NaN where a figure is undefined):

- ``stride_length_m``: ``|FCC_xy(t(end)) − FCC_xy(t(start))|``, the horizontal displacement of
  the heel marker between the stride's start and end.
- ``strike_angle_deg``: pitch at ``t(ic)`` minus the mean pitch over the foot-flat window, so a
  flat foot is 0; positive = toes up.
- ``toe_off_angle_deg``: the same at ``t(tc)``; negative = toes down.
- ``max_toe_clearance_m``: the maximum over the swing (mocap samples with ``t(tc) ≤ t ≤ t(ic)``)
  of the TOE marker's height minus its mean height over the foot-flat window. NOTE: in this walk
  the toe marker is highest at the heel strike or at most 2 mocap samples (20 ms) before it (the
  foot is pitched ~27° toes-up there), so this figure is the toe's height at heel strike
  (0.09–0.12 m), not the early-swing peak; ``first_toe_peak_m`` (below) is that peak.
- ``min_toe_clearance_m``: the minimum toe height (same zero) between the swing's first and
  second local maxima (mid-swing). A local maximum is a swing sample that is the largest within
  ±``PEAK_HALF_WINDOW`` = 3 mocap samples (±30 ms, clipped to the swing) and larger than the sample
  before it; so the swing's last sample (at ``ic``) counts as one when the toe is still rising
  into it, as it is in most strides (the late-swing peak is the heel-strike peak above). The
  "second" maximum is the LAST one found, so the minimum covers the whole valley even when
  marker noise (~1 mm) makes a spurious maximum inside it. NaN when the swing has fewer than two
  maxima (none in this walk). The marker sits on top of the toe box: pitched toes-down in
  mid-swing it is LOWER than at foot flat, so the figure is −10…+6 mm here; it is the marker's
  height change, not the sole's gap to the floor (the marker-to-sole offset is not in the data).
- ``first_toe_peak_m``: the toe height (same zero) at the first local maximum, the early-swing
  peak (−8…+16 mm on straight strides), NaN if none. Not asked for by issue 12; given because
  ``max_toe_clearance_m`` is not it.
- ``max_heel_clearance_m``: as ``max_toe_clearance_m`` for the heel marker FCC (its peak,
  0.21–0.24 m on straight strides, lies in early swing, well inside the window).
- ``turning_angle_deg``: change of the heading of TOE − FCC (horizontal) from ``start`` to
  ``end``, wrapped to [−180°, 180°); ``turn``: ``|turning_angle_deg| > TURN_DEG`` = 20°: the strides
  through the 180° turn (left s_id 13; right 41, 42, 43). Say whether a score keeps them.
- ``duration_s``: ``(end − start) / 204.8``.

Values on this walk (straight strides): stride length 1.16–1.46 m, strike angle +23…+30°,
toe-off angle −57…−70°. The one short stride (0.47 m, left s_id 13) is the turn stride, not a
gait-initiation stride as the data set's README has it: the list starts after the first step of
each foot (``pre_ic`` of the first strides, 438 and 311, are heel strikes of steps that are not
listed), so there is no initiation stride in it.

Check against the data set's own per-stride reference (:func:`check_reference`): gaitmap's
``position_sample.csv`` is the FCC marker minus its value at the stride's first mocap sample
``int(start · 100 / 204.8)`` up to ``int(end · 100 / 204.8) − 1``, and ``orientation_sample.csv``
the foot frame built from FCC, TOE and FM5 (x = FCC − TOE normalised, i.e. pointing backwards;
the stored quaternion maps lab to foot, so the x axis is the first ROW of its matrix). Measured
on this walk (57 strides): the stride length there (final horizontal norm) differs from
``stride_length_m`` by at most 0.84 mm (mean 0.08 mm: integer sample borders instead of
interpolated times; the foot is standing at both ends). The pitch of the file's x axis is the
TOE − FCC pitch with the sign flipped to within 1e-12° on every stored sample (the same
markers, the same line), so the angle definitions agree exactly; at the events (nearest mocap
sample instead of interpolation, zero = the stride's first sample instead of the 0.1 s foot-flat
mean) ``strike_angle_deg`` and ``toe_off_angle_deg`` differ from the file's by 0.59° and 0.65°
mean absolute. The files have no clearance reference.

ipol-gait passes (:func:`ipol_passes`): per trial ``S-T`` and foot, from ``S-T.json`` (indices
are PacketCounter values at 100 Hz): pass 1 = ``[TrialBoundaries[0], UTurnBoundaries[0]]``,
pass 2 = ``[UTurnBoundaries[1], TrialBoundaries[1]]``. ``TrialBoundaries`` are the first toe-off
and the last heel strike of the walk (they equal the earliest footstep start and the latest
footstep end of the trial in the 54 trials without steps after it; in 26 trials the subject
takes a few more steps seconds after ``TrialBoundaries[1]``, outside both passes). The nominal
length ``PASS_M`` = 10 m comes from the protocol as the data set describes it (ipol-gait README,
after Voisard et al., IPOL 2023: "stand still, walk 10 m, turn 180 degrees, walk back, stop");
the data hold no distance measurement, and the pass borders are gait events and turn borders,
not lines on the floor: a foot's displacement over a pass is 10 m only to within about a step
(where the subject starts relative to the start line and where the turn begins are not
recorded). Treat ``pass_figures`` as a consistency check of drift over ~9–10 m, not as a
centimetre reference.

:func:`pass_figures` errors are ``measured − PASS_M``.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

#: IMU sample rate of gaitmap-example [Hz].
IMU_RATE_HZ = 204.8
#: Motion-capture sample rate of gaitmap-example [Hz].
MOCAP_RATE_HZ = 100.0
#: Sample rate (PacketCounter) of ipol-gait [Hz].
IPOL_RATE_HZ = 100.0
#: Length of the foot-flat window before a stride's start [s].
FOOT_FLAT_S = 0.1
#: Half-width of the local-maximum test of the toe height in swing [mocap samples].
PEAK_HALF_WINDOW = 3
#: A stride whose foot heading changes by more than this [deg] is a turn stride.
TURN_DEG = 20.0
#: Nominal length of an ipol-gait straight pass [m].
PASS_M = 10.0
#: Columns of ``load_gaitmap_example(...)[foot]["strides"]``.
STRIDE_COLUMNS = ("s_id", "start", "end", "ic", "tc", "min_vel", "pre_ic")
#: Keys of ``mocap_reference(...)[foot]`` holding one float per stride.
REFERENCE_FIGURES = (
    "stride_length_m",
    "strike_angle_deg",
    "toe_off_angle_deg",
    "max_toe_clearance_m",
    "min_toe_clearance_m",
    "max_heel_clearance_m",
)

_SENSOR = {"L": "left_sensor", "R": "right_sensor"}
_FOOT_WORD = {"L": "left", "R": "right"}
_IMU_AXES = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")


# --------------------------------------------------------------------------- gaitmap-example


def _check_folder(folder: str | Path, name: str) -> Path:
    path = Path(folder) / name
    if not path.is_file():
        raise FileNotFoundError(
            f"no {path}: pass the gaitmap-example folder (../shared/data/gaitmap-example, "
            "holding imu_sample.csv, mocap_sample.csv, stride_events_sample.csv)"
        )
    return path


def _two_header_csv(path: Path) -> tuple[list[str], list[str], npt.NDArray[np.float64]]:
    """(first header row, second header row, data (n, columns) without the index column)."""
    with path.open(newline="") as f:
        rows = csv.reader(f)
        h0, h1 = next(rows), next(rows)
        data = np.array([[float(x) for x in r[1:]] for r in rows], dtype=np.float64)
    return h0[1:], h1[1:], data


def _imu_columns(path: Path, side: str) -> npt.NDArray[np.float64]:
    """(n, 6) acc_x … gyr_z of one sensor of a gaitmap-example IMU file, in the file's units."""
    sensors, axes, data = _two_header_csv(path)
    cols = [
        next(
            k
            for k, (s, a) in enumerate(zip(sensors, axes, strict=True))
            if s == _SENSOR[side] and a == ax
        )
        for ax in _IMU_AXES
    ]
    return data[:, cols]


def _read_strides(folder: Path) -> dict[str, npt.NDArray[np.int64]]:
    out: dict[str, list[list[int]]] = {"L": [], "R": []}
    with _check_folder(folder, "stride_events_sample.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            side = "L" if row["foot"] == "left" else "R"
            out[side].append([round(float(row[c])) for c in STRIDE_COLUMNS])
    return {k: np.array(v, dtype=np.int64).reshape(-1, len(STRIDE_COLUMNS)) for k, v in out.items()}


def load_gaitmap_example(folder: str | Path) -> dict[str, dict[str, Any]]:
    """The IMU and the reference strides of gaitmap-example, per foot ``"L"``, ``"R"``.

    Per foot:

    - ``imu``: (n, 6) float64 from ``imu_sample_not_rotated.csv``, the sensor as mounted (lateral
      side of the shoe): acc x, y, z [m/s², gravity included] then gyro x, y, z [rad/s] (the file
      has deg/s);
    - ``imu_gaitmap_frame``: (n, 6) float64 from ``imu_sample.csv``, the same samples rotated into
      gaitmap's sensor frame, acc [m/s²] then gyro [deg/s] as gaitmap wants them;
    - ``rate_hz``: 204.8;
    - ``strides``: (n_strides, 7) int64, columns :data:`STRIDE_COLUMNS` (``s_id``, ``start``,
      ``end``, ``ic``, ``tc``, ``min_vel``, ``pre_ic``) as IMU sample indices at 204.8 Hz.
    """
    folder = Path(folder)
    raw = _check_folder(folder, "imu_sample_not_rotated.csv")
    rot = _check_folder(folder, "imu_sample.csv")
    strides = _read_strides(folder)
    out = {}
    for side in ("L", "R"):
        imu = _imu_columns(raw, side)
        imu[:, 3:] = np.deg2rad(imu[:, 3:])
        out[side] = {
            "imu": imu,
            "imu_gaitmap_frame": _imu_columns(rot, side),
            "rate_hz": IMU_RATE_HZ,
            "strides": strides[side],
        }
    return out


def _markers(folder: Path) -> dict[str, npt.NDArray[np.float64]]:
    """Marker name (``L_TOE``, ``L_FCC``, …) -> (n, 3) positions [m] at 100 Hz."""
    names, axes, data = _two_header_csv(_check_folder(folder, "mocap_sample.csv"))
    out = {}
    for name in dict.fromkeys(names):
        cols = [
            next(
                k for k, (n, a) in enumerate(zip(names, axes, strict=True)) if n == name and a == ax
            )
            for ax in "xyz"
        ]
        out[name] = data[:, cols] / 1000.0
    return out


def _at(x: npt.NDArray[np.float64], imu_index: float) -> npt.NDArray[np.float64]:
    """Marker series x (n, 3) linearly interpolated at the time of IMU sample ``imu_index``."""
    j = imu_index * MOCAP_RATE_HZ / IMU_RATE_HZ
    j0 = min(math.floor(j), len(x) - 2)
    w = j - j0
    return (1 - w) * x[j0] + w * x[j0 + 1]


def _pitch_deg(
    toe: npt.NDArray[np.float64], heel: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Pitch [deg] of TOE − FCC above the horizontal; toe (..., 3), heel (..., 3) in m."""
    v = toe - heel
    return np.degrees(np.arctan2(v[..., 2], np.hypot(v[..., 0], v[..., 1])))


def _yaw_deg(v: npt.NDArray[np.float64]) -> float:
    """Heading [deg] of a lab-frame vector (3,) in the horizontal plane."""
    return float(np.degrees(np.arctan2(v[1], v[0])))


def _mocap_range(t0_imu: float, t1_imu: float, n: int) -> npt.NDArray[np.int64]:
    """Mocap sample indices with t(t0_imu) ≤ t ≤ t(t1_imu)."""
    f = MOCAP_RATE_HZ / IMU_RATE_HZ
    return np.arange(
        max(0, math.ceil(t0_imu * f - 1e-9)), min(n - 1, math.floor(t1_imu * f + 1e-9)) + 1
    )


def swing_maxima(z: npt.NDArray[np.float64], half_window: int = PEAK_HALF_WINDOW) -> list[int]:
    """Indices of the local maxima of a swing's height series z (n,), as defined above."""
    n = len(z)
    peaks = []
    for j in range(1, n):
        lo, hi = max(0, j - half_window), min(n, j + half_window + 1)
        if z[j] > z[j - 1] and z[j] >= z[lo:hi].max():
            peaks.append(j)
    return peaks


def mocap_reference(folder: str | Path) -> dict[str, dict[str, npt.NDArray[Any]]]:
    """Reference figures per stride from the markers, per foot ``"L"``, ``"R"`` (see module doc).

    Per foot: ``s_id`` (n,) int64 in the order of ``load_gaitmap_example(...)[foot]["strides"]``,
    each of :data:`REFERENCE_FIGURES` plus ``first_toe_peak_m``, ``turning_angle_deg`` and
    ``duration_s`` as (n,)
    float64 (m, deg, s; NaN where undefined) and ``turn`` (n,) bool.
    """
    folder = Path(folder)
    markers = _markers(folder)
    strides = _read_strides(folder)
    out = {}
    for side, st in strides.items():
        toe, heel = markers[f"{side}_TOE"], markers[f"{side}_FCC"]
        n = len(toe)
        pitch = _pitch_deg(toe, heel)
        res: dict[str, list[float]] = {
            k: [] for k in (*REFERENCE_FIGURES, "first_toe_peak_m", "turning_angle_deg")
        }
        for _s_id, start, end, ic, tc, _min_vel, _pre_ic in st:
            flat = _mocap_range(start - FOOT_FLAT_S * IMU_RATE_HZ, start, n)
            pitch0 = float(pitch[flat].mean())
            toe0, heel0 = float(toe[flat, 2].mean()), float(heel[flat, 2].mean())
            d = _at(heel, end)[:2] - _at(heel, start)[:2]
            res["stride_length_m"].append(float(np.hypot(*d)))
            yaw = [_yaw_deg(_at(toe, i) - _at(heel, i)) for i in (start, end)]
            res["turning_angle_deg"].append((yaw[1] - yaw[0] + 180.0) % 360.0 - 180.0)
            res["strike_angle_deg"].append(float(_pitch_deg(_at(toe, ic), _at(heel, ic))) - pitch0)
            res["toe_off_angle_deg"].append(float(_pitch_deg(_at(toe, tc), _at(heel, tc))) - pitch0)
            swing = _mocap_range(tc, ic, n)
            z = toe[swing, 2] - toe0
            res["max_toe_clearance_m"].append(float(z.max()))
            res["max_heel_clearance_m"].append(float((heel[swing, 2] - heel0).max()))
            peaks = swing_maxima(z)
            res["first_toe_peak_m"].append(float(z[peaks[0]]) if peaks else math.nan)
            mtc = float(z[peaks[0] : peaks[-1] + 1].min()) if len(peaks) >= 2 else math.nan
            res["min_toe_clearance_m"].append(mtc)
        duration = (st[:, 2] - st[:, 1]) / IMU_RATE_HZ
        out[side] = {
            "s_id": st[:, 0].copy(),
            **{k: np.array(v, dtype=np.float64) for k, v in res.items()},
            "duration_s": duration,
            "turn": np.abs(np.array(res["turning_angle_deg"])) > TURN_DEG,
        }
    return out


def _per_stride_csv(
    path: Path, cols: Sequence[str]
) -> dict[tuple[str, int], npt.NDArray[np.float64]]:
    """(sensor, s_id) -> (n, len(cols)) rows of position_sample.csv / orientation_sample.csv."""
    rows: dict[tuple[str, int], list[list[float]]] = {}
    with path.open(newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        idx = [header.index(c) for c in cols]
        for r in reader:
            rows.setdefault((r[0], int(r[1])), []).append([float(r[k]) for k in idx])
    return {k: np.array(v, dtype=np.float64) for k, v in rows.items()}


def _quat_matrix(q: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """(n, 3, 3) rotation matrices of (n, 4) quaternions (x, y, z, w)."""
    x, y, z, w = (q / np.linalg.norm(q, axis=1, keepdims=True)).T
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], axis=1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], axis=1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], axis=1),
        ],
        axis=1,
    )


def check_reference(folder: str | Path) -> dict[str, float]:
    """How :func:`mocap_reference` agrees with the data set's position/orientation_sample.csv.

    Returns, over both feet: ``n_strides``; ``stride_length_max_abs_diff_m`` and
    ``stride_length_mean_abs_diff_m`` (final horizontal norm of ``position_sample.csv`` vs
    ``stride_length_m``); ``pitch_max_abs_diff_deg`` (pitch of the orientation file's x axis vs
    the TOE − FCC pitch on every stored sample, sign flipped as x points backwards); and
    ``strike_angle_mean_abs_diff_deg`` / ``toe_off_angle_mean_abs_diff_deg`` (the orientation
    file's pitch at the nearest mocap sample, relative to the stride's first stored sample, vs
    ``strike_angle_deg`` / ``toe_off_angle_deg``).
    """
    folder = Path(folder)
    ref = mocap_reference(folder)
    strides = _read_strides(folder)
    markers = _markers(folder)
    pos = _per_stride_csv(_check_folder(folder, "position_sample.csv"), ("pos_x", "pos_y", "pos_z"))
    ori = _per_stride_csv(
        _check_folder(folder, "orientation_sample.csv"), ("q_x", "q_y", "q_z", "q_w")
    )
    f = MOCAP_RATE_HZ / IMU_RATE_HZ
    sl, pitch_diff, ic_diff, tc_diff = [], [], [], []
    for side, st in strides.items():
        sensor = _SENSOR[side]
        mine = _pitch_deg(markers[f"{side}_TOE"], markers[f"{side}_FCC"])
        for k, (s_id, start, _end, ic, tc, *_) in enumerate(st):
            p = pos[(sensor, int(s_id))]
            sl.append(abs(float(np.hypot(p[-1, 0], p[-1, 1])) - ref[side]["stride_length_m"][k]))
            rot = _quat_matrix(ori[(sensor, int(s_id))])
            # the first ROW is the foot's x axis (heel direction) in lab coordinates
            theirs = np.degrees(np.arcsin(np.clip(rot[:, 0, 2], -1, 1)))
            j0 = int(start * f)
            pitch_diff.append(float(np.abs(-theirs - mine[j0 : j0 + len(theirs)]).max()))
            ic_j, tc_j = round(ic * f) - j0, round(tc * f) - j0
            if ic_j < len(theirs):
                ic_diff.append(abs(-(theirs[ic_j] - theirs[0]) - ref[side]["strike_angle_deg"][k]))
            tc_diff.append(abs(-(theirs[tc_j] - theirs[0]) - ref[side]["toe_off_angle_deg"][k]))
    return {
        "n_strides": len(sl),
        "stride_length_max_abs_diff_m": float(np.max(sl)),
        "stride_length_mean_abs_diff_m": float(np.mean(sl)),
        "pitch_max_abs_diff_deg": float(np.max(pitch_diff)),
        "strike_angle_mean_abs_diff_deg": float(np.mean(ic_diff)),
        "toe_off_angle_mean_abs_diff_deg": float(np.mean(tc_diff)),
    }


def error_stats(measured: npt.ArrayLike, reference: npt.ArrayLike) -> dict[str, float | int]:
    """``n``, ``mae``, ``mean`` (bias) and ``sd`` (ddof 1) of ``measured − reference`` over the
    pairs where both are finite (same units as the inputs)."""
    e = np.asarray(measured, dtype=np.float64) - np.asarray(reference, dtype=np.float64)
    e = e[np.isfinite(e)]
    if e.size == 0:
        return {"n": 0, "mae": math.nan, "mean": math.nan, "sd": math.nan}
    sd = float(np.std(e, ddof=1)) if e.size > 1 else math.nan
    return {"n": int(e.size), "mae": float(np.abs(e).mean()), "mean": float(e.mean()), "sd": sd}


# --------------------------------------------------------------------------- ipol-gait


def _trial_key(path: Path) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)-(\d+)", path.stem)
    return (int(m.group(1)), int(m.group(2))) if m else (10**9, 0)


def ipol_passes(ipol_dir: str | Path) -> list[dict[str, Any]]:
    """The two straight passes of every ipol-gait trial and foot, in trial order (see module doc).

    Each: ``trial`` ("1-1"), ``subject`` (int), ``side`` ("L"/"R"), ``pass`` (1 or 2),
    ``start`` and ``end`` (int PacketCounter values, 100 Hz; the pass is ``start ≤ counter ≤ end``),
    ``nominal_m`` (10.0), ``rate_hz`` (100.0).
    """
    gait = Path(ipol_dir) / "GaitData"
    files = sorted(gait.glob("*.json"), key=_trial_key)
    if not files:
        raise FileNotFoundError(
            f"no trials (S-T.json) in {gait}: pass the ipol-gait folder that holds GaitData/"
        )
    out = []
    for path in files:
        meta = json.loads(path.read_text())
        (t0, t1), (u0, u1) = meta["TrialBoundaries"], meta["UTurnBoundaries"]
        for side in ("L", "R"):
            for k, (a, b) in enumerate(((t0, u0), (u1, t1)), start=1):
                out.append(
                    {
                        "trial": path.stem,
                        "subject": int(meta["Subject"]),
                        "side": side,
                        "pass": k,
                        "start": int(a),
                        "end": int(b),
                        "nominal_m": PASS_M,
                        "rate_hz": IPOL_RATE_HZ,
                    }
                )
    return out


def pass_figures(
    distances_m: npt.ArrayLike, speeds_mps: npt.ArrayLike, subjects: Sequence[Any]
) -> dict[str, Any]:
    """Scores of measured pass distances [m] against :data:`PASS_M`, error = measured − 10 m.

    ``distances_m``, ``speeds_mps`` and ``subjects`` are aligned (one entry per pass and foot);
    a pass whose distance is not finite (the method failed) is left out of every figure, and so is
    a non-finite speed from ``speed_mps_mean``. Keys: ``n_passes``, ``distance_error_m_mean``,
    ``distance_error_m_mae``, ``distance_error_pct_mae`` (MAE as % of 10 m), ``speed_mps_mean``,
    and ``per_subject``: subject (as str) -> distance MAE [m].
    """
    d = np.asarray(distances_m, dtype=np.float64)
    v = np.asarray(speeds_mps, dtype=np.float64)
    subj = np.asarray([str(s) for s in subjects])
    if not (len(d) == len(v) == len(subj)):
        raise ValueError("distances_m, speeds_mps and subjects must have one entry per pass each")
    ok = np.isfinite(d)
    err = d[ok] - PASS_M
    nan = math.nan
    per_subject = {
        s: float(np.abs(d[ok & (subj == s)] - PASS_M).mean())
        for s in sorted(set(subj[ok]), key=lambda s: (len(s), s))
    }
    return {
        "n_passes": int(ok.sum()),
        "distance_error_m_mean": float(err.mean()) if err.size else nan,
        "distance_error_m_mae": float(np.abs(err).mean()) if err.size else nan,
        "distance_error_pct_mae": float(np.abs(err).mean() / PASS_M * 100) if err.size else nan,
        "speed_mps_mean": float(v[ok & np.isfinite(v)].mean())
        if np.any(ok & np.isfinite(v))
        else nan,
        "per_subject": per_subject,
    }
