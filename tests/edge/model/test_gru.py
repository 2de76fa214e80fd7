"""The NumPy GRU against PyTorch's, and its streams."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from edge.model.gru import GRU, GRUWeights
from firmware_bridge.sim.walks import Recording


def _gait(*recs: Recording, t: int = 1200) -> np.ndarray:
    """(T, n_streams, 6) float32: real IMU input, standardised per channel."""
    x = np.stack([r.imu[:t] for r in recs], axis=1)
    return ((x - x.mean((0, 1))) / x.std((0, 1))).astype(np.float32)


def _torch_reference(w: GRUWeights, x: np.ndarray) -> np.ndarray:
    torch = pytest.importorskip(
        "torch", reason="PyTorch is in the dev extra (pip install -e '.[dev]')"
    )
    gru = torch.nn.GRU(w.n_inputs, w.hidden, num_layers=w.n_layers)
    head = torch.nn.Linear(w.hidden, w.n_outputs)
    with torch.no_grad():
        for i in range(w.n_layers):
            for name, arrays in (("weight_ih", w.w_ih), ("weight_hh", w.w_hh),
                                 ("bias_ih", w.b_ih), ("bias_hh", w.b_hh)):  # fmt: skip
                getattr(gru, f"{name}_l{i}").copy_(torch.from_numpy(arrays[i]))
        head.weight.copy_(torch.from_numpy(w.w_out))
        head.bias.copy_(torch.from_numpy(w.b_out))
        return head(gru(torch.from_numpy(x))[0]).numpy()


@pytest.mark.parametrize(("layers", "hidden"), [(1, 16), (1, 64), (2, 32), (2, 128)])
def test_parity_with_pytorch_on_real_gait(walk_left, walk_right, layers, hidden) -> None:
    w = GRUWeights.random(6, hidden, 3, n_layers=layers, seed=hidden)
    x = _gait(walk_left, walk_right)
    expected = _torch_reference(w, x)
    y_run, _ = GRU(w).run(x)
    assert np.abs(y_run - expected).max() <= 1e-5
    engine = GRU(w)
    engine.add_stream("L")
    engine.add_stream("R")
    y_step = np.stack([engine.step(x_t).copy() for x_t in x])
    assert np.abs(y_step - expected).max() <= 1e-5


def test_step_equals_run_including_state(walk_left, walk_right) -> None:
    w = GRUWeights.random(6, 48, 4, n_layers=2, seed=3)
    x = _gait(walk_left, walk_right, t=400)
    start = np.random.default_rng(0).normal(0, 0.3, (2, 2, 48)).astype(np.float32)
    y_run, end = GRU(w).run(x, state=start)
    engine = GRU(w)
    engine.add_stream("L")
    engine.add_stream("R")
    engine.state = start
    y_step = np.stack([engine.step(x_t).copy() for x_t in x])
    np.testing.assert_allclose(y_step, y_run, atol=1e-6)
    np.testing.assert_allclose(engine.state, end, atol=1e-6)


def test_step_packet_equals_run(walk_left, walk_right) -> None:
    w = GRUWeights.random(6, 32, 3, n_layers=2, seed=8)
    x = _gait(walk_left, walk_right, t=120)
    expected, _ = GRU(w).run(x)
    engine = GRU(w)
    engine.add_stream("L")
    engine.add_stream("R")
    got = np.concatenate([engine.step_packet(x[k : k + 4]) for k in range(0, len(x), 4)])
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_streams_are_independent(walk_left, walk_right) -> None:
    """Adding, resetting and removing one stream leaves the others' outputs unchanged."""
    w = GRUWeights.random(6, 32, 3, seed=5)
    x = _gait(walk_left, walk_right, t=300)
    alone, _ = GRU(w).run(x[:, :1])
    engine = GRU(w)
    engine.add_stream("L")
    got = []
    for t, x_t in enumerate(x):
        if t == 50:
            engine.add_stream("R")
        if t == 120:
            engine.reset_stream("R")
        if t == 200:
            engine.remove_stream("R")
        rows = x_t[: len(engine.streams)]
        got.append(engine.step(rows)[0].copy())
    np.testing.assert_allclose(np.array(got), alone[:, 0], atol=1e-6)


