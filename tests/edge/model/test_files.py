from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pytest

from edge.model.files import (
    DEVICE_CHANNELS,
    Channel,
    ModelFileError,
    load_model,
    pressure_channels,
    save_model,
)
from edge.model.gru import GRU, GRUWeights

IMU = [Channel(n, u) for n, u in DEVICE_CHANNELS.items()]
OUT = [Channel("phase_cos", "1"), Channel("phase_sin", "1"), Channel("p_stance", "1")]


@pytest.fixture
def model_dir(tmp_path, walk_left):
    w = GRUWeights.random(6, 32, 3, seed=9)
    save_model(tmp_path / "m", w, name="test", inputs=IMU, outputs=OUT,
               mean=walk_left.imu.mean(0), std=walk_left.imu.std(0), sample_rate_hz=100.0,
               storage="int8", extra={"training": {"data": "random weights"}})  # fmt: skip
    return tmp_path / "m"


def test_round_trip_runs_like_the_saved_weights(model_dir, walk_left) -> None:
    m = load_model(model_dir)
    assert (m.name, m.storage, m.sample_rate_hz) == ("test", "int8", 100.0)
    assert [c.name for c in m.inputs] == list(DEVICE_CHANNELS) and m.outputs == tuple(OUT)
    assert m.meta.training == {"data": "random weights"}
    x = m.normalise(walk_left.imu[:200])[:, None, :]
    assert abs(float(x.mean())) < 1.0
    y, _ = GRU(m.weights).run(x)
    assert y.shape == (200, 1, 3) and np.isfinite(y).all()


def test_device_check(model_dir) -> None:
    m = load_model(model_dir)
    m.check_device(DEVICE_CHANNELS | pressure_channels(4), 100.0)
    m.check_device(DEVICE_CHANNELS, 100.5)  # within 1 %
    with pytest.raises(ModelFileError, match="needs gyr_z, which the device does not send"):
        m.check_device({k: v for k, v in DEVICE_CHANNELS.items() if k != "gyr_z"}, 100.0)
    with pytest.raises(ModelFileError, match="takes acc_x in m/s\\^2, the device sends g"):
        m.check_device(DEVICE_CHANNELS | {"acc_x": "g"}, 100.0)
    with pytest.raises(ModelFileError, match="trained at 100 Hz, the device samples at 208 Hz"):
        m.check_device(DEVICE_CHANNELS, 208.0)


def _edit_json(d, **changes) -> None:
    meta = json.loads((d / "model.json").read_text())
    meta.update(changes)
    (d / "model.json").write_text(json.dumps(meta))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "model.json").unlink(), "model.json is missing"),
        (lambda d: (d / "model.npz").unlink(), "weight file is missing"),
        (lambda d: (d / "model.json").write_text("{"), "not valid JSON"),
        (lambda d: _edit_json(d, format_version=99), "version 99; this gaitedge reads"),
        (lambda d: _edit_json(d, outputs=[]), "model.json says 6, 0"),
        (lambda d: _edit_json(d, normalisation={"mean": [0], "std": [1]}), "6 positive stds"),
        (lambda d: _edit_json(d, weights={"file": "model.npz"}), "missing or malformed field"),
        (
            lambda d: (d / "model.npz").write_bytes(b"x" + (d / "model.npz").read_bytes()[1:]),
            "does not match model.json",
        ),
    ],
)
def test_damaged_model_is_one_clear_line(model_dir, damage, message) -> None:
    damage(model_dir)
    with pytest.raises(ModelFileError, match=message) as err:
        load_model(model_dir)
    assert "\n" not in str(err.value)


def test_hash_matching_but_wrong_shapes(model_dir) -> None:
    """A weight file that matches its hash but not model.json's architecture is refused."""
    w = GRUWeights.random(6, 16, 3)
    np.savez(model_dir / "model.npz", **{"gru.weight_ih_l0": w.w_ih[0]})

    digest = hashlib.sha256((model_dir / "model.npz").read_bytes()).hexdigest()
    meta = json.loads((model_dir / "model.json").read_text())
    meta["weights"]["sha256"] = digest
    (model_dir / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match=r"'gru\.weight_hh_l0' is missing"):
        load_model(model_dir)


def test_not_a_directory(tmp_path) -> None:
    with pytest.raises(ModelFileError, match="no such model directory"):
        load_model(tmp_path / "nope")


