"""The .tflite twin against the NumPy engine on real gait, run by LiteRT (and TFLite Micro)."""

from __future__ import annotations

import numpy as np
import pytest

from edge.model.gru import GRU, GRUWeights
from edge.model.quant import weights_from_arrays, weights_to_arrays
from edge.model.tflite_export import export_tflite, tflite_model
from firmware_bridge.sim.walks import Recording

litert = pytest.importorskip(
    "ai_edge_litert.interpreter",
    reason="LiteRT runs the .tflite twin: pip install -e '.[tflite]' (x86_64, or aarch64 < 3.13)",
)

TOL = 1e-4  # issue 3: tflite output equals NumPy output within 1e-4 on real recordings
K = 4


def _gait(*recs: Recording, t: int = 600) -> np.ndarray:
    """(T, n_streams, 6) float32: real IMU input, standardised per channel."""
    x = np.stack([r.imu[:t] for r in recs], axis=1)
    return ((x - x.mean((0, 1))) / x.std((0, 1))).astype(np.float32)


def _interpreter(model: bytes, xnnpack: bool = True):
    resolver = litert.OpResolverType
    it = litert.Interpreter(
        model_content=model,
        num_threads=1,
        experimental_op_resolver_type=(
            resolver.AUTO if xnnpack else resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        ),
    )
    it.allocate_tensors()
    return it


def _run(model: bytes, x: np.ndarray, packet: int | None, xnnpack: bool = True) -> np.ndarray:
    """Feed (T, n, in) through the graph, state carried between invokes; (T, n, out)."""
    it = _interpreter(model, xnnpack)
    (xi, hi), (yi, ho) = ([d["index"] for d in it.get_input_details()],
                          [d["index"] for d in it.get_output_details()])  # fmt: skip
    h = np.zeros(it.get_input_details()[1]["shape"], np.float32)
    ys = []
    for t in range(0, len(x), packet or 1):
        it.set_tensor(xi, x[t : t + packet] if packet else x[t])
        it.set_tensor(hi, h)
        it.invoke()
        ys.append(it.get_tensor(yi) if packet else it.get_tensor(yi)[None])
        h = it.get_tensor(ho)
    return np.concatenate(ys)


def _reference(w: GRUWeights, storage: str) -> GRUWeights:
    return w if storage == "float32" else weights_from_arrays(weights_to_arrays(w, "int8"))


@pytest.mark.parametrize("storage", ["float32", "int8"])
@pytest.mark.parametrize("packet", [None, K], ids=["step", "packet"])
@pytest.mark.parametrize(("layers", "hidden"), [(1, 16), (1, 64), (2, 32), (2, 128)])
def test_twin_equals_numpy_on_real_gait(
    walk_left, walk_right, layers, hidden, packet, storage
) -> None:
    w = GRUWeights.random(6, hidden, 3, n_layers=layers, seed=hidden)
    x = _gait(walk_left, walk_right)
    model = tflite_model(w, n_streams=2, packet_size=packet, storage=storage)
    expected, _ = GRU(_reference(w, storage)).run(x)
    assert np.abs(_run(model, x, packet) - expected).max() <= TOL


def test_xnnpack_off_gives_the_same_output(walk_left, walk_right) -> None:
    w = GRUWeights.random(6, 64, 3, n_layers=2, seed=5)
    x = _gait(walk_left, walk_right, t=200)
    for packet in (None, K):
        model = tflite_model(w, n_streams=2, packet_size=packet, storage="int8")
        on, off = _run(model, x, packet, xnnpack=True), _run(model, x, packet, xnnpack=False)
        assert np.abs(on - off).max() <= 1e-5


@pytest.mark.parametrize("storage", ["float32", "int8"])
def test_xnnpack_takes_the_whole_graph(storage) -> None:
    """One delegate partition from (x, h, constants) to (y, h_out): no op left to the CPU."""
    model = tflite_model(GRUWeights.random(6, 32, 3, n_layers=2), packet_size=K, storage=storage)
    it = _interpreter(model)
    ops = it._get_ops_details()  # private, but the only view of the execution plan
    delegates = [op for op in ops if op["op_name"] == "DELEGATE"]
    assert len(delegates) == 1
    produced = {int(t) for op in ops if op["op_name"] != "DELEGATE" for t in op["outputs"]}
    graph_outputs = {d["index"] for d in it.get_output_details()}
    assert not produced & {int(t) for t in delegates[0]["inputs"]}
    assert {int(t) for t in delegates[0]["outputs"]} == graph_outputs


def test_hybrid_int8_runs_but_is_not_within_tolerance(walk_left, walk_right) -> None:
    """Dynamic-range FC rounds every activation to int8: ~1e-3, so it is not the twin."""
    w = GRUWeights.random(6, 64, 3, n_layers=1, seed=2)
    x = _gait(walk_left, walk_right, t=300)
    model = tflite_model(w, n_streams=2, storage="int8", int8_mode="hybrid")
    err = np.abs(_run(model, x, None) - GRU(_reference(w, "int8")).run(x)[0]).max()
    assert TOL < err < 5e-2


def test_int8_file_is_smaller(tmp_path) -> None:
    w = GRUWeights.random(6, 64, 3, n_layers=2)
    f32 = export_tflite(w, tmp_path / "f32" / "model.tflite")
    i8 = export_tflite(w, tmp_path / "i8" / "model.tflite", storage="int8")
    assert f32.read_bytes()[4:8] == b"TFL3"
    assert f32.stat().st_size > 2.5 * i8.stat().st_size  # biases and scales stay float32


def test_stream_count_is_free(walk_left, walk_right) -> None:
    """Exported for 1 stream, resized to 2: the stream axis is -1 in every shape constant."""
    w = GRUWeights.random(6, 32, 3, n_layers=2, seed=7)
    x = _gait(walk_left, walk_right, t=40)
    it = _interpreter(tflite_model(w, n_streams=1, packet_size=K))
    it.resize_tensor_input(0, [K, 2, 6])
    it.resize_tensor_input(1, [2, 2, 32])
    it.allocate_tensors()
    it.set_tensor(0, x[:K])
    it.set_tensor(1, np.zeros((2, 2, 32), np.float32))
    it.invoke()
    y = it.get_tensor(it.get_output_details()[0]["index"])
    assert np.abs(y - GRU(w).run(x[:K])[0]).max() <= TOL


def test_bad_arguments_say_what_works() -> None:
    w = GRUWeights.random(6, 16, 2)
    with pytest.raises(ValueError, match="packet_size=0"):
        tflite_model(w, packet_size=0)
    with pytest.raises(ValueError, match="storage='float16'"):
        tflite_model(w, storage="float16")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_streams=0"):
        tflite_model(w, n_streams=0)


def test_per_step_graph_runs_in_tflite_micro(walk_left, walk_right) -> None:
    """What insole firmware would run: TFLite Micro takes the float graphs as they are."""
    micro = pytest.importorskip("tflite_micro", reason="tflite-micro wheel not installed")
    w = GRUWeights.random(6, 32, 3, n_layers=2, seed=4)
    x = _gait(walk_left, walk_right, t=100)
    it = micro.runtime.Interpreter.from_bytes(tflite_model(w, n_streams=2))
    h = np.zeros((2, 2, 32), np.float32)
    ys = []
    for x_t in x:
        it.set_input(x_t, 0)
        it.set_input(h, 1)
        it.invoke()
        ys.append(it.get_output(0).copy())
        h = it.get_output(1).copy()
    assert np.abs(np.stack(ys) - GRU(w).run(x)[0]).max() <= TOL
