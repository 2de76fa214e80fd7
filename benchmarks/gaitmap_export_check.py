"""gaitmap 2.6 on a trial exported by ``gaitedge export --format gaitmap``, unchanged.

Shows that the export is what gaitmap takes: its IMU file read with pandas exactly as
gaitmap's example data, its stride list as a min_vel stride list per sensor, then
gaitmap's ``StrideLevelTrajectory(RtsKalman)`` and ``SpatialParameterCalculation`` and
``TemporalParameterCalculation`` with their defaults. Prints gaitmap's stride length,
gait velocity and stride time per stride beside gaitedge's (``trial-N-strides.csv`` of
the csv export of the same trial, matched by the heel strike inside the stride).

Run it in gaitmap's environment (benchmarks/requirements-gaitmap.txt)::

    gaitedge export 1 --db trials.db --out exp --format gaitmap,csv
    /tmp/gm/bin/python benchmarks/gaitmap_export_check.py exp 1 [--rate 100]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from gaitmap.parameters import SpatialParameterCalculation, TemporalParameterCalculation
from gaitmap.trajectory_reconstruction import RtsKalman, StrideLevelTrajectory


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="where gaitedge export wrote the trial")
    ap.add_argument("trial", type=int)
    ap.add_argument("--rate", type=float, default=100.0, help="the insoles' rate [Hz]")
    args = ap.parse_args()
    data = pd.read_csv(
        args.folder / f"trial-{args.trial}-gaitmap-imu.csv", header=[0, 1], index_col=0
    )
    strides = pd.read_csv(args.folder / f"trial-{args.trial}-gaitmap-strides.csv")
    ours = pd.read_csv(args.folder / f"trial-{args.trial}-strides.csv")
    print(f"gaitmap on {args.folder}: {len(data)} samples, {len(strides)} strides")
    for foot, sensor, side in (("left", "left_sensor", "L"), ("right", "right_sensor", "R")):
        sf = data[sensor].dropna()
        mine_strides = strides[strides["foot"] == foot]
        ic_counter = mine_strides.set_index("s_id")["ic_counter"]
        sl = mine_strides.drop(columns=["foot", "ic_counter"]).set_index("s_id")
        sl = sl[(sl["start"] >= sf.index[0]) & (sl["end"] <= sf.index[-1])]
        sf = sf.reset_index(drop=True)
        offset = int(data[sensor].dropna().index[0])
        sl[["start", "end", "ic", "tc", "min_vel", "pre_ic"]] -= offset
        traj = StrideLevelTrajectory(
            ori_method=None, pos_method=None, trajectory_method=RtsKalman()
        )
        traj = traj.estimate(data=sf, stride_event_list=sl, sampling_rate_hz=args.rate)
        spatial = SpatialParameterCalculation().calculate(
            stride_event_list=sl, positions=traj.position_, orientations=traj.orientation_,
            sampling_rate_hz=args.rate,
        ).parameters_  # fmt: skip
        temporal = (
            TemporalParameterCalculation()
            .calculate(stride_event_list=sl, sampling_rate_hz=args.rate)
            .parameters_
        )
        mine = ours[ours["side"] == side].reset_index(drop=True)
        print(f"\n{foot}: {len(sl)} strides")
        print(f"  {'s_id':>4} {'gaitmap m':>10} {'gaitedge m':>10} {'gaitmap m/s':>12} "
              f"{'gaitmap T s':>12} {'gaitedge T s':>13}")  # fmt: skip
        errors = []
        for s_id, row in spatial.iterrows():
            c = ic_counter[s_id]  # our stride holds this heel strike before its next stance
            hit = mine[(mine["counter_start"] < c) & (c <= mine["counter_end"] + 10)]
            match = hit.iloc[0] if len(hit) else None
            ge = float(match["stride_length_m"]) if match is not None else np.nan
            errors.append(row["stride_length"] - ge)
            our_t = float(match["stride_time_s"]) if match is not None else np.nan
            gm_t = temporal.loc[s_id, "stride_time"]
            print(f"  {s_id:>4} {row['stride_length']:10.3f} {ge:10.3f} "
                  f"{row['gait_velocity']:12.3f} {gm_t:12.3f} {our_t:13.3f}")  # fmt: skip
        e = np.array(errors, dtype=float)
        e = e[np.isfinite(e)]
        if len(e):
            print(f"  gaitmap - gaitedge stride length: mean {e.mean() * 100:+.1f} cm, "
                  f"MAE {np.abs(e).mean() * 100:.1f} cm over {len(e)} strides")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
