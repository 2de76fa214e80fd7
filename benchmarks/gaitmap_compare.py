"""gaitmap 2.6 on ipol-gait, scored exactly as gaitedge is: the side-by-side baseline.

What it measures: the event timing of gaitmap (https://gaitmap.readthedocs.io), the reference
open foot-IMU pipeline, on every trial and foot of ipol-gait, with the project's own data
loading (:func:`edge.training.data.load_dataset`) and scoring
(:mod:`edge.training.metrics`: one-to-one matching within 60 ms inside the ``scored``
region, pooled over all trials). Two pipelines, both offline over the whole signal with
gaitmap's defaults:

- ``BarthDtw + RamppEventDetection``: template (msDTW) stride segmentation, then Rampp's events
  (both from ``gaitmap-mad``, AGPL-3);
- ``BarthDtw + HerzerEventDetection``: the same strides, then Herzer's events (``gaitmap``).

Heel strike is gaitmap's initial contact ``ic`` and toe-off its terminal contact ``tc``, taken
from ``annotated_original_event_list_`` (one ``ic`` and ``tc`` per segmented stride, in samples
of the input signal; the ``min_vel_event_list_`` would drop the first stride of every gait
sequence). Offline events have no reporting delay, so the delay columns are left out.

Preparing the data for gaitmap, per foot:

1. gaitmap needs a uniformly sampled signal, but ipol-gait's counter has gaps (lost samples).
   Each channel is linearly interpolated (``np.interp``) onto every counter value from the
   first to the last, so gaitmap's sample index i is counter ``counter[0] + i``.
2. Axes to gaitmap's foot sensor frame (FSF: x to the tip of the shoe, y to the left, z up,
   same on both feet; acc in m/s², gyro in deg/s), see :data:`IPOL_TO_FSF`; then gaitmap's
   ``align_dataset_to_gravity`` (the dorsum is tilted ~35°) and ``convert_left_foot_to_fbf`` /
   ``convert_right_foot_to_fbf`` to the foot body frame its algorithms use, as in gaitmap's
   MaD pipeline example.

A foot on which gaitmap raises counts all its events as missed (one-line warning).

Run it in its own environment (gaitmap is ~600 MB and gaitmap-mad is AGPL-3: neither is a
dependency of gaitedge)::

    python -m venv /tmp/gm && /tmp/gm/bin/pip install -r benchmarks/requirements-gaitmap.txt -e .
    /tmp/gm/bin/python benchmarks/gaitmap_compare.py [--data DIR] [--json PATH]

``--data`` defaults to $GAITEDGE_IPOL_DIR, then ``../shared/data/ipol-gait`` beside the project.
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
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from gaitmap.event_detection import HerzerEventDetection, RamppEventDetection
from gaitmap.preprocessing.sensor_alignment import align_dataset_to_gravity
from gaitmap.stride_segmentation import BarthDtw
from gaitmap.utils.consts import SF_COLS
from gaitmap.utils.coordinate_conversion import (
    convert_left_foot_to_fbf,
    convert_right_foot_to_fbf,
)

from edge.events import GaitEvent
from edge.training.data import Trial, load_dataset
from edge.training.metrics import (
    POOLED_KEYS,
    TrialScores,
    inside,
    match_events,
    pooled_scores,
    score_trial,
    scored_intervals,
)
from firmware_bridge.sim.walks import find_ipol_dir

#: Matching tolerance [ms], as for gaitedge's own scores.
TOLERANCE_MS = 60.0

#: Event detectors run on BarthDtw's strides, by table row.
PIPELINES = {
    "BarthDtw + RamppEventDetection": RamppEventDetection,
    "BarthDtw + HerzerEventDetection": HerzerEventDetection,
}

#: Columns of the table (and keys per pipeline in the JSON): POOLED_KEYS without phase, delay.
TABLE_KEYS: tuple[str, ...] = tuple(
    k for k in POOLED_KEYS if not k.startswith("phase") and "delay" not in k
)

#: A DTW stride shorter than this fraction of the foot's median true stride time is "short"
#: (a half-stride, e.g. push-off to heel strike), reported as a diagnostic.
SHORT_STRIDE_FRACTION = 0.7

# ipol-gait sensor frame -> gaitmap FSF, the same proper rotation (180° about z) on both feet:
# FSF = IPOL_TO_FSF @ ipol. ipol's y is the mediolateral axis (largest gyro variance) and points
# to the subject's RIGHT on both feet: gyr_y is about -8 rad/s at push-off (toe-down pitch) and
# +5 rad/s in mid-swing (toe-up) on either foot; gaitmap's FSF y points left (toe-down =
# +gyr_y, "plantarflexion" in its coordinate-system guide). ipol's z points up (standing acc_z
# ~ +8 m/s²). Right-handed, x = y × z then points BACKWARD, up the slope of the dorsum
# (standing acc_x ~ +5.5 m/s², gravity reaction on an axis tilted ~35° upward). So
# x_fsf = -x, y_fsf = -y, z_fsf = z. Because both sensors share one orientation relative to
# the foot, the left/right mirror symmetry (acc_y, gyr_x, gyr_z change sign between sides)
# is what gaitmap's FSF also has, and convert_*_foot_to_fbf handles it. Checked against
# gaitmap: after gravity alignment standing acc ~ [0, 0, +9.8] and the swing peak of gyr_ml
# is positive (~+300 deg/s, the BarthOriginalTemplate's is +338), with gyr_pa and gyr_si in
# swing of the template's sign; the other three sign choices give costlier DTW matches and
# fewer strides. :func:`mid_swing_gyr_ml` re-checks every foot.
IPOL_TO_FSF = np.diag([-1.0, -1.0, 1.0])


@dataclass
class FootResult:
    """gaitmap's output on one foot, in counter units."""

    events: dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = field(
        default_factory=dict
    )  # pipeline -> (ic, tc)
    n_dtw_strides: int = 0
    n_short_strides: int = 0
    mid_swing_gyr_ml: float = math.nan
    error: str | None = None


