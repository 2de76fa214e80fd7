"""Stride analytics validated: ipol-gait passes against 10 m, gaitmap-example against mocap.

Usage::

    python benchmarks/spatial.py ../shared/data/ipol-gait \\
        --mocap ../shared/data/gaitmap-example [--json]

(1) Passes (any folder in the ipol-gait layout): per trial, foot and straight pass
(:func:`_reference.ipol_passes`), the offline pipeline of :mod:`edge.strides` (lost samples
interpolated, zero-velocity detection, ZUPT Kalman filter + RTS smoother over the whole
trial) gives

- ``distance``: the foot's horizontal displacement from its first to its last stance
  inside the pass (stance = a run of zero-velocity samples; its position is held by the
  filter), and ``speed`` = that over the time between the two;
- ``stride_sum``: the summed ``stride_length_m`` of the strides that lie inside the pass.

Both scored against the nominal 10 m by :func:`_reference.pass_figures` (error = measured −
10 m); the walkers did not stop on a line, so a foot's path inside a pass is 10 m only to
within about a step: compare spreads and the method with gaitmap, not just means.

(2) Motion capture (``--mocap``, gaitmap-example): per reference stride (turns left out, as
in :mod:`_reference`), our stride holding the reference heel strike, with the reference's
heel strikes and toe-offs as the events (as the gaitmap run does: only the trajectory and
the parameters are the method's). Geometry: EU 42 on the lateral side of the shoe
(:class:`~edge.strides.geometry.FootGeometry`; the subject's size is not recorded). The
heel clearance reference is a marker 4 cm up the back of the heel, our heel point is at
sole level: a point lower down rises more when the foot pitches, which is most of the
heel row's bias.

Side by side: gaitmap 2.6's figures from ``benchmarks/results/gaitmap_spatial.json`` (made
by ``benchmarks/gaitmap_spatial.py`` in gaitmap's own environment on the same strides and
passes). Also printed: seconds per trial for the whole offline pass.

(3) Temporal parameters from the model's events (``--temporal``; the data folder must be
ipol-gait, whose heel strikes and toe-offs were checked by hand): each subject's trials run
through the cross-validation fold model that never saw that subject
(``models/gait-phase/cv/fold-*``, held out by subject as in the model card), its causal
event detector (what the live loop runs) gives the events, and the same strides are
measured twice, with the model's events and with the checked ones. Stride, stance and
swing time and double support: MAE [ms], over the strides both find (matched by their
stance-to-stance borders, which do not depend on events), steady strides only.

``--json`` prints one JSON object; its ``"passes"`` and ``"mocap"`` keys hold exactly the
figures the stride-analytics issue asks for (and ``"temporal"`` with ``--temporal``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _reference import (
    REFERENCE_FIGURES,
    error_stats,
    ipol_passes,
    load_gaitmap_example,
    mocap_reference,
    pass_figures,
)

from edge.strides.analysis import FootRecording, foot_motion, trial_strides, uniform_samples
from edge.strides.geometry import FootGeometry
from edge.strides.spatial import spatial_parameters
from edge.strides.trajectory import smoothed_trajectory
from edge.strides.zupt import rest_runs, stance_mask
from edge.training.data.feet import load_feet

GAITMAP_JSON = Path(__file__).resolve().parent / "results" / "gaitmap_spatial.json"
MOCAP_FIGURES = {
    "stride_length_m": "stride_length_mae_m",
    "strike_angle_deg": "strike_angle_mae_deg",
    "toe_off_angle_deg": "toe_off_angle_mae_deg",
    "max_toe_clearance_m": "toe_clearance_mae_m",
}
MOCAP_GEOMETRY = FootGeometry.from_shoe_size(42, "lateral")


def _foot_passes(
    foot: FootRecording, passes: list[dict[str, Any]], lengths: dict[str, np.ndarray]
) -> list[dict[str, float]]:
    """Distance, speed and stride sum of one foot over its passes."""
    # one trajectory through the whole trial, lost stretches interpolated: a pass's net
    # displacement needs one position axis (foot_motion restarts it after long losses)
    imu, received = uniform_samples(foot.counter, foot.imu)
    rest = stance_mask(imu, foot.rate_hz) & received
    traj = smoothed_trajectory(imu, foot.rate_hz, rest)
    first, last = rest_runs(rest, foot.rate_hz)
    c0 = int(foot.counter[0])
    out = []
    for p in passes:
        lo, hi = p["start"] - c0, p["end"] - c0
        inside = np.flatnonzero((last >= lo) & (first <= hi))
        row = {"distance_m": math.nan, "speed_mps": math.nan, "stride_sum_m": math.nan}
        if len(inside) >= 2:
            a, b = int(last[inside[0]]), int(first[inside[-1]])
            d = float(np.hypot(*(traj.position[b, :2] - traj.position[a, :2])))
            row["distance_m"] = d
            row["speed_mps"] = d / ((b - a) / foot.rate_hz)
        sel = (lengths["counter_start"] >= p["start"]) & (lengths["counter_end"] <= p["end"])
        if sel.any():
            row["stride_sum_m"] = float(lengths["stride_length_m"][sel].sum())
        out.append(row)
    return out


def _error_sd(values: list[float]) -> float:
    """SD (n − 1) of ``value − 10 m`` over the finite values: the spread to compare."""
    e = np.array([v for v in values if v is not None and np.isfinite(v)]) - 10.0
    return float(e.std(ddof=1)) if len(e) > 1 else math.nan


def run_passes(data_dir: Path) -> dict[str, Any]:
    """Section (1): scores of every pass of every trial and foot in ``data_dir``."""
    passes = ipol_passes(data_dir)
    feet = load_feet(data_dir)
    by_trial_side: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for p in passes:
        by_trial_side.setdefault((p["trial"], p["side"]), []).append(p)
    rows: list[dict[str, Any]] = []
    seconds = 0.0
    for (_subject, name), recs in feet.items():
        t = time.perf_counter()
        table = trial_strides(recs)
        seconds += time.perf_counter() - t
        for rec in recs:
            mine = table.columns["side"] == rec.side
            lengths = {
                k: table.columns[k][mine]
                for k in ("counter_start", "counter_end", "stride_length_m")
            }
            todo = by_trial_side.get((name, rec.side), [])
            for p, r in zip(todo, _foot_passes(rec, todo, lengths), strict=True):
                rows.append({**p, **r})
    subjects = [r["subject"] for r in rows]
    distance = pass_figures(
        [r["distance_m"] for r in rows], [r["speed_mps"] for r in rows], subjects
    )
    stride_sum = pass_figures(
        [r["stride_sum_m"] for r in rows], [r["speed_mps"] for r in rows], subjects
    )
    distance["distance_error_m_sd"] = _error_sd([r["distance_m"] for r in rows])
    stride_sum["distance_error_m_sd"] = _error_sd([r["stride_sum_m"] for r in rows])
    return {
        "n_trials": len(feet),
        "seconds_per_trial": seconds / max(len(feet), 1),
        "distance": distance,
        "stride_sum": stride_sum,
        "rows": rows,
    }


def run_mocap(folder: Path) -> dict[str, Any]:
    """Section (2): per-stride errors against the motion capture, turns left out."""
    data = load_gaitmap_example(folder)
    ref = mocap_reference(folder)
    measured: dict[str, list[np.ndarray]] = {}
    reference: dict[str, list[np.ndarray]] = {}
    figures = REFERENCE_FIGURES
    seconds = 0.0
    for side in ("L", "R"):
        imu, rate, st = data[side]["imu"], data[side]["rate_hz"], data[side]["strides"]
        t = time.perf_counter()
        motion = foot_motion(
            FootRecording(side=side, rate_hz=rate, counter=np.arange(len(imu)), imu=imu)  # type: ignore[arg-type]
        )
        assert motion is not None  # the walk has its strides
        out = spatial_parameters(
            motion.traj,
            motion.imu,
            rate,
            motion.stances,
            heel_strikes=np.sort(st[:, 3]),
            toe_offs=np.sort(st[:, 4]),
            geometry=MOCAP_GEOMETRY,
            axes=motion.axes,
        )
        seconds += time.perf_counter() - t
        ours = np.array(
            [np.flatnonzero(out["heel_strike"] == ic)[:1].tolist() or [-1] for ic in st[:, 3]]
        ).ravel()
        keep = (ours >= 0) & ~ref[side]["turn"]
        for f in figures:
            measured.setdefault(f, []).append(out[f][ours[keep]])
            reference.setdefault(f, []).append(ref[side][f][keep])
    stats = {
        f: error_stats(np.concatenate(measured[f]), np.concatenate(reference[f])) for f in figures
    }
    n_ref_straight = int(sum((~ref[s]["turn"]).sum() for s in ("L", "R")))
    return {"stats": stats, "n_reference_straight": n_ref_straight, "seconds": seconds}


TEMPORAL_FIGURES = ("stride_time_s", "stance_time_s", "swing_time_s", "double_support_time_s")
CV_DIR = Path(__file__).resolve().parent.parent / "models" / "gait-phase" / "cv"


def run_temporal(data_dir: Path, cv_dir: Path = CV_DIR) -> dict[str, Any]:
    """Section (3): temporal parameters from the held-out model's events vs the checked ones."""
    import dataclasses

    from edge.model.files import load_model
    from edge.model.outputs import GAIT_OUTPUTS, make_detector
    from edge.training.data import load_dataset
    from edge.training.data.feet import feet_of
    from edge.training.evaluate import model_outputs

    trials = load_dataset(data_dir)
    folds = [load_model(p) for p in sorted(cv_dir.glob("fold-*"))]
    if not folds:
        raise SystemExit(f"no fold models in {cv_dir}: the temporal check needs them")
    model_feet: dict[tuple[str, str], list[FootRecording]] = {}
    checked_feet: dict[tuple[str, str], list[FootRecording]] = {}
    for m in folds:
        mine = [t for t in trials if t.subject in set(m.meta.validation_subjects)]
        if not mine:
            continue
        names = [c.name for c in m.outputs]
        for t, y in zip(mine, model_outputs(m, mine, "int8"), strict=True):
            pc, ps, st = (y[:, names.index(n)] for n in GAIT_OUTPUTS)
            events = make_detector(m, t.sample_rate_hz).detect(t.counter, pc, ps, st)
            hs = np.array([round(e.counter_at) for e in events if e.kind == "HS"], np.int64)
            to = np.array([round(e.counter_at) for e in events if e.kind == "TO"], np.int64)
            key = (t.subject, t.name)
            rec = feet_of(t)
            checked_feet.setdefault(key, []).append(rec)
            model_feet.setdefault(key, []).append(
                dataclasses.replace(rec, heel_strikes=np.sort(hs), toe_offs=np.sort(to))
            )
    errors: dict[str, list[float]] = {f: [] for f in TEMPORAL_FIGURES}
    n_checked = n_matched = 0
    for key, recs in checked_feet.items():
        ref = trial_strides(recs).columns
        got = trial_strides(model_feet[key]).columns
        for side in ("L", "R"):
            r_sel = (ref["side"] == side) & ref["steady"]
            n_checked += int(r_sel.sum())
            g_sel = got["side"] == side
            g_end = {
                int(c): i
                for i, c in zip(np.flatnonzero(g_sel), got["counter_end"][g_sel], strict=True)
            }
            for i in np.flatnonzero(r_sel):
                j = g_end.get(int(ref["counter_end"][i]))
                if j is None:
                    continue
                n_matched += 1
                for f in TEMPORAL_FIGURES:
                    e = got[f][j] - ref[f][i]
                    if np.isfinite(e):
                        errors[f].append(float(e))
    out: dict[str, Any] = {"n_strides": n_matched, "n_steady_checked": n_checked}
    for f in TEMPORAL_FIGURES:
        e = np.array(errors[f])
        name = f.removesuffix("_s")
        out[f"{name}_mae_ms"] = float(np.abs(e).mean() * 1e3) if len(e) else math.nan
        out[f"{name}_bias_ms"] = float(e.mean() * 1e3) if len(e) else math.nan
        out[f"{name}_n"] = len(e)
    return out


