"""gaitmap's layout: its two header rows, its foot sensor frame (gravity on +z at foot flat,
deg/s), and a min_vel stride list that agrees with our strides."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from edge.cli import main
from edge.store import TrialStore
from tests.conftest import capture_of


def test_a_trial_in_gaitmaps_layout_and_frame(
    tmp_path: Path, walk_left, walk_right, capsys
) -> None:
    urls = [capture_of(tmp_path / f"{r.side}.gecap", r) for r in (walk_left, walk_right)]
    db = tmp_path / "t.db"
    assert main(["run", "--left", urls[0], "--right", urls[1], "--db", str(db)]) == 0
    out = tmp_path / "gm"
    assert main(["export", "1", "--db", str(db), "--out", str(out), "--format", "gaitmap,csv"]) == 0
    printed = capsys.readouterr().out
    assert "trial-1-gaitmap-imu.csv" in printed and "trial-1-samples.csv" in printed
    with (out / "trial-1-gaitmap-imu.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["sensor", "left_sensor", "right_sensor"]
    assert rows[1][:3] == ["axis", "acc_x", "acc_x"]
    x = np.array([[float(v) if v else np.nan for v in r[1:]] for r in rows[2:]])
    left = x[:, 0::2]  # acc_x, acc_y, acc_z, gyr_x, gyr_y, gyr_z of the left sensor
    with (out / "trial-1-gaitmap-strides.csv").open() as f:
        strides = list(csv.DictReader(f))
    mine = [s for s in strides if s["foot"] == "left"]
    assert len(mine) >= 8
    for s in mine:
        start, end, ic, tc, pre = (int(s[k]) for k in ("start", "end", "ic", "tc", "pre_ic"))
        assert pre <= start < tc < ic <= end
    # at the min_vel samples (foot flat, nearly still) gravity is on +z (this insole reads
    # |a| = 10.4 m/s² at rest: its scale, not the frame's)
    flat = np.median(left[[int(s["start"]) for s in mine], :3], axis=0)
    assert flat[2] / np.linalg.norm(flat) > 0.995
    assert np.nanmax(np.abs(left[:, 3:])) > 200  # deg/s, not rad/s
    # mid-swing the foot turns about its mediolateral axis (FSF y) far more than the others
    swing = left[int(mine[2]["tc"]) : int(mine[2]["ic"])]
    assert np.abs(swing[:, 4]).mean() > 3 * np.abs(swing[:, 3]).mean()
    with TrialStore(db, read_only=True) as store:
        ours = int((store.strides(1).columns["side"] == "L").sum())
    assert abs(len(mine) - ours) <= 3  # the same walk: strides without both events left out