def test_full_directory_runs_the_same_on_both_backends(tmp_path, walk_left, walk_right) -> None:
    """model.npz and its .tflite twins give the same outputs on real gait (int8 storage)."""
    pytest.importorskip("ai_edge_litert", reason="LiteRT is in the tflite extra")
    x = np.stack([walk_left.imu[:400], walk_right.imu[:400]], axis=1)
    save_model(tmp_path / "m", GRUWeights.random(6, 32, 3, seed=2), name="twin", inputs=IMU,
               outputs=OUT, mean=x.mean((0, 1)), std=x.std((0, 1)), sample_rate_hz=100.0,
               storage="int8", packet_size=4, reference_input=x)  # fmt: skip
    d = tmp_path / "m"
    assert {p.name for p in d.iterdir()} == {
        "model.npz", "model.json", "model.tflite", "model_packet.tflite", "CARD.md"
    }  # fmt: skip
    m = load_model(d)
    assert m.packet_size == 4
    card = (d / "CARD.md").read_text()
    assert "| int8 |" in card and "max abs output error" in card
    assert m.meta.quantization["int8"]["bytes"] < m.meta.quantization["float32"]["bytes"]
    xn = m.normalise(x)
    outs = []
    for kind in ("numpy", "tflite"):
        b = m.backend(kind)
        b.add_stream("L")
        b.add_stream("R")
        outs.append(np.concatenate([b.step_packet(xn[k : k + 4]) for k in range(0, 400, 4)]))
    assert np.abs(outs[0] - outs[1]).max() <= 1e-4


def test_damaged_twin_and_missing_twin(tmp_path, walk_left) -> None:
    pytest.importorskip("ai_edge_litert", reason="LiteRT is in the tflite extra")
    kw = dict(inputs=IMU, outputs=OUT, mean=np.zeros(6), std=np.ones(6), sample_rate_hz=100.0)
    save_model(tmp_path / "a", GRUWeights.random(6, 16, 3), name="a", **kw)
    data = (tmp_path / "a" / "model_packet.tflite").read_bytes()
    (tmp_path / "a" / "model_packet.tflite").write_bytes(data[:-1] + b"\x00")
    with pytest.raises(ModelFileError, match="packet graph was changed or damaged"):
        load_model(tmp_path / "a")
    save_model(tmp_path / "b", GRUWeights.random(6, 16, 3), name="b", tflite=False, **kw)
    with pytest.raises(ModelFileError, match=r"has no \.tflite twin"):
        load_model(tmp_path / "b").backend("tflite")


def _broken_copy(tmp_path, edit_json=None, edit_npz=None):  # type: ignore[no-untyped-def]
    """The shipped model copied, its model.json and/or weights changed (hash kept right)."""
    import hashlib
    import json
    import shutil

    import numpy as np

    from edge.model.files import default_model_dir

    d = tmp_path / "broken"
    shutil.copytree(default_model_dir(), d)
    meta = json.loads((d / "model.json").read_text())
    if edit_npz is not None:
        with np.load(d / "model.npz") as z:
            arrays = {k: z[k].copy() for k in z.files}
        edit_npz(arrays)
        np.savez(d / "model.npz", **arrays)
        meta["weights"]["sha256"] = hashlib.sha256((d / "model.npz").read_bytes()).hexdigest()
    if edit_json is not None:
        edit_json(meta)
    (d / "model.json").write_text(json.dumps(meta))  # json writes NaN as NaN, as a bug would
    return d


@pytest.mark.parametrize(
    ("edit_json", "edit_npz", "message"),
    [
        (lambda m: m["normalisation"]["mean"].__setitem__(0, float("nan")), None,
         "normalisation.mean (expected a list of finite numbers)"),
        (lambda m: m["inputs"].__setitem__("sample_rate_hz", float("nan")), None,
         "inputs.sample_rate_hz (expected a finite number)"),
        (None, lambda a: a["gru.weight_ih_l0.scale"].__setitem__(3, np.inf),
         "w_ih[0] holds NaN or inf"),
    ],
)  # fmt: skip
def test_a_model_with_nan_or_inf_is_refused_at_load(tmp_path, edit_json, edit_npz, message) -> None:
    """Issue 14: such a model loaded, its predictions were NaN and every store write failed."""
    from edge.errors import ModelFileError
    from edge.model.files import load_model

    d = _broken_copy(tmp_path, edit_json, edit_npz)
    with pytest.raises(ModelFileError, match=re.escape(message)) as info:
        load_model(d)
    assert "\n" not in str(info.value)
