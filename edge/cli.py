"""``gaitedge``: the command line.

Commands so far: ``demo`` (two simulated insoles through real pseudo-terminals into the
decoder, then a packet-stats summary), ``listen`` (decode any transport live, optionally
recording a raw capture), ``sim`` (serve simulated insoles on pseudo-terminals for
another program to open), ``train`` and ``evaluate`` (models, :mod:`edge.train`,
:mod:`edge.evaluate`). The only module that configures logging.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from firmware_bridge import spec
from firmware_bridge.codec import DeviceInfo, SampleBlock, Status, StreamDecoder
from firmware_bridge.errors import GaitedgeError
from firmware_bridge.recording import Recording, bundled_recording, find_ipol_dir, load_ipol
from firmware_bridge.simulator import Faults, InsoleSimulator, PtyInsole, two_shoes
from firmware_bridge.transports import Transport, TransportEvent, open_transport

from .store import OPERATOR_FIELDS

if TYPE_CHECKING:
    from .runtime import TrialRecorder
    from .store import TrialStore

log = logging.getLogger("gaitedge")

EPILOG = """\
examples:
  gaitedge demo                         two simulated shoes through real ptys, then stats
  gaitedge demo --speed 1 --drop 0.02 --corrupt 0.01 --disconnect 5:2
  gaitedge sim                          serve two simulated shoes on ptys until Ctrl-C
  gaitedge listen serial:///dev/serial/by-id/usb-...-if00 --capture walk.gecap
  gaitedge listen replay://walk.gecap   decode a capture again
  gaitedge run --left serial:///dev/serial/by-id/usb-...-L-if00 --right ble://AA:BB:... \
               --subject P07 --shoe A --condition treadmill --db /data/trials.db
  gaitedge scan --probe 2               which ports and BLE devices are insoles
  gaitedge trials --db /data/trials.db  list the recorded trials (and: gaitedge trials 3)
  gaitedge replay 3 --db /data/trials.db --model models/my-model    re-run trial 3
  gaitedge export 3 --db /data/trials.db --out exports/ --format csv,parquet
  gaitedge train ../shared/data/ipol-gait --out models/my-model --folds 7
  gaitedge evaluate models/gait-phase MY_DATA_DIR

