"""Score models on a data set as the streaming loop would run them.

For every trial (one foot): the model's outputs over the whole recording (``numpy``: float
or the stored int8 weights; ``tflite``: the .tflite twin in LiteRT, fed packet by packet as
live), then the causal :class:`edge.events.GaitEventDetector` fed sample by sample, then
:func:`edge.metrics.score_trial`. Per subject and pooled results by
:func:`edge.metrics.pooled_scores`.

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
from .metrics import TrialScores, phase_from_cos_sin, pooled_scores, score_trial, scores_by_subject
from .model_file import Model, ModelFileError

__all__ = [
    "VARIANTS",
    "Variant",
    "activate",
    "evaluate",
    "format_results",
    "model_outputs",
    "score_outputs",
]

Variant = Literal["float", "int8", "tflite"]
VARIANTS: tuple[Variant, ...] = ("float", "int8", "tflite")

#: The detector settings the streaming loop uses with gait-phase models.
DETECTOR_DEFAULTS: dict[str, float] = {"min_phase_norm": 0.5}


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


def score_outputs(
    model: Model, trial: Trial, y: npt.NDArray[np.float32], **detector: float
) -> TrialScores:
    """Score one trial's activated outputs (phase and events) against its ground truth."""
    names = [c.name for c in model.outputs]
    need = ("phase_cos", "phase_sin", "stance")
    missing = [n for n in need if n not in names]
    if missing:
        raise ModelFileError(
            f"{model.path}: outputs {names} lack {missing}; gait scoring needs a gait-phase model"
        )
    for key in ("phase_cos", "phase_sin"):
        if key not in trial.targets:
            raise ValueError(f"trial {trial.name!r} has no {key} target to score against")
    for key in ("scored", "steady"):
        if key not in trial.masks:
            raise ValueError(f"trial {trial.name!r} has no mask_{key}; cannot score it")
    pc, ps, st = (y[:, names.index(n)] for n in need)
    kw = {**DETECTOR_DEFAULTS, **detector}
    det = GaitEventDetector(sampling_rate_hz=trial.sample_rate_hz, **kw)
    events = det.detect(trial.counter, pc, ps, st)
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
        scores: list[TrialScores] = []
        for m, mine in plan:
            outs = model_outputs(m, mine, variant)
            scores += [score_outputs(m, t, y) for t, y in zip(mine, outs, strict=True)]
        key = "pooled" if variant == "int8" else f"pooled_{variant}"
        result[key] = pooled_scores(scores)
        result["subjects"][variant] = scores_by_subject(scores)
    result["n_trials"] = sum(len(mine) for _, mine in plan)
    result["models"] = [str(m.path) for m, _ in plan]
    return result


def format_results(results: Mapping[str, Any]) -> str:
    """Human-readable tables of :func:`evaluate`'s result (markdown)."""
    from .model_file import metric_table

    pooled = {
        ("int8" if k == "pooled" else k.removeprefix("pooled_")): v
        for k, v in results.items()
        if k.startswith("pooled")
    }
    n_subj = next(iter(pooled.values()))["n_subjects"] if pooled else 0
    lines = [f"{results.get('n_trials', 0)} trials, {n_subj} subjects; pooled:", ""]
    lines += metric_table(pooled, "weights")
    for variant, subjects in results.get("subjects", {}).items():
        lines += ["", f"per subject ({variant}):", ""]
        lines += metric_table(subjects, "subject")
    return "\n".join(lines)
