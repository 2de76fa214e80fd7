"""A GRU layer stack with a linear head, in NumPy: one step per sample for many streams.

Gate equations, exactly PyTorch's ``nn.GRU`` (weights stacked [r; z; n] as in PyTorch)::

    r  = σ(W_ir x + b_ir + W_hr h + b_hr)
    z  = σ(W_iz x + b_iz + W_hz h + b_hz)
    n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))     # reset gate on the hidden part + its bias
    h' = (1 − z) ⊙ n + z ⊙ h
    y  = W_out h'_last + b_out                          # the head, on the last layer's state

How the step is laid out (every choice measured by ``benchmarks/engine.py``):

* Each layer keeps one column per stream, ``[x; h; 1]`` (float32, shape (in + hidden + 1,
  n_streams)), and one fused weight (4·hidden, in + hidden + 1), so a single matmul gives
  r, z, the input part of n and the hidden part of n, biases included (the trailing 1).
  Feature-major on purpose: every gate is then a contiguous block of rows, and NumPy's
  ``out=`` ufuncs on contiguous blocks neither copy nor allocate (on the column slices of a
  stream-major (n, 4·hidden) buffer they allocate a buffered copy on every call).
* σ(v) = ½ + ½·tanh(v/2): the ½ inside is folded into the r and z columns, so r and z are
  one tanh over 2·hidden columns, then one multiply and one add.
* The next layer's ``x`` is copied from the state, and the head is one more matmul over
  ``[h; 1]`` of the last layer.
* Buffers are allocated when streams are added or removed, never in :meth:`GRU.step`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence
from typing import Self

import numpy as np
import numpy.typing as npt

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
        """Raise ValueError naming the first array whose shape does not fit the others."""
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


def _fused(w_ih: Array, w_hh: Array, b_ih: Array, b_hh: Array) -> Array:
    """(4H, in + H + 1) weight over [x; h; 1]; rows [r/2 | z/2 | n_x | n_h]."""
    h3, n_in = w_ih.shape
    h = h3 // 3
    w = np.zeros((n_in + h + 1, 4 * h), dtype=np.float64)
    wi, wh = w_ih.astype(np.float64), w_hh.astype(np.float64)
    bi, bh = b_ih.astype(np.float64), b_hh.astype(np.float64)
    # r and z: both parts summed, halved for σ(v) = ½ + ½·tanh(v/2)
    w[:n_in, : 2 * h] = 0.5 * wi[: 2 * h].T
    w[n_in : n_in + h, : 2 * h] = 0.5 * wh[: 2 * h].T
    w[-1, : 2 * h] = 0.5 * (bi[: 2 * h] + bh[: 2 * h])
    # n: the input part and the hidden part stay apart (r multiplies only the hidden part)
    w[:n_in, 2 * h : 3 * h] = wi[2 * h :].T
    w[-1, 2 * h : 3 * h] = bi[2 * h :]
    w[n_in : n_in + h, 3 * h :] = wh[2 * h :].T
    w[-1, 3 * h :] = bh[2 * h :]
    return np.asfortranarray(w.T.astype(F32))  # Fortran order: 1-stream product ~15 % faster


class GRU:
    """GRU stack + linear head over a batch of independent streams (one per shoe).

    Parameters
    ----------
    weights : GRUWeights
        Float32 weights in PyTorch's layout (dequantise int8 or float16 ones first; see
        :mod:`edge.quant`).

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
        self._w = [
            _fused(*p)
            for p in zip(weights.w_ih, weights.w_hh, weights.b_ih, weights.b_hh, strict=True)
        ]
        self._head = np.asfortranarray(np.column_stack([weights.w_out, weights.b_out]), F32)
        self.streams: list[Hashable] = []
        self._alloc(0)

    # ------------------------------------------------------------------ streams

    def _alloc(self, n: int, keep: Sequence[int] = ()) -> None:
        """(Re)allocate the per-stream buffers for ``n`` streams, keeping state columns ``keep``."""
        h = self.hidden
        old = getattr(self, "_cols", None)
        ins = [self.n_inputs] + [h] * (self.n_layers - 1)
        cols = [np.zeros((i + h + 1, n), dtype=F32) for i in ins]
        for layer, c in enumerate(cols):
            c[-1] = 1.0
            if old is not None and len(keep):
                c[ins[layer] : -1, : len(keep)] = old[layer][ins[layer] : -1][:, list(keep)]
        self._cols = cols
        self._ins = ins
        self._tmp = tmp = np.empty((h, n), dtype=F32)
        self._out = np.empty((self.n_outputs, n), dtype=F32)
        # every view the step touches, made once here rather than at every step
        self._x_in = cols[0][: ins[0]]
        self._plan = []
        for layer, (w, col, n_in) in enumerate(zip(self._w, cols, ins, strict=True)):
            g = np.empty((4 * h, n), dtype=F32)
            nxt = cols[layer + 1][:h] if layer + 1 < len(cols) else None
            self._plan.append((w, col, g, col[n_in:-1], nxt, *_gate_views(g, h), tmp))
        self._head_in = cols[-1][ins[-1] :]
        self._out_t = self._out.T

    def add_stream(self, key: Hashable) -> int:
        """Add a stream with zero state; return its row. KeyError if ``key`` exists."""
        if key in self.streams:
            raise KeyError(f"stream {key!r} already exists")
        n = len(self.streams)
        self._alloc(n + 1, keep=range(n))
        self.streams.append(key)
        return n

    def remove_stream(self, key: Hashable) -> None:
        """Drop a stream; the others keep their state (rows after it move up by one)."""
        i = self._row(key)
        keep = [j for j in range(len(self.streams)) if j != i]
        self._alloc(len(keep), keep=keep)
        del self.streams[i]

    def reset_stream(self, key: Hashable) -> None:
        """Zero one stream's state (a shoe reconnected, a gap too long to bridge)."""
        i = self._row(key)
        for c, n_in in zip(self._cols, self._ins, strict=True):
            c[n_in:-1, i] = 0.0

    def _row(self, key: Hashable) -> int:
        try:
            return self.streams.index(key)
        except ValueError:
            raise KeyError(f"no stream {key!r}; streams are {self.streams!r}") from None

    @property
    def state(self) -> Array:
        """Copy of the hidden state, shape (n_streams, layers, hidden), float32."""
        return np.stack(
            [c[n_in:-1].T for c, n_in in zip(self._cols, self._ins, strict=True)], axis=1
        )

    @state.setter
    def state(self, value: npt.ArrayLike) -> None:
        v = np.asarray(value, dtype=F32)
        want = (len(self.streams), self.n_layers, self.hidden)
        if v.shape != want:
            raise ValueError(f"state of shape {v.shape}; expected {want}")
        for layer, (c, n_in) in enumerate(zip(self._cols, self._ins, strict=True)):
            c[n_in:-1] = v[:, layer].T

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
        self._x_in[...] = x.T if isinstance(x, np.ndarray) else np.asarray(x, dtype=F32).T
        for w, col, g, state, nxt, rz, r, z, n, nh, tmp in self._plan:
            np.matmul(w, col, out=g)
            np.tanh(rz, out=rz)
            rz *= _HALF
            rz += _HALF  # r and z are σ now
            np.multiply(r, nh, out=tmp)  # r ⊙ (W_hn h + b_hn)
            n += tmp
            np.tanh(n, out=n)
            np.subtract(state, n, out=tmp)  # h' = n + z ⊙ (h − n)
            tmp *= z
            np.add(n, tmp, out=state)
            if nxt is not None:
                nxt[...] = state
        np.matmul(self._head, self._head_in, out=self._out)
        return self._out_t

    def step_packet(self, x: npt.ArrayLike) -> Array:
        """Advance every stream by K samples (one packet per shoe), as K calls of :meth:`step`.

        Parameters
        ----------
        x : array, shape (K, n_streams, n_inputs), float32

        Returns
        -------
        ndarray, shape (K, n_streams, n_outputs), float32
            A new array (the packet's outputs are kept by the caller).

        Precomputing the K input projections in one product (as :meth:`run` does) costs
        an extra add per step and saves nothing at 6 inputs, so each sample is one step.
        """
        xs = np.asarray(x, dtype=F32)
        y = np.empty((xs.shape[0], len(self.streams), self.n_outputs), dtype=F32)
        for k in range(xs.shape[0]):
            y[k] = self.step(xs[k])
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
        seq = np.ascontiguousarray(x, dtype=F32)
        if seq.ndim != 3 or seq.shape[2] != self.n_inputs:
            raise ValueError(f"x of shape {seq.shape}; expected (T, n_streams, {self.n_inputs})")
        t_len, n, _ = seq.shape
        h = self.hidden
        h0 = np.zeros((n, self.n_layers, h), F32) if state is None else np.asarray(state, F32)
        final = np.empty((n, self.n_layers, h), dtype=F32)
        g = np.empty((4 * h, n), dtype=F32)
        tmp = np.empty((h, n), dtype=F32)
        for layer, w in enumerate(self._w):
            n_in = seq.shape[2]
            # input projections of every sample in one product, bias column included:
            # gi[t] = W_x @ x_t + b, laid out (T, 4H, n) like the step's gate buffer
            gi = np.matmul(w[:, :n_in], seq.transpose(0, 2, 1)) + w[:, -1:]
            wh = np.ascontiguousarray(w[:, n_in:-1])
            out = np.empty((t_len, h, n), dtype=F32)
            hs = np.ascontiguousarray(h0[:, layer].T)
            for t in range(t_len):
                np.matmul(wh, hs, out=g)
                g += gi[t]
                _update(g, hs, tmp, h)
                out[t] = hs
            final[:, layer] = hs.T
            seq = np.ascontiguousarray(out.transpose(0, 2, 1))
        y = seq.reshape(t_len * n, h) @ self._head[:, :-1].T + self._head[:, -1]
        return y.reshape(t_len, n, self.n_outputs), final


def _gate_views(g: Array, h: int) -> tuple[Array, Array, Array, Array, Array]:
    """Views of a (4H, n) gate buffer: r and z together, r, z, n (input part), n (hidden part)."""
    return g[: 2 * h], g[:h], g[h : 2 * h], g[2 * h : 3 * h], g[3 * h :]


def _update(g: Array, state: Array, tmp: Array, h: int) -> None:
    """Gate arithmetic of one step in place (the same as :meth:`GRU.step`'s loop body):
    ``g`` (4H, n) holds [r/2 | z/2 | n_x | n_h] pre-activations; ``state`` (H, n) becomes h'."""
    rz, r, z, n, nh = _gate_views(g, h)
    np.tanh(rz, out=rz)
    rz *= _HALF
    rz += _HALF
    np.multiply(r, nh, out=tmp)
    n += tmp
    np.tanh(n, out=n)
    np.subtract(state, n, out=tmp)
    tmp *= z
    np.add(n, tmp, out=state)