# --------------------------------------------------------------------------- data


def dense_imu(trial: Trial) -> npt.NDArray[np.float64]:
    """(counter[-1] − counter[0] + 1, 6) IMU on every counter value (lost samples interpolated)."""
    grid = np.arange(trial.counter[0], trial.counter[-1] + 1)
    imu = trial.imu.astype(np.float64)
    return np.stack([np.interp(grid, trial.counter, imu[:, k]) for k in range(6)], axis=1)


def to_fsf(imu: npt.NDArray[np.float64]) -> pd.DataFrame:
    """ipol-gait IMU (m/s², rad/s) as a gaitmap FSF frame (m/s², deg/s), see IPOL_TO_FSF."""
    acc = imu[:, :3] @ IPOL_TO_FSF.T
    gyr = np.rad2deg(imu[:, 3:] @ IPOL_TO_FSF.T)
    return pd.DataFrame(np.hstack([acc, gyr]), columns=SF_COLS)


def to_body_frame(fsf: pd.DataFrame, side: str, sample_rate_hz: float) -> pd.DataFrame:
    """Gravity-aligned FSF converted to gaitmap's (left or right) foot body frame."""
    aligned = align_dataset_to_gravity(fsf, sample_rate_hz)
    return convert_left_foot_to_fbf(aligned) if side == "L" else convert_right_foot_to_fbf(aligned)


def mid_swing_gyr_ml(bf: pd.DataFrame, trial: Trial) -> float:
    """Mean ``gyr_ml`` [deg/s] halfway between each true toe-off and the next heel strike.

    Positive in gaitmap's foot body frame; a negative value means a wrong frame conversion.
    """
    hs, to = trial.events["heel_strike"], trial.events["toe_off"]
    nxt = np.searchsorted(hs, to, side="right")
    ok = nxt < len(hs)
    mid = (to[ok] + hs[nxt[ok]]) // 2 - trial.counter[0]
    return float(bf["gyr_ml"].to_numpy()[mid].mean()) if mid.size else math.nan


