"""Score models on a data set as the streaming loop would run them.

For every trial (one foot): the model's outputs over the whole recording (``numpy``: float
or the stored int8 weights; ``tflite``: the .tflite twin in LiteRT, fed packet by packet as
live), then the causal :class:`edge.events.GaitEventDetector` fed sample by sample, then
:func:`edge.metrics.score_trial`. Per subject and pooled results by
:func:`edge.metrics.pooled_scores`.

Outputs come from :meth:`edge.gru.GRU.run` over all trials at once, which equals feeding
them packet by packet as the live loop does to float32 rounding (~1e-6; tested), so an
output sitting exactly on a detector threshold is the only way the two could differ. The
detector is built from the model's ``detector`` block (model.json), as the live loop does.

A model whose outputs are not the gait-phase set (a lab's own targets, e.g.
``knee_angle_deg``) is scored output by output against the trial's column of the same
name: RMSE and mean absolute error in its unit (:func:`edge.metrics.score_targets`).

A model trained by ``gaitedge train --folds N`` records the subjects it held out
(``training.validation_subjects`` in model.json); :func:`evaluate` with ``held_out=True``
scores each model on those subjects only, so several fold models together give the
leave-subjects-out cross-validation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from .dataset import Trial
from .events import GaitEventDetector
from .gru import GRU, GRUWeights
from .metrics import (
    TargetScores,
    TrialScores,
    phase_from_cos_sin,
    pool,
    score_targets,
    score_trial,
    scores_by_subject,
)
from .model_file import DEVICE_CHANNELS, Model, ModelFileError

__all__ = [
    "VARIANTS",
    "Variant",
    "activate",
    "available_variants",
    "evaluate",
    "format_results",
    "is_gait_model",
    "make_detector",
    "metric_table",
    "model_outputs",
    "pooled_key",
    "result_tables",
    "score_outputs",
]

Variant = Literal["float", "int8", "tflite"]
VARIANTS: tuple[Variant, ...] = ("float", "int8", "tflite")


def pooled_key(variant: str) -> str:
    """Result key of a variant's pooled scores: ``pooled`` (int8, as issue 4 names it) or
    ``pooled_<variant>``."""
    return "pooled" if variant == "int8" else f"pooled_{variant}"


def make_detector(model: Model, sample_rate_hz: float) -> GaitEventDetector:
    """The event detector the model was shipped with (model.json ``detector``)."""
    settings = model.meta.get("detector") or {}
    try:
        return GaitEventDetector(sampling_rate_hz=sample_rate_hz, **settings)
    except (TypeError, ValueError) as e:
        raise ModelFileError(f"{model.path}/model.json: detector settings: {e}") from None


def available_variants(*models: Model) -> list[Variant]:
    """The variants that every one of ``models`` and this install can run (float needs the
    float copy or float32 storage; tflite needs the twin and LiteRT)."""
    out: list[Variant] = ["int8"]
    if all(m.storage == "float32" or m.meta.get("weights_float32") for m in models):
        out.append("float")
    if all((m.meta.get("tflite") or {}).get("step") for m in models):
        try:
            from .backends import load_interpreter_module

            load_interpreter_module()
            out.append("tflite")
        except ImportError:
            pass
    return out


def activate(y: npt.NDArray[np.float32], units: Sequence[str]) -> npt.NDArray[np.float32]:
    """Outputs with every ``"logit"`` channel turned into a probability (σ); others as is.

    ``y`` : (..., n_outputs); ``units`` : the model's output units, in order.
    """
    out = np.array(y, dtype=np.float32, copy=True)
    for k, unit in enumerate(units):
        if unit == "logit":
            out[..., k] = 1.0 / (1.0 + np.exp(-out[..., k]))
    return out


def _padded(x: Sequence[npt.NDArray[np.float32]]) -> npt.NDArray[np.float32]:
    t_max = max(len(a) for a in x)
    out = np.zeros((t_max, len(x), x[0].shape[1]), dtype=np.float32)
    for i, a in enumerate(x):
        out[: len(a), i] = a
    return out


def model_outputs(
    model: Model, trials: Sequence[Trial], variant: Variant = "int8"
) -> list[npt.NDArray[np.float32]]:
    """Activated outputs ``(n, n_outputs)`` per trial, from a fresh state each.

    ``float``: the float32 weights (``model_float32.npz``); ``int8``: the weights as stored
    (``model.npz``); ``tflite``: ``model_packet.tflite`` (or the per-step graph) in LiteRT,
    all trials as streams of one interpreter, a packet at a time. Trials run side by side,
    padded at the end (the model is causal: padding never reaches earlier outputs).
    """
    x = _padded([model.normalise(t.imu) for t in trials])
    if variant in ("float", "int8"):
        weights: GRUWeights = model.float_weights() if variant == "float" else model.weights
        y, _ = GRU(weights).run(x)
    elif variant == "tflite":
        backend = model.backend("tflite")
        for i in range(len(trials)):
            backend.add_stream(i)
        k = model.packet_size or 1
        t_len = x.shape[0]
        pad = (-t_len) % k
        if pad:
            x = np.concatenate([x, np.zeros((pad, *x.shape[1:]), np.float32)])
        y = np.concatenate([backend.step_packet(x[t : t + k]) for t in range(0, len(x), k)])
    else:
        raise ValueError(f"variant={variant!r}; expected one of {VARIANTS}")
    units = [c.unit for c in model.outputs]
    return [activate(y[: len(t), i], units) for i, t in enumerate(trials)]


_GAIT_OUTPUTS = ("phase_cos", "phase_sin", "stance")


def is_gait_model(model: Model) -> bool:
    """Whether ``model`` reports gait phase and stance (scored by phase and events)."""
    names = {c.name for c in model.outputs}
    return all(n in names for n in _GAIT_OUTPUTS)


def score_outputs(
    model: Model, trial: Trial, y: npt.NDArray[np.float32]
) -> TrialScores | TargetScores:
    """Score one trial's activated outputs against its ground truth: phase and events for
    a gait-phase model, each output against the trial's column of that name otherwise."""
    names = [c.name for c in model.outputs]
    if not is_gait_model(model):
        missing = [n for n in names if n not in trial.targets]
        if missing:
            raise ValueError(
                f"trial {trial.name!r} has no column {', '.join(missing)} to score the model's "
                f"output(s) against; give data with the target columns {names}"
            )
        pred = {n: y[:, i] for i, n in enumerate(names)}
        truth = {n: trial.targets[n] for n in names}
        return score_targets(trial.subject, pred, truth, trial.masks.get("scored"))
    for key in ("phase_cos", "phase_sin"):
        if key not in trial.targets:
            raise ValueError(f"trial {trial.name!r} has no {key} target to score against")
    for key in ("scored", "steady"):
        if key not in trial.masks:
            raise ValueError(f"trial {trial.name!r} has no mask_{key}; cannot score it")
    pc, ps, st = (y[:, names.index(n)] for n in _GAIT_OUTPUTS)
    events = make_detector(model, trial.sample_rate_hz).detect(trial.counter, pc, ps, st)
    return score_trial(
        trial.subject,
        trial.counter,
        phase_from_cos_sin(pc, ps),
        phase_from_cos_sin(trial.targets["phase_cos"], trial.targets["phase_sin"]),
        trial.masks["scored"],
        trial.masks["steady"],
        events,
        trial.events.get("heel_strike", np.zeros(0, np.int64)),
        trial.events.get("toe_off", np.zeros(0, np.int64)),
        sample_rate_hz=trial.sample_rate_hz,
    )


