"""Training (PyTorch, CPU): targets outside the cycles, augmentation, determinism, CLI."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from edge.cli import main
from edge.model.files import load_model
from edge.training.data import Trial, save_trial, trial_from_recording
from edge.training.train import (
    TrainConfig,
    _target_scale,
    _train_all,
    _Windows,
    phase_training_targets,
    save_trained,
    target_kinds,
    train,
)
from firmware_bridge.sim.walks import Recording

pytest.importorskip("torch", reason="training needs PyTorch: pip install 'gaitedge[train]'")

TINY = TrainConfig(hidden=8, epochs=3, window=200, burn_in=20, batch=4, seed=1)


@pytest.fixture(scope="module")
def walk(walk_left: Recording, walk_right: Recording) -> list[Trial]:
    return [trial_from_recording(walk_left), trial_from_recording(walk_right)]


def test_phase_targets_cover_standing_and_first_swing() -> None:
    counter = np.arange(0, 1200)
    hs = np.arange(300, 1001, 100)  # heel strikes 300 … 1000
    to = hs - 40  # each step starts with a toe-off
    cos = np.full(1200, np.nan, np.float32)
    sin = cos.copy()
    inside = (counter >= hs[0]) & (counter < hs[-1])
    cyc = np.searchsorted(hs, counter[inside], side="right") - 1
    phi = 2 * np.pi * (counter[inside] - hs[cyc]) / 100
    cos[inside], sin[inside] = np.cos(phi), np.sin(phi)
    trial = Trial(
        subject="1", name="t", side="L", sample_rate_hz=100.0, counter=counter,
        imu=np.zeros((1200, 6), np.float32),
        targets={"phase_cos": cos, "phase_sin": sin},
        masks={"in_trial": counter >= 100},
        events={"heel_strike": hs, "toe_off": to},
    )  # fmt: skip
    t = phase_training_targets(trial)
    # inside the cycles: untouched
    assert np.array_equal(t["phase_cos"][inside], cos[inside])
    # standing in the trial, before the first toe-off (260) and from HS_last + 30 on: (0, 0)
    for sl in (slice(100, 260), slice(1030, 1200)):
        assert np.all(t["phase_cos"][sl] == 0) and np.all(t["phase_sin"][sl] == 0)
    # outside the trial: still undefined
    assert np.all(np.isnan(t["phase_cos"][:100]))
    # first swing 260 … 299: phase 0.6 … 0.99 of the cycle, rising to the wrap at 300
    swing = np.arctan2(t["phase_sin"][260:300], t["phase_cos"][260:300]) % (2 * np.pi)
    assert np.allclose(swing / (2 * np.pi), (np.arange(260, 300) - 200) / 100, atol=1e-6)
    # after the last heel strike: the phase goes on for 0.3 cycle
    tail = np.arctan2(t["phase_sin"][1000:1030], t["phase_cos"][1000:1030]) % (2 * np.pi)
    assert np.allclose(tail / (2 * np.pi), np.arange(30) / 100, atol=1e-6)
    # the original trial is not modified
    assert np.isnan(trial.targets["phase_cos"][150])


def test_binary_targets_become_logits(walk: list[Trial]) -> None:
    names, kinds = target_kinds(walk)
    assert names == ["phase_cos", "phase_sin", "stance"]
    assert kinds == ["value", "value", "logit"]


def test_augmented_windows_keep_the_signal_physical(walk: list[Trial]) -> None:
    """Rotation keeps |acc| and |gyro| per sample and changes nothing else."""
    names, _ = target_kinds(walk)
    cfg = dataclasses.replace(TINY, rate_jitter=0.0, mirror=False, rotate_deg=20.0)
    plain = _Windows(walk, names, dataclasses.replace(cfg, rotate_deg=0.0)).batch()[0]
    rotated = _Windows(walk, names, cfg).batch()[0]  # same seed: the same windows
    for sl in (slice(0, 3), slice(3, 6)):
        assert np.allclose(
            np.linalg.norm(plain[..., sl], axis=-1), np.linalg.norm(rotated[..., sl], axis=-1),
            rtol=1e-4, atol=1e-4,
        )  # fmt: skip
    assert not np.allclose(plain, rotated, atol=1e-2)


def test_mirroring_flips_the_lateral_axis(walk: list[Trial]) -> None:
    names, _ = target_kinds(walk)
    cfg = dataclasses.replace(TINY, rate_jitter=0.0, rotate_deg=0.0, batch=16)
    plain = _Windows(walk, names, dataclasses.replace(cfg, mirror=False)).batch()[0]
    maybe = _Windows(walk, names, cfg).batch()[0]  # same windows, about half mirrored
    flip = np.array([1, -1, 1, -1, 1, -1], np.float32)
    same = [np.array_equal(a, b) for a, b in zip(plain, maybe, strict=True)]
    mirrored = [np.allclose(a * flip, b) for a, b in zip(plain, maybe, strict=True)]
    assert all(s or m for s, m in zip(same, mirrored, strict=True))
    assert 0 < sum(mirrored) < len(mirrored)


def test_config_and_data_are_checked(walk: list[Trial]) -> None:
    with pytest.raises(ValueError, match="batch"):
        TrainConfig(batch=0)
    with pytest.raises(ValueError, match="burn_in"):
        TrainConfig(window=50, burn_in=50)
    bad = walk[0].imu.copy()
    bad[10, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        train([dataclasses.replace(walk[0], imu=bad)], TINY)
    other = dataclasses.replace(walk[1], targets={"knee_deg": walk[1].targets["stance"]})
    with pytest.raises(ValueError, match="same target columns"):
        train([walk[0], other], TINY)


def test_parallel_jobs_give_the_same_models(walk: list[Trial]) -> None:
    sets, labels = [walk, walk[:1]], ["a", "b"]
    one = _train_all(sets, labels, TINY, jobs=1, progress=False)
    two = _train_all(sets, labels, TINY, jobs=2, progress=False)
    for a, b in zip(one, two, strict=True):
        assert np.array_equal(a.weights.w_ih[0], b.weights.w_ih[0])
        assert np.array_equal(a.weights.w_out, b.weights.w_out)


def test_regressed_targets_are_learnt_in_their_own_units(walk: list[Trial]) -> None:
    """Standardised in training, folded back into the head: the same target ×4 trains the
    same network bit for bit (4 is exact in floating point) and a head 4× as large, bias
    included; a binary target is left alone."""

    def with_knee(scale: float) -> list[Trial]:
        return [
            dataclasses.replace(t, targets={
                "knee_angle_deg": (scale * (20 + 10 * np.tanh(t.imu[:, 4]))).astype(np.float32),
                "stance": t.targets["stance"],
            })
            for t in walk
        ]  # fmt: skip

    a, b = train(with_knee(1.0), TINY), train(with_knee(4.0), TINY)
    assert a.kinds == ["value", "logit"]
    assert np.array_equal(a.weights.w_hh[0], b.weights.w_hh[0])
    assert np.array_equal(4 * a.weights.w_out[0], b.weights.w_out[0])
    assert np.array_equal(4 * a.weights.b_out[0], b.weights.b_out[0])
    assert np.array_equal(a.weights.w_out[1], b.weights.w_out[1])  # stance: a logit
    assert abs(float(a.weights.b_out[0]) - 20) < 5  # the head starts from the angle's mean
    y = [np.array([[1.0, 0.0], [3.0, 1.0], [np.nan, 1.0]], np.float32)]
    mean, std = _target_scale(y, ["value", "logit"])
    assert mean.tolist() == [2.0, 0.0] and std.tolist() == [1.0, 1.0]


def test_parallel_jobs_draw_one_progress_bar(
    walk: list[Trial], capsys: pytest.CaptureFixture[str]
) -> None:
    """--jobs 2 shows one bar over every model's optimiser steps, and a line per model."""
    cfg = dataclasses.replace(TINY, epochs=30)
    sets, labels = [walk, walk[:1]], ["a", "b"]
    _train_all(sets, labels, cfg, jobs=2, progress=True)
    out, err = capsys.readouterr()
    steps = sum(max(1, round(sum(len(t) for t in s) / (cfg.window * cfg.batch))) for s in sets)
    total = steps * cfg.epochs
    assert f"{total}/{total}" in err  # the bar's total, reached: every step of both models
    assert "2 models, 2 at once" in err
    assert "trained a (" in out and "trained b (" in out


