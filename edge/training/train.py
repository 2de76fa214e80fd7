"""Train a GRU model on a data set (:mod:`edge.training.data`), with PyTorch on the CPU.

``pip install 'gaitedge[train]'``; the runtime never imports this module.

What is learnt: every target column of the data set, per sample, causally (a GRU sees no
future samples). A target whose defined values are all 0 or 1 (``stance``) is a binary
state: the head gives its logit (output unit ``"logit"``, trained with binary
cross-entropy; :func:`edge.model.outputs.activate` turns it into a probability). Any other
target is regressed with squared error on the target standardised by its training mean and
standard deviation (so a knee angle in degrees and a phase component weigh alike and the
head starts at the right scale); the scale is folded back into the head, so the model
outputs the target's own unit (``"1"``, or the unit the column name carries). A NaN target
contributes nothing at that sample.

Gait phase outside the cycles (ipol-gait layout, :func:`phase_training_targets`): the
phase target is also set where it is otherwise undefined, so that the model has an answer
there. The (cos φ, sin φ) vector is trained to (0, 0) while the subject stands (from
the trial start to the first toe-off, and from 0.3 cycle after the last heel strike to the
trial end): a short vector means "not walking", and :class:`edge.events.GaitEventDetector`
ignores a phase shorter than ``min_phase_norm``. The first swing (first toe-off to first
heel strike) and the start of the last stance are labelled by extending the neighbouring
cycle, so that the first and the last heel strike are a forward wrap of the phase like any
other. Outside ``TrialBoundaries`` nothing is trained (the subject may walk off, unlabelled).

Augmentation (each training window, independently, with the config's seed):

- sensor mounting: a rotation by a random angle up to ``rotate_deg`` about a random axis,
  applied to acceleration and angular rate alike;
- left/right mirroring (p = ½): the mirror image across the sagittal plane; on the
  ipol-gait foot sensors the y axis is mediolateral, so ``acc_y``, ``gyr_x`` and ``gyr_z``
  change sign (angular rate is an axial vector). One model then serves either foot;
- sample-rate jitter: the window is resampled (linear interpolation along the sample
  index) by a factor in ``1 ± rate_jitter``, as a device clock that runs fast or slow
  would present the same movement.

Windows of ``window`` samples are cut at random from the trials (weighted by length); the
first ``burn_in`` samples of a window that does not start at the recording's start carry no
loss (the state is still settling). Training is deterministic for a seed (one thread).
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.events import GAIT_PHASE_DETECTOR
from edge.model.gru import GRUWeights
from edge.training.data import Trial, subject_key, unit_of

__all__ = [
    "IPOL_CITATION",
    "TrainConfig",
    "TrainResult",
    "fit",
    "fold_dirs",
    "input_scale",
    "masked_loss",
    "phase_training_targets",
    "save_trained",
    "score_folds",
    "target_kinds",
    "train",
]

_MIRROR = np.array([1, -1, 1, -1, 1, -1], dtype=np.float32)  # acc_y, gyr_x, gyr_z flip
_PHASE = ("phase_cos", "phase_sin")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Training settings; every field is recorded in model.json.

    Attributes
    ----------
    hidden, layers : int
        GRU size.
    epochs : int
        Passes; an epoch is as many windows as cover the training samples once.
    window, burn_in : int
        Window length and unscored start [samples].
    batch : int
        Windows per optimiser step.
    lr : float
        Adam's learning rate, decayed along a cosine to 5 % of it.
    rotate_deg, rate_jitter : float
        Augmentation strengths (module docstring); 0 turns one off.
    mirror : bool
        Mirror half the windows.
    seed : int
        Seeds the weights, the windows and the augmentation.
    """

    hidden: int = 96
    layers: int = 1
    epochs: int = 60
    window: int = 400
    burn_in: int = 50
    batch: int = 32
    lr: float = 4e-3
    rotate_deg: float = 8.0
    rate_jitter: float = 0.05
    mirror: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("hidden", "layers", "epochs", "window", "batch"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} is {getattr(self, name)!r}; give an integer >= 1")
        if not 0 <= self.burn_in < self.window:
            raise ValueError(f"burn_in is {self.burn_in!r}; choose 0 <= burn_in < window")
        if not (self.lr > 0 and 0 <= self.rate_jitter < 0.5 and 0 <= self.rotate_deg <= 90):
            raise ValueError(
                f"lr {self.lr!r}, rate_jitter {self.rate_jitter!r}, rotate_deg "
                f"{self.rotate_deg!r}: need lr > 0, 0 <= rate_jitter < 0.5, 0 <= rotate_deg <= 90"
            )