def _gaitmap() -> dict[str, Any] | None:
    """gaitmap's figures, with the spread of its pass errors added from its per-pass rows."""
    if not GAITMAP_JSON.is_file():
        return None
    gm = json.loads(GAITMAP_JSON.read_text())
    rows = gm["ipol"]["passes"]
    for key, col in (("zupt_distance", "distance_m"), ("stride_sum", "stride_sum_m")):
        gm["ipol"][key]["distance_error_m_sd"] = _error_sd([r.get(col) for r in rows])
    return gm


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir", type=Path, help="a folder in the ipol-gait layout")
    ap.add_argument("--mocap", type=Path, help="the gaitmap-example folder")
    ap.add_argument(
        "--temporal",
        action="store_true",
        help="also score temporal parameters from the held-out models' events",
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    passes = run_passes(args.data_dir)
    d = passes["distance"]
    result: dict[str, Any] = {
        "passes": {
            k: d[k]
            for k in (
                "n_passes",
                "distance_error_m_mean",
                "distance_error_m_mae",
                "distance_error_pct_mae",
                "speed_mps_mean",
            )
        },
    }
    mocap = run_mocap(args.mocap) if args.mocap else None
    temporal = run_temporal(args.data_dir) if args.temporal else None
    if temporal:
        result["temporal"] = temporal
    if mocap:
        s = mocap["stats"]
        result["mocap"] = {"n_strides": s["stride_length_m"]["n"]}
        result["mocap"].update({v: s[k]["mae"] for k, v in MOCAP_FIGURES.items()})
    gm = _gaitmap()
    if args.json:
        result["details"] = {
            "passes_per_subject_mae_m": d["per_subject"],
            "passes_distance_error_m_sd": d["distance_error_m_sd"],
            "passes_stride_sum": {k: v for k, v in passes["stride_sum"].items()},
            "seconds_per_trial": passes["seconds_per_trial"],
            "mocap": mocap,
            "gaitmap": None
            if gm is None
            else {
                "ipol": {k: gm["ipol"][k] for k in ("zupt_distance", "stride_sum")},
                "mocap": gm["gaitmap_example"]["pipelines"],
            },
        }
        print(json.dumps(result, indent=1, default=float))
        return 0
    _print_table(passes, mocap, gm)
    if temporal:
        print(
            f"\nipol-gait temporal parameters, the held-out model's events vs the checked ones "
            f"({temporal['n_strides']} of {temporal['n_steady_checked']} steady strides matched)"
        )
        for f in TEMPORAL_FIGURES:
            name = f.removesuffix("_s")
            print(
                f"  {f:24s} MAE {temporal[name + '_mae_ms']:6.1f} ms   bias "
                f"{temporal[name + '_bias_ms']:+6.1f} ms   (n {temporal[name + '_n']})"
            )
    return 0


def _fmt(x: float | None, scale: float = 1.0, digits: int = 1) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{x * scale:.{digits}f}"


def _cell(st: dict[str, Any], scale: float, unit: str) -> str:
    """``MAE unit (mean ± SD)`` of an :func:`error_stats` dict."""
    return f"{_fmt(st['mae'], scale)}{unit} ({_fmt(st['mean'], scale)} ± {_fmt(st['sd'], scale)})"


def _print_table(
    passes: dict[str, Any], mocap: dict[str, Any] | None, gm: dict[str, Any] | None
) -> None:
    g_ipol = gm["ipol"] if gm else None
    print(
        f"ipol-gait passes ({passes['n_trials']} trials; "
        f"{passes['seconds_per_trial']:.2f} s per trial, both feet, offline)"
    )
    print(f"{'':32s}{'gaitedge':>22s}{'gaitmap 2.6':>22s}")
    for label, ours, theirs in (
        ("net displacement", passes["distance"], g_ipol and g_ipol["zupt_distance"]),
        ("summed stride lengths", passes["stride_sum"], g_ipol and g_ipol["stride_sum"]),
    ):
        for key, name, scale, unit in (
            ("n_passes", "passes", 1, ""),
            ("distance_error_m_mean", "mean error", 1, " m"),
            ("distance_error_m_mae", "MAE", 1, " m"),
            ("distance_error_pct_mae", "MAE", 1, " %"),
            ("distance_error_m_sd", "SD of the error", 1, " m"),
            ("speed_mps_mean", "speed", 1, " m/s"),
        ):
            digits = 0 if key == "n_passes" else 2
            print(
                f"  {label + ': ' + name:30s}{_fmt(ours[key], scale, digits) + unit:>22s}"
                f"{(_fmt(theirs[key], scale, digits) + unit) if theirs else '—':>22s}"
            )
    if not mocap:
        return
    pipes = gm["gaitmap_example"]["pipelines"] if gm else {}
    print(f"\ngaitmap-example vs motion capture ({mocap['n_reference_straight']} straight strides)")
    print(
        f"{'':24s}{'gaitedge MAE (mean ± SD)':>28s}"
        + "".join(f"{k.split('(')[0]:>28s}" for k in pipes)
    )
    for f, st in mocap["stats"].items():
        cm = 100.0 if f.endswith("_m") else 1.0
        unit = " cm" if f.endswith("_m") else "°"
        row = f"  {f:22s}{_cell(st, cm, unit):>28s}"
        for p in pipes.values():
            g = p["figures"].get(f, {}).get("straight")
            row += f"{_cell(g, cm, unit) if g else '—':>28s}"
        print(row)


if __name__ == "__main__":
    raise SystemExit(main())