protocol: see firmware_bridge/PROTOCOL.md (frames, packets, scales, BLE UUIDs)
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gaitedge`` console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG
        if args.verbose > 1
        else logging.INFO
        if args.verbose
        else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(asyncio.run(args.func(args)) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into head & co.: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (GaitedgeError, FileNotFoundError, ValueError) as e:
        print(f"gaitedge: error: {e}", file=sys.stderr)
        return 2
    except ImportError as e:  # an optional extra that is not installed
        print(f"gaitedge: error: {e} (is the extra installed? see README)", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gaitedge",
        description="Edge runtime for instrumented shoes: decode insole streams on a Pi.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="-v info, -vv debug logs")
    sub = p.add_subparsers(title="commands", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="simulated insoles -> ptys -> pyserial -> model -> events -> a trial in a store",
        description="Stream the bundled real walk (or an ipol-gait trial) from two simulated "
        "insoles through real pseudo-terminals, read them with pyserial as USB insoles, run "
        "the full loop (decoder, clock mapping, the GRU on both shoes, gait events) into a "
        "trial store, and print what arrived against what the recording holds.",
    )
    _source_args(demo)
    _fault_args(demo)
    _model_args(demo)
    demo.add_argument("--db", type=Path, help="trial store (default: a new temporary one)")
    demo.add_argument(
        "--speed",
        type=float,
        default=4.0,
        help="x real time (default 4; 1 = real time; 0 = as fast as possible)",
    )
    demo.set_defaults(func=_demo)

    sim = sub.add_parser(
        "sim",
        help="serve simulated insoles on pseudo-terminals until Ctrl-C",
        description="Create one pseudo-terminal per simulated shoe and stream protocol frames "
        "into it, as a USB insole would. Open the printed ports with "
        "'gaitedge listen serial://PORT' or any serial tool.",
    )
    _source_args(sim)
    _fault_args(sim)
    sim.add_argument(
        "--speed", type=float, default=1.0, help="x real time (default 1; 0 = as fast as possible)"
    )
    sim.add_argument("--loop", action="store_true", help="start the recording again when it ends")
    sim.set_defaults(func=_sim)

    listen = sub.add_parser(
        "listen",
        help="decode one or more transports live and print packet stats",
        description="Open each URL (serial://, ble://, replay://), decode, and print a stats "
        "line per device every second and a summary at the end (Ctrl-C to stop).",
    )
    listen.add_argument(
        "urls",
        nargs="+",
        metavar="URL",
        help="serial:///dev/ttyACM0, serial://usb:VID:PID, ble://ADDRESS, replay://FILE",
    )
    listen.add_argument(
        "--capture",
        type=Path,
        metavar="FILE",
        help="also write the raw bytes to FILE (one URL) or FILE.N.gecap (several)",
    )
    listen.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    listen.set_defaults(func=_listen)

    run = sub.add_parser(
        "run",
        help="record one trial from one or two shoes into the trial store",
        description="Open the shoes' links, run the model on every sample of both, detect "
        "gait events, and write everything to the trial store until Ctrl-C, SIGTERM or "
        "--duration. A one-line status per second (plain log lines when not a terminal). "
        "Every flag can also come from a TOML file (--config; edge/config.py shows one); "
        "a flag on the command line wins.",
    )
    run.add_argument("--config", type=Path, metavar="FILE", help="TOML settings for this run")
    run.add_argument("--left", metavar="URL", help="left shoe: serial://…, ble://…, replay://…")
    run.add_argument("--right", metavar="URL", help="right shoe")
    run.add_argument("--db", type=Path, help="trial store, one per deployment "
                     "(default ./gaitedge-trials.db)")  # fmt: skip
    run.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    for field in OPERATOR_FIELDS:
        run.add_argument(f"--{field.replace('_', '-')}", help=f"trial {field}")
    run.add_argument("--max-bridge-ms", type=float, help="longer gaps reset the model (200)")
    run.add_argument("--max-wait-s", type=float, help="wait this long for a silent shoe (0.5)")
    _model_args(run, backend_default=None)
    run.set_defaults(func=_run)

    scan = sub.add_parser(
        "scan",
        help="list serial ports and BLE devices that look like insoles, with their URLs",
        description="USB serial ports (with their stable /dev/serial/by-id links) and BLE "
        "devices advertising the gaitedge name prefix or service. --probe opens each serial "
        "port for a moment and asks what answers (the DEVICE_INFO packet: side, rate, id).",
    )
    scan.add_argument("--ble-seconds", type=float, default=5.0,
                      help="how long to listen for BLE insoles (0: skip BLE)")  # fmt: skip
    scan.add_argument("--probe", type=float, metavar="S", default=0.0,
                      help="open each serial port for up to S s and identify it")  # fmt: skip
    scan.add_argument("--port", action="append", default=[], metavar="PATH",
                      help="also probe this port (e.g. a pty); repeatable")  # fmt: skip
    scan.set_defaults(func=_scan)

    trials = sub.add_parser("trials", help="list the trials in a store, or show one")
    trials.add_argument("trial_id", nargs="?", type=int, help="show this trial")
    trials.add_argument("--db", type=Path, default=Path("gaitedge-trials.db"), help="the store")
    trials.set_defaults(func=_trials)

    replay = sub.add_parser(
        "replay",
        help="run a stored trial (or raw captures) through the loop again, as fast as possible",
        description="A stored trial: its samples go through the model side of the loop "
        "again (another model with --model), into a new trial in the same store; with the "
        "model it was recorded with, predictions and events equal the live run's. Raw "
        "captures (--left/--right FILE.gecap): the whole loop from the bytes, as fast as "
        "possible, into a new trial.",
    )
    replay.add_argument("trial_id", nargs="?", type=int, help="the stored trial")
    replay.add_argument("--left", type=Path, metavar="FILE", help="raw capture of the left shoe")
    replay.add_argument("--right", type=Path, metavar="FILE", help="raw capture of the right shoe")
    replay.add_argument("--db", type=Path, default=Path("gaitedge-trials.db"), help="the store")
    replay.add_argument("--quiet", action="store_true", help="no progress bar")
    _model_args(replay)
    replay.set_defaults(func=_replay)

    export = sub.add_parser(
        "export",
        help="write a stored trial as CSV or Parquet (samples, events, gaps) + JSON metadata",
        description="One row per sample with the SI unit in every column name, the model's "
        "outputs beside them, the events and gaps in their own tables, the metadata as "
        "JSON (edge/export.py documents every column). Parquet needs the report extra.",
    )
    export.add_argument("trial_id", type=int, help="the trial (see gaitedge trials)")
    export.add_argument("--db", type=Path, default=Path("gaitedge-trials.db"), help="the store")
    export.add_argument("--out", type=Path, default=Path("."), help="folder (default: here)")
    export.add_argument("--format", default="csv", help="csv, parquet or csv,parquet")
    export.set_defaults(func=_export)
    _model_commands(sub)
    return p


def _model_args(p: argparse.ArgumentParser, backend_default: str | None = "numpy") -> None:
    p.add_argument("--model", type=Path, help="model directory (default: models/gait-phase)")
    p.add_argument("--backend", choices=("numpy", "tflite"), default=backend_default,
                   help="engine (default numpy; tflite needs the tflite extra)")  # fmt: skip


#: ``gaitedge run``'s defaults, applied after the config file.
_RUN_DEFAULTS = {
    "db": Path("gaitedge-trials.db"), "backend": "numpy", "max_bridge_ms": 200.0,
    "max_wait_s": 0.5, **dict.fromkeys(OPERATOR_FIELDS, ""),
}  # fmt: skip


def _run_settings(args: argparse.Namespace) -> argparse.Namespace:
    """Flags, then the config file, then the defaults."""
    from .config import load_run_config

    merged = load_run_config(args.config) if args.config else {}
    for dest, value in vars(args).items():
        if value is not None:
            merged[dest] = value
    for dest, value in _RUN_DEFAULTS.items():
        merged.setdefault(dest, value)
    for dest in ("left", "right", "model", "duration"):
        merged.setdefault(dest, None)
    return argparse.Namespace(**merged)


async def _run(args: argparse.Namespace) -> int:
    from .model_file import default_model_dir, load_model
    from .runtime import TrialRecorder
    from .store import TrialInfo, TrialStore

    args = _run_settings(args)
    sources = {side: url for side, url in (("L", args.left), ("R", args.right)) if url}
    if not sources:
        raise GaitedgeError(
            "give --left URL and/or --right URL, or [shoes] in --config (gaitedge run --help)"
        )
    model = load_model(args.model or default_model_dir())
    info = TrialInfo(
        **{k: getattr(args, k) for k in OPERATOR_FIELDS},
        model_name=model.name,
        model_sha256=model.meta["weights"]["sha256"],
    )
    tty = sys.stdout.isatty()

    def status(line: str) -> None:
        print(("\r" + line[:200]) if tty else line, end="" if tty else "\n", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with TrialStore(args.db) as store:
        recorder = TrialRecorder(model, sources, store, info, backend=args.backend,
                                 max_bridge_ms=args.max_bridge_ms, max_wait_s=args.max_wait_s,
                                 on_status=status)  # fmt: skip
        trial_id = await recorder.run(stop, duration_s=args.duration)
        if tty:
            print()
        print(_trial_summary(store, trial_id, recorder.summary()))
        status_ = store.trial(trial_id)["status"]
    if recorder.error:
        print(f"gaitedge: error: {recorder.error}", file=sys.stderr)
    return 0 if status_ == "complete" else 1


async def _replay(args: argparse.Namespace) -> int:
    from .model_file import default_model_dir, load_model
    from .runtime import TrialRecorder, replay_trial
    from .store import TrialInfo, TrialStore

    captures = {side: p for side, p in (("L", args.left), ("R", args.right)) if p}
    if (args.trial_id is None) == (not captures):
        raise GaitedgeError("give a stored TRIAL id, or --left/--right capture files (not both)")
    model = load_model(args.model or default_model_dir())
    if args.trial_id is not None:
        _existing_store(args.db)
    with TrialStore(args.db) as store:
        if args.trial_id is not None:
            from .progress import progress_bar

            with progress_bar(unit="sample", disable=args.quiet) as bar:

                def progress(done: int, total: int) -> None:
                    bar.total = total
                    bar.update(done - bar.n)

                new = replay_trial(store, args.trial_id, model, backend=args.backend,
                                   progress=progress)  # fmt: skip
            live = _stored_summary(store, new)
        else:
            for p in captures.values():
                if not p.is_file():
                    raise GaitedgeError(f"{p}: no such capture file")
            info = TrialInfo(
                notes="replay of " + ", ".join(map(str, captures.values())),
                model_name=model.name,
                model_sha256=model.meta["weights"]["sha256"],
            )
            recorder = TrialRecorder(
                model, {s: f"replay://{p}" for s, p in captures.items()}, store, info,
                backend=args.backend,
            )  # fmt: skip
            new = await recorder.run()
            live = recorder.summary()
        print(_trial_summary(store, new, live))
    return 0


def _stored_summary(store: TrialStore, trial_id: int) -> dict:
    """The summary figures of a stored trial (for a replayed one, which has no live stats)."""
    from .events import median_stride_s

    shoes = {}
    events = store.events(trial_id)
    gaps = store.gaps(trial_id)
    for side, dev in store.trial(trial_id).get("devices", {}).items():
        n = len(store.samples(trial_id, side)["counter"])
        lost = sum(g["n_lost"] for g in gaps if g["side"] == side)
        hs = sorted(e["counter_at"] for e in events if e["side"] == side and e["kind"] == "HS")
        shoes[side] = {
            "lost": lost,
            "lost_pct": 100.0 * lost / (n + lost) if n + lost else 0.0,
            "resets": sum(1 for g in gaps if g["side"] == side and g["reason"] != "bridged"),
            "stride_time_s": median_stride_s(hs, dev["sample_rate_hz"]),
        }
    return {"shoes": shoes}


def _existing_store(path: Path) -> None:
    """Refuse, in one line, a --db that does not exist (opening would create an empty one)."""
    if not path.exists():
        raise GaitedgeError(f"{path}: no trial store there; give --db PATH")


async def _scan(args: argparse.Namespace) -> int:
    from firmware_bridge.errors import TransportError
    from firmware_bridge.transports import identify
    from firmware_bridge.transports.serial_port import list_serial_insoles

    ports = list_serial_insoles()
    paths = [p.by_id or p.path for p in ports] + list(args.port)
    print(f"serial: {len(ports)} USB port(s)" + (f" + {len(args.port)} given" if args.port else ""))
    described = {p.by_id or p.path: p for p in ports}
    for path in paths:
        p = described.get(path)
        what = (f"{p.vid:04x}:{p.pid:04x} {p.description}" if p and p.vid is not None
                else (p.description if p else "given"))  # fmt: skip
        line = f"  serial://{path}  ({what})"
        if args.probe > 0 or path in args.port:
            try:
                info = await identify(f"serial://{path}", args.probe or 2.0)
            except TransportError as e:
                info, line = None, line + f"  cannot open: {e}"
            if info is not None:
                line += "  -> " + _describe(info)
            elif "cannot open" not in line:
                line += "  -> no insole answered"
        print(line)
    if args.ble_seconds > 0:
        from firmware_bridge.transports.ble import scan_insoles

        try:
            found = await scan_insoles(args.ble_seconds)
        except (TransportError, OSError) as e:
            hint = "" if "BlueZ" in str(e) else " (Bluetooth on? BlueZ running? user allowed?)"
            print(f"ble: cannot scan: {e}{hint}")
        else:
            print(f"ble: {len(found)} insole(s) in {args.ble_seconds:g} s")
            for a in found:
                print(f"  ble://{a.address}  {a.name or '?'}  {a.rssi} dBm")
    return 0


async def _export(args: argparse.Namespace) -> int:
    from .export import export_trial
    from .store import TrialStore

    _existing_store(args.db)
    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    with TrialStore(args.db, read_only=True) as store:
        for path in export_trial(store, args.trial_id, args.out, formats=formats):
            print(path)
    return 0


async def _trials(args: argparse.Namespace) -> int:
    from .store import TrialStore

    _existing_store(args.db)
    with TrialStore(args.db, read_only=True) as store:
        if args.trial_id is None:
            rows = store.trials()
            print(f"{len(rows)} trial(s) in {args.db}")
            for t in rows:
                start = time.strftime("%Y-%m-%d %H:%M", time.localtime(t["start_unix_s"]))
                print(f"  {t['id']:>4}  {start}  {t['status']:<11}  subject {t['subject'] or '?'}"
                      f"  shoe {t['shoe'] or '?'}  {t['condition']}")  # fmt: skip
            return 0
        t = store.trial(args.trial_id)
        for key, value in t.items():
            if key == "devices":
                continue
            if key.endswith("_unix_s") and value is not None:
                value = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value))
            print(f"{key.removesuffix('_unix_s'):>18}  {value}")
        for side, dev in t.get("devices", {}).items():
            print(f"{'shoe ' + side:>18}  id {dev['device_id']}, firmware {dev['firmware']}, "
                  f"{dev['sample_rate_hz']:g} Hz, {dev['transport']}")  # fmt: skip
        gaps, events = store.gaps(args.trial_id), store.events(args.trial_id)
        print(f"{'gaps':>18}  {len(gaps)} ({sum(g['n_lost'] for g in gaps)} samples)")
        print(f"{'events':>18}  {len(events)}")
        for e in store.errors(args.trial_id):
            print(f"{'error':>18}  {e}")
    return 0


def _model_commands(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser(
        "train",
        help="train a GRU model on a data folder (needs the 'train' extra: PyTorch, CPU)",
        description="Train a GRU on every trial in DATA_DIR and write a model directory. "
        "DATA_DIR is an ipol-gait copy (a folder holding GaitData/: gait phase and stance of "
        "each foot from its hand-checked events) or a folder of per-trial .npz/.csv files "
        "(edge.dataset documents the columns; the targets are whatever the files hold). "
        "With --folds N it first trains N leave-subjects-out fold models into OUT/cv/ and "
        "scores each on the subjects it never saw; those numbers go into the card.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    train.add_argument("data", type=Path, metavar="DATA_DIR", help="the data folder")
    train.add_argument("--out", type=Path, required=True, help="model directory to write")
    train.add_argument("--name", help="model name (default: the --out folder's name)")
    train.add_argument("--folds", type=int, default=0, help="cross-validation folds (0: none)")
    defaults = _train_defaults()
    for field, value in defaults.items():
        kind = type(value)
        if kind is bool:
            train.add_argument(
                f"--{field.replace('_', '-')}",
                action=argparse.BooleanOptionalAction,
                default=value,
                help=f"{field.replace('_', ' ')}",
            )
        else:
            train.add_argument(f"--{field.replace('_', '-')}", type=kind, default=value, help=field)
    train.add_argument(
        "--jobs", type=int, default=1, help="models trained at once (processes, one core each)"
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(func=_train)

    ev = sub.add_parser(
        "evaluate",
        help="score models on a data folder: gait phase and the streaming event detector, "
        "or a lab's own targets",
        description="Run MODEL (or several fold models) over every trial in DATA_DIR as the "
        "streaming loop would (fresh state per trial, the causal event detector fed sample by "
        "sample) and print per-subject and pooled metrics for the int8 and float weights and "
        "the .tflite twin. Subjects the model never saw work like any other. A model with "
        "other outputs than gait phase (e.g. knee_angle_deg) is scored by each output's RMSE "
        "and mean absolute error against the data's column of that name.",
    )
    ev.add_argument("paths", nargs="+", type=Path, metavar="MODEL ... DATA_DIR",
                    help="one or more model directories, then the data folder")  # fmt: skip
    ev.add_argument(
        "--held-out",
        action="store_true",
        help="score each model only on the subjects it held out in training (cross-validation)",
    )
    ev.add_argument(
        "--variants",
        default="auto",
        help="comma-separated: int8 (the weights as stored), float (the float32 copy), tflite "
        "(the .tflite twin in LiteRT); default: every one this model and install can run",
    )
    ev.add_argument("--json", action="store_true", help="print one JSON object instead")
    ev.set_defaults(func=_evaluate)


def _train_defaults() -> dict[str, object]:
    import dataclasses

    from .train import TrainConfig

    return {f.name: f.default for f in dataclasses.fields(TrainConfig)}


async def _train(args: argparse.Namespace) -> int:
    from .dataset import load_dataset
    from .train import TrainConfig, fit

    cfg = TrainConfig(**{k: getattr(args, k) for k in _train_defaults()})
    trials = load_dataset(args.data)
    layout = "ipol-gait" if (args.data / "GaitData").is_dir() else "per-trial files"
    print(f"{len(trials)} trials, {len({t.subject for t in trials})} subjects from {args.data}")
    results = fit(
        trials,
        args.out,
        cfg,
        folds=args.folds,
        name=args.name,
        data={"path": str(args.data), "layout": layout},
        progress=not args.quiet,
        jobs=args.jobs,
    )
    print(f"wrote {args.out}")
    if results:
        from .evaluate import format_results

        print(format_results(results))
    return 0


async def _evaluate(args: argparse.Namespace) -> int:
    import json
    import math

    from .dataset import load_dataset
    from .evaluate import VARIANTS, available_variants, evaluate, format_results
    from .model_file import load_model

    if len(args.paths) < 2:
        raise GaitedgeError("give at least one MODEL directory and then DATA_DIR")
    *model_dirs, data = args.paths
    models = [load_model(d) for d in model_dirs]
    can = available_variants(*models)
    if args.variants == "auto":
        variants = can
        skipped = [v for v in VARIANTS if v not in can]
        if skipped:
            print(
                f"gaitedge: note: not scoring {', '.join(skipped)} (no float copy in the model, "
                "or no .tflite twin / LiteRT here: pip install 'gaitedge[tflite]')",
                file=sys.stderr,
            )
    else:
        variants = [v.strip() for v in args.variants.split(",") if v.strip()]
        bad = [v for v in variants if v not in VARIANTS]
        if bad or not variants:
            raise GaitedgeError(f"--variants {args.variants!r}: choose from {', '.join(VARIANTS)}")
        cannot = [v for v in variants if v not in can]
        if cannot:
            raise GaitedgeError(
                f"cannot score {', '.join(cannot)} here: the model has no float copy, or no "
                ".tflite twin, or LiteRT is not installed (pip install 'gaitedge[tflite]')"
            )
    results = evaluate(models, load_dataset(data), variants=variants, held_out=args.held_out)
    if args.json:

        def finite(x: object) -> object:  # JSON has no NaN: write null
            if isinstance(x, float) and not math.isfinite(x):
                return None
            if isinstance(x, dict):
                return {k: finite(v) for k, v in x.items()}
            if isinstance(x, list):
                return [finite(v) for v in x]
            return x

        print(json.dumps(finite(results), indent=2))
    else:
        print(format_results(results))
    return 0


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
    if args.data is None:
        return bundled_recording("L"), bundled_recording("R")
    data = find_ipol_dir(args.data)
    if data is None:
        raise ValueError(f"--data {args.data!r}: no GaitData/ folder inside; point at ipol-gait")
    return load_ipol(data, args.trial, "L"), load_ipol(data, args.trial, "R")


def _simulators(args: argparse.Namespace) -> tuple[InsoleSimulator, InsoleSimulator]:
    left, right = _recordings(args)
    return two_shoes(
        left, right, drift_ppm=tuple(args.drift_ppm), faults=_faults(args), seed=args.seed
    )


class Listener:
    """Decode one transport: feed every chunk to a StreamDecoder and keep what a
    summary needs. (The streaming runtime of a later issue replaces this with the
    full pipeline; this is the stats printout.)"""

    def __init__(self, url: str, capture: Path | None = None) -> None:
        self.url = url
        self.decoder = StreamDecoder()
        self.events: list[TransportEvent] = []
        transport: Transport = open_transport(url, on_event=self._on_event)
        if capture is not None:
            from firmware_bridge.transports.replay import RecordingTransport

            transport = RecordingTransport(transport, capture)
        self.transport = transport
        self.first_seq: int | None = None
        self.last_seq: int | None = None

    def _on_event(self, event: TransportEvent) -> None:
        self.events.append(event)
        if event.kind in ("disconnected", "reconnected", "gave_up"):
            print(
                f"  [{self.transport.name}] {event.kind}"
                + (f" after {event.gap_s:.1f} s" if event.gap_s else ""),
                flush=True,
            )

    async def run(self) -> None:
        """Read until the transport ends or the task is cancelled."""
        async with self.transport:
            while chunk := await self.transport.read():
                for item in self.decoder.feed(chunk):
                    if isinstance(item, SampleBlock) and len(item):
                        if self.first_seq is None:
                            self.first_seq = int(item.seq[0])
                        self.last_seq = int(item.seq[-1])

    def line(self) -> str:
        s, info = self.decoder.stats, self.decoder.info_
        side = info.side if info else "?"
        expected = s.samples_ok + s.lost_samples + s.out_of_order
        lost_pct = 100.0 * s.lost_samples / expected if expected else 0.0
        battery = self.decoder.status_.battery_pct if self.decoder.status_ else None
        return (
            f"{side} {self.transport.name}: {s.samples_ok} samples, lost {s.lost_samples} "
            f"({lost_pct:.1f} %), bad frames {s.frames_bad}, battery "
            f"{'?' if battery is None else f'{battery} %'}"
        )

    def summary(self) -> str:
        return _link_summary(self.decoder, self.events, self.first_seq, self.last_seq)


def _link_summary(
    decoder: StreamDecoder,
    events: Sequence[TransportEvent],
    first_seq: int | None,
    last_seq: int | None,
) -> str:
    """What one link delivered: device, samples, gaps, bad frames, outages, battery."""
    s, info, status = decoder.stats, decoder.info_, decoder.status_
    out = []
    if info is not None:
        out.append(_describe(info))
    share = ""
    if first_seq is not None and last_seq is not None:
        sent = last_seq - first_seq + 1  # by the device's own counter
        share = f"  ({100.0 * s.samples_ok / sent:.1f} % of the {sent} sent)"
    out.append(f"  samples delivered  {s.samples_ok}{share}")
    out.append(f"  lost (seq gaps)    {s.lost_samples} in {s.gaps} gaps")
    out.append(f"  duplicates         {s.duplicates}    out of order {s.out_of_order}")
    out.append(
        f"  frames ok / bad    {s.frames_ok} / {s.frames_bad}  "
        f"(crc {s.crc_errors}, cobs {s.cobs_errors}, length {s.length_errors}, "
        f"layout {s.layout_errors}); unsupported {s.unsupported}"
    )
    out.append(f"  bytes in / skipped {s.bytes_in} / {s.bytes_skipped}")
    out.append(f"  device restarts    {s.resets}")
    downs = [e for e in events if e.kind == "reconnected"]
    if downs:
        gaps = ", ".join(f"{e.gap_s:.1f} s" for e in downs)
        out.append(f"  link outages       {len(downs)} ({gaps})")
    if status is not None:
        out.append(f"  battery            {_status_text(status)}")
    return "\n".join(out)


def _describe(info: DeviceInfo) -> str:
    fw = ".".join(map(str, info.firmware))
    return (
        f"{info.side} shoe: id {info.device_id:016x}, {info.model or 'unknown model'} fw {fw}, "
        f"{info.sample_rate_hz:g} Hz, ±{info.accel_range_g:g} g, ±{info.gyro_range_dps:g} °/s, "
        f"{info.n_pressure} pressure cells, protocol {info.protocol[0]}.{info.protocol[1]}"
    )


def _status_text(status: Status) -> str:
    pct = "?" if status.battery_pct is None else f"{status.battery_pct} %"
    mv = "" if status.battery_mv is None else f", {status.battery_mv} mV"
    flags = spec.error_names(status.error_flags)
    return pct + mv + (f", flags {' '.join(flags)}" if flags else "")


async def _demo(args: argparse.Namespace) -> int:
    from .model_file import default_model_dir, load_model
    from .runtime import TrialRecorder
    from .store import TrialInfo, TrialStore

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
        async with contextlib.AsyncExitStack() as stack:
            ptys = [await stack.enter_async_context(PtyInsole(s)) for s in sims]
            recorder = TrialRecorder(
                model,
                {s.recording.side: f"serial://{p.port}" for s, p in zip(sims, ptys, strict=True)},
                store,
                TrialInfo(subject="demo", shoe="simulated", condition="bundled walk",
                          model_name=model.name, model_sha256=model.meta["weights"]["sha256"]),
                backend=args.backend,
            )  # fmt: skip
            stop = asyncio.Event()
            task = asyncio.create_task(recorder.run(stop))
            await asyncio.gather(*(p.run(args.speed or None) for p in ptys))
            await _drained(recorder, sims)
            stop.set()
            trial_id = await task
        print()
        for sim in sims:
            shoe = recorder.shoes[sim.recording.side]
            print(_link_summary(shoe.decoder, shoe.events, shoe.first_counter, shoe.last_counter))
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
        print(_trial_summary(store, trial_id, recorder.summary()))
    return 0


def _trial_summary(store: TrialStore, trial_id: int, live: dict) -> str:
    """The stored trial in a few lines: status, per shoe samples, gaps, events, stride time."""
    t = store.trial(trial_id)
    events = store.events(trial_id)
    lines = [f"trial {trial_id}: {t['status']}, subject {t['subject'] or '?'}, "
             f"shoe {t['shoe'] or '?'}; stored in {store.path}"]  # fmt: skip
    for side, shoe in live["shoes"].items():
        n = len(store.samples(trial_id, side)["counter"])
        hs = sum(1 for e in events if e["side"] == side and e["kind"] == "HS")
        to = sum(1 for e in events if e["side"] == side and e["kind"] == "TO")
        stride = shoe["stride_time_s"]
        cadence = f"{60.0 / stride:.0f} strides/min" if stride == stride else "–"
        lines.append(
            f"  {side}: {n} samples stored, {shoe['lost']} lost ({shoe['lost_pct']:.1f} %), "
            f"{shoe['resets']} model resets; {hs} heel strikes, {to} toe-offs; median stride "
            f"{stride:.2f} s ({cadence})"
        )
    return "\n".join(lines)


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


async def _sim(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
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

        served = asyncio.gather(*(serve(p) for p in ptys))
        waiter = asyncio.create_task(stop.wait())
        await asyncio.wait([served, waiter], return_when=asyncio.FIRST_COMPLETED)
        for t in (served, waiter):  # every walk served (without --loop), or Ctrl-C
            t.cancel()
        await asyncio.gather(served, waiter, return_exceptions=True)
    return 0


async def _listen(args: argparse.Namespace) -> int:
    captures: list[Path | None] = [None] * len(args.urls)
    if args.capture is not None:
        captures = (
            [args.capture]
            if len(args.urls) == 1
            else [args.capture.with_suffix(f".{i}.gecap") for i in range(len(args.urls))]
        )
    listeners = [Listener(u, c) for u, c in zip(args.urls, captures, strict=True)]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tty = sys.stdout.isatty()
    tasks = [asyncio.create_task(li.run()) for li in listeners]
    started = time.monotonic()
    while not stop.is_set() and not all(t.done() for t in tasks):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
        status = " | ".join(li.line() for li in listeners)
        print(("\r" + status[:200]) if tty else status, end="" if tty else "\n", flush=True)
        if args.duration is not None and time.monotonic() - started >= args.duration:
            break
    for t in tasks:
        t.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    print()
    for li in listeners:
        print(li.summary())
    errors = [
        r for r in results if isinstance(r, Exception) and not isinstance(r, asyncio.CancelledError)
    ]
    for e in errors:
        print(f"gaitedge: error: {e}", file=sys.stderr)
    return 1 if errors else 0