@dataclasses.dataclass
class TrainResult:
    """A trained model and what the training saw.

    Attributes
    ----------
    weights : GRUWeights
        Float32 weights.
    mean, std : ndarray, shape (6,), float32
        Input normalisation from the training trials.
    targets : list of str
        Target names, in head order.
    kinds : list of {"logit", "value"}
        Per target: a binary state (head gives its logit) or a regressed value.
    history : list of dict
        Per epoch: ``epoch``, ``loss`` (training), ``seconds``.
    """

    weights: GRUWeights
    mean: npt.NDArray[np.float32]
    std: npt.NDArray[np.float32]
    targets: list[str]
    kinds: list[str]
    history: list[dict[str, float]]


def phase_training_targets(trial: Trial) -> dict[str, npt.NDArray[np.float32]]:
    """The trial's targets with the phase defined while standing and at the walk's ends.

    Applies to trials with ``phase_cos``/``phase_sin`` targets, ``heel_strike`` and
    ``toe_off`` events and an ``in_trial`` mask (ipol-gait); others are returned as they
    are. Rules: module docstring.
    """
    targets = dict(trial.targets)
    hs = trial.events.get("heel_strike")
    to = trial.events.get("toe_off")
    in_trial = trial.masks.get("in_trial")
    if any(k not in targets for k in _PHASE) or hs is None or to is None or in_trial is None:
        return targets
    if len(hs) < 2:
        return targets
    c = trial.counter.astype(np.float64)
    cos, sin = targets["phase_cos"].copy(), targets["phase_sin"].copy()
    phase = np.full(len(c), np.nan)
    first, last = float(hs[1] - hs[0]), float(hs[-1] - hs[-2])
    before = to[to < hs[0]]
    walk_start = float(before[-1]) if len(before) else hs[0] - 0.4 * first
    swing = (c >= walk_start) & (c < hs[0])
    phase[swing] = 2 * np.pi * (1.0 - (hs[0] - c[swing]) / first)
    walk_end = hs[-1] + 0.3 * last
    tail = (c >= hs[-1]) & (c < walk_end)
    phase[tail] = 2 * np.pi * (c[tail] - hs[-1]) / last
    ext = ~np.isnan(phase) & in_trial
    cos[ext] = np.cos(phase[ext])
    sin[ext] = np.sin(phase[ext])
    standing = in_trial & ((c < walk_start) | (c >= walk_end))
    stance = targets.get("stance")
    if stance is not None:  # never call a cut-off walk (stance unknown) standing
        standing &= stance == 1
    cos[standing] = 0.0
    sin[standing] = 0.0
    targets["phase_cos"], targets["phase_sin"] = cos, sin
    return targets


def target_kinds(trials: Sequence[Trial]) -> tuple[list[str], list[str]]:
    """Target names shared by every trial (first trial's order) and their kinds."""
    names = list(trials[0].targets)
    if not names:
        raise ValueError(f"trial {trials[0].name!r} has no target column; nothing to train")
    for t in trials:
        if sorted(t.targets) != sorted(names):
            raise ValueError(
                f"trial {t.name!r} has targets {sorted(t.targets)}, trial {trials[0].name!r} "
                f"has {sorted(names)}; every trial needs the same target columns"
            )
    kinds = []
    for k in names:
        vals = np.concatenate([t.targets[k] for t in trials])
        vals = vals[np.isfinite(vals)]
        binary = vals.size > 0 and bool(np.all((vals == 0) | (vals == 1)))
        kinds.append("logit" if binary else "value")
    return names, kinds


def _steps_per_epoch(n_samples: int, cfg: TrainConfig) -> int:
    """Optimiser steps in an epoch: as many windows as cover the training samples once."""
    return max(1, round(n_samples / (cfg.window * cfg.batch)))


