"""The recording process's cost: CPU share of one core and memory for a two-shoe trial.

1. **Live**: ``gaitedge sim --loop`` serves two simulated insoles (real gait, 100 Hz,
   4 samples a packet) on pseudo-terminals at real time; ``gaitedge run`` records them
   for ``--seconds`` into a fresh store, as a lab would. Measured on the ``run`` process
   alone (the simulator is another process): CPU time over the steady part (from 5 s in to
   the end, read from /proc), as % of one core, and peak RSS (``wait4``). Goals (issue 5):
   under 5 % of a core, under 120 MB.
2. **Throughput**: the same walk as raw captures, replayed through the whole loop (decode,
   clock map, model, events, store, the live stride pass and the offline one at the end)
   as fast as possible (``gaitedge replay --left --right``): CPU µs per sample, hence how
   many 100 Hz shoes one core could carry.
3. **Strides** (in this process): the live stride pass (:class:`edge.strides.live.LiveStrides`,
   fed 0.1 s at a time, polled once a second as the loop does) as % of one core for two
   shoes, and the offline pass (smoothed) in seconds per trial-minute of two shoes. Goal
   (issue 12): the live pass well inside the loop's 5 %; a whole trial offline well
   under a second.

    python benchmarks/runtime.py [--seconds 30] [--backend numpy]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from firmware_bridge.sim.insole import InsoleSimulator
from firmware_bridge.sim.walks import bundled_recording
from firmware_bridge.transports.capture import CaptureWriter

GAITEDGE = [sys.executable, "-m", "edge"]
TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """utime + stime of a live process, s (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def live(seconds: float, backend: str) -> dict[str, float]:
    sim = subprocess.Popen([*GAITEDGE, "sim", "--loop"], stdout=subprocess.PIPE, text=True)
    try:
        assert sim.stdout is not None
        ports = [re.sub(r"^.*?: ", "", sim.stdout.readline().strip()) for _ in range(2)]
        with tempfile.TemporaryDirectory() as tmp:
            run = subprocess.Popen(
                [*GAITEDGE, "run", "--left", ports[0], "--right", ports[1],
                 "--db", str(Path(tmp) / "t.db"), "--duration", str(seconds),
                 "--backend", backend, "--subject", "bench"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(5.0)
            c0, t0 = _cpu_s(run.pid), time.monotonic()
            time.sleep(max(seconds - 6.0, 1.0))
            c1, t1 = _cpu_s(run.pid), time.monotonic()
            _, status, usage = os.wait4(run.pid, 0)
            if status != 0:
                raise SystemExit(f"gaitedge run exited with status {status}")
    finally:
        sim.terminate()
        sim.wait()
    return {
        "cpu_pct": 100.0 * (c1 - c0) / (t1 - t0),
        "cpu_total_s": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024.0,
    }


def throughput(backend: str, repeats: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        args = []
        n = 0
        for side in ("L", "R"):
            rec = bundled_recording(side)  # type: ignore[arg-type]
            path = Path(tmp) / f"{side}.gecap"
            w = CaptureWriter(path, source="bench")
            sim = InsoleSimulator(rec)
            for _ in range(repeats):  # the walk again and again (a device restart each time)
                for _, frame in sim.frames():
                    w.write(frame)
                n += len(rec)
            w.close()
            args += [f"--{'left' if side == 'L' else 'right'}", str(path)]
        # the same command twice: the first pays the imports and model load, the difference
        # is the loop
        cpu = []
        for reps_db in ("a.db", "b.db"):
            p = subprocess.Popen(
                [*GAITEDGE, "replay", *args, "--db", str(Path(tmp) / reps_db),
                 "--backend", backend],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            _, status, usage = os.wait4(p.pid, 0)
            if status != 0:
                raise SystemExit(f"gaitedge replay exited with status {status}")
            cpu.append(usage.ru_utime + usage.ru_stime)
        # a short replay for the fixed cost
        w = CaptureWriter(Path(tmp) / "s.gecap", source="bench")
        for _, frame in InsoleSimulator(bundled_recording("L")).frames():
            w.write(frame)
        w.close()
        p = subprocess.Popen(
            [*GAITEDGE, "replay", "--left", str(Path(tmp) / "s.gecap"), "--db",
             str(Path(tmp) / "c.db"), "--backend", backend],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _, _, usage = os.wait4(p.pid, 0)
        fixed = usage.ru_utime + usage.ru_stime
    per_sample = (min(cpu) - fixed) / (n - len(bundled_recording("L")))
    return {
        "samples": n,
        "us_per_sample": per_sample * 1e6,
        "shoes_per_core": 1 / (per_sample * 100),
    }


def strides_cost() -> dict[str, float]:
    """The live stride pass's share of a core and the offline pass per trial-minute."""
    import numpy as np

    from edge.strides.analysis import FootRecording, trial_strides
    from edge.strides.live import LiveStrides

    recs = {side: bundled_recording(side) for side in ("L", "R")}  # type: ignore[arg-type]
    live = LiveStrides()
    for side, r in recs.items():
        live.device(side, r.sample_rate_hz)
    n = min(len(r) for r in recs.values())
    chunk = 10
    polls, spent, fed = 0, 0.0, 0.0
    for a in range(0, n, chunk):
        t = time.perf_counter()
        for side, r in recs.items():
            c = r.counter[a : a + chunk]
            live.samples(side, c, 1000.0 + c / r.sample_rate_hz, r.imu[a : a + chunk])
        fed += time.perf_counter() - t
        if (a // chunk) % 10 == 9:  # once a second of data
            t = time.perf_counter()
            live.poll()
            spent += time.perf_counter() - t
            polls += 1
    seconds_of_data = n / recs["L"].sample_rate_hz
    feet = [
        FootRecording(side=side, rate_hz=r.sample_rate_hz, counter=r.counter, imu=r.imu)  # type: ignore[arg-type]
        for side, r in recs.items()
    ]
    t = time.perf_counter()
    reps = 5
    for _ in range(reps):
        trial_strides(feet)
    offline = (time.perf_counter() - t) / reps
    return {
        "live_pct": 100.0 * (spent + fed) / seconds_of_data,
        "poll_ms": 1e3 * spent / max(polls, 1),
        "offline_s_per_min": offline / seconds_of_data * 60.0,
        "trial_s": float(np.round(seconds_of_data, 1)),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=30.0, help="live trial length (>= 10)")
    p.add_argument("--backend", choices=("numpy", "tflite"), default="numpy")
    p.add_argument("--repeats", type=int, default=20, help="walks per capture (throughput)")
    args = p.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, backend {args.backend}")
    lv = live(max(args.seconds, 10.0), args.backend)
    ok_cpu, ok_rss = lv["cpu_pct"] < 5.0, lv["rss_mb"] < 120.0
    print(f"live, 2 shoes x 100 Hz for {args.seconds:g} s (the run process alone):")
    print(f"  CPU   {lv['cpu_pct']:5.2f} % of one core, steady   (goal < 5 %: "
          f"{'met' if ok_cpu else 'MISS'}); {lv['cpu_total_s']:.2f} s in all")  # fmt: skip
    print(f"  RSS   {lv['rss_mb']:5.1f} MB peak           (goal < 120 MB: "
          f"{'met' if ok_rss else 'MISS'})")  # fmt: skip
    tp = throughput(args.backend, args.repeats)
    print(f"whole loop as fast as possible ({tp['samples']} samples, replay of raw captures):")
    print(
        f"  {tp['us_per_sample']:.1f} CPU µs per sample -> one core carries "
        f"{tp['shoes_per_core']:.0f} shoes at 100 Hz (decode, clock, model, events, store)"
    )
    sc = strides_cost()
    print(f"strides, 2 shoes x 100 Hz ({sc['trial_s']:g} s of the bundled walk, this process):")
    print(
        f"  live  {sc['live_pct']:5.2f} % of one core ({sc['poll_ms']:.1f} ms a poll, 1 a second)"
    )
    print(f"  offline (smoothed) {sc['offline_s_per_min']:.2f} s per trial-minute of two shoes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
