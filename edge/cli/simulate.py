"""``gaitedge demo`` and ``gaitedge sim``: simulated insoles (the only commands that load
:mod:`firmware_bridge.sim`, and only when they run)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge.cli._common import model_args, stop_on_signals
from edge.cli.link import link_summary

if TYPE_CHECKING:
    from edge.runtime import TrialRecorder
    from firmware_bridge.sim.insole import Faults, InsoleSimulator
    from firmware_bridge.sim.pty import PtyInsole
    from firmware_bridge.sim.walks import Recording


def add_commands(sub: argparse._SubParsersAction) -> None:
    """``demo``, ``sim``."""
    p_demo = sub.add_parser(
        "demo",
        help="simulated insoles -> ptys -> pyserial -> model -> events -> a trial in a store",
        description="Stream the bundled real walk (or an ipol-gait trial) from two simulated "
        "insoles through real pseudo-terminals, read them with pyserial as USB insoles, run "
        "the full loop (decoder, clock mapping, the GRU on both shoes, gait events) into a "
        "trial store, and print what arrived against what the recording holds.",
    )
    _source_args(p_demo)
    _fault_args(p_demo)
    model_args(p_demo)
    p_demo.add_argument("--db", type=Path, help="trial store (default: a new temporary one)")
    p_demo.add_argument(
        "--speed",
        type=float,
        default=4.0,
        help="x real time (default 4; 1 = real time; 0 = as fast as possible)",
    )
    g = p_demo.add_argument_group(
        "a simulated study (for gaitedge compare): each subject is the recorded walk made "
        "faster or slower with longer or shorter strides; shoe B lengthens them"
    )
    g.add_argument("--study", type=int, metavar="N", help="record N subjects x shoes A, B")
    g.add_argument("--repeats", type=int, default=2, help="trials per subject and shoe (2)")
    g.add_argument("--effect-pct", type=float, default=5.0,
                   help="shoe B's stride length against A's, %% (default 5)")  # fmt: skip
    p_demo.set_defaults(func=demo)

    p_sim = sub.add_parser(
        "sim",
        help="serve simulated insoles on pseudo-terminals until Ctrl-C",
        description="Create one pseudo-terminal per simulated shoe and stream protocol frames "
        "into it, as a USB insole would. Open the printed ports with "
        "'gaitedge listen serial://PORT' or any serial tool.",
    )
    _source_args(p_sim)
    _fault_args(p_sim)
    p_sim.add_argument(
        "--speed", type=float, default=1.0, help="x real time (default 1; 0 = as fast as possible)"
    )
    p_sim.add_argument("--loop", action="store_true", help="start the recording again when it ends")
    p_sim.set_defaults(func=sim)


def _source_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("recording")
    g.add_argument(
        "--data",
        metavar="DIR",
        help="ipol-gait folder (holding GaitData/); default: the bundled 14 s walk",
    )
    g.add_argument("--trial", default="1-6", help="ipol-gait trial with --data (default 1-6)")
    g.add_argument(
        "--drift-ppm",
        type=float,
        nargs=2,
        default=(40.0, -40.0),
        metavar=("L", "R"),
        help="device clock error of each shoe, ppm (default 40 -40)",
    )


def _fault_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("faults (probability per frame)")
    g.add_argument("--drop", type=float, default=0.0, help="frames never sent")
    g.add_argument("--corrupt", type=float, default=0.0, help="frames with one byte changed")
    g.add_argument("--duplicate", type=float, default=0.0, help="frames sent twice")
    g.add_argument("--reorder", type=float, default=0.0, help="frames sent after the next one")
    g.add_argument(
        "--disconnect",
        action="append",
        default=[],
        metavar="AT:FOR",
        help="unplug at AT s for FOR s (repeatable)",
    )
    g.add_argument("--seed", type=int, default=0, help="seed of the fault draws")


def _faults(args: argparse.Namespace) -> Faults:
    from firmware_bridge.sim.insole import Faults

    outages = []
    for item in args.disconnect:
        at, sep, length = item.partition(":")
        try:
            outages.append((float(at), float(length)))
        except ValueError:
            raise ValueError(f"--disconnect {item!r}: write AT:FOR in seconds, e.g. 5:2") from None
        if not sep:
            raise ValueError(f"--disconnect {item!r}: write AT:FOR in seconds, e.g. 5:2")
    for name in ("drop", "corrupt", "duplicate", "reorder"):
        if not 0.0 <= getattr(args, name) <= 1.0:
            raise ValueError(f"--{name} {getattr(args, name)!r}: a probability, 0 to 1")
    return Faults(args.drop, args.corrupt, args.duplicate, args.reorder, tuple(outages))


def _recordings(args: argparse.Namespace) -> tuple[Recording, Recording]:
    from firmware_bridge.sim.walks import bundled_recording, find_ipol_dir, load_ipol

    if args.data is None:
        return bundled_recording("L"), bundled_recording("R")
    data = find_ipol_dir(args.data)
    if data is None:
        raise ValueError(f"--data {args.data!r}: no GaitData/ folder inside; point at ipol-gait")
    return load_ipol(data, args.trial, "L"), load_ipol(data, args.trial, "R")


def _simulators(args: argparse.Namespace) -> tuple[InsoleSimulator, InsoleSimulator]:
    from firmware_bridge.sim.insole import two_shoes

    left, right = _recordings(args)
    return two_shoes(
        left, right, drift_ppm=tuple(args.drift_ppm), faults=_faults(args), seed=args.seed
    )


async def _record(
    sims: Sequence[InsoleSimulator], store: Any, model: Any, info: Any, args: argparse.Namespace
) -> tuple[TrialRecorder, int]:
    """Stream the simulators through ptys into one trial of ``store``; the recorder, its id."""
    from edge.runtime import TrialRecorder
    from firmware_bridge.sim.pty import PtyInsole

    async with contextlib.AsyncExitStack() as stack:
        ptys = [await stack.enter_async_context(PtyInsole(s)) for s in sims]
        recorder = TrialRecorder(
            model,
            {s.recording.side: f"serial://{p.port}" for s, p in zip(sims, ptys, strict=True)},
            store, info, backend=args.backend,
        )  # fmt: skip
        stop = asyncio.Event()
        task = asyncio.create_task(recorder.run(stop))
        await asyncio.gather(*(p.run(args.speed or None) for p in ptys))
        await _drained(recorder, sims)
        stop.set()
        return recorder, await task


async def _study(args: argparse.Namespace) -> int:
    """``demo --study N``: N simulated subjects x shoes A, B x ``--repeats`` trials."""
    import dataclasses

    import numpy as np

    from edge.model.files import default_model_dir, load_model
    from edge.store import TrialInfo, TrialStore
    from edge.strides.vary import varied_walk
    from firmware_bridge.sim.insole import two_shoes

    if not 1 <= args.study <= 100 or args.repeats < 1:
        raise ValueError(f"--study {args.study} --repeats {args.repeats}: 1-100 subjects, >= 1")
    model = load_model(args.model or default_model_dir())
    walks = _recordings(args)
    db = args.db or Path(tempfile.mkdtemp(prefix="gaitedge-study-")) / "trials.db"
    rng = np.random.default_rng(args.seed)
    b_gain = 1.0 + args.effect_pct / 100.0
    print(f"gaitedge demo --study: {args.study} simulated subjects x shoes A, B x "
          f"{args.repeats} trials (shoe B: strides {args.effect_pct:+g} %) into {db}")  # fmt: skip
    with TrialStore(db) as store:
        for i in range(args.study):
            tempo, scale = rng.uniform(0.9, 1.1), rng.uniform(0.88, 1.12)  # this walker
            runs = [(shoe, k) for shoe in "AB" for k in range(args.repeats)]
            for j in rng.permutation(len(runs)):
                shoe, _ = runs[j]
                day_t, day_s = rng.normal(1.0, 0.01), rng.normal(1.0, 0.01)  # day to day
                gain = b_gain if shoe == "B" else 1.0
                varied = []
                for w in walks:
                    c, x = varied_walk(w.counter, w.imu, w.sample_rate_hz, tempo=tempo * day_t,
                                       scale=scale * day_s * gain)  # fmt: skip
                    varied.append(dataclasses.replace(w, counter=c, imu=x, meta={}))
                sims = two_shoes(varied[0], varied[1], drift_ppm=tuple(args.drift_ppm),
                                 faults=_faults(args), seed=int(rng.integers(1 << 30)))  # fmt: skip
                info = TrialInfo(subject=f"S{i + 1:02d}", shoe=shoe, shoe_size="42",
                                 condition="simulated study")  # fmt: skip
                _, trial_id = await _record(sims, store, model, info, args)
                print(f"  trial {trial_id}: subject S{i + 1:02d}, shoe {shoe}", flush=True)
    print(f"\nnext: gaitedge compare --shoes A B --db {db} --report study-report")
    return 0


async def demo(args: argparse.Namespace) -> int:
    from edge.model.files import default_model_dir, load_model
    from edge.runtime import summarize
    from edge.store import TrialInfo, TrialStore

    if args.study is not None:
        return await _study(args)
    sims = _simulators(args)
    model = load_model(args.model or default_model_dir())
    pace = f"{args.speed:g}x real time" if args.speed else "as fast as possible"
    db = args.db or Path(tempfile.mkdtemp(prefix="gaitedge-demo-")) / "trials.db"
    print(
        f"gaitedge demo: 2 simulated insoles streaming real gait (ipol-gait trial "
        f"{sims[0].recording.name}, {sims[0].duration_s:.0f} s, {pace}) through "
        f"pseudo-terminals into pyserial, the {model.name} model and the trial store {db}"
    )
    with TrialStore(db) as store:
        info = TrialInfo(subject="demo", shoe="simulated", condition="bundled walk")
        recorder, trial_id = await _record(sims, store, model, info, args)
        print()
        for sim in sims:
            shoe = recorder.shoes[sim.recording.side]
            print(link_summary(shoe.decoder, shoe.events, shoe.first_counter, shoe.last_counter))
            rec, inj, s = sim.recording, sim.injected, shoe.decoder.stats
            print(
                f"  source recording   {len(rec)} samples, {rec.lost_samples} lost in {rec.gaps} "
                f"gaps; injected: {inj.dropped_frames} dropped, {inj.corrupted_frames} "
                f"corrupted, {inj.duplicated_frames} duplicated, {inj.reordered_frames} "
                "reordered frames"
            )
            faults = (inj.dropped_frames, inj.corrupted_frames, inj.reordered_frames,
                      sim.faults.disconnects)  # fmt: skip
            if not any(faults):
                ok = s.samples_ok == len(rec) and s.lost_samples == rec.lost_samples
                print(
                    "  check              "
                    + ("OK: every sample and every gap as recorded" if ok else "MISMATCH")
                )
            print()
        print(summarize(store, trial_id).text())
    return 0


async def _drained(recorder: TrialRecorder, sims: Sequence[InsoleSimulator]) -> None:
    """Wait until the recorder has each shoe's last sample (or 2 s of silence)."""
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        if all(
            (c := recorder.shoes[s.recording.side].last_counter) is not None
            and c >= int(s.recording.counter[-1])
            for s in sims
        ):
            return
        await asyncio.sleep(0.02)


async def sim(args: argparse.Namespace) -> int:
    from firmware_bridge.sim.pty import PtyInsole

    stop = stop_on_signals()
    async with contextlib.AsyncExitStack() as stack:
        sims = _simulators(args)
        ptys = [await stack.enter_async_context(PtyInsole(s)) for s in sims]
        for s, p in zip(sims, ptys, strict=True):
            print(f"{s.name}: serial://{p.port}", flush=True)

        start = time.monotonic()  # both shoes walk in step

        async def serve(pty: PtyInsole) -> None:
            await pty.run(args.speed or None, start)
            while args.loop:
                await pty.run(args.speed or None)

        served: asyncio.Future[Any] = asyncio.gather(*(serve(p) for p in ptys))
        waiter = asyncio.create_task(stop.wait())
        await asyncio.wait([served, waiter], return_when=asyncio.FIRST_COMPLETED)
        for t in (served, waiter):  # every walk served (without --loop), or Ctrl-C
            t.cancel()
        await asyncio.gather(served, waiter, return_exceptions=True)
    return 0