def evaluate(
    models: Sequence[Model],
    trials: Sequence[Trial],
    *,
    variants: Sequence[Variant] = ("int8", "float"),
    held_out: bool = False,
) -> dict[str, Any]:
    """Per-subject and pooled scores of ``models`` on ``trials``, for each variant.

    Parameters
    ----------
    models : sequence of Model
        One model, or the fold models of a cross-validation (with ``held_out``).
    trials : sequence of Trial
        The data set.
    variants : sequence of {"float", "int8", "tflite"}
    held_out : bool
        Score each model only on the subjects listed in its
        ``training.validation_subjects``; a subject held out by two models is refused.

    Returns
    -------
    dict
        ``{"pooled": …int8…, "pooled_float": …, "pooled_tflite": …, "subjects": {variant:
        {subject: …}}, "n_trials": …, "models": [...]}`` (a ``pooled_*`` key per variant
        asked; ``pooled`` is int8's, as issue 4 names it).
    """
    if len(models) > 1 and not held_out:
        raise ValueError(
            "several models without --held-out would be pooled into one score; give one "
            "model, or fold models with --held-out"
        )
    if len({tuple(c.name for c in m.outputs) for m in models}) > 1:
        raise ValueError(
            "the models have different outputs; score them apart (fold models of one "
            "'gaitedge train --folds N' run share theirs)"
        )
    for m in models:
        for t in trials:
            m.check_device(DEVICE_CHANNELS, t.sample_rate_hz)
    plan: list[tuple[Model, list[Trial]]] = []
    seen: dict[str, str] = {}
    for m in models:
        if held_out:
            subjects = (m.meta.get("training") or {}).get("validation_subjects")
            if not subjects:
                raise ModelFileError(
                    f"{m.path}: model.json lists no training.validation_subjects; "
                    "--held-out needs fold models from 'gaitedge train --folds N'"
                )
            for s in subjects:
                if s in seen:
                    raise ModelFileError(
                        f"subject {s} is held out by both {seen[s]} and {m.path}; give each "
                        "fold model once"
                    )
                seen[s] = str(m.path)
            mine = [t for t in trials if t.subject in set(subjects)]
        else:
            mine = list(trials)
        if mine:
            plan.append((m, mine))
    if not plan:
        raise ValueError("no trial to score: the models' held-out subjects are not in the data")
    result: dict[str, Any] = {"subjects": {}}
    for variant in variants:
        scores: list[TrialScores | TargetScores] = []
        for m, mine in plan:
            outs = model_outputs(m, mine, variant)
            scores += [score_outputs(m, t, y) for t, y in zip(mine, outs, strict=True)]
        result[pooled_key(variant)] = pool(scores)
        result["subjects"][variant] = scores_by_subject(scores)
    result["n_trials"] = sum(len(mine) for _, mine in plan)
    result["models"] = [str(m.path) for m, _ in plan]
    return result


