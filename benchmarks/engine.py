"""GRU engines side by side: µs per stream-sample, one thread, one interleaved run.

Shapes: 1 stream sample by sample; the live shape, 2 shoes handing over packets
of 4 samples; 64 streams sample by sample. Engines: the NumPy GRU (float32 and int8
storage), LiteRT with the per-step graph through its API (set x, set h, invoke, get y,
get h) and with the packet graph (K steps of all streams in one invoke), each with XNNPACK
on (its default) and off, PyTorch GRUCell + Linear, and the floor: the NumPy step's own
call sequence on trivial sizes (hidden 1). Every engine runs on the same real gait input
(the bundled walk, standardised). Rounds are interleaved and the median is reported.

    python benchmarks/engine.py [--hidden 32 64 128] [--rounds 7]
"""

from __future__ import annotations

import os

# One thread for every engine, as the table says: OpenBLAS would otherwise use every core
# for NumPy's products while LiteRT runs on one. Set before NumPy loads its BLAS.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

from edge.model.backends import make_backend
from edge.model.gru import GRU, GRUWeights
from edge.model.quant import weights_from_arrays, weights_to_arrays
from edge.model.tflite_export import tflite_model
from firmware_bridge.sim.walks import bundled_recording

SHAPES = {"1 stream": (1, 1), "live 2x4": (2, 4), "64 streams": (64, 1)}  # (streams, K)


def _inputs(n_streams: int, k: int, n_calls: int) -> np.ndarray:
    """(n_calls, K, n_streams, 6) float32 windows of the real walk, standardised."""
    imu = np.concatenate([bundled_recording("L").imu, bundled_recording("R").imu])
    x = (imu - imu.mean(0)) / imu.std(0)
    idx = (np.arange(n_calls * k)[:, None] * 7 + np.arange(n_streams)[None, :] * 131) % len(x)
    return x[idx].reshape(n_calls, k, n_streams, 6).astype(np.float32)


def _engines(w: GRUWeights, n: int, k: int) -> dict[str, Callable[[np.ndarray], object]]:
    """name -> function of one packet x (K, n, 6); each keeps its own state across calls."""
    out: dict[str, Callable[[np.ndarray], object]] = {}
    w8 = weights_from_arrays(weights_to_arrays(w, "int8"))
    for name, weights in (("numpy f32", w), ("numpy int8", w8)):
        g = GRU(weights)
        for s in range(n):
            g.add_stream(s)
        out[name] = _one_sample(g) if k == 1 else g.step_packet
    for xnn in (True, False):
        tag = "xnnpack" if xnn else "no xnnpack"
        step = make_backend(tflite_model(w8, n_streams=n, storage="int8"), "tflite", xnnpack=xnn)
        for s in range(n):
            step.add_stream(s)
        out[f"litert step, {tag}"] = (lambda b: lambda x: [b.step(xk) for xk in x])(step)
        if k > 1:
            packet = make_backend(
                tflite_model(w8, n_streams=n, storage="int8"),
                "tflite",
                packet_model=tflite_model(w8, n_streams=n, packet_size=k, storage="int8"),
                packet_size=k,
                xnnpack=xnn,
            )
            for s in range(n):
                packet.add_stream(s)
            out[f"litert packet, {tag}"] = packet.step_packet
    try:
        import torch
    except ImportError:
        pass
    else:
        torch.set_num_threads(1)
        cell, head = torch.nn.GRUCell(6, w.hidden), torch.nn.Linear(w.hidden, w.n_outputs)
        with torch.no_grad():
            cell.weight_ih.copy_(torch.from_numpy(w.w_ih[0]))
            cell.weight_hh.copy_(torch.from_numpy(w.w_hh[0]))
            cell.bias_ih.copy_(torch.from_numpy(w.b_ih[0]))
            cell.bias_hh.copy_(torch.from_numpy(w.b_hh[0]))
        state = {"h": torch.zeros(n, w.hidden)}

        def torch_step(x: np.ndarray) -> None:
            with torch.no_grad():
                for xk in x:
                    state["h"] = cell(torch.from_numpy(xk), state["h"])
                    head(state["h"])

        out["torch GRUCell"] = torch_step
    # floor: the NumPy step's own call sequence on trivial sizes (1 input, hidden 1, 1 output)
    tiny = GRU(GRUWeights.random(1, 1, 1, n_layers=w.n_layers))
    for s in range(n):
        tiny.add_stream(s)
    x1 = np.zeros((n, 1), dtype=np.float32)

    def floor(x: np.ndarray) -> None:
        for _ in range(len(x)):
            tiny.step(x1)

    out["floor (numpy calls)"] = floor
    if n > 3:  # the BLAS calls of one NumPy step at this size, nothing else (module docstring)
        out["numpy: product alone"] = _products_alone(w, n)
    return out


