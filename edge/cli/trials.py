"""``gaitedge run``, ``trials``, ``replay``, ``export``: recording trials and the store."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from edge.cli._common import existing_store, model_args, reading_store, shown, stop_on_signals
from edge.store import OPERATOR_FIELDS
from firmware_bridge.errors import GaitedgeError


def add_commands(sub: argparse._SubParsersAction) -> None:
    """``run``, ``trials``, ``replay``, ``export``."""
    p_run = sub.add_parser(
        "run",
        help="record one trial from one or two shoes into the trial store",
        description="Open the shoes' links, run the model on every sample of both, detect "
        "gait events, and write everything to the trial store until Ctrl-C, SIGTERM or "
        "--duration. A one-line status per second (plain log lines when not a terminal). "
        "Every flag can also come from a TOML file (--config; edge/config.py shows one); "
        "a flag on the command line wins.",
    )
    p_run.add_argument("--config", type=Path, metavar="FILE", help="TOML settings for this run")
    p_run.add_argument("--left", metavar="URL", help="left shoe: serial://…, ble://…, replay://…")
    p_run.add_argument("--right", metavar="URL", help="right shoe")
    p_run.add_argument("--db", type=Path, help="trial store, one per deployment "
                     "(default ./gaitedge-trials.db)")  # fmt: skip
    p_run.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    for field in OPERATOR_FIELDS:
        p_run.add_argument(f"--{field.replace('_', '-')}", help=f"trial {field}")
    p_run.add_argument("--max-bridge-ms", type=float, help="longer gaps reset the model (200)")
    p_run.add_argument("--max-wait-s", type=float, help="wait this long for a silent shoe (0.5)")
    p_run.add_argument("--lsl", action="store_true",
                       help="also stream samples, model outputs and events to Lab Streaming "
                       "Layer (the lsl extra: mne-lsl)")  # fmt: skip
    model_args(p_run, backend_default=None)
    p_run.set_defaults(func=run)

    p_trials = sub.add_parser("trials", help="list the trials in a store, or show one")
    p_trials.add_argument("trial_id", nargs="?", type=int, help="show this trial")
    p_trials.add_argument("--db", type=Path, default=Path("gaitedge-trials.db"), help="the store")
    p_trials.set_defaults(func=trials)

    p_replay = sub.add_parser(
        "replay",
        help="run a stored trial (or raw captures) through the loop again, as fast as possible",
        description="A stored trial: its samples go through the model side of the loop "
        "again (another model with --model), into a new trial in the same store; with the "
        "model it was recorded with, predictions and events equal the live run's. Raw "
        "captures (--left/--right FILE.gecap): the whole loop from the bytes, as fast as "
        "possible, into a new trial. A study data set (--dataset SRC --out DST): every trial "
        "replayed with the model and its strides measured, in parallel (local processes, or "
        "a Dask cluster with --scheduler), into the data set DST.",
    )
    p_replay.add_argument("trial_id", nargs="?", type=int, help="the stored trial")
    p_replay.add_argument("--left", type=Path, metavar="FILE", help="raw capture of the left shoe")
    p_replay.add_argument(
        "--right", type=Path, metavar="FILE", help="raw capture of the right shoe"
    )
    p_replay.add_argument("--db", type=Path, default=Path("gaitedge-trials.db"), help="the store")
    p_replay.add_argument("--quiet", action="store_true", help="no progress bar")
    g = p_replay.add_argument_group("a whole study data set (edge/archive.py)")
    g.add_argument("--dataset", type=Path, metavar="SRC", help="replay every trial of SRC")
    g.add_argument("--out", type=Path, metavar="DST", help="the data set to write them into")
    g.add_argument("--jobs", type=int, help="local processes (default: one per core)")
    g.add_argument("--scheduler", metavar="ADDR", help="a Dask scheduler, tcp://host:8786")
    model_args(p_replay)
    p_replay.set_defaults(func=replay)

    p_export = sub.add_parser(
        "export",
        help="write stored trials as CSV/Parquet files, or append them to a Parquet data set",
        description="One row per sample with the SI unit in every column name, the model's "
        "outputs beside them, the events, gaps and strides in their own tables, the "
        "metadata as JSON (edge/export.py documents every column). --dataset DIR appends "
        "the trials to a hive-partitioned Parquet data set that DuckDB, pyarrow, Polars, "
        "Dask and Spark read in place (edge/dataset.py). Parquet needs the report extra.",
    )
    p_export.add_argument("trial_id", type=int, nargs="*",
                          help="the trial(s); with --dataset, none means all")  # fmt: skip
    p_export.add_argument("--db", type=Path, default=Path("gaitedge-trials.db"), help="the store")
    p_export.add_argument("--out", type=Path, default=Path("."), help="folder (default: here)")
    p_export.add_argument("--format", default="csv",
                          help="csv, parquet, gaitmap (its layout and sensor frame, with "
                          "stride lists), or several: csv,parquet")  # fmt: skip
    p_export.add_argument("--dataset", type=Path, metavar="DIR",
                          help="append to the Parquet data set in DIR instead")  # fmt: skip
    p_export.add_argument("--study", default="default", help="the study's name (--dataset)")
    p_export.set_defaults(func=export)


#: ``gaitedge run``'s defaults, applied after the config file.
_RUN_DEFAULTS = {
    "db": Path("gaitedge-trials.db"), "backend": "numpy", "max_bridge_ms": 200.0,
    "max_wait_s": 0.5, **dict.fromkeys(OPERATOR_FIELDS, ""),
}  # fmt: skip


def _run_settings(args: argparse.Namespace) -> argparse.Namespace:
    """Flags, then the config file, then the defaults."""
    from edge.config import load_run_config

    merged = load_run_config(args.config) if args.config else {}
    for dest, value in vars(args).items():
        if value is not None:
            merged[dest] = value
    for dest, value in _RUN_DEFAULTS.items():
        merged.setdefault(dest, value)
    for dest in ("left", "right", "model", "duration"):
        merged.setdefault(dest, None)
    from edge.config import NUMBERS, check_number

    for dest in NUMBERS:  # flags are checked as the file's keys are
        if merged.get(dest) is not None:
            merged[dest] = check_number(dest, merged[dest], "--" + dest.replace("_", "-"))
    return argparse.Namespace(**merged)


async def run(args: argparse.Namespace) -> int:
    from edge.model.files import default_model_dir, load_model
    from edge.runtime import TrialRecorder, summarize
    from edge.store import TrialInfo, TrialStore

    args = _run_settings(args)
    sources = {side: url for side, url in (("L", args.left), ("R", args.right)) if url}
    if not sources:
        raise GaitedgeError(
            "give --left URL and/or --right URL, or [shoes] in --config (gaitedge run --help)"
        )
    model = load_model(args.model or default_model_dir())
    info = TrialInfo(**{k: getattr(args, k) for k in OPERATOR_FIELDS})
    tty = sys.stdout.isatty()

    def status(line: str) -> None:
        print(("\r" + line[:200]) if tty else line, end="" if tty else "\n", flush=True)

    stop = stop_on_signals()
    with TrialStore(args.db) as store:
        recorder = TrialRecorder(model, sources, store, info, backend=args.backend,
                                 max_bridge_ms=args.max_bridge_ms, max_wait_s=args.max_wait_s,
                                 on_status=status, lsl=args.lsl)  # fmt: skip
        trial_id = await recorder.run(stop, duration_s=args.duration)
        if tty:
            print()
        summary = summarize(store, trial_id)
        print(summary.text())
    if recorder.error:
        print(f"gaitedge: error: {recorder.error}", file=sys.stderr)
    return 0 if summary.status == "complete" else 1


async def replay(args: argparse.Namespace) -> int:
    from edge.model.files import default_model_dir, load_model
    from edge.runtime import TrialRecorder, replay_trial, summarize
    from edge.store import TrialInfo, TrialStore

    if args.dataset is not None:
        return _replay_dataset(args)
    captures = {side: p for side, p in (("L", args.left), ("R", args.right)) if p}
    if (args.trial_id is None) == (not captures):
        raise GaitedgeError("give a stored TRIAL id, or --left/--right capture files (not both)")
    model = load_model(args.model or default_model_dir())
    if args.trial_id is not None:
        existing_store(args.db)
    with TrialStore(args.db) as store:
        if args.trial_id is not None:
            from edge.progress import progress_bar

            with progress_bar(unit="sample", disable=args.quiet) as bar:

                def progress(done: int, total: int) -> None:
                    bar.total = total
                    bar.update(done - bar.n)

                new = replay_trial(store, args.trial_id, model, backend=args.backend,
                                   progress=progress)  # fmt: skip
        else:
            for p in captures.values():
                if not p.is_file():
                    raise GaitedgeError(f"{p}: no such capture file")
            info = TrialInfo(notes="replay of " + ", ".join(map(str, captures.values())))
            recorder = TrialRecorder(
                model, {s: f"replay://{p}" for s, p in captures.items()}, store, info,
                backend=args.backend,
            )  # fmt: skip
            new = await recorder.run()
        print(summarize(store, new).text())
    return 0


def _replay_dataset(args: argparse.Namespace) -> int:
    from edge.archive import replay_dataset
    from edge.model.files import default_model_dir
    from edge.progress import progress_bar

    if args.out is None:
        raise GaitedgeError("--dataset SRC needs --out DST: the data set to write into")
    if args.jobs is not None and args.jobs < 1:
        raise GaitedgeError(f"--jobs {args.jobs}: give 1 or more processes")
    if args.out.resolve() == args.dataset.resolve():
        raise GaitedgeError("--out must be another folder than --dataset")
    model_dir = args.model or default_model_dir()
    with progress_bar(unit="trial", disable=args.quiet) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        done = replay_dataset(args.dataset, model_dir, args.out, jobs=args.jobs,
                              scheduler=args.scheduler, backend=args.backend,
                              progress=progress)  # fmt: skip
    print(f"{len(done)} trial(s) replayed with {Path(model_dir).name} into {args.out}")
    return 0


async def export(args: argparse.Namespace) -> int:
    from edge.export import export_trial

    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    if args.dataset is None and not args.trial_id:
        raise GaitedgeError("give the TRIAL id(s) to export (or --dataset DIR for all)")
    with reading_store(args.db) as store:
        if args.dataset is not None:
            from edge.dataset import export_to_dataset

            ids = args.trial_id or [t.id for t in store.trials() if t.status != "recording"]
            for tid in ids:
                try:
                    print(export_to_dataset(store, tid, args.dataset, study=args.study))
                except OSError as e:
                    raise GaitedgeError(
                        f"cannot write trial {tid} into {args.dataset}: {e}; nothing half-"
                        "written is visible (see edge/dataset.py)"
                    ) from None
            return 0
        for tid in args.trial_id:
            if "gaitmap" in formats:
                from edge.gaitmap_export import export_gaitmap

                for path in export_gaitmap(store, tid, args.out):
                    print(path)
            rest = tuple(f for f in formats if f != "gaitmap")
            if rest:
                try:
                    paths = export_trial(store, tid, args.out, formats=rest)
                except OSError as e:
                    raise GaitedgeError(
                        f"cannot write trial {tid} into {args.out}: {e.strerror or e}; free "
                        "space or pick another --out (no partial file was left)"
                    ) from None
                for path in paths:
                    print(path)
    return 0


async def trials(args: argparse.Namespace) -> int:
    from edge.strides.analysis import summarise
    from edge.strides.stored import stored_table
    from edge.strides.text import summary_lines

    with reading_store(args.db) as store:
        if args.trial_id is None:
            rows = store.trials()
            print(f"{len(rows)} trial(s) in {args.db}")
            for t in rows:
                start = time.strftime("%Y-%m-%d %H:%M", time.localtime(t.start_unix_s))
                print(f"  {t.id:>4}  {start}  {t.status:<11}  subject {shown(t.subject or '?')}"
                      f"  shoe {shown(t.shoe or '?')}  {shown(t.condition)}")  # fmt: skip
            return 0
        t = store.trial(args.trial_id)
        for field in dataclasses.fields(t):
            key, value = field.name, getattr(t, field.name)
            if key == "devices":
                continue
            if key.endswith("_unix_s") and value is not None:
                value = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value))
            print(f"{key.removesuffix('_unix_s'):>18}  {shown(value)}")
        for side, dev in t.devices.items():
            where = shown(dev.transport)
            print(f"{'shoe ' + side:>18}  id {shown(dev.device_id)}, firmware "
                  f"{shown(dev.firmware)}, {dev.sample_rate_hz:g} Hz, {where}")  # fmt: skip
        gaps, events = store.gaps(args.trial_id), store.events(args.trial_id)
        print(f"{'gaps':>18}  {len(gaps)} ({sum(g.n_lost for g in gaps)} samples)")
        print(f"{'events':>18}  {len(events)}")
        for e in store.errors(args.trial_id):
            print(f"{'error':>18}  {e.side or 'trial'}: {shown(e.message)}")
        table = stored_table(store, args.trial_id)
    print()
    if table is None:
        print(f"no strides measured yet: gaitedge strides {args.trial_id} --db {args.db}")
    else:
        print("\n".join(summary_lines(summarise(table))))
    return 0