def test_reset_stream_restarts_only_that_stream(walk_left, walk_right) -> None:
    w = GRUWeights.random(6, 32, 3, seed=6)
    x = _gait(walk_left, walk_right, t=200)
    engine = GRU(w)
    engine.add_stream("L")
    engine.add_stream("R")
    for x_t in x[:100]:
        engine.step(x_t)
    engine.reset_stream("L")
    assert not engine.state[0].any() and engine.state[1].any()
    fresh, _ = GRU(w).run(x[100:, :1])
    ys = np.stack([engine.step(x_t)[0].copy() for x_t in x[100:]])
    np.testing.assert_allclose(ys, fresh[:, 0], atol=1e-6)


def test_stream_errors_name_the_stream() -> None:
    engine = GRU(GRUWeights.random(6, 16, 2))
    engine.add_stream("L")
    with pytest.raises(KeyError, match="already exists"):
        engine.add_stream("L")
    with pytest.raises(KeyError, match="no stream 'R'"):
        engine.reset_stream("R")
    with pytest.raises(ValueError, match=r"expected \(1, 1, 16\)"):
        engine.state = np.zeros((2, 1, 16))


def test_step_allocates_nothing() -> None:
    engine = GRU(GRUWeights.random(6, 64, 3, n_layers=2))
    for k in range(64):
        engine.add_stream(k)
    x = np.ones((64, 6), dtype=np.float32)
    out = engine.step(x)
    tracemalloc.start()
    engine.step(x)
    tracemalloc.reset_peak()
    for _ in range(200):
        assert engine.step(x).base is out.base  # the same output buffer every time
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2048, peak  # view objects only: one (64, 256) float32 gate array is 64 KiB


def test_bad_weights_are_named() -> None:
    w = GRUWeights.random(6, 16, 2)
    bad = GRUWeights(w.w_ih, [w.w_hh[0][:, :8]], w.b_ih, w.b_hh, w.w_out, w.b_out)
    with pytest.raises(ValueError, match=r"w_hh\[0\] has shape \(48, 8\), expected \(48, 16\)"):
        GRU(bad)


@pytest.mark.parametrize("n_streams", [1, 2, 3, 5])
def test_every_product_path_agrees(n_streams, monkeypatch) -> None:
    """One stream (gemv), 2-3 (one matmul of per-stream gemvs), more (gemm, split n_x); step,
    packets of changing length and run in short chunks all give the same outputs and state."""
    import edge.model.gru

    w = GRUWeights.random(6, 24, 3, n_layers=2, seed=n_streams)
    rng = np.random.default_rng(n_streams)
    x = rng.normal(0, 1, (40, n_streams, 6)).astype(np.float32)
    start = rng.normal(0, 0.3, (n_streams, 2, 24)).astype(np.float32)
    expected, end = GRU(w).run(x, state=start)
    monkeypatch.setattr(
        edge.model.gru, "_RUN_CHUNK", 7
    )  # run in chunks of 7 samples, the last short
    y_chunked, end_chunked = GRU(w).run(x, state=start)
    np.testing.assert_allclose(y_chunked, expected, atol=1e-6)
    np.testing.assert_allclose(end_chunked, end, atol=1e-6)
    for packets in ([1] * 40, [4] * 10, [3, 9, 1, 4, 4, 12, 7]):
        engine = GRU(w)
        for s in range(n_streams):
            engine.add_stream(s)
        engine.state = start
        got, t = [], 0
        for k in packets:  # a packet of k samples; single ones through step()
            got.append(
                engine.step(x[t])[None].copy() if k == 1 else engine.step_packet(x[t : t + k])
            )
            t += k
        np.testing.assert_allclose(np.concatenate(got), expected, atol=1e-6)
        np.testing.assert_allclose(engine.state, end, atol=1e-6)


def test_no_streams_and_empty_packets() -> None:
    engine = GRU(GRUWeights.random(6, 16, 2))
    assert engine.step(np.zeros((0, 6), np.float32)).shape == (0, 2)
    assert engine.step_packet(np.zeros((3, 0, 6), np.float32)).shape == (3, 0, 2)
    engine.add_stream("L")
    assert engine.step_packet(np.zeros((0, 1, 6), np.float32)).shape == (0, 1, 2)
    y, h = engine.run(np.zeros((0, 2, 6), np.float32))
    assert y.shape == (0, 2, 2) and h.shape == (2, 1, 16)