def _product_flop(hidden: int, n_inputs: int) -> int:
    """FLOPs per stream-sample of the products :func:`_products_alone` times:
    2·3H·(in + 1 + H) + 2·H·(in + 1) (28,160 at hidden 64, 6 inputs)."""
    return 2 * 3 * hidden * (n_inputs + 1 + hidden) + 2 * hidden * (n_inputs + 1)


def _products_alone(w: GRUWeights, n: int) -> Callable[[np.ndarray], object]:
    """The two products a NumPy step makes for n > 3 streams (r, z, n_h over [x; 1; h] and
    n_x over [x; 1]), same shapes and memory orders, without the gates: a lower bound on
    any step built on them."""
    h, n_in = w.hidden, w.n_inputs
    rng = np.random.default_rng(0)
    main = np.asfortranarray(rng.standard_normal((3 * h, n_in + 1 + h), dtype=np.float32))
    proj = np.asfortranarray(rng.standard_normal((h, n_in + 1), dtype=np.float32))
    slot = rng.standard_normal((n_in + 1 + h, n), dtype=np.float32)
    g, nx = np.empty((3 * h, n), np.float32), np.empty((h, n), np.float32)

    def products(x: np.ndarray) -> None:
        for _ in range(len(x)):
            np.dot(main, slot, g)
            np.dot(proj, slot[: n_in + 1], nx)

    return products


def _peak_gflops() -> float:
    """This core's float32 matrix-product rate [GFLOP/s]: the best of 5 OpenBLAS sgemm of
    2048 x 2048 (one thread, as set above), the most any float32 engine here gets."""
    a = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)
    c = np.empty_like(a)
    return 2 * 2048**3 / min(_timed(lambda: np.dot(a, a, c)) for _ in range(5)) / 1e9


def _one_sample(g: GRU) -> Callable[[np.ndarray], object]:
    def step(x: np.ndarray) -> object:
        return g.step(x[0])

    return step


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--hidden", type=int, nargs="+", default=[32, 64, 128])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--calls", type=int, default=400, help="packets timed per round")
    args = ap.parse_args()
    print(
        f"python {platform.python_version()} on {platform.machine()}, numpy {np.__version__}, "
        f"one thread; µs per stream-sample, median of {args.rounds} interleaved rounds\n"
    )
    results: dict[tuple[int, str, str], float] = {}
    for hidden in args.hidden:
        w = GRUWeights.random(6, hidden, 3, seed=hidden)
        for shape, (n, k) in SHAPES.items():
            xs = _inputs(n, k, args.calls)
            engines = _engines(w, n, k)
            times: dict[str, list[float]] = {e: [] for e in engines}
            for fn in engines.values():  # warm up
                for x in xs[:20]:
                    fn(x)
            for _ in range(args.rounds):
                for name, fn in engines.items():
                    t0 = time.perf_counter()
                    for x in xs:
                        fn(x)
                    times[name].append((time.perf_counter() - t0) / (args.calls * k * n) * 1e6)
            for name, ts in times.items():
                results[hidden, shape, name] = statistics.median(ts)
        names = sorted({e for (h, _, e) in results if h == hidden}, key=_order)
        print(f"hidden {hidden}: " + " | ".join(f"{s:>10}" for s in SHAPES))
        for name in names:
            row = [results.get((hidden, s, name)) for s in SHAPES]
            print(f"  {name:24}" + "".join(f"{v:>13.3f}" if v else f"{'-':>13}" for v in row))
        print()
    _goals(results)
    _run_speed()


