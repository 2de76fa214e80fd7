"""A stored trial in gaitmap's data layout, so gaitmap's algorithms run on it unchanged.

``gaitedge export TRIAL --format gaitmap --out DIR`` writes, as gaitmap's own example data
(``gaitmap.example_data``) is laid out:

``trial-<id>-gaitmap-imu.csv``
    Two header rows, ``sensor`` (``left_sensor`` / ``right_sensor``) and ``axis``
    (``acc_x`` … ``gyr_z``), then one row per sample on one time base for both feet
    (index: sample number at the insoles' rate from the earlier foot's first sample; a foot
    not yet or no longer recording is empty). Axes are gaitmap's foot sensor frame (FSF:
    x to the tip of the shoe, y to the left, z up — the same on both feet), acc in m/s²
    (gravity included), gyro in deg/s. The rotation from each insole's frame is the foot's
    axes as :func:`edge.strides.spatial.foot_axes` estimates them from the walk (forward:
    the direction of travel, up: gravity at foot flat), so it is already aligned to gravity
    (gaitmap's ``align_dataset_to_gravity`` is not needed, though harmless) and works for
    any mounting; the trajectory pass is the stride analytics' own
    (:func:`edge.strides.analysis.foot_motion`). Lost samples are filled by linear
    interpolation (gaitmap wants a uniform signal).
``trial-<id>-gaitmap-strides.csv``
    gaitmap's min_vel stride list of both feet: ``s_id``, ``foot`` (``left`` / ``right``),
    ``start``, ``end`` (the minimal-angular-rate sample of two consecutive stances: a
    min_vel stride), ``ic`` and ``tc`` (the heel strike and toe-off inside, from the
    trial's stored gait events), ``min_vel`` (= ``start``), ``pre_ic`` (the heel strike
    before ``start``); sample numbers on the index above. Strides without both events are
    left out (gaitmap's spatial parameters need them). A last column, ``ic_counter`` (not
    gaitmap's: drop it before handing the list over), is the insole's counter at ``ic``, to
    match gaitedge's strides.

gaitmap's own loaders read these with ``pandas.read_csv(path, header=[0, 1], index_col=0)``
and ``pandas.read_csv(path)``; ``benchmarks/gaitmap_export_check.py`` runs gaitmap's
``RtsKalman`` and spatial parameters on them in its own environment.
"""

from __future__ import annotations

import csv
import itertools
import math
from pathlib import Path

import numpy as np

from edge.store import TrialStore
from edge.strides.analysis import foot_motion
from edge.strides.stored import stored_feet

__all__ = ["export_gaitmap"]

_SENSOR = {"L": "left_sensor", "R": "right_sensor"}
_FOOT = {"L": "left", "R": "right"}
_AXES = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")


def export_gaitmap(store: TrialStore, trial_id: int, out_dir: str | Path) -> list[Path]:
    """Write the trial's gaitmap IMU and stride files into ``out_dir`` (module docstring)."""
    feet = [f for f in stored_feet(store, trial_id) if len(f.counter) > 1]
    if not feet:
        raise ValueError(f"trial {trial_id} has no samples to export")
    if len({f.side for f in feet}) < len(feet):
        raise ValueError(
            f"trial {trial_id}: a device restarted during it; gaitmap wants one signal per "
            "foot: export its pieces with the csv format"
        )
    rate = feet[0].rate_hz
    t_start = min(f.t0_s for f in feet)
    per_side: dict[str, tuple[int, np.ndarray]] = {}
    strides: list[list[object]] = []
    for f in feet:
        motion = foot_motion(f)
        if motion is None:
            raise ValueError(f"trial {trial_id} {f.side}: fewer than two stances; no strides")
        imu, axes, (first, last) = motion.imu, motion.axes, motion.stances
        m = np.stack([axes.forward, axes.left, axes.up])  # sensor -> FSF
        fsf = np.concatenate([imu[:, :3] @ m.T, np.degrees(imu[:, 3:] @ m.T)], axis=1)
        offset = round((f.t0_s - t_start) * rate)
        per_side[f.side] = (offset, fsf)
        w = np.linalg.norm(imu[:, 3:], axis=1)
        min_vel = np.array(
            [a + int(np.argmin(w[a : b + 1])) for a, b in zip(first, last, strict=True)]
        )
        c0 = int(f.counter[0])
        hs = np.sort(np.asarray(f.heel_strikes) - c0)
        to = np.sort(np.asarray(f.toe_offs) - c0)
        for start, end in itertools.pairwise(min_vel):
            ic = hs[(hs > start) & (hs <= end)]
            tc = to[(to > start) & (to < end)]
            pre = hs[hs <= start]
            if len(ic) != 1 or len(tc) != 1 or not len(pre):
                continue
            at = (start, end, ic[0], tc[0], start, pre[-1])
            strides.append([_FOOT[f.side], *(int(v) + offset for v in at), int(ic[0]) + c0])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n = max(off + len(x) for off, x in per_side.values())
    imu_path = out / f"trial-{trial_id}-gaitmap-imu.csv"
    sides = [s for s in ("L", "R") if s in per_side]
    with imu_path.open("w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["sensor", *(_SENSOR[s] for a in _AXES for s in sides)])
        wr.writerow(["axis", *(a for a in _AXES for _ in sides)])
        grid = np.full((n, 6 * len(sides)), np.nan)
        for k, s in enumerate(sides):
            off, x = per_side[s]
            grid[off : off + len(x), k :: len(sides)] = x
        for i, row in enumerate(grid.tolist()):
            wr.writerow([i, *("" if math.isnan(v) else repr(v) for v in row)])
    stride_path = out / f"trial-{trial_id}-gaitmap-strides.csv"
    with stride_path.open("w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["s_id", "foot", "start", "end", "ic", "tc", "min_vel", "pre_ic", "ic_counter"])
        for i, row in enumerate(sorted(strides, key=lambda r: (r[0] != "left", r[1]))):
            wr.writerow([i, *row])
    return [imu_path, stride_path]