def test_training_is_deterministic_and_learns(walk: list[Trial]) -> None:
    a = train(walk, TINY)
    b = train(walk, TINY)
    assert np.array_equal(a.weights.w_hh[0], b.weights.w_hh[0])
    c = train(walk, dataclasses.replace(TINY, seed=2))
    assert not np.array_equal(a.weights.w_hh[0], c.weights.w_hh[0])
    longer = train(walk, dataclasses.replace(TINY, epochs=12, hidden=16))
    first, last = longer.history[0]["loss"], longer.history[-1]["loss"]
    assert last < 0.8 * first, longer.history
    # normalisation symmetric in the mirrored channels (one model for either foot)
    assert a.mean[1] == 0 and a.mean[3] == 0 and a.mean[5] == 0
    assert np.all(a.std > 0)


def test_saved_model_round_trips_with_float_copy(walk: list[Trial], tmp_path: Path) -> None:
    r = train(walk, TINY)
    save_trained(tmp_path / "m", r, walk, TINY, name="tiny", validation_subjects=["7"])
    m = load_model(tmp_path / "m")
    assert m.storage == "int8"
    assert [c.unit for c in m.outputs] == ["1", "1", "logit"]
    f = m.float_weights()
    assert np.array_equal(f.w_hh[0], r.weights.w_hh[0])
    # int8 within one quantisation step of the float weights
    step = np.abs(r.weights.w_hh[0]).max(axis=1, keepdims=True) / 127
    assert np.all(np.abs(m.weights.w_hh[0] - f.w_hh[0]) <= step * 0.5 + 1e-7)
    assert m.meta.training["validation_subjects"] == ["7"]
    assert m.meta.training["config"]["hidden"] == 8