#: Columns of the metric tables: (key, header, format).
_METRIC_COLUMNS = (
    ("phase_rmse_pct", "phase RMSE %", "{:.2f}"),
    ("phase_rmse_steady_pct", "steady %", "{:.2f}"),
    ("hs_recall", "HS recall", "{:.2%}"),
    ("hs_precision", "HS prec.", "{:.2%}"),
    ("hs_mae_ms", "HS MAE ms", "{:.1f}"),
    ("hs_recall_30ms", "HS ≤30 ms", "{:.2%}"),
    ("to_recall", "TO recall", "{:.2%}"),
    ("to_precision", "TO prec.", "{:.2%}"),
    ("to_mae_ms", "TO MAE ms", "{:.1f}"),
    ("to_recall_30ms", "TO ≤30 ms", "{:.2%}"),
    ("event_delay_p95_ms", "delay p95 ms", "{:.0f}"),
    ("n_strides", "strides", "{:d}"),
)


def _columns(row: Mapping[str, Any]) -> tuple[tuple[str, str, str], ...]:
    """The table's columns: the gait metrics, or each target's RMSE and MAE."""
    if "phase_rmse_pct" in row or not row:
        return _METRIC_COLUMNS
    heads = {"_rmse": " RMSE", "_mae": " MAE"}
    cols = [(k, k.removesuffix(e) + h, "{:.4g}") for k in row for e, h in heads.items()
            if k.endswith(e)]  # fmt: skip
    return (*cols, ("n_samples", "samples", "{:d}"))


def metric_table(rows: Mapping[str, Mapping[str, Any]], first: str) -> list[str]:
    """Markdown table lines, one row per entry of ``rows`` (gait metrics, or each target's
    RMSE and MAE in its unit; missing: –)."""
    columns = _columns(next(iter(rows.values()), {}))
    head = [first] + [h for _, h, _ in columns]
    out = ["| " + " | ".join(head) + " |", "|---" + "|---:" * len(columns) + "|"]
    for label, r in rows.items():
        cells = []
        for key, _, fmt in columns:
            v = r.get(key)
            cells.append("–" if v is None or v != v else fmt.format(v))
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return out


def result_tables(results: Mapping[str, Any]) -> list[str]:
    """Markdown lines of :func:`evaluate`'s result: pooled per variant, then per subject."""
    variants = list(results.get("subjects", {}))
    pooled = {v: results[pooled_key(v)] for v in variants if pooled_key(v) in results}
    n_subj = next(iter(pooled.values()))["n_subjects"] if pooled else 0
    lines = [f"Pooled over {n_subj} subjects:", "", *metric_table(pooled, "weights")]
    for variant, subjects in results.get("subjects", {}).items():
        lines += ["", f"Per subject ({variant}):", "", *metric_table(subjects, "subject")]
    return lines


def format_results(results: Mapping[str, Any]) -> str:
    """Human-readable tables of :func:`evaluate`'s result (markdown)."""
    return "\n".join([f"{results.get('n_trials', 0)} trials.", "", *result_tables(results)])
