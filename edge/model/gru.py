"""A GRU layer stack with a linear head, in NumPy: one step per sample for many streams.

Gate equations, exactly PyTorch's ``nn.GRU`` (weights stacked [r; z; n] as in PyTorch)::

    r  = σ(W_ir x + b_ir + W_hr h + b_hr)
    z  = σ(W_iz x + b_iz + W_hz h + b_hz)
    n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))     # reset gate on the hidden part + its bias
    h' = (1 − z) ⊙ n + z ⊙ h
    y  = W_out h'_last + b_out                          # the head, on the last layer's state

How it is laid out, and why (call costs in µs on an x86 box, NumPy 2.4 + OpenBLAS, hidden
64, 6 inputs, head to 3; totals: ``benchmarks/engine.py`` and the README):

* Each layer keeps, per stream, a column ``[x; 1; h]`` (float32, in + 1 + H rows) and one
  weight over it with rows [r/2 | z/2 | n_h | n_x], biases in the ``1`` column, so one product
  gives every gate. Feature-major (one column per stream): every gate is a contiguous block
  of rows, and ``out=`` ufuncs on contiguous blocks neither copy nor allocate; on the column
  slices of a stream-major buffer they allocate a buffered copy every call and cost 4x
  (2 streams: tanh 0.66 vs 0.17; 64 streams: 3.3 vs 1.35).
* σ(v) = ½ + ½·tanh(v/2), the ½ inside folded into the r and z rows: one tanh over both,
  then one multiply and one add. n_x and n_h stay apart (r multiplies n_h only); h' = n +
  z ⊙ (h − n) is three calls written straight into the state (no copy). Nine ufunc calls a
  step; folding r's ½ into n_h or taking 1 − z from negated rows moves calls, never fewer.
* Every call is a ufunc with positional ``out`` bound to a local name, and products are
  ``np.dot``: tanh on 64 floats 0.14 with ``tanh(a, a)`` vs 0.20 with ``out=a`` (and 0.21
  for ``a *= b`` vs 0.15 for ``multiply(a, b, a)``); ``np.dot`` (256, 71) @ (71, 1) 0.90 vs
  ``np.matmul`` 1.25, the head (3, 65) @ (65, 1) 0.30 vs 0.65. Scalars are 0-d float32
  (a Python float costs 0.37 vs 0.15 a call). Fortran-order weights (gemv 0.90 vs 1.08).
* The product depends on the number of streams n: one stream, a gemv over the fused weight
  (0.90 vs 1.04 for the split below); 2-3 streams, one ``np.matmul`` call making one gemv
  per stream on strided views of the same feature-major buffers (2 streams: 2.26 vs 2.88
  for OpenBLAS's gemm of (256, 71) @ (71, 2)); more, one gemm without the zero block of
  n_x over h: r, z, n_h (3H rows) plus n_x over ``[x; 1]`` in a second small product
  (64 streams: 8.3 + 1.1 vs 11.2 with OpenBLAS's two threads, 14.4 + 1.1 vs 19.6 with one).
* :meth:`GRU.step_packet` and :meth:`GRU.run` sweep K samples per call, layer by layer,
  over K slots: slot k holds ``[x_k; 1; h_{k−1}]``, x of the whole packet is copied in with
  one call, each step writes h_k straight into slot k + 1 (the last into slot 0, the live
  state), and n_x of all K samples is one product before the loop, so the per-step
  product is the 3H rows (2 streams: 1.72 vs 2.26 per step, for 1.3-1.5 per packet of 4).
  The last layer's sweep weight also carries the head's rows over ``[1; h]``: step k + 1's
  product yields sample k's output at no call of its own, one copy takes them out and one
  gemv gives the last (1.1 per packet vs 1.4 for a stacked head product, 1.8 for one per
  step). The views each step touches are made once per packet length, by iterating the
  buffers (0.065 µs a view vs 0.11 indexed).
* ``run`` is that sweep on private buffers, in chunks of at most 256 samples (4,096
  stream-samples): the views are reused across chunks and the buffers stay ~1 MB a layer.
* Buffers are allocated when streams are added or removed or a packet is longer than any
  before, never in :meth:`GRU.step` (tested).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence
from typing import Self

import numpy as np
import numpy.typing as npt

from edge.model.streams import StreamRows

__all__ = ["GRU", "GRUWeights"]

F32 = np.float32
Array = npt.NDArray[np.float32]
#: 0.5 as a 0-d float32 array: a ufunc with it costs half what it costs with a Python float.
_HALF = np.array(0.5, dtype=F32)


@dataclasses.dataclass(frozen=True)
class GRUWeights:
    """Float32 weights in PyTorch's layout (``nn.GRU`` + ``nn.Linear``).

    Attributes
    ----------
    w_ih : list of ndarray, shape (3H, in_l)
        Input weights per layer, rows [r; z; n]; in_0 = input size, in_l = H after.
    w_hh : list of ndarray, shape (3H, H)
        Hidden weights per layer, rows [r; z; n].
    b_ih, b_hh : list of ndarray, shape (3H,)
        Biases per layer.
    w_out : ndarray, shape (O, H)
        Head weight.
    b_out : ndarray, shape (O,)
        Head bias.
    """

    w_ih: list[Array]
    w_hh: list[Array]
    b_ih: list[Array]
    b_hh: list[Array]
    w_out: Array
    b_out: Array

    @property
    def n_layers(self) -> int:
        return len(self.w_ih)

    @property
    def hidden(self) -> int:
        return self.w_hh[0].shape[0] // 3

    @property
    def n_inputs(self) -> int:
        return self.w_ih[0].shape[1]

    @property
    def n_outputs(self) -> int:
        return self.w_out.shape[0]

    @property
    def n_params(self) -> int:
        arrays = [*self.w_ih, *self.w_hh, *self.b_ih, *self.b_hh, self.w_out, self.b_out]
        return sum(a.size for a in arrays)

    def validate(self) -> None:
        """Raise ValueError naming the first array whose shape does not fit the others, or
        that holds a NaN or an infinity."""
        h, n_layers = self.hidden, self.n_layers
        if not (len(self.w_hh) == len(self.b_ih) == len(self.b_hh) == n_layers >= 1):
            raise ValueError("GRU weights: every layer needs w_ih, w_hh, b_ih and b_hh")
        for i in range(n_layers):
            want_in = self.n_inputs if i == 0 else h
            checks = {
                f"w_ih[{i}]": (self.w_ih[i], (3 * h, want_in)),
                f"w_hh[{i}]": (self.w_hh[i], (3 * h, h)),
                f"b_ih[{i}]": (self.b_ih[i], (3 * h,)),
                f"b_hh[{i}]": (self.b_hh[i], (3 * h,)),
            }
            for name, (a, shape) in checks.items():
                if a.shape != shape:
                    raise ValueError(f"GRU weights: {name} has shape {a.shape}, expected {shape}")
        if self.w_out.shape != (self.n_outputs, h) or self.b_out.shape != (self.n_outputs,):
            raise ValueError(
                f"GRU weights: head is {self.w_out.shape} + {self.b_out.shape}, "
                f"expected (O, {h}) + (O,)"
            )
        named = {"w_out": self.w_out, "b_out": self.b_out}
        for i in range(n_layers):
            named.update({f"w_ih[{i}]": self.w_ih[i], f"w_hh[{i}]": self.w_hh[i],
                          f"b_ih[{i}]": self.b_ih[i], f"b_hh[{i}]": self.b_hh[i]})  # fmt: skip
        for name, a in named.items():  # a NaN or inf weight (or int8 scale) poisons every output
            if not np.all(np.isfinite(a)):
                raise ValueError(f"GRU weights: {name} holds NaN or inf values")

    @classmethod
    def random(
        cls, n_inputs: int, hidden: int, n_outputs: int, n_layers: int = 1, seed: int = 0
    ) -> Self:
        """Weights drawn as PyTorch initialises them, U(±1/√H) (for tests and benchmarks)."""
        rng = np.random.default_rng(seed)
        k = 1.0 / np.sqrt(hidden)

        def u(*shape: int) -> Array:
            return rng.uniform(-k, k, shape).astype(F32)

        ins = [n_inputs] + [hidden] * (n_layers - 1)
        return cls(
            w_ih=[u(3 * hidden, i) for i in ins],
            w_hh=[u(3 * hidden, hidden) for _ in ins],
            b_ih=[u(3 * hidden) for _ in ins],
            b_hh=[u(3 * hidden) for _ in ins],
            w_out=u(n_outputs, hidden),
            b_out=u(n_outputs),
        )


def _slot_weight(w_ih: Array, w_hh: Array, b_ih: Array, b_hh: Array) -> Array:
    """(4H, in + 1 + H) weight over a slot ``[x; 1; h]``; rows [r/2 | z/2 | n_h | n_x]."""
    h3, n_in = w_ih.shape
    h = h3 // 3
    wi, wh = w_ih.astype(np.float64), w_hh.astype(np.float64)
    bi, bh = b_ih.astype(np.float64), b_hh.astype(np.float64)
    w = np.zeros((4 * h, n_in + 1 + h), dtype=np.float64)
    x, one, hid = slice(0, n_in), n_in, slice(n_in + 1, None)
    # r and z: both parts summed, halved for σ(v) = ½ + ½·tanh(v/2)
    w[: 2 * h, x] = 0.5 * wi[: 2 * h]
    w[: 2 * h, one] = 0.5 * (bi[: 2 * h] + bh[: 2 * h])
    w[: 2 * h, hid] = 0.5 * wh[: 2 * h]
    # n: the hidden part and the input part stay apart (r multiplies only the hidden part)
    w[2 * h : 3 * h, one] = bh[2 * h :]
    w[2 * h : 3 * h, hid] = wh[2 * h :]
    w[3 * h :, x] = wi[2 * h :]
    w[3 * h :, one] = bi[2 * h :]
    return w.astype(F32)


_tanh, _mul, _add, _sub = np.tanh, np.multiply, np.add, np.subtract
_dot, _matmul = np.dot, np.matmul


class _Layer:
    """One layer's weights in the forms the step and the packet sweep use."""

    def __init__(
        self, w_ih: Array, w_hh: Array, b_ih: Array, b_hh: Array, head: Array | None
    ) -> None:
        w = _slot_weight(w_ih, w_hh, b_ih, b_hh)
        self.n_in = n_in = w_ih.shape[1]
        self.hidden = h = w_hh.shape[1]
        # step(), few streams: all four blocks in one product
        self.fused = np.asfortranarray(w)
        # step(), many streams: r, z, n_h without the zero block of n_x over h ...
        self.main = np.asfortranarray(w[: 3 * h])
        # ... and n_x over [x; 1] apart (in a sweep: for the whole packet in one product)
        self.proj = np.asfortranarray(w[3 * h :, : n_in + 1])
        self.proj_t = self.proj.T  # (in + 1, H), for a (K, in + 1) @ (in + 1, H) product
        # a sweep's product: r, z, n_h and, on the last layer, the head over [1; h] (the
        # previous sample's output, so the head costs no call of its own)
        rows = w[: 3 * h]
        if head is not None:
            rows = np.vstack([rows, np.hstack([np.zeros((len(head), n_in), F32), head])])
        self.sweep = np.asfortranarray(rows)