def test_cli_trains_on_a_plain_folder_with_any_target(
    walk: list[Trial], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A lab's own data: per-trial files with a knee angle column, two subjects."""
    data = tmp_path / "data"
    rng = np.random.default_rng(0)
    for subject in ("A", "B"):
        for t in walk:
            knee = (20 + 10 * np.tanh(t.imu[:, 4])).astype(np.float32)
            own = dataclasses.replace(
                t,
                subject=subject,
                name=f"{subject}-{t.side}",
                imu=t.imu + rng.normal(0, 0.01, t.imu.shape).astype(np.float32),
                targets={"knee_angle_deg": knee},
                masks={},
                events={},
            )
            save_trial(data / f"{subject}-{t.side}.npz", own)
    out = tmp_path / "knee"
    args = ["train", str(data), "--out", str(out), "--folds", "2", "--quiet",
            "--hidden", "8", "--epochs", "2", "--window", "200", "--batch", "4"]  # fmt: skip
    assert main(args) == 0
    m = load_model(out)
    assert [(c.name, c.unit) for c in m.outputs] == [("knee_angle_deg", "deg")]
    for k in (1, 2):
        fold = load_model(out / "cv" / f"fold-{k}")
        held = fold.meta.training["validation_subjects"]
        assert len(held) == 1 and held[0] not in fold.meta.training["subjects"]
    assert "wrote" in capsys.readouterr().out
    # the cross-validation scored the knee angle, in degrees, on the held-out subject
    cv = m.meta.metrics["pooled"]
    assert set(cv) == {"knee_angle_deg_rmse", "knee_angle_deg_mae", "n_subjects", "n_samples"}
    assert cv["n_subjects"] == 2 and cv["n_samples"] == 2 * sum(len(t) for t in walk)
    assert "knee_angle_deg RMSE" in (out / "CARD.md").read_text()
    # and `gaitedge evaluate` gives the same numbers, from a fresh run of the fold models
    folds = [str(out / "cv" / f"fold-{k}") for k in (1, 2)]
    assert main(["evaluate", *folds, str(data), "--held-out", "--json", "--variants", "int8"]) == 0
    got = json.loads(capsys.readouterr().out)["pooled"]
    assert got == pytest.approx(cv)
    # a model scored on its own training subjects fits better than on subjects it never saw
    assert main(["evaluate", str(out), str(data), "--json", "--variants", "int8"]) == 0
    seen = json.loads(capsys.readouterr().out)["pooled"]
    assert 0 < seen["knee_angle_deg_mae"] <= seen["knee_angle_deg_rmse"]
    knee_sd = float(np.std(np.concatenate([20 + 10 * np.tanh(t.imu[:, 4]) for t in walk])))
    assert seen["knee_angle_deg_rmse"] < knee_sd  # it learned something of the angle


def test_cli_train_names_a_bad_data_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", str(tmp_path / "nope"), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gaitedge: error: ") and "not a folder" in err
    assert len(err.strip().splitlines()) == 1


def test_model_json_records_the_config(walk: list[Trial], tmp_path: Path) -> None:
    r = train(walk, TINY)
    path = save_trained(tmp_path / "m", r, walk, TINY, name="tiny")
    meta = json.loads(path.read_text())
    assert meta["training"]["config"] == dataclasses.asdict(TINY)
    assert meta["training"]["n_samples"] == sum(len(t) for t in walk)


_INTERRUPTED = """
import sys, time
from edge.training.data import trial_from_recording
from edge.training.train import TrainConfig, _train_all
from firmware_bridge.sim.walks import bundled_recording
walk = [trial_from_recording(bundled_recording(s)) for s in "LR"]
cfg = TrainConfig(hidden=8, epochs=40, window=200, burn_in=20, batch=4)
print("go", flush=True)
_train_all([walk] * 8, [str(k) for k in range(8)], cfg, jobs=2, progress=False)
print("finished", flush=True)
"""


def test_ctrl_c_stops_parallel_training_without_starting_queued_models() -> None:
    """Ctrl-C during `train --jobs 2` ends it at once: the queued models never start.

    (Before, the pool's exit waited for every queued model: 20 s and more here.)
    """
    with subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTED],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the workers' KeyboardInterrupt tracebacks
        text=True,
        start_new_session=True,  # its own process group: the "terminal" gets Ctrl-C
    ) as proc:
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "go"
            time.sleep(2.0)  # both workers training, six models queued
            t0 = time.monotonic()
            os.killpg(proc.pid, signal.SIGINT)
            rest = proc.communicate(timeout=60)[0]
            took = time.monotonic() - t0
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode != 0 and "finished" not in rest
    assert took < 8.0, f"{took:.1f} s after Ctrl-C"
