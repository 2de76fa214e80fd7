"""The shipped default model (models/gait-phase) and ``gaitedge evaluate``.

The card's numbers must be what ``gaitedge evaluate`` prints for the committed fold models
on the subjects each held out (checked where the full recordings exist: CI).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from edge.cli import main
from edge.model.files import default_model_dir, load_model
from edge.training.data import (
    CHANNEL_COLUMNS,
    load_dataset,
    load_trial,
    save_trial,
    trial_from_recording,
)
from edge.training.metrics import POOLED_KEYS
from edge.training.train import fold_dirs
from firmware_bridge.sim.walks import Recording

MODEL = default_model_dir()


def _folds() -> list[Path]:
    return fold_dirs(MODEL)


def test_default_model_is_small_int8_and_complete() -> None:
    m = load_model(MODEL)
    assert m.name == "gait-phase"
    assert m.storage == "int8"
    assert m.weights.n_params <= 50_000
    assert [c.name for c in m.inputs] == ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
    assert [(c.name, c.unit) for c in m.outputs] == [
        ("phase_cos", "1"), ("phase_sin", "1"), ("stance", "logit"),
    ]  # fmt: skip
    assert m.sample_rate_hz == 100.0
    assert m.packet_size == 4
    assert m.float_weights().n_params == m.weights.n_params
    assert (MODEL / "CARD.md").read_text().count("|") > 100  # the metric tables
    training = m.meta.training
    assert len(training["subjects"]) == 14 and training["validation_subjects"] == []
    folds = _folds()
    assert len(folds) >= 2
    held = [s for f in folds for s in load_model(f).meta.training["validation_subjects"]]
    assert sorted(held) == sorted(training["subjects"])  # every subject held out once


def test_evaluate_json_has_the_issue_keys(
    walk_left: Recording, walk_right: Recording, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Plain-format data (the bundled walk as per-trial files) scored by the CLI."""
    for rec in (walk_left, walk_right):
        save_trial(tmp_path / f"walk-{rec.side}.npz", trial_from_recording(rec))
    assert main(["evaluate", str(MODEL), str(tmp_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("pooled", "pooled_float", "pooled_tflite"):
        assert set(POOLED_KEYS) <= set(out[key]), key
    p = out["pooled"]
    assert p["n_subjects"] == 1 and p["n_strides"] > 10
    # subject 1 is in the shipped model's training data: a smoke check, not an accuracy claim
    assert p["hs_recall"] > 0.9 and p["to_recall"] > 0.9 and p["phase_rmse_pct"] < 10
    # int8 and the .tflite twin (int8 too) agree
    assert abs(p["phase_rmse_pct"] - out["pooled_tflite"]["phase_rmse_pct"]) < 1e-3


def test_evaluate_text_output_and_errors(
    walk_left: Recording, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save_trial(tmp_path / "walk.npz", trial_from_recording(walk_left))
    assert main(["evaluate", str(MODEL), str(tmp_path), "--variants", "int8"]) == 0
    text = capsys.readouterr().out
    assert "| int8 |" in text and "HS recall" in text
    assert main(["evaluate", str(MODEL), str(tmp_path), "--variants", "fp64"]) == 2
    assert "choose from" in capsys.readouterr().err
    assert main(["evaluate", str(MODEL), str(tmp_path), "--held-out"]) == 2
    assert "validation_subjects" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "nomodel"), str(tmp_path)]) == 2
    assert "no such model directory" in capsys.readouterr().err


def test_card_numbers_come_from_evaluate(
    ipol_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``gaitedge evaluate FOLDS… DATA --held-out --json`` reproduces model.json's metrics."""
    args = ["evaluate", *map(str, _folds()), str(ipol_dir), "--held-out", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    card = load_model(MODEL).meta.metrics
    for key in ("pooled", "pooled_float", "pooled_tflite"):
        for k in POOLED_KEYS:
            a, b = out[key][k], card[key][k]
            if isinstance(b, int):
                assert a == b, (key, k)
            else:  # float32 products may round differently on another CPU's BLAS kernels
                assert a == pytest.approx(b, rel=1e-6, abs=1e-9), (key, k)
    pooled, flt = out["pooled"], out["pooled_float"]
    assert pooled["n_subjects"] == 14
    # bars of issue 4 that hold (the card lists every bar, met or not)
    assert abs(pooled["phase_rmse_pct"] - flt["phase_rmse_pct"]) <= 0.05  # int8 costs ≤ 0.05 pp
    assert pooled["phase_rmse_steady_pct"] <= 2.3
    assert pooled["event_delay_p95_ms"] <= 25.0
    assert min(pooled["to_recall"], pooled["to_precision"]) >= 0.993
    assert pooled["to_recall_30ms"] >= 0.975 and pooled["to_mae_ms"] <= 7.0
    # not met (the card says so): phase RMSE 3.5 %, and the heel-strike bars; guard that
    # they do not get worse unnoticed
    assert pooled["phase_rmse_pct"] <= 3.6
    assert pooled["hs_recall"] >= 0.98 and pooled["hs_mae_ms"] <= 9.0


def test_plain_files_with_only_events_score_like_ipol_gait(
    ipol_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A lab's own files: IMU columns and the events (say, from force plates), no targets.

    The gait targets come from the events (walk and turn given in the metadata), and
    ``gaitedge evaluate`` scores them exactly as the same trial in the ipol-gait layout.
    """
    name = "3-2"
    ipol = tmp_path / "ipol"
    (ipol / "GaitData").mkdir(parents=True)
    for f in (ipol_dir / "GaitData").glob(f"{name}[._]*"):
        shutil.copy(f, ipol / "GaitData" / f.name)
    meta = json.loads((ipol_dir / "GaitData" / f"{name}.json").read_text())
    plain = tmp_path / "plain"
    plain.mkdir()
    for t in load_dataset(ipol):
        key = "LeftFootEvents" if t.side == "L" else "RightFootEvents"
        steps = np.asarray(meta[key]).reshape(-1, 2)  # every labelled step, in or out
        info = {
            "subject": t.subject, "side": t.side, "sample_rate_hz": 100,
            "walk": meta["TrialBoundaries"], "turn": meta["UTurnBoundaries"],
            "events": {"toe_off": steps[:, 0].tolist(), "heel_strike": steps[:, 1].tolist()},
        }  # fmt: skip
        cols = dict(zip(CHANNEL_COLUMNS, t.imu.T, strict=True))
        np.savez(plain / f"{name}{t.side}.npz", meta=np.array(json.dumps(info)),
                 counter=t.counter, **cols)  # fmt: skip
        got = load_trial(plain / f"{name}{t.side}.npz")
        for k in ("phase_cos", "phase_sin", "stance"):
            assert np.array_equal(got.targets[k], t.targets[k], equal_nan=True), k
        for k in ("in_trial", "scored", "steady"):
            assert np.array_equal(got.masks[k], t.masks[k]), k
    scores = []
    for folder in (ipol, plain):
        assert main(["evaluate", str(MODEL), str(folder), "--json", "--variants", "int8"]) == 0
        scores.append(json.loads(capsys.readouterr().out)["pooled"])
    assert scores[0] == scores[1]
    assert scores[0]["n_strides"] > 10