class _Buffers:
    """Every per-stream buffer of ``n`` streams for packets of up to ``kcap`` samples.

    Per layer, ``slots`` (kcap, in + 1 + H, n): slot k is the column ``[x_k; 1; h_{k−1}]``
    of every stream, so one product per step reads input, bias and state at once; a sweep
    writes h_k straight into slot k + 1 and the last state into slot 0, which holds the
    live state between calls.  ``g`` (4H, n): [r/2 | z/2 | n_h | n_x] pre-activations of
    :meth:`step`, every gate a contiguous block; a sweep has one such block per sample in
    ``gk`` (kcap, 3H [+ O], n) and the input part of n, for the whole packet, in ``nx``.
    """

    def __init__(self, layers: list[_Layer], head: Array, n: int, kcap: int) -> None:
        self.n, self.kcap = n, kcap
        self.layers = layers
        self.head, self.head_t = head, np.ascontiguousarray(head.T)
        self.n_out = n_out = head.shape[0]
        # product per step: 1 stream a gemv; 2-3 streams one gemv per stream in one matmul
        # call (strided, into the feature-major buffers); more streams one gemm
        self.batched = batched = 2 <= n <= 3
        split = n > 3  # many streams: no zero block in the per-step product
        self.prod = _matmul if batched else _dot
        self.slots: list[Array] = []
        self.step_plan: list[tuple] = []
        self.sweep_bufs: list[tuple] = []
        self._per_k: dict[int, list[list[tuple]]] = {}
        for i, layer in enumerate(layers):
            n_in, h = layer.n_in, layer.hidden
            s = np.zeros((kcap, n_in + 1 + h, n), dtype=F32)
            s[:, n_in] = 1.0
            g = np.empty((4 * h, n), dtype=F32)
            tmp = np.empty((h, n), dtype=F32)
            rz, r, z, nh = g[: 2 * h], g[:h], g[h : 2 * h], g[2 * h : 3 * h]
            w, g_out = (layer.main, g[: 3 * h]) if split else (layer.fused, g)
            a = s[0]
            if batched:
                a, g_out = a.T[..., None], g_out.T[..., None]
            proj = (layer.proj, s[0, : n_in + 1]) if split else (None, None)
            nxt = layers[i + 1].n_in if i + 1 < len(layers) else None
            self.slots.append(s)
            self.step_plan.append((w, a, g_out, *proj, g[3 * h :], rz, r, z, nh, s[0, n_in + 1 :],
                                   tmp, nxt))  # fmt: skip
            gk = np.empty((kcap, layer.sweep.shape[0], n), dtype=F32)
            nx = np.empty((kcap, h, n), dtype=F32)
            self.sweep_bufs.append((s, gk, nx, tmp))
        # step(): layer l's new h is layer l + 1's x
        self.step_plan = [
            (*p[:-1], None if p[-1] is None or nxt is None else nxt[0, : p[-1]])
            for p, nxt in zip(self.step_plan, [*self.slots[1:], None], strict=True)
        ]
        last = layers[-1]
        self.head_in = self.slots[-1][0, last.n_in :]  # [1; h] of the last layer
        self.head_in_t = self.head_in.T
        self.out = np.empty((n_out, n), dtype=F32)
        self.out_t = self.out.T
        self.x_in = self.slots[0][0, : layers[0].n_in]

    def state_views(self) -> list[Array]:
        """The live state of each layer, (H, n) views of slot 0."""
        return [s[0, lay.n_in + 1 :] for s, lay in zip(self.slots, self.layers, strict=True)]

    def step(self) -> Array:
        """One step of every stream from slot 0 (x already in it); the head's (O, n) output."""
        tanh, mul, add, sub, half, prod = _tanh, _mul, _add, _sub, _HALF, self.prod
        for w, a, out, proj, xa, nx, rz, r, z, nh, h, tmp, nxt in self.step_plan:
            prod(w, a, out)
            if proj is not None:
                _dot(proj, xa, nx)
            tanh(rz, rz)
            mul(rz, half, rz)
            add(rz, half, rz)  # r and z are σ now
            mul(r, nh, tmp)  # r ⊙ (W_hn h + b_hn)
            add(nx, tmp, nx)
            tanh(nx, nx)  # n
            sub(h, nx, tmp)  # h' = n + z ⊙ (h − n), in place
            mul(tmp, z, tmp)
            add(nx, tmp, h)
            if nxt is not None:
                nxt[...] = h
        _dot(self.head, self.head_in, self.out)
        return self.out_t

    def _plan(self, k_len: int) -> list[list[tuple]]:
        """Per layer, per sample of a K-sample sweep: the views one step touches."""
        plan = self._per_k.get(k_len)
        if plan is None:
            plan = self._per_k[k_len] = []
            for (s, gk, nx, _), layer in zip(self.sweep_bufs, self.layers, strict=True):
                n_in, h = layer.n_in, layer.hidden
                st = s[:k_len, n_in + 1 :]
                nxt = [*st[1:], st[0]]  # h_k goes to slot k + 1; the last one to slot 0
                g = gk[:k_len]
                ins, outs = s[:k_len], g[:, : layer.sweep.shape[0]]
                if self.batched:
                    ins, outs = (
                        ins.transpose(0, 2, 1)[..., None],
                        outs.transpose(0, 2, 1)[..., None],
                    )
                gates = (g[:, : 2 * h], g[:, :h], g[:, h : 2 * h], g[:, 2 * h : 3 * h])
                plan.append(list(zip(ins, outs, *gates, st, nxt, nx[:k_len], strict=True)))
        return plan

    def sweep(self, x: Array, y: Array) -> None:
        """K = len(x) steps of every stream, layer by layer; outputs into ``y`` (K, n, O)."""
        k_len = len(x)
        tanh, mul, add, sub, half, prod = _tanh, _mul, _add, _sub, _HALF, self.prod
        prev = None
        for (s, _, nx, tmp), layer, per_k in zip(
            self.sweep_bufs, self.layers, self._plan(k_len), strict=True
        ):
            n_in = layer.n_in
            if prev is None:
                s[:k_len, :n_in] = x.transpose(0, 2, 1)
            else:  # the previous layer's states: slots 1 .. K − 1, then slot 0
                s[: k_len - 1, :n_in] = prev[1:k_len, -n_in:]
                s[k_len - 1, :n_in] = prev[0, -n_in:]
            # the input part of n for the whole packet, bias included, in one product
            if self.n == 1:
                _dot(s[:k_len, : n_in + 1, 0], layer.proj_t, nx[:k_len, :, 0])
            else:
                _matmul(layer.proj, s[:k_len, : n_in + 1], nx[:k_len])
            w = layer.sweep
            for a, out, rz, r, z, nh, h, h_next, n in per_k:
                prod(w, a, out)
                tanh(rz, rz)
                mul(rz, half, rz)
                add(rz, half, rz)
                mul(r, nh, tmp)
                add(n, tmp, n)
                tanh(n, n)
                sub(h, n, tmp)
                mul(tmp, z, tmp)
                add(n, tmp, h_next)
            prev = s
        # the head: sample k's output came with step k + 1's product; the last one apart
        h3, gk = 3 * self.layers[-1].hidden, self.sweep_bufs[-1][1]
        y[: k_len - 1] = gk[1:k_len, h3:].transpose(0, 2, 1)
        _dot(self.head_in_t, self.head_t, y[k_len - 1])