# --------------------------------------------------------------------------- gaitmap


def n_short(stride_list: pd.DataFrame, trial: Trial) -> int:
    """DTW strides shorter than SHORT_STRIDE_FRACTION of the median true stride time."""
    true_stride = np.median(np.diff(trial.events["heel_strike"]))
    length = (stride_list["end"] - stride_list["start"]).to_numpy()
    return int(np.sum(length < SHORT_STRIDE_FRACTION * true_stride))


def detect(
    bf: pd.DataFrame, stride_list: pd.DataFrame, detector: type, sample_rate_hz: float, c0: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(ic, tc) of one event detector with defaults, as counter values (duplicates dropped)."""
    ed = detector().detect(data=bf, stride_list=stride_list, sampling_rate_hz=sample_rate_hz)
    ev = ed.annotated_original_event_list_
    ic = np.unique(ev["ic"].dropna().to_numpy(dtype=np.float64)) + c0
    tc = np.unique(ev["tc"].dropna().to_numpy(dtype=np.float64)) + c0
    return ic, tc


def run_gaitmap(trial: Trial) -> FootResult:
    """Both pipelines on one foot; on any gaitmap error, no events and the error message."""
    fs = trial.sample_rate_hz
    try:
        bf = to_body_frame(to_fsf(dense_imu(trial)), trial.side, fs)
        stride_list = BarthDtw().segment(data=bf, sampling_rate_hz=fs).stride_list_
        c0 = int(trial.counter[0])
        events = {name: detect(bf, stride_list, d, fs, c0) for name, d in PIPELINES.items()}
    except Exception as e:  # a failure on one foot must not stop the benchmark
        return FootResult(error=f"{type(e).__name__}: {e}")
    return FootResult(
        events=events,
        n_dtw_strides=len(stride_list),
        n_short_strides=n_short(stride_list, trial),
        mid_swing_gyr_ml=mid_swing_gyr_ml(bf, trial),
    )


# --------------------------------------------------------------------------- scoring


def score(trial: Trial, ic: Sequence[float], tc: Sequence[float]) -> TrialScores:
    """:func:`edge.training.metrics.score_trial` of offline events (reported at their own time).

    gaitmap gives no gait phase: both phases are NaN, so the phase fields are 0.
    """
    events = [GaitEvent("HS", float(x), int(x)) for x in ic]
    events += [GaitEvent("TO", float(x), int(x)) for x in tc]
    events.sort(key=lambda e: e.counter_at)
    nan = np.full(len(trial.counter), np.nan)
    return score_trial(
        trial.subject,
        trial.counter,
        nan,
        nan,
        trial.masks["scored"],
        trial.masks["steady"],
        events,
        trial.events["heel_strike"],
        trial.events["toe_off"],
        sample_rate_hz=trial.sample_rate_hz,
        tolerance_ms=TOLERANCE_MS,
    )


def signed_errors_ms(
    pred: npt.ArrayLike, true: npt.ArrayLike, trial: Trial
) -> npt.NDArray[np.float64]:
    """``pred − true`` [ms] of the matches that :func:`score` counts (true event in region)."""
    ms = 1000.0 / trial.sample_rate_hz
    m = match_events(pred, true, TOLERANCE_MS / ms)
    intervals = scored_intervals(trial.counter, trial.masks["scored"])
    keep = inside(np.asarray(true, dtype=np.float64)[m.pairs[:, 1]], intervals)
    return m.errors[keep] * ms


# --------------------------------------------------------------------------- report


def _fmt(key: str, value: float | int) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "–"
    return f"{value:.1f}" if key.endswith("_ms") else f"{value:.3f}"


def markdown_table(results: dict[str, dict[str, Any]]) -> str:
    """One row per pipeline, columns TABLE_KEYS."""
    lines = [
        "| pipeline | " + " | ".join(TABLE_KEYS) + " |",
        "|---|" + "---:|" * len(TABLE_KEYS),
    ]
    for name, row in results.items():
        lines.append(f"| {name} | " + " | ".join(_fmt(k, row[k]) for k in TABLE_KEYS) + " |")
    return "\n".join(lines)


def _json_safe(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
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
    p.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    p.add_argument("--trials", nargs="*", default=None, help="only these trials (e.g. 1-1 5-2)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = find_ipol_dir(args.data)
    if data_dir is None:
        where = args.data or "$GAITEDGE_IPOL_DIR or ../shared/data/ipol-gait"
        print(f"no ipol-gait data (a folder holding GaitData/) at {where}", file=sys.stderr)
        return 2
    # gaitmap-mad loads its template through a deprecated importlib.resources call
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"gaitmap")

    t0 = time.perf_counter()
    trials = load_dataset(data_dir, trials=args.trials)
    scores: dict[str, list[TrialScores]] = {name: [] for name in PIPELINES}
    errors: dict[str, dict[str, list[float]]] = {n: {"hs": [], "to": []} for n in PIPELINES}
    feet = {"feet": len(trials), "failed": 0, "dtw_strides": 0, "short_strides": 0}
    bad_frame = []
    for trial in trials:
        res = run_gaitmap(trial)
        if res.error is not None:
            feet["failed"] += 1
            msg = f"{trial.name} {trial.side}: gaitmap failed ({res.error}); events count as missed"
            print(f"warning: {msg}", file=sys.stderr)
        if res.mid_swing_gyr_ml <= 0:
            bad_frame.append(f"{trial.name} {trial.side}")
        feet["dtw_strides"] += res.n_dtw_strides
        feet["short_strides"] += res.n_short_strides
        for name in PIPELINES:
            ic, tc = res.events.get(name, (np.zeros(0), np.zeros(0)))
            scores[name].append(score(trial, ic, tc))
            errors[name]["hs"].extend(signed_errors_ms(ic, trial.events["heel_strike"], trial))
            errors[name]["to"].extend(signed_errors_ms(tc, trial.events["toe_off"], trial))
    if bad_frame:
        print(f"warning: mid-swing gyr_ml <= 0 (frame?) on {', '.join(bad_frame)}", file=sys.stderr)
    elapsed = time.perf_counter() - t0

    results = {}
    for name, s in scores.items():
        pooled = pooled_scores(s)
        results[name] = {k: pooled[k] for k in TABLE_KEYS}
        for kind, e in errors[name].items():
            results[name][f"{kind}_median_signed_error_ms"] = float(np.median(e)) if e else math.nan
    print(markdown_table(results))
    print(
        f"\ngaitmap {version('gaitmap')}, gaitmap-mad {version('gaitmap-mad')}; "
        f"{len({t.name for t in trials})} trials, {feet['feet']} feet, {feet['failed']} failed; "
        f"tolerance {TOLERANCE_MS:.0f} ms; {elapsed:.0f} s"
    )
    print(
        f"BarthDtw strides: {feet['dtw_strides']}, of which {feet['short_strides']} shorter than "
        f"{SHORT_STRIDE_FRACTION:.0%} of the foot's median true stride (half-strides)"
    )
    for name, r in results.items():
        hs, to = r["hs_median_signed_error_ms"], r["to_median_signed_error_ms"]
        print(
            f"{name}: median signed error (pred − true): heel strike {hs:+.0f} ms, "
            f"toe-off {to:+.0f} ms"
        )
    if args.json is not None:
        out = {
            "gaitmap": version("gaitmap"),
            "gaitmap_mad": version("gaitmap-mad"),
            # where the data sat, relative to the repository (no machine's own path)
            "data": f"ipol-gait ({os.path.relpath(data_dir, Path(__file__).resolve().parents[1])})",
            "tolerance_ms": TOLERANCE_MS,
            "n_trials": len({t.name for t in trials}),
            **{f"n_{k}": v for k, v in feet.items()},
            "seconds": round(elapsed, 1),
            "pipelines": results,
        }
        args.json.write_text(json.dumps(_json_safe(out), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
