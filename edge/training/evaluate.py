"""Score models on a data set as the streaming loop would run them.

For every trial (one foot): the model's outputs over the whole recording (``numpy``: float
or the stored int8 weights; ``tflite``: the .tflite twin in LiteRT, fed packet by packet as
live), then the causal :class:`edge.events.GaitEventDetector` fed sample by sample, then
:func:`edge.training.metrics.score_trial`. Per subject and pooled results by
:func:`edge.training.metrics.pooled_scores`.

Outputs come from :meth:`edge.model.gru.GRU.run` over all trials at once, which equals feeding
them packet by packet as the live loop does to float32 rounding (~1e-6; tested), so an
output sitting exactly on a detector threshold is the only way the two could differ. The
detector is built from the model's ``detector`` block (model.json), as the live loop does.

A model whose outputs are not the gait-phase set (a lab's own targets, e.g.
``knee_angle_deg``) is scored output by output against the trial's column of the same
name: RMSE and mean absolute error in its unit (:func:`edge.training.metrics.score_targets`).

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

from edge.model.card import pooled_key, result_tables
from edge.model.files import DEVICE_CHANNELS, Model, ModelFileError
from edge.model.gru import GRU, GRUWeights
from edge.model.outputs import GAIT_OUTPUTS, activate, is_gait_model, make_detector
from edge.training.data import Trial
from edge.training.metrics import (
    TargetScores,
    TrialScores,
    phase_from_cos_sin,
    pool,
    score_targets,
    score_trial,
    scores_by_subject,
)

__all__ = [
    "VARIANTS",
    "Variant",
    "available_variants",
    "evaluate",
    "format_results",
    "model_outputs",
    "pooled_key",
    "score_outputs",
]

Variant = Literal["float", "int8", "tflite"]
VARIANTS: tuple[Variant, ...] = ("float", "int8", "tflite")


def available_variants(*models: Model) -> list[Variant]:
    """The variants that every one of ``models`` and this install can run (float needs the
    float copy or float32 storage; tflite needs the twin and LiteRT)."""
    out: list[Variant] = ["int8"]
    if all(m.storage == "float32" or m.meta.weights_float32 for m in models):
        out.append("float")
    if all("step" in m.meta.tflite for m in models):
        try:
            from edge.model.backends import load_interpreter_module

            load_interpreter_module()
            out.append("tflite")
        except ImportError:
            pass
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
    pc, ps, st = (y[:, names.index(n)] for n in GAIT_OUTPUTS)
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
        asked; ``pooled`` is int8's).
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
            subjects = m.meta.validation_subjects
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


def format_results(results: Mapping[str, Any]) -> str:
    """Human-readable tables of :func:`evaluate`'s result (markdown)."""
    return "\n".join([f"{results.get('n_trials', 0)} trials.", "", *result_tables(results)])