class GRU:
    """GRU stack + linear head over a batch of independent streams (one per shoe).

    Parameters
    ----------
    weights : GRUWeights
        Float32 weights in PyTorch's layout (dequantise int8 or float16 ones first; see
        :mod:`edge.model.quant`).

    Attributes
    ----------
    streams : list of hashable
        Stream keys in row order: row i of :meth:`step`'s ``x`` and output is ``streams[i]``.
    """

    def __init__(self, weights: GRUWeights) -> None:
        weights.validate()
        self.weights = weights
        self.n_layers, self.hidden = weights.n_layers, weights.hidden
        self.n_inputs, self.n_outputs = weights.n_inputs, weights.n_outputs
        # the head over [1; h]: bias first, as the slot holds 1 right before h
        self._head = np.asfortranarray(np.column_stack([weights.b_out, weights.w_out]), F32)
        self._layers = [
            _Layer(*p, head=self._head if i == self.n_layers - 1 else None)
            for i, p in enumerate(
                zip(weights.w_ih, weights.w_hh, weights.b_ih, weights.b_hh, strict=True)
            )
        ]
        self._rows = StreamRows()
        self._buf = self._buffers(0, 1)

    @property
    def streams(self) -> list[Hashable]:
        """Stream keys in row order (change it with :meth:`add_stream`, :meth:`remove_stream`)."""
        return self._rows.keys

    def _buffers(self, n: int, kcap: int) -> _Buffers:
        return _Buffers(self._layers, self._head, n, kcap)

    # ------------------------------------------------------------------ streams

    def _realloc(self, n: int, keep: Sequence[int], kcap: int | None = None) -> None:
        """New buffers for ``n`` streams, keeping the state of old rows ``keep`` (in order)."""
        old = self._buf
        new = self._buffers(n, old.kcap if kcap is None else kcap)
        if len(keep):
            for dst, src in zip(new.state_views(), old.state_views(), strict=True):
                dst[:, : len(keep)] = src[:, list(keep)]
        self._buf = new

    def add_stream(self, key: Hashable) -> int:
        """Add a stream with zero state; return its row. KeyError if ``key`` exists."""
        n = self._rows.add(key)
        self._realloc(n + 1, keep=range(n))
        return n

    def remove_stream(self, key: Hashable) -> None:
        """Drop a stream; the others keep their state (rows after it move up by one)."""
        i = self._rows.remove(key)
        keep = [j for j in range(len(self._rows) + 1) if j != i]
        self._realloc(len(keep), keep=keep)

    def reset_stream(self, key: Hashable) -> None:
        """Zero one stream's state (a shoe reconnected, a gap too long to bridge)."""
        i = self._rows.row(key)
        for v in self._buf.state_views():
            v[:, i] = 0.0

    @property
    def state(self) -> Array:
        """Copy of the hidden state, shape (n_streams, layers, hidden), float32."""
        return np.stack([v.T for v in self._buf.state_views()], axis=1)

    @state.setter
    def state(self, value: npt.ArrayLike) -> None:
        v = np.asarray(value, dtype=F32)
        want = (len(self.streams), self.n_layers, self.hidden)
        if v.shape != want:
            raise ValueError(f"state of shape {v.shape}; expected {want}")
        for layer, dst in enumerate(self._buf.state_views()):
            dst[...] = v[:, layer].T

    # ------------------------------------------------------------------ live

    def step(self, x: npt.ArrayLike) -> Array:
        """Advance every stream by one sample.

        Parameters
        ----------
        x : array, shape (n_streams, n_inputs), float32
            One (already normalised) sample per stream, rows in :attr:`streams` order.

        Returns
        -------
        ndarray, shape (n_streams, n_outputs), float32
            The head's output: a view of a buffer the next call overwrites (copy to keep).
        """
        buf = self._buf
        buf.x_in[...] = x.T if isinstance(x, np.ndarray) else np.asarray(x, dtype=F32).T
        return buf.step()

    def step_packet(self, x: npt.ArrayLike) -> Array:
        """Advance every stream by K samples (one packet per shoe), as K calls of :meth:`step`.

        Parameters
        ----------
        x : array, shape (K, n_streams, n_inputs), float32

        Returns
        -------
        ndarray, shape (K, n_streams, n_outputs), float32
            A new array (the packet's outputs are kept by the caller).
        """
        xs = np.asarray(x, dtype=F32)
        k_len, n = xs.shape[0], len(self._rows.keys)
        if xs.shape[1:] != (n, self.n_inputs):
            raise ValueError(f"x of shape {xs.shape}; expected (K, {n}, {self.n_inputs})")
        y = np.empty((k_len, n, self.n_outputs), dtype=F32)
        if k_len > self._buf.kcap:  # a longer packet than any before: room for it, once
            self._realloc(n, keep=range(n), kcap=k_len)
        if k_len:
            self._buf.sweep(xs, y)
        return y

    # ------------------------------------------------------------------ replay

    def run(self, x: npt.ArrayLike, state: npt.ArrayLike | None = None) -> tuple[Array, Array]:
        """Run whole recordings at once; does not touch the live streams' state.

        Parameters
        ----------
        x : array, shape (T, n_streams, n_inputs), float32
            Normalised inputs of n_streams recordings of T samples.
        state : array, shape (n_streams, layers, hidden), optional
            Initial state; zeros by default.

        Returns
        -------
        y : ndarray, shape (T, n_streams, n_outputs), float32
        state : ndarray, shape (n_streams, layers, hidden), float32
            State after the last sample.
        """
        seq = np.asarray(x, dtype=F32)
        if seq.ndim != 3 or seq.shape[2] != self.n_inputs:
            raise ValueError(f"x of shape {seq.shape}; expected (T, n_streams, {self.n_inputs})")
        t_len, n, _ = seq.shape
        want = (n, self.n_layers, self.hidden)
        h0 = np.zeros(want, F32) if state is None else np.asarray(state, dtype=F32)
        if h0.shape != want:
            raise ValueError(f"state of shape {h0.shape}; expected {want}")
        # the same sweep as step_packet, on private buffers, in chunks
        buf = self._buffers(n, max(1, min(t_len, _RUN_CHUNK, _RUN_COLUMNS // max(n, 1))))
        views = buf.state_views()
        for layer, v in enumerate(views):
            v[...] = h0[:, layer].T
        y = np.empty((t_len, n, self.n_outputs), dtype=F32)
        for t0 in range(0, t_len, buf.kcap):
            buf.sweep(seq[t0 : t0 + buf.kcap], y[t0 : t0 + buf.kcap])
        return y, np.stack([v.T for v in views], axis=1)


#: run() sweeps chunks of at most this many samples and stream-samples.
_RUN_CHUNK, _RUN_COLUMNS = 256, 4096
