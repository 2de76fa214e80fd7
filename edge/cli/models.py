"""``gaitedge train`` and ``gaitedge evaluate``: models, offline (the only commands that
load :mod:`edge.training`, and only when they run)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from firmware_bridge.errors import GaitedgeError


def add_commands(sub: argparse._SubParsersAction) -> None:
    """``train``, ``evaluate``."""
    p_train = sub.add_parser(
        "train",
        help="train a GRU model on a data folder (needs the 'train' extra: PyTorch, CPU)",
        description="Train a GRU on every trial in DATA_DIR and write a model directory. "
        "DATA_DIR is an ipol-gait copy (a folder holding GaitData/: gait phase and stance of "
        "each foot from its hand-checked events) or a folder of per-trial .npz/.csv files "
        "(edge.training.data.formats documents the columns; the targets are whatever the "
        "files hold). "
        "With --folds N it first trains N leave-subjects-out fold models into OUT/cv/ and "
        "scores each on the subjects it never saw; those numbers go into the card.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p_train.add_argument("data", type=Path, metavar="DATA_DIR", help="the data folder")
    p_train.add_argument("--out", type=Path, required=True, help="model directory to write")
    p_train.add_argument("--name", help="model name (default: the --out folder's name)")
    p_train.add_argument("--folds", type=int, default=0, help="cross-validation folds (0: none)")
    defaults = _train_defaults()
    for field, value in defaults.items():
        kind = type(value)
        if kind is bool:
            p_train.add_argument(
                f"--{field.replace('_', '-')}",
                action=argparse.BooleanOptionalAction,
                default=value,
                help=f"{field.replace('_', ' ')}",
            )
        else:
            p_train.add_argument(
                f"--{field.replace('_', '-')}", type=kind, default=value, help=field
            )
    p_train.add_argument(
        "--jobs", type=int, default=1, help="models trained at once (processes, one core each)"
    )
    p_train.add_argument("--quiet", action="store_true", help="no progress bar")
    p_train.set_defaults(func=train)

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
    ev.set_defaults(func=evaluate)


def _train_defaults() -> dict[str, object]:
    import dataclasses

    from edge.training.train import TrainConfig

    return {f.name: f.default for f in dataclasses.fields(TrainConfig)}


async def train(args: argparse.Namespace) -> int:
    from edge.training.data import load_dataset
    from edge.training.train import TrainConfig, fit

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
        from edge.training.evaluate import format_results

        print(format_results(results))
    return 0


async def evaluate(args: argparse.Namespace) -> int:
    import math

    from edge.model.files import load_model
    from edge.training.data import load_dataset
    from edge.training.evaluate import VARIANTS, available_variants, evaluate, format_results

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