def _target_scale(
    y: Sequence[npt.NDArray[np.float32]], kinds: Sequence[str]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Per target, (mean, std) of its defined values over the trials' ``y`` (n, n_targets)
    arrays; (0, 1) for a logit target or one without spread."""
    allv = np.concatenate(y).astype(np.float64)
    mean, std = np.zeros(len(kinds)), np.ones(len(kinds))
    for k, kind in enumerate(kinds):
        v = allv[:, k][np.isfinite(allv[:, k])]
        if kind == "value" and v.size:
            mean[k], spread = v.mean(), v.std()
            std[k] = spread if spread > 1e-6 else 1.0
    return mean.astype(np.float32), std.astype(np.float32)


def input_scale(
    x: Sequence[npt.NDArray[np.float32]], mirror: bool
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Input normalisation ``(mean, std)``, each (6,) float32, over the trials' IMU arrays
    ``x`` (n, 6). With ``mirror`` the channels that mirroring flips get mean 0 and their
    root mean square as the scale, so a mirrored window is normalised alike."""
    allx = np.concatenate(x).astype(np.float64)
    mean = allx.mean(axis=0).astype(np.float32)
    std = allx.std(axis=0).astype(np.float32)
    if mirror:
        mean = np.where(_MIRROR < 0, 0.0, mean).astype(np.float32)
        std = np.sqrt((allx**2).mean(axis=0)).astype(np.float32) * (_MIRROR < 0) + std * (
            _MIRROR > 0
        )
    return mean, np.maximum(std, 1e-6).astype(np.float32)


def masked_loss(out: Any, y: Any, is_logit: Any) -> Any:
    """Training loss (torch): binary cross-entropy on logit targets, squared error on the
    (standardised) others, averaged over the defined (not NaN) entries of ``y``.

    ``out``, ``y`` : (batch, window, n_targets) tensors; ``is_logit`` : (n_targets,) bool.
    """
    import torch
    from torch import nn

    have = ~torch.isnan(y)
    y0 = torch.nan_to_num(y)
    se = (out - y0) ** 2
    bce = nn.functional.binary_cross_entropy_with_logits(out, y0, reduction="none")
    per = torch.where(is_logit, bce, se) * have
    return per.sum() / have.sum().clamp(min=1)


class _Windows:
    """Random augmented training windows drawn from the trials (NumPy, then torch)."""

    def __init__(self, trials: Sequence[Trial], names: Sequence[str], cfg: TrainConfig) -> None:
        self.cfg = cfg
        self.x: list[npt.NDArray[np.float32]] = []
        self.y: list[npt.NDArray[np.float32]] = []
        for t in trials:
            targets = phase_training_targets(t)
            self.x.append(t.imu.astype(np.float32))
            self.y.append(np.stack([targets[k] for k in names], axis=1).astype(np.float32))
        lengths = np.array([len(a) for a in self.x], dtype=np.float64)
        self.p = lengths / lengths.sum()
        self.n_samples = int(lengths.sum())
        # windows and augmentation draw from their own streams, every draw made whether its
        # augmentation is on or not: turning one off changes nothing else
        self.rng, self.aug = (np.random.default_rng([cfg.seed, k]) for k in (0, 1))

    def _rotation(self) -> npt.NDArray[np.float32]:
        axis = self.aug.normal(size=3)
        axis /= np.linalg.norm(axis)
        angle = math.radians(self.cfg.rotate_deg) * self.aug.uniform(-1, 1)
        k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
        r = np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * k @ k
        return r.astype(np.float32)

    def batch(self) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """``x`` (batch, window, 6) raw units, ``y`` (batch, window, n_targets) NaN = none."""
        cfg, rng, aug = self.cfg, self.rng, self.aug
        w = cfg.window
        xs = np.empty((cfg.batch, w, 6), dtype=np.float32)
        ys = np.empty((cfg.batch, w, self.y[0].shape[1]), dtype=np.float32)
        for b in range(cfg.batch):
            i = int(rng.choice(len(self.x), p=self.p))
            x, y = self.x[i], self.y[i]
            s = 1.0 + cfg.rate_jitter * aug.uniform(-1, 1)
            r = self._rotation()
            flip = aug.random() < 0.5
            span = (w - 1) * s
            hi = len(x) - 1 - span
            at_start = rng.random() < 0.1
            where = rng.random()
            start = 0.0 if hi <= 0 or at_start else where * hi
            pos = start + s * np.arange(w)
            past_end = pos > len(x) - 1  # a trial shorter than the window
            pos = np.minimum(pos, len(x) - 1)
            lo = np.floor(pos).astype(np.int64)
            up = np.minimum(lo + 1, len(x) - 1)
            f = (pos - lo).astype(np.float32)[:, None]
            xw = x[lo] * (1 - f) + x[up] * f
            yw = y[lo] * (1 - f) + y[up] * f  # NaN where either neighbour has none
            yw[past_end] = np.nan
            if cfg.rotate_deg:
                xw = np.concatenate([xw[:, :3] @ r.T, xw[:, 3:] @ r.T], axis=1)
            if cfg.mirror and flip:
                xw = xw * _MIRROR
            if start > 0:
                yw[: cfg.burn_in] = np.nan
            xs[b], ys[b] = xw, yw
        return xs, ys


class _TrainStep:
    """One optimiser step of :func:`train` over a network ``head(gru(x))``.

    Adam with the learning rate decayed along a cosine over ``total`` steps to 5 % of
    ``cfg.lr``, :func:`masked_loss` on inputs normalised by ``mean``/``std`` and targets
    standardised by their training scale (``y_mean``, ``y_std``: (n_targets,) float32, see
    :func:`_target_scale`), gradients clipped to norm 1.
    """

    def __init__(
        self,
        gru: Any,
        head: Any,
        windows: _Windows,
        kinds: Sequence[str],
        mean: npt.NDArray[np.float32],
        std: npt.NDArray[np.float32],
        cfg: TrainConfig,
    ) -> None:
        import torch

        self.gru, self.head = gru, head
        self.params = list(gru.parameters()) + list(head.parameters())
        self.opt = torch.optim.Adam(self.params, lr=cfg.lr)
        self.steps_per_epoch = _steps_per_epoch(windows.n_samples, cfg)
        self.total = self.steps_per_epoch * cfg.epochs
        self.sched = torch.optim.lr_scheduler.CosineAnnealingLR(
            self.opt, self.total, eta_min=0.05 * cfg.lr
        )
        self.is_logit = torch.tensor([k == "logit" for k in kinds])
        self.y_mean, self.y_std = _target_scale(windows.y, kinds)
        self._y_mean, self._y_std = torch.from_numpy(self.y_mean), torch.from_numpy(self.y_std)
        self._mean, self._std = torch.from_numpy(mean), torch.from_numpy(std)

    def __call__(self, xb: npt.NDArray[np.float32], yb: npt.NDArray[np.float32]) -> float:
        """One step on a batch (:meth:`_Windows.batch`: raw units, NaN = no target);
        returns its loss."""
        import torch
        from torch import nn

        x = (torch.from_numpy(xb) - self._mean) / self._std
        y = (torch.from_numpy(yb) - self._y_mean) / self._y_std
        loss = masked_loss(self.head(self.gru(x)[0]), y, self.is_logit)
        self.opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.params, 1.0)
        self.opt.step()
        self.sched.step()
        return float(loss.item())