def _order(name: str) -> int:
    keys = ["numpy f32", "numpy int8", "litert step, xnnpack", "litert packet, xnnpack",
            "litert step, no", "litert packet, no", "torch", "floor", "numpy: product"]  # fmt: skip
    return next(i for i, k in enumerate(keys) if name.startswith(k))


def _goals(r: dict[tuple[int, str, str], float]) -> None:
    """The engine's speed goals at hidden 64, as ratios (>= 1 means met)."""
    if not any(h == 64 for h, _, _ in r):
        return
    g = {(s, e): v for (h, s, e), v in r.items() if h == 64}
    live, one, many = "live 2x4", "1 stream", "64 streams"
    checks = [
        ("LiteRT packet >= 1.8x faster than LiteRT per-step (live)",
         g[live, "litert step, xnnpack"] / g[live, "litert packet, xnnpack"] / 1.8),
        ("LiteRT packet >= 10x faster than torch GRUCell (live)",
         g.get((live, "torch GRUCell"), np.nan) / g[live, "litert packet, xnnpack"] / 10),
        ("NumPy within 1.15x of LiteRT per-step (live)",
         1.15 * g[live, "litert step, xnnpack"] / g[live, "numpy f32"]),
        ("NumPy within 1.5x of LiteRT per-step (1 stream)",
         1.5 * g[one, "litert step, xnnpack"] / g[one, "numpy f32"]),
        ("NumPy >= 1.1x faster than LiteRT (64 streams)",
         g[many, "litert step, xnnpack"] / g[many, "numpy f32"] / 1.1),
        ("NumPy faster than LiteRT without XNNPACK (every shape)",
         min(g[s, "litert step, no xnnpack"] / g[s, "numpy f32"] for s in (one, live, many))),
        ("NumPy within 1.2x of its call floor (1 stream)",
         1.2 * g[one, "floor (numpy calls)"] / g[one, "numpy f32"]),
    ]  # fmt: skip
    print("goals at hidden 64 (ratio >= 1.00 means met):")
    for text, ratio in checks:
        print(f"  {'met ' if ratio >= 1 else 'MISS'} {ratio:5.2f}  {text}")
    budget, alone = g[many, "litert step, xnnpack"] / 1.1, g[many, "numpy: product alone"]
    rate = _product_flop(64, 6) / alone / 1e3
    print(f"  64 streams: the goal leaves NumPy {budget:.3f} µs a stream-sample; its two products "
          f"alone take {alone:.3f} ({rate:.0f} GFLOP/s), before any gate")  # fmt: skip
    print()


def _run_speed() -> None:
    """GRU.run over a recording: x real time for 1 stream and for 64 trials batched; and
    what 64 trials at the goal would ask of this core's float32 products."""
    peak = _peak_gflops()
    need = _product_flop(64, 6) * 100 * 100_000 / 1e9
    print(f"this core's float32 peak (OpenBLAS sgemm 2048², one thread): {peak:.0f} GFLOP/s; "
          f"run x 64 at 100,000x needs {need:.0f} GFLOP/s for its products alone")  # fmt: skip
    w = GRUWeights.random(6, 64, 3, seed=64)
    g = GRU(w)
    for n, goal in ((1, 3_000), (64, 100_000)):
        x = _inputs(n, 1, 3000)[:, 0]  # 30 s at 100 Hz per stream
        best = min(_timed(lambda x=x: g.run(x)) for _ in range(3))
        factor = 3000 / 100 * n / best
        print(f"run over 30 s x {n:>2} streams: {best * 1e3:7.1f} ms = {factor:>10,.0f}x real time "
              f"(goal {goal:,}x: {'met' if factor >= goal else 'MISS'})")  # fmt: skip


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
