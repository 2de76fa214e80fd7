"""A study's worth of trials: how export, the DuckDB summary, compare and replay grow.

Makes a synthetic study of ``--trials`` trials (default 500: subjects x shoes A, B x 2
repeats), each the bundled walk made into another walker's (``edge.strides.vary``: tempo
0.9-1.1, stride scale 0.88-1.12 per subject, shoe B's strides 5 % longer), run through the
model side of the loop into a trial store with its offline strides (as ``gaitedge
replay`` does: no ptys, so 500 trials take minutes, not an hour), then measures, for
growing numbers of trials:

- ``export``: ``export_to_dataset`` of every trial into a fresh data set [s];
- ``duckdb``: the README's summary query over that data set's strides [s];
- ``compare``: ``select_trials`` + ``compare`` from the store over those trials' subjects [s];
- ``replay``: ``replay_dataset`` of the smallest data set with 1 and with 2 local
  processes [s], and the speed-up.

    python benchmarks/study.py [--trials 500] [--json benchmarks/results/study.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from edge.archive import replay_dataset
from edge.compare.design import select_trials
from edge.compare.stats import compare
from edge.dataset import export_to_dataset
from edge.model.files import default_model_dir, load_model
from edge.runtime.sink import StoreSink
from edge.runtime.stepper import Stepper
from edge.store import TrialInfo, TrialStore
from edge.strides.vary import varied_walk
from firmware_bridge.sim.walks import bundled_recording


def make_study(db: Path, n_trials: int, seed: int = 0) -> list[str]:
    """``n_trials`` trials (subjects x A, B x 2) in a new store; the subjects, in order."""
    model = load_model(default_model_dir())
    walks = [bundled_recording(s) for s in ("L", "R")]  # type: ignore[arg-type]
    rng = np.random.default_rng(seed)
    subjects = []
    with TrialStore(db, flush_interval_s=2.0) as store:
        n_subjects = max(1, n_trials // 4)
        for i in range(n_subjects):
            subject = f"S{i + 1:03d}"
            subjects.append(subject)
            tempo, scale = rng.uniform(0.9, 1.1), rng.uniform(0.88, 1.12)
            for shoe in ("A", "B", "A", "B"):
                gain = 1.05 if shoe == "B" else 1.0
                sink = StoreSink.start(store, TrialInfo(subject=subject, shoe=shoe), model)
                stepper = Stepper(model, ["L", "R"], sink=sink)
                t0 = time.time()
                for w in walks:
                    c, x = varied_walk(w.counter, w.imu, w.sample_rate_hz,
                                       tempo=tempo * rng.normal(1, 0.01),
                                       scale=scale * gain * rng.normal(1, 0.01))  # fmt: skip
                    host = t0 + (c - c[0]) / w.sample_rate_hz
                    sink.device(w.side, device_id=1, firmware="sim", sample_rate_hz=100.0,
                                channels=["acc_x"], units=["m/s^2"], transport="bench")  # fmt: skip
                    sink.samples(w.side, c, host, (host * 1e6).astype(np.int64), x, None)
                    stepper.push(w.side, c, host, x)
                    stepper.end_segment(w.side)
                while stepper.step(skip=frozenset(stepper.lanes), max_calls=512):
                    stepper.reported.clear()
                sink.finish("complete")  # the offline stride pass runs here
    return subjects


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=500, help="trials in the study (>= 40)")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    sizes = sorted({max(8, args.trials // 5), args.trials // 2, args.trials})
    tmp = Path(tempfile.mkdtemp(prefix="gaitedge-study-bench-"))
    try:
        t = time.perf_counter()
        db = tmp / "trials.db"
        subjects = make_study(db, args.trials)
        made = time.perf_counter() - t
        print(f"python {platform.python_version()} on {platform.machine()}; {args.trials} "
              f"trials made in {made:.0f} s ({made / args.trials:.2f} s a trial)")  # fmt: skip
        rows = []
        import duckdb

        for n in sizes:
            with TrialStore(db, read_only=True) as store:
                ids = [r.id for r in store.trials()][:n]
                root = tmp / f"ds-{n}"
                t = time.perf_counter()
                for tid in ids:
                    export_to_dataset(store, tid, root, study="bench")
                export_s = time.perf_counter() - t
                t = time.perf_counter()
                res = (
                    duckdb.connect()
                    .execute(
                        f"SELECT shoe, avg(stride_length_m), avg(gait_speed_mps), count(*) FROM "
                        f"read_parquet('{root}/strides/**/*.parquet', hive_partitioning = true) "
                        "WHERE steady GROUP BY shoe ORDER BY shoe"
                    )
                    .fetchall()
                )
                duck_s = time.perf_counter() - t
                t = time.perf_counter()
                trials, _ = select_trials(store, shoes=["A", "B"], subjects=subjects[: n // 4])
                c = compare(trials, "A", "B")
                compare_s = time.perf_counter() - t
            sl = next(r for r in c.results if r.parameter == "stride_length_m")
            rows.append({"trials": n, "export_s": export_s, "duckdb_s": duck_s,
                         "compare_s": compare_s, "stride_length_diff_m": sl.diff,
                         "duckdb_rows": [list(r) for r in res]})  # fmt: skip
            print(f"  {n:5d} trials: export {export_s:6.2f} s ({export_s / n * 1e3:.0f} ms a "
                  f"trial), DuckDB summary {duck_s:5.2f} s, compare {compare_s:6.2f} s "
                  f"(B - A stride length {sl.diff * 100:+.1f} cm)")  # fmt: skip
        small = tmp / f"ds-{sizes[0]}"
        replay = {}
        for jobs in (1, 2):
            t = time.perf_counter()
            replay_dataset(small, default_model_dir(), tmp / f"re-{jobs}", jobs=jobs)
            replay[jobs] = time.perf_counter() - t
        speedup = replay[1] / replay[2]
        print(f"  replay of {sizes[0]} trials: 1 process {replay[1]:.1f} s, 2 processes "
              f"{replay[2]:.1f} s: speed-up {speedup:.2f}x")  # fmt: skip
        if args.json:
            doc = {"python": platform.python_version(), "machine": platform.machine(),
                   "trials": args.trials, "make_s": made, "sizes": rows,
                   "replay_trials": sizes[0], "replay_1_s": replay[1], "replay_2_s": replay[2],
                   "replay_speedup": speedup}  # fmt: skip
            args.json.write_text(json.dumps(doc, indent=1) + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