def train(
    trials: Sequence[Trial],
    cfg: TrainConfig = TrainConfig(),
    *,
    progress: Callable[[int, int, float], None] | None = None,
) -> TrainResult:
    """Train a GRU + linear head on ``trials`` (all of them: split before calling).

    Parameters
    ----------
    trials : sequence of Trial
        Training trials, 6 IMU channels each (m/s², rad/s), with the same target columns.
    cfg : TrainConfig
    progress : callable(step, total_steps, loss), optional
        Called after every optimiser step (the CLI's progress bar).

    Returns
    -------
    TrainResult
    """
    import torch
    from torch import nn

    if not trials:
        raise ValueError("no training trials")
    for t in trials:
        if not np.isfinite(t.imu).all():
            raise ValueError(
                f"trial {t.name!r} (subject {t.subject}) has NaN or infinite IMU values; drop "
                "those rows (a lost sample is a gap in the counter, not a NaN)"
            )
    rates = {t.sample_rate_hz for t in trials}
    if len(rates) != 1:
        raise ValueError(f"trials have different sample rates {sorted(rates)}; resample first")
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(1)
    names, kinds = target_kinds(trials)
    windows = _Windows(trials, names, cfg)
    mean, std = input_scale(windows.x, cfg.mirror)

    gru = nn.GRU(6, cfg.hidden, cfg.layers, batch_first=True)
    head = nn.Linear(cfg.hidden, len(names))
    step = _TrainStep(gru, head, windows, kinds, mean, std, cfg)
    history: list[dict[str, float]] = []
    done = 0
    for epoch in range(cfg.epochs):
        t0, total_loss = time.perf_counter(), 0.0
        for _ in range(step.steps_per_epoch):
            value = step(*windows.batch())
            done += 1
            total_loss += value
            if progress is not None:
                progress(done, step.total, value)
        history.append(
            {
                "epoch": epoch + 1,
                "loss": total_loss / step.steps_per_epoch,
                "seconds": time.perf_counter() - t0,
            }
        )
    y_mean, y_std = step.y_mean, step.y_std

    def f32(t: Any) -> npt.NDArray[np.float32]:
        return t.detach().numpy().astype(np.float32)

    weights = GRUWeights(
        w_ih=[f32(getattr(gru, f"weight_ih_l{i}")) for i in range(cfg.layers)],
        w_hh=[f32(getattr(gru, f"weight_hh_l{i}")) for i in range(cfg.layers)],
        b_ih=[f32(getattr(gru, f"bias_ih_l{i}")) for i in range(cfg.layers)],
        b_hh=[f32(getattr(gru, f"bias_hh_l{i}")) for i in range(cfg.layers)],
        # the head in the targets' own units: y = std · (W h + b) + mean
        w_out=(f32(head.weight) * y_std[:, None]).astype(np.float32),
        b_out=(f32(head.bias) * y_std + y_mean).astype(np.float32),
    )
    return TrainResult(weights, mean, std, names, kinds, history)


