"""``gaitedge strides``: every stride of a stored trial, or of recordings in a data folder."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from edge.cli._common import reading_store
from firmware_bridge.errors import GaitedgeError


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "strides",
        help="every stride measured: length, speed, angles, clearance, timing; per trial",
        description="The per-stride table of each shoe and the trial summary (mean, SD, CV "
        "over steady walking; left/right symmetry) of a stored trial, or of the recordings "
        "in a data folder (ipol-gait layout or the plain format) with their own gait events. "
        "A stored trial never measured before (a store from an older gaitedge) is measured "
        "now and the strides stored.",
    )
    p.add_argument("trial_id", nargs="?", type=int, help="the stored trial (see gaitedge trials)")
    p.add_argument("--db", type=Path, default=Path("gaitedge-trials.db"), help="the store")
    p.add_argument("--data", type=Path, metavar="DIR", help="recordings instead of a store")
    p.add_argument("--dataset", type=Path, metavar="DIR",
                   help="a study data set (export --dataset) instead of a store")  # fmt: skip
    p.add_argument("--trial", action="append", metavar="ID",
                   help="with --data: only this trial (e.g. 1-6); with --dataset: its UUID; "
                   "repeat for more")  # fmt: skip
    p.add_argument("--mounting", default="dorsum", choices=("dorsum", "lateral", "insole"),
                   help="where the IMU sits on the shoe (dorsum)")  # fmt: skip
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object")
    out.add_argument("--csv", type=Path, metavar="FILE", help="write the stride rows as CSV")
    p.set_defaults(func=strides)


async def strides(args: argparse.Namespace) -> int:
    from edge.strides.analysis import StrideTable, summarise

    sources = (args.trial_id is not None) + (args.data is not None) + (args.dataset is not None)
    if sources != 1:
        raise GaitedgeError("give a stored TRIAL id, or --data DIR, or --dataset DIR (one)")
    if args.trial and args.data is None and args.dataset is None:
        raise GaitedgeError(
            "--trial goes with --data or --dataset; a stored trial is given by its id"
        )
    results: list[tuple[str, StrideTable]] = []
    if args.data is not None:
        results = _from_data(args)
    elif args.dataset is not None:
        from edge.dataset import dataset_trials

        found, _ = dataset_trials(args.dataset)
        results = [(t.trial, t.strides) for t in found if not args.trial or t.trial in args.trial]
        if not results:
            raise GaitedgeError(f"no trial {', '.join(args.trial or [])} in {args.dataset}")
    else:
        results = [(str(args.trial_id), _from_store(args))]
    if args.csv is not None:
        _write_csv(args.csv, results)
        print(args.csv)
        return 0
    if args.json:
        from edge.strides.text import json_ready

        doc = [
            {"trial": name, "strides": json_ready(t.rows()), "summary": json_ready(summarise(t))}
            for name, t in results
        ]
        json.dump({"trials": doc}, sys.stdout, indent=1)
        print()
        return 0
    from edge.strides.text import summary_lines, table_lines

    for name, table in results:
        print(f"trial {name}")
        for line in (*table_lines(table), "", *summary_lines(summarise(table)), ""):
            print(f"  {line}" if line else "")
    return 0


def _from_store(args: argparse.Namespace) -> Any:
    from edge.store import TrialStore
    from edge.strides.stored import measure_trial, stored_table

    with reading_store(args.db) as store:
        store.trial(args.trial_id)  # one line if there is no such trial
        table = stored_table(store, args.trial_id)
    if table is None:
        with TrialStore(args.db) as store:
            table = measure_trial(store, args.trial_id, mounting=args.mounting)
        print(f"trial {args.trial_id}: strides measured now and stored", file=sys.stderr)
    return table


def _from_data(args: argparse.Namespace) -> list[tuple[str, Any]]:
    from edge.strides.analysis import trial_strides
    from edge.strides.geometry import FootGeometry
    from edge.training.data.feet import load_feet

    geometry = FootGeometry.from_shoe_size(42.0, args.mounting)
    feet = load_feet(args.data, trials=args.trial)
    return [(name, trial_strides(recs, geometry=geometry)) for (_, name), recs in feet.items()]


def _write_csv(path: Path, results: list[tuple[str, Any]]) -> None:
    import numpy as np

    from edge.export import write_csv

    tables = [t for _, t in results if len(t)]
    if not tables:
        raise GaitedgeError("no strides to write (standing only, or too few samples)")
    names = np.concatenate([np.full(len(t), name) for name, t in results if len(t)])
    columns = {k: np.concatenate([t.columns[k] for t in tables]) for k in tables[0].columns}
    try:
        write_csv(path, {"trial": names, **columns})
    except OSError as e:
        raise GaitedgeError(f"cannot write {path}: {e.strerror}; pick a writable path") from None
