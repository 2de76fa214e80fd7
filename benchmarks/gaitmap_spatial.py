"""gaitmap 2.6 spatial parameters on the issue-12 validation: the side-by-side baseline.

What it measures: the per-stride spatial parameters of gaitmap (https://gaitmap.readthedocs.io),
the reference open foot-IMU pipeline (strapdown integration + zero-velocity updates + a
Rauch-Tung-Striebel Kalman smoother, ``RtsKalman``, with gaitmap's defaults), on the two
references of :mod:`_reference` (``benchmarks/_reference.py``, where every reference figure is
defined):

(a) gaitmap-example, against motion capture, per reference stride. ``imu_sample.csv`` is already
    in gaitmap's foot sensor frame (FSF; x to the tip of the shoe on both feet), which is the
    frame gaitmap's trajectory methods take (they refuse the foot body frame, which
    ``convert_left_foot_to_fbf`` / right make for its stride segmentation and event detection:
    not needed here, the events are the reference's). Two trajectory pipelines over the
    REFERENCE strides (start/end at minimal velocity, ``ic`` and ``tc`` from the motion capture,
    so only the trajectory is gaitmap's):

    - ``StrideLevelTrajectory(RtsKalman)``: one Kalman run per stride, each aligned to gravity at
      its start (the primary row: gaitmap's per-stride use);
    - ``RegionLevelTrajectory(RtsKalman)``: one run over the whole recording (it starts standing),
      cut into the strides with ``estimate_intersect``.

    Then ``SpatialParameterCalculation`` and ``TemporalParameterCalculation`` with those strides.
    Compared: ``stride_length`` with ``stride_length_m``, ``ic_angle`` with ``strike_angle_deg``,
    ``tc_angle`` with ``toe_off_angle_deg``, and ``max_sensor_lift`` (the sensor's highest point in
    the stride above its start, the only clearance-like figure gaitmap gives) with
    ``max_heel_clearance_m`` (the sensor is on the lateral side of the rear/mid-foot; it is not
    the heel marker, so this row measures the placement difference as much as the method).
    gaitmap has NO toe clearance (max or min): those rows are null. MAE, mean error (bias) and SD
    of ``gaitmap − reference`` over all 57 strides and over the 53 straight ones (the turn strides
    left 13, right 41–43 out, see ``_reference``).

(b) ipol-gait passes, against the nominal 10 m. Data prepared as ``gaitmap_compare.py`` does
    (its functions are reused: interpolation onto every counter value, axes to FSF with
    ``IPOL_TO_FSF``, ``align_dataset_to_gravity``; the foot body frame for segmentation and
    events, the gravity-aligned FSF for the trajectory, as in gaitmap's MaD pipeline example);
    ``BarthDtw`` + ``RamppEventDetection`` strides over the whole signal;
    ``RegionLevelTrajectory(RtsKalman)``
    over each pass region of :func:`_reference.ipol_passes` (pass 1 = trial start to turn start,
    pass 2 = turn end to trial end; the initial orientation is gaitmap's gravity alignment at the
    region's first 4 samples, moving or not). Per pass and foot:

    - ``distance_m``: the horizontal displacement of the sensor between the first and the last
      zero-velocity sample inside the pass (RtsKalman's own ZUPT detector with its defaults, run
      on the same region); ``speed_mps`` = that / the time between those two samples;
    - ``stride_sum_m``: the sum of gaitmap's ``stride_length`` over the Rampp min_vel strides that
      lie entirely inside the pass (cut from the same region trajectory), with its own speed over
      the first stride start to the last stride end. Only strides that BarthDtw segments back to
      back become min_vel strides, so this sum covers what gaitmap's segmentation found, not the
      whole pass (on some feet BarthDtw finds a handful of strides in the whole trial).

    ``n_zupt_regions`` (stance phases the ZUPT detector found) against ``n_footsteps`` (the
    foot's labelled footsteps inside the pass) shows where the default detector (gyro norm
    below 34 deg/s over 50 ms) misses stance phases of fast walkers, a main source of the large
    distance errors.

    Both scored with :func:`_reference.pass_figures` (error = measured − 10 m). A pass ends or
    starts mid-step for the foot that moves at the border, so each foot's measured distance is
    short of its true path by up to a step: read the bias with that in mind.

Run it in gaitmap's environment (not a dependency of gaitedge; gaitmap-mad is AGPL-3)::

    python -m venv /tmp/gm && /tmp/gm/bin/pip install -r benchmarks/requirements-gaitmap.txt -e .
    /tmp/gm/bin/python benchmarks/gaitmap_spatial.py [--data DIR] [--mocap DIR] [--json PATH]

``--data`` (ipol-gait) defaults to $GAITEDGE_IPOL_DIR, then ``../shared/data/ipol-gait`` beside the
project; ``--mocap`` to ``../shared/data/gaitmap-example``; ``--json`` to
``benchmarks/results/gaitmap_spatial.json`` (everything, per stride and per pass included).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from _reference import (
    REFERENCE_FIGURES,
    error_stats,
    ipol_passes,
    load_gaitmap_example,
    mocap_reference,
    pass_figures,
)
from gaitmap.event_detection import RamppEventDetection
from gaitmap.parameters import SpatialParameterCalculation, TemporalParameterCalculation
from gaitmap.preprocessing.sensor_alignment import align_dataset_to_gravity
from gaitmap.stride_segmentation import BarthDtw
from gaitmap.trajectory_reconstruction import (
    RegionLevelTrajectory,
    RtsKalman,
    StrideLevelTrajectory,
)
from gaitmap.utils.consts import SF_COLS
from gaitmap.utils.coordinate_conversion import (
    convert_left_foot_to_fbf,
    convert_right_foot_to_fbf,
)
from gaitmap_compare import dense_imu, to_fsf

from firmware_bridge.sim.walks import find_ipol_dir, load_ipol

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MOCAP = ROOT.parent / "shared" / "data" / "gaitmap-example"
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "gaitmap_spatial.json"

#: gaitmap parameter -> the reference figure it is scored against (None: gaitmap has none).
COMPARED: dict[str, tuple[str | None, str]] = {
    "stride_length_m": ("stride_length", "m"),
    "strike_angle_deg": ("ic_angle", "deg"),
    "toe_off_angle_deg": ("tc_angle", "deg"),
    "max_heel_clearance_m": ("max_sensor_lift", "m"),
    "max_toe_clearance_m": (None, "m"),
    "min_toe_clearance_m": (None, "m"),
}
assert set(COMPARED) == set(REFERENCE_FIGURES)

#: gaitmap's per-stride outputs kept in the JSON.
GAITMAP_KEYS = (
    "stride_length",
    "gait_velocity",
    "ic_angle",
    "tc_angle",
    "max_sensor_lift",
    "max_lateral_excursion",
    "turning_angle",
    "stride_time",
    "stance_time",
    "swing_time",
)

PIPELINES_A = {
    "StrideLevelTrajectory(RtsKalman)": "stride",
    "RegionLevelTrajectory(RtsKalman), whole walk": "region",
}


# --------------------------------------------------------------------------- (a) gaitmap-example


def example_sensor_frame(imu_gaitmap_frame: npt.NDArray[np.float64]) -> pd.DataFrame:
    """(n, 6) gaitmap sensor-frame IMU (m/s², deg/s) as the DataFrame gaitmap takes."""
    return pd.DataFrame(imu_gaitmap_frame, columns=SF_COLS)


def stride_frame(strides: npt.NDArray[np.int64]) -> pd.DataFrame:
    """Reference strides (n, 7) as a gaitmap min_vel stride list indexed by ``s_id``."""
    cols = ("s_id", "start", "end", "ic", "tc", "min_vel", "pre_ic")
    return pd.DataFrame(strides, columns=cols).set_index("s_id")


def _region_traj() -> RegionLevelTrajectory:
    return RegionLevelTrajectory(ori_method=None, pos_method=None, trajectory_method=RtsKalman())


def gaitmap_on_strides(
    sf: pd.DataFrame, strides: pd.DataFrame, fs: float, mode: str
) -> pd.DataFrame:
    """gaitmap's spatial + temporal parameters per stride (index ``s_id``) for one foot.

    ``sf``: the foot's IMU in gaitmap's sensor frame; ``strides``: a min_vel stride list.
    """
    if mode == "stride":
        traj = StrideLevelTrajectory(
            ori_method=None, pos_method=None, trajectory_method=RtsKalman()
        )
        traj = traj.estimate(data=sf, stride_event_list=strides, sampling_rate_hz=fs)
    else:
        roi = pd.DataFrame({"roi_id": [0], "start": [0], "end": [len(sf)]})
        traj = _region_traj().estimate_intersect(
            data=sf, regions_of_interest=roi, stride_event_list=strides, sampling_rate_hz=fs
        )
    spatial = SpatialParameterCalculation().calculate(
        stride_event_list=strides,
        positions=traj.position_,
        orientations=traj.orientation_,
        sampling_rate_hz=fs,
    )
    temporal = TemporalParameterCalculation().calculate(
        stride_event_list=strides, sampling_rate_hz=fs
    )
    return spatial.parameters_.join(temporal.parameters_, how="outer")


def run_example(folder: Path) -> dict[str, Any]:
    """Part (a): per pipeline, per-stride values and the error figures against the mocap."""
    data = load_gaitmap_example(folder)
    ref = mocap_reference(folder)
    out: dict[str, Any] = {}
    for name, mode in PIPELINES_A.items():
        t0 = time.perf_counter()
        per_stride: dict[str, dict[str, dict[str, float]]] = {}
        pairs: dict[str, tuple[list[float], list[float], list[bool]]] = {
            k: ([], [], []) for k in COMPARED
        }
        for side in ("L", "R"):
            d, r = data[side], ref[side]
            params = gaitmap_on_strides(
                example_sensor_frame(d["imu_gaitmap_frame"]),
                stride_frame(d["strides"]),
                d["rate_hz"],
                mode,
            )
            per_stride[side] = {}
            for k, s_id in enumerate(r["s_id"]):
                row = params.loc[int(s_id)] if int(s_id) in params.index else None
                gm = {g: _num(row[g]) if row is not None else math.nan for g in GAITMAP_KEYS}
                per_stride[side][str(int(s_id))] = {
                    "gaitmap": gm,
                    "reference": {
                        f: float(r[f][k])
                        for f in (*REFERENCE_FIGURES, "first_toe_peak_m", "turning_angle_deg")
                    },
                    "turn": bool(r["turn"][k]),
                }
                for fig, (gkey, _unit) in COMPARED.items():
                    pairs[fig][0].append(gm[gkey] if gkey else math.nan)
                    pairs[fig][1].append(float(r[fig][k]))
                    pairs[fig][2].append(bool(r["turn"][k]))
        figures = {}
        for fig, (g, rv, turn) in pairs.items():
            g_a, r_a, straight = np.array(g), np.array(rv), ~np.array(turn)
            gkey, unit = COMPARED[fig]
            figures[fig] = {
                "gaitmap_parameter": gkey,
                "unit": unit,
                "all": error_stats(g_a, r_a) if gkey else None,
                "straight": error_stats(g_a[straight], r_a[straight]) if gkey else None,
                "reference_mean_straight": float(np.nanmean(r_a[straight])),
                "gaitmap_mean_straight": float(np.nanmean(g_a[straight])) if gkey else None,
            }
        out[name] = {
            "seconds": round(time.perf_counter() - t0, 1),
            "figures": figures,
            "per_stride": per_stride,
        }
    return out


def _num(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


# --------------------------------------------------------------------------- (b) ipol-gait


def _footsteps(rec: Any, p: dict[str, Any]) -> int:
    """Labelled footsteps (toe-off to heel strike) of this foot lying inside the pass."""
    steps = rec.meta.get("LeftFootEvents" if rec.side == "L" else "RightFootEvents", [])
    return sum(1 for a, b in steps if a >= p["start"] and b <= p["end"])


def run_pass_foot(
    rec: Any, passes: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], str | None]:
    """Part (b) on one trial and foot: one record per pass (values NaN on failure)."""
    fs = rec.sample_rate_hz
    c0 = int(rec.counter[0])
    results = [
        {k: p[k] for k in ("trial", "subject", "side", "pass", "start", "end")}
        | {
            "distance_m": math.nan,
            "seconds": math.nan,
            "speed_mps": math.nan,
            "stride_sum_m": math.nan,
            "stride_sum_speed_mps": math.nan,
            "n_strides": 0,
            "n_zupt_samples": 0,
            "n_zupt_regions": 0,
            "n_footsteps": _footsteps(rec, p),
        }
        for p in passes
    ]
    try:
        sf = align_dataset_to_gravity(to_fsf(dense_imu(rec)), fs)  # = gaitmap_compare's
        bf = convert_left_foot_to_fbf(sf) if rec.side == "L" else convert_right_foot_to_fbf(sf)
        strides = BarthDtw().segment(data=bf, sampling_rate_hz=fs).stride_list_
        ed = RamppEventDetection().detect(data=bf, stride_list=strides, sampling_rate_hz=fs)
        min_vel = ed.min_vel_event_list_
        roi = pd.DataFrame(
            {
                "roi_id": list(range(len(passes))),
                "start": [max(0, p["start"] - c0) for p in passes],
                "end": [min(len(bf), p["end"] - c0 + 1) for p in passes],
            }
        )
        traj = _region_traj().estimate(data=sf, regions_of_interest=roi, sampling_rate_hz=fs)
        detector = RtsKalman().zupt_detector
        for r_id, res in enumerate(results):
            a, b = int(roi["start"][r_id]), int(roi["end"][r_id])
            zupt = detector.clone().detect(sf.iloc[a:b], sampling_rate_hz=fs).per_sample_zupts_
            idx = np.flatnonzero(zupt)
            pos = traj.position_.loc[r_id][["pos_x", "pos_y"]].to_numpy()
            res["n_zupt_samples"] = int(idx.size)
            res["n_zupt_regions"] = int(
                np.sum(np.diff(np.concatenate([[0], zupt.astype(int)])) == 1)
            )
            if idx.size >= 2:
                # position_ has len(region) + 1 rows: row k + 1 is after region sample k
                dist = float(np.hypot(*(pos[idx[-1] + 1] - pos[idx[0] + 1])))
                dt = (idx[-1] - idx[0]) / fs
                res.update(distance_m=dist, seconds=dt, speed_mps=dist / dt if dt > 0 else math.nan)
            inside = min_vel[(min_vel["start"] >= a) & (min_vel["end"] <= b)]
            if len(inside):
                pos_s, _ori_s = traj.intersect(
                    stride_event_list=inside, return_data=("position", "orientation")
                )
                sp = SpatialParameterCalculation(calculate_only=["stride_length"]).calculate(
                    stride_event_list=inside,
                    positions=pos_s,
                    orientations=None,
                    sampling_rate_hz=fs,
                )
                total = float(sp.parameters_["stride_length"].sum())
                span = (inside["end"].max() - inside["start"].min()) / fs
                res.update(
                    stride_sum_m=total,
                    stride_sum_speed_mps=total / span if span > 0 else math.nan,
                    n_strides=len(inside),
                )
    except Exception as e:  # a failure on one foot must not stop the benchmark
        return results, f"{type(e).__name__}: {e}"
    return results, None


def run_ipol(data_dir: Path) -> dict[str, Any]:
    """Part (b): every trial and foot; per-pass records and pass_figures of both measures."""
    t0 = time.perf_counter()
    passes = ipol_passes(data_dir)
    by_foot: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for p in passes:
        by_foot.setdefault((p["trial"], p["side"]), []).append(p)
    records, failed = [], []
    for (trial, side), ps in by_foot.items():
        res, err = run_pass_foot(load_ipol(data_dir, trial, side), ps)
        if err is not None:
            failed.append(f"{trial} {side}: {err}")
            print(f"warning: {trial} {side}: gaitmap failed ({err}); passes NaN", file=sys.stderr)
        records.extend(res)
    subj = [r["subject"] for r in records]
    zupt = pass_figures([r["distance_m"] for r in records], [r["speed_mps"] for r in records], subj)
    stride = pass_figures(
        [r["stride_sum_m"] for r in records], [r["stride_sum_speed_mps"] for r in records], subj
    )
    few = sum(1 for r in records if r["n_zupt_regions"] < r["n_footsteps"])
    return {
        "seconds": round(time.perf_counter() - t0, 1),
        "n_trials": len({r["trial"] for r in records}),
        "n_passes_fewer_zupt_regions_than_footsteps": few,
        "n_pass_records": len(records),
        "failed_feet": failed,
        "zupt_distance": zupt,
        "stride_sum": stride,
        "passes": records,
    }


# --------------------------------------------------------------------------- report


def _f(x: float | None, unit: str) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x * 100:.1f} cm" if unit == "m" else f"{x:.1f}°"


def example_table(results: dict[str, Any]) -> str:
    """Markdown: one row per pipeline and figure, straight strides (all strides in brackets)."""
    lines = [
        "| pipeline | figure | gaitmap | n | MAE | mean error | SD | MAE all strides |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, res in results.items():
        for fig, r in res["figures"].items():
            unit = r["unit"]
            if r["straight"] is None:
                lines.append(f"| {name} | {fig} | (none in gaitmap) | – | – | – | – | – |")
                continue
            s, a = r["straight"], r["all"]
            lines.append(
                f"| {name} | {fig} | {r['gaitmap_parameter']} | {s['n']} | {_f(s['mae'], unit)} "
                f"| {_f(s['mean'], unit)} | {_f(s['sd'], unit)} | {_f(a['mae'], unit)} |"
            )
    return "\n".join(lines)


def ipol_table(res: dict[str, Any]) -> str:
    keys = ("n_passes", "distance_error_m_mean", "distance_error_m_mae", "distance_error_pct_mae")
    lines = [
        "| measure | " + " | ".join(keys) + " | speed_mps_mean |",
        "|---|" + "---:|" * (len(keys) + 1),
    ]
    for name in ("zupt_distance", "stride_sum"):
        f = res[name]
        cells = [str(f["n_passes"])] + [f"{f[k]:.3f}" for k in keys[1:]]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {f['speed_mps_mean']:.3f} |")
    return "\n".join(lines)


def _json_safe(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_json_safe(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--data",
        default=None,
        help="ipol-gait folder (holding GaitData/); default: $GAITEDGE_IPOL_DIR, then "
        "../shared/data/ipol-gait beside the project",
    )
    p.add_argument(
        "--mocap",
        type=Path,
        default=DEFAULT_MOCAP,
        help="gaitmap-example folder; default: ../shared/data/gaitmap-example beside the project",
    )
    p.add_argument("--json", type=Path, default=DEFAULT_JSON, help="write the numbers here")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = find_ipol_dir(args.data)
    if data_dir is None:
        where = args.data or "$GAITEDGE_IPOL_DIR or ../shared/data/ipol-gait"
        print(f"no ipol-gait data (a folder holding GaitData/) at {where}", file=sys.stderr)
        return 2
    if not (args.mocap / "mocap_sample.csv").is_file():
        print(f"no gaitmap-example data (mocap_sample.csv) in {args.mocap}", file=sys.stderr)
        return 2
    # gaitmap-mad loads its template through a deprecated importlib.resources call
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"gaitmap")
    # a region starting at the signal's first sample gets a shorter gravity-alignment window
    warnings.filterwarnings("ignore", message="Could not use complete window length")

    example = run_example(args.mocap)
    print("(a) gaitmap-example vs motion capture, reference strides; straight strides\n")
    print(example_table(example))
    for name, r in example.items():
        print(f"{name}: {r['seconds']:.0f} s")
    ipol = run_ipol(data_dir)
    print("\n(b) ipol-gait straight passes vs 10 m (error = measured − 10 m, m)\n")
    print(ipol_table(ipol))
    print(
        f"{ipol['n_trials']} trials, {ipol['n_pass_records']} pass × foot records, "
        f"{len(ipol['failed_feet'])} feet failed; {ipol['seconds']:.0f} s"
    )
    print(
        f"passes where RtsKalman's default ZUPT detector finds fewer stance phases than the "
        f"foot's labelled footsteps: {ipol['n_passes_fewer_zupt_regions_than_footsteps']}"
    )
    print(f"\ngaitmap {version('gaitmap')}, gaitmap-mad {version('gaitmap-mad')}")

    def rel(p: Path) -> str:  # where the data sat, relative to the repository
        return os.path.relpath(Path(p).resolve(), ROOT)

    out = {
        "gaitmap": version("gaitmap"),
        "gaitmap_mad": version("gaitmap-mad"),
        "definitions": "benchmarks/_reference.py (module docstring)",
        "gaitmap_example": {"data": rel(args.mocap), "pipelines": example},
        "ipol": {"data": rel(data_dir), **ipol},
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(_json_safe(out), indent=1) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