# --------------------------------------------------------------------------- model directories

#: Citation of the data set the default model is trained on.
IPOL_CITATION = (
    "C. Voisard, N. de l'Escalopier, D. Ricard, L. Oudre, \"A Reference Data Set for the "
    'Study of Healthy Subject Gait with Inertial Measurements Units", Image Processing On '
    "Line 13 (2023), https://doi.org/10.5201/ipol.2023.497"
)


def _progress_bar(desc: str) -> tuple[Callable[[int, int, float], None], Callable[[], None]]:
    """A progress bar fed by :func:`train`'s progress callback."""
    from edge.progress import progress_bar

    bar = None

    def update(step: int, total: int, loss: float) -> None:
        nonlocal bar
        if bar is None:
            bar = progress_bar(total=total, desc=desc, unit="step")
        bar.update(1)
        if step % 20 == 0:
            bar.set_postfix(loss=f"{loss:.4f}")

    def close() -> None:
        if bar is not None:
            bar.close()

    return update, close


def save_trained(
    out: str | os.PathLike[str],
    result: TrainResult,
    trials: Sequence[Trial],
    cfg: TrainConfig,
    *,
    name: str,
    validation_subjects: Sequence[str] = (),
    data: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``result`` as a model directory (int8 + float32 copy, .tflite twins, card)."""
    from edge.model.files import DEVICE_CHANNELS, Channel, save_model

    outputs = [
        Channel(n, "logit" if k == "logit" else unit_of(n))
        for n, k in zip(result.targets, result.kinds, strict=True)
    ]
    ref = trials[0].imu[:3000, None, :]
    gait = all(k in result.targets for k in (*_PHASE, "stance"))
    training = {
        "config": dataclasses.asdict(cfg),
        "subjects": sorted({t.subject for t in trials}, key=subject_key),
        "validation_subjects": sorted(validation_subjects, key=subject_key),
        "n_trials": len(trials),
        "n_samples": int(sum(len(t) for t in trials)),
        "final_loss": result.history[-1]["loss"] if result.history else None,
        "seconds": sum(h["seconds"] for h in result.history),
        **({"data": dict(data)} if data else {}),
    }
    return save_model(
        out,
        result.weights,
        name=name,
        inputs=[Channel(k, u) for k, u in DEVICE_CHANNELS.items()],
        outputs=outputs,
        mean=result.mean,
        std=result.std,
        sample_rate_hz=trials[0].sample_rate_hz,
        storage="int8",
        reference_input=ref,
        float_copy=True,
        extra={
            "training": training,
            **({"detector": dict(GAIT_PHASE_DETECTOR)} if gait else {}),
            **({"citation": IPOL_CITATION} if (data or {}).get("layout") == "ipol-gait" else {}),
        },
    )


def fit(
    trials: Sequence[Trial],
    out: str | os.PathLike[str],
    cfg: TrainConfig = TrainConfig(),
    *,
    folds: int = 0,
    name: str | None = None,
    data: Mapping[str, Any] | None = None,
    progress: bool = True,
    jobs: int = 1,
) -> dict[str, Any]:
    """``gaitedge train``: optional leave-subjects-out folds, then the model on all subjects.

    With ``folds`` ≥ 2, fold k's model (trained without its validation subjects) is
    written to ``OUT/cv/fold-k`` and the folds are scored together on the subjects each
    held out (:func:`edge.training.evaluate.evaluate`, ``held_out=True``: phase and events for
    gait-phase data, each target's RMSE and MAE otherwise); those results go into the
    final model's model.json (``metrics``) and card. The final model, trained on every
    subject with the same settings, is written to ``OUT``.

    ``jobs`` models train at once in separate processes (one thread each; the results do
    not depend on it). Returns the cross-validation results (empty without folds).
    """
    from edge.training.data import split_by_subject

    _check_install()
    _check_gait_data(trials)  # half-gait data fails here, before any training
    root = Path(out)
    name = name or root.name
    splits = split_by_subject(trials, folds, seed=cfg.seed) if folds else []
    stale = root / "cv"
    if stale.is_dir():  # fold models of an earlier run would mix with this run's
        shutil.rmtree(stale)
    # every training set: the folds', then all subjects (the model that ships)
    jobs_in = [tr for tr, _ in splits] + [list(trials)]
    labels = [f"fold {k + 1}/{folds}" for k in range(folds)] + ["all subjects"]
    results_by_job = _train_all(jobs_in, labels, cfg, jobs=jobs, progress=progress)
    for k, (tr, va) in enumerate(splits):
        d = root / "cv" / f"fold-{k + 1}"
        held = sorted({t.subject for t in va}, key=subject_key)
        save_trained(d, results_by_job[k], tr, cfg, name=f"{name}-fold-{k + 1}",
                     validation_subjects=held, data=data)  # fmt: skip
        if progress:
            print(f"fold {k + 1}/{folds}: held out subjects {', '.join(held)} -> {d}")
    save_trained(root, results_by_job[-1], trials, cfg, name=name, data=data)
    if splits:
        return score_folds(root, trials)
    return {}


def fold_dirs(out: str | os.PathLike[str]) -> list[Path]:
    """``OUT/cv/fold-k`` directories of a ``train --folds N`` run, in fold order."""
    return sorted(Path(out, "cv").glob("fold-*"), key=lambda p: int(p.name.split("-")[-1]))


def score_folds(out: str | os.PathLike[str], trials: Sequence[Trial]) -> dict[str, Any]:
    """Score ``OUT/cv/fold-*`` on the subjects each held out; write it into OUT's card.

    The same call as ``gaitedge evaluate OUT/cv/fold-* DATA --held-out`` (int8, float and,
    where LiteRT is installed, tflite); the results go into OUT/model.json (``metrics``)
    and CARD.md.
    """
    from edge.model.files import load_model
    from edge.training.evaluate import available_variants, evaluate

    root = Path(out)
    folds = fold_dirs(root)
    if not folds:
        raise ValueError(f"no fold models in {root / 'cv'}; train with --folds N first")
    models = [load_model(d) for d in folds]
    results = evaluate(models, trials, variants=available_variants(*models), held_out=True)
    _add_metrics(root / "model.json", results, len(folds))
    return results


def _check_install() -> None:
    """Fail before hours of training, not after: torch and the .tflite writer."""
    from firmware_bridge.errors import GaitedgeError

    missing = []
    try:
        import torch  # noqa: F401
    except ImportError:
        missing.append("torch")
    try:
        from edge.model.tflite_export import _schema

        _schema()
    except ImportError:
        missing.append("the .tflite schema (ai-edge-litert or tflite-micro)")
    if missing:
        raise GaitedgeError(f"training needs {', '.join(missing)}: pip install 'gaitedge[train]'")


def _check_gait_data(trials: Sequence[Trial]) -> None:
    """ValueError if some trials are gait-phase data that can be scored and others not."""
    need_t, need_m = (*_PHASE, "stance"), ("scored", "steady")
    gait = [all(k in t.targets for k in need_t) for t in trials]
    if not any(gait):
        return
    for t, g in zip(trials, gait, strict=True):
        missing = [k for k in need_t if k not in t.targets] + [
            f"mask_{k}" for k in need_m if k not in t.masks
        ]
        if not g or missing:
            raise ValueError(
                f"trial {t.name!r} lacks {', '.join(missing)}; gait-phase data needs "
                f"{', '.join(need_t)} and mask_scored, mask_steady in every trial"
            )


def _train_one(
    trials: Sequence[Trial],
    cfg: TrainConfig,
    label: str,
    bar: bool,
    report: Any = None,
    stop: Any = None,
) -> TrainResult:
    """Train one model: with its own progress bar, or, in a worker process, reporting
    ``(label, step)`` every 20 steps to the ``report`` queue of a parent that draws one bar
    for every job (None: no bar) and giving up as soon as the parent sets ``stop``."""
    update, close = _progress_bar(label) if bar else (None, None)
    if stop is not None:

        def update(step: int, total: int, loss: float) -> None:
            if step % 5 == 0 and stop.is_set():
                raise KeyboardInterrupt(f"{label}: stopped")
            if report is not None and (step % 20 == 0 or step == total):
                report.put((label, step))

    try:
        return train(trials, cfg, progress=update)
    finally:
        if close is not None:
            close()


def _train_all(
    sets: Sequence[Sequence[Trial]],
    labels: Sequence[str],
    cfg: TrainConfig,
    *,
    jobs: int,
    progress: bool,
) -> list[TrainResult]:
    """Train one model per trial set, ``jobs`` processes at a time (one thread each)."""
    if jobs <= 1 or len(sets) == 1:
        return [_train_one(s, cfg, lab, progress) for s, lab in zip(sets, labels, strict=True)]
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from contextlib import ExitStack
    from multiprocessing import Manager
    from queue import Empty

    from edge.progress import progress_bar

    out: list[TrainResult | None] = [None] * len(sets)
    total = sum(_steps_per_epoch(sum(len(t) for t in s), cfg) * cfg.epochs for s in sets)
    steps = dict.fromkeys(labels, 0)
    with ExitStack() as stack:
        # workers report their steps through a queue and watch an event that stops them
        # (a model that a worker has taken from the pool's queue cannot be cancelled)
        manager = stack.enter_context(Manager())
        report, stop = (manager.Queue() if progress else None), manager.Event()
        pool = stack.enter_context(ProcessPoolExecutor(max_workers=jobs))
        desc = f"{len(sets)} models, {jobs} at once"
        bar = progress_bar(total=total, desc=desc, unit="step", disable=not progress)
        stack.callback(bar.close)
        futures = {
            pool.submit(_train_one, s, cfg, lab, False, report, stop): i
            for i, (s, lab) in enumerate(zip(sets, labels, strict=True))
        }
        pending, done = set(futures), 0
        try:
            while pending:
                finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                while report is not None:
                    try:
                        label, step = report.get_nowait()
                    except Empty:
                        break
                    bar.update(step - steps[label])
                    steps[label] = step
                for fut in finished:
                    i, done = futures[fut], done + 1
                    out[i] = result = fut.result()
                    if progress:
                        secs = sum(h["seconds"] for h in result.history)
                        bar.write(f"trained {labels[i]} ({done}/{len(sets)}, {secs:.0f} s)")
        except BaseException:  # a failed model or Ctrl-C: stop every other one now
            stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return [r for r in out if r is not None]


def _add_metrics(meta_path: Path, results: Mapping[str, Any], folds: int) -> None:
    """Put cross-validation results into model.json and write the card from it."""
    import json

    from edge.model.card import write_card

    meta = json.loads(meta_path.read_text())
    meta["metrics"] = {
        "method": f"leave-subjects-out cross-validation, {folds} folds, each fold model scored "
        "on the subjects it never saw ('gaitedge evaluate OUT/cv/fold-* DATA --held-out')",
        **{k: v for k, v in results.items() if k.startswith("pooled")},
        "subjects": results["subjects"],
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    write_card(meta_path.parent)
