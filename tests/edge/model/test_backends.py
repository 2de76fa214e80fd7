"""One contract, every backend: same numbers as GRU.run, streams kept apart, clear errors."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from edge.model.backends import Backend, LiteRTBackend, NumpyBackend, make_backend
from edge.model.gru import GRU, GRUWeights
from edge.model.quant import weights_from_arrays, weights_to_arrays
from edge.model.tflite_export import export_tflite
from firmware_bridge.sim.walks import Recording

HAS_LITERT = importlib.util.find_spec("ai_edge_litert") is not None
needs_litert = pytest.mark.skipif(
    not HAS_LITERT,
    reason="LiteRT not installed: pip install -e '.[tflite]' (x86_64, or aarch64 < 3.13)",
)
K = 4


def _tflite(config: dict, test_id: str):
    return pytest.param({"kind": "tflite", **config}, id=test_id, marks=needs_litert)


KINDS = [
    pytest.param({"kind": "numpy"}, id="numpy"),
    pytest.param({"kind": "numpy", "storage": "int8"}, id="numpy-int8"),
    _tflite({"packet_size": K}, "tflite"),
    _tflite({"packet_size": K, "storage": "int8"}, "tflite-int8"),
    _tflite({"packet_size": K, "xnnpack": False}, "tflite-noxnn"),
    _tflite({}, "tflite-steponly"),
]


def _gait(*recs: Recording, t: int = 400) -> np.ndarray:
    """(T, n_streams, 6) float32: real IMU input, standardised per channel."""
    x = np.stack([r.imu[:t] for r in recs], axis=1)
    return ((x - x.mean((0, 1))) / x.std((0, 1))).astype(np.float32)


@pytest.fixture(scope="module")
def weights() -> GRUWeights:
    return GRUWeights.random(6, 48, 3, n_layers=2, seed=11)


def _reference(weights: GRUWeights, config: dict) -> GRU:
    if config.get("storage") == "int8":
        return GRU(weights_from_arrays(weights_to_arrays(weights, "int8")))
    return GRU(weights)


def _backend(weights: GRUWeights, config: dict, keys=("L", "R")) -> Backend:
    b = make_backend(weights, **config)
    for key in keys:
        b.add_stream(key)
    return b


@pytest.mark.parametrize("config", KINDS)
def test_step_and_packets_equal_run(walk_left, walk_right, weights, config) -> None:
    x = _gait(walk_left, walk_right)
    expected, end = _reference(weights, config).run(x)
    stepped = _backend(weights, config)
    y_step = np.stack([stepped.step(x_t).copy() for x_t in x])
    assert np.abs(y_step - expected).max() <= 1e-4
    assert np.abs(stepped.state - end).max() <= 1e-4
    packed = _backend(weights, config)
    # no .copy(): each packet's outputs are a new array the caller may keep
    y_packet = np.concatenate([packed.step_packet(x[t : t + K]) for t in range(0, len(x), K)])
    assert np.abs(y_packet - expected).max() <= 1e-4
    odd = _backend(weights, config)  # a packet length the packet graph was not made for
    y_odd = np.concatenate([odd.step_packet(x[t : t + 5]) for t in range(0, len(x), 5)])
    assert np.abs(y_odd - expected).max() <= 1e-4


@pytest.mark.parametrize("config", KINDS)
def test_add_remove_reset_leave_the_others_alone(walk_left, walk_right, weights, config) -> None:
    x = _gait(walk_left, walk_right, t=3 * 40)
    ref = _reference(weights, config)
    b = _backend(weights, config, keys=["L"])
    out_l = [b.step_packet(x[:40, :1]).copy()]
    # a second shoe connects: L goes on as if alone, R starts from zero
    assert b.add_stream("R") == 1
    y_both = np.concatenate([b.step_packet(x[t : t + K]).copy() for t in range(40, 120, K)])
    out_l.append(y_both[:, :1])
    lone, _ = ref.run(x[:, :1])
    assert np.abs(np.concatenate(out_l) - lone).max() <= 1e-4
    r_alone, _ = ref.run(x[40:, 1:])
    assert np.abs(y_both[:, 1:] - r_alone).max() <= 1e-4
    # R is reset: it restarts from zero, L is untouched
    before = b.state
    b.reset_stream("R")
    after = b.state
    assert np.array_equal(after[0], before[0]) and not after[1].any()
    y = np.stack([b.step(x_t).copy() for x_t in x[:8]])
    assert np.abs(y[:, 1] - ref.run(x[:8, 1:])[0][:, 0]).max() <= 1e-4
    # L leaves: R's row moves up and keeps its state
    state_r = b.state[1]
    b.remove_stream("L")
    assert b.streams == ["R"] and np.array_equal(b.state[0], state_r)
    assert b.step(x[0, 1:]).shape == (1, 3)


@pytest.mark.parametrize("config", KINDS)
def test_contract_errors(weights, config) -> None:
    b = _backend(weights, config)
    assert b.n_streams == 2 and (b.n_inputs, b.n_outputs) == (6, 3)
    assert (b.n_layers, b.hidden) == (2, 48)
    with pytest.raises(KeyError, match="already exists"):
        b.add_stream("L")
    with pytest.raises(KeyError, match="no stream 'X'"):
        b.remove_stream("X")
    with pytest.raises(ValueError, match=r"expected \(2, 6\)"):
        b.step(np.zeros((1, 6), np.float32))
    with pytest.raises(ValueError, match=r"expected \(K, 2, 6\)"):
        b.step_packet(np.zeros((2, 6), np.float32))
    with pytest.raises(ValueError, match="state of shape"):
        b.state = np.zeros((3, 2, 48))
    b.remove_stream("L")
    b.remove_stream("R")
    assert b.step(np.zeros((0, 6), np.float32)).shape == (0, 3)
    assert b.step_packet(np.zeros((K, 0, 6), np.float32)).shape == (K, 0, 3)


def test_numpy_backend_loads_an_npz(tmp_path, weights) -> None:
    path = tmp_path / "model.npz"
    np.savez(path, **weights_to_arrays(weights, "int8"))
    b = make_backend(path)
    assert isinstance(b, NumpyBackend) and b.hidden == 48
    with pytest.raises(ValueError, match="kind='tflite'"):
        make_backend(tmp_path / "model.tflite")


@needs_litert
def test_tflite_backend_from_files(tmp_path, walk_left, walk_right, weights) -> None:
    step = export_tflite(weights, tmp_path / "step.tflite", storage="int8")
    packet = export_tflite(weights, tmp_path / "packet.tflite", packet_size=K, storage="int8")
    b = make_backend(step, "tflite", packet_model=packet)
    assert isinstance(b, LiteRTBackend) and b.packet_size == K
    b.add_stream("L")
    x = _gait(walk_left, t=40)
    y = np.concatenate([b.step_packet(x[t : t + K]) for t in range(0, 40, K)])
    assert np.abs(y - _reference(weights, {"storage": "int8"}).run(x)[0]).max() <= 1e-4
    with pytest.raises(ValueError, match="packet graph"):
        LiteRTBackend(packet)
    other = export_tflite(GRUWeights.random(6, 16, 3), tmp_path / "other.tflite", packet_size=K)
    with pytest.raises(ValueError, match="packet_model"):
        LiteRTBackend(step, other)


def test_make_backend_rejects_unknown_kind(weights) -> None:
    with pytest.raises(ValueError, match="kind='onnx'"):
        make_backend(weights, "onnx")  # type: ignore[arg-type]


def test_missing_litert_says_what_to_install(monkeypatch, weights) -> None:
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "tflite_runtime", None)
    with pytest.raises(ImportError, match=r"gaitedge\[tflite\].*NumPy backend"):
        make_backend(weights, "tflite")
