"""The LiteRT backend: the ``.tflite`` twin (:mod:`edge.model.tflite_export`) run by LiteRT.

The state of every stream lives here, in NumPy (n_streams, n_layers, hidden), and goes in
and out of the graph on every invoke (inputs x, h → outputs y, h_out): adding, removing or
resetting a stream is a NumPy row operation that never touches the others, and the
per-step and packet graphs share it. When the number of streams changes, the next call
resizes the graph's inputs (``resize_tensor_input`` + ``allocate_tensors``: the graph's
stream axis is free) instead of rebuilding the interpreter.

XNNPACK, LiteRT's default CPU delegate, is on unless ``xnnpack=False``, which selects the
``BUILTIN_WITHOUT_DEFAULT_DELEGATES`` op resolver (the plain builtin kernels).

Runtime: ``ai_edge_litert`` (LiteRT, works with NumPy 2), else ``tflite_runtime`` (the
last release, 2.14, needs NumPy 1 and Python ≤ 3.11). TensorFlow is never imported.
"""

from __future__ import annotations

import os
from collections.abc import Hashable
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.model.backends._base import Array, Backend
from edge.model.streams import StreamRows

__all__ = ["LiteRTBackend", "load_interpreter_module"]

F32 = np.float32

ModelSource = bytes | str | os.PathLike[str]


def load_interpreter_module() -> ModuleType:
    """``ai_edge_litert.interpreter``, else ``tflite_runtime.interpreter``, else ImportError."""
    try:
        from ai_edge_litert import interpreter
    except ImportError:
        try:
            from tflite_runtime import interpreter  # type: ignore[import-not-found,no-redef]
        except ImportError:
            raise ImportError(
                "the tflite backend needs LiteRT: pip install 'gaitedge[tflite]'. On aarch64 "
                "with Python 3.13 (e.g. Raspberry Pi OS Trixie) no LiteRT wheel exists: use "
                "the NumPy backend there (kind='numpy', the default)"
            ) from None
    return interpreter


class _Graph:
    """One interpreter with its tensor indices, resized to the stream count on demand."""

    def __init__(
        self, module: ModuleType, model: ModelSource, *, xnnpack: bool, num_threads: int
    ) -> None:
        resolver = module.OpResolverType
        kwargs: dict[str, Any] = {
            "num_threads": num_threads,
            "experimental_op_resolver_type": (
                resolver.AUTO if xnnpack else resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES
            ),
        }
        if isinstance(model, bytes):
            kwargs["model_content"] = model
        else:
            kwargs["model_path"] = os.fspath(model)
        self.interpreter = it = module.Interpreter(**kwargs)
        it.allocate_tensors()
        ins, outs = it.get_input_details(), it.get_output_details()
        if len(ins) != 2 or len(outs) != 2:
            raise ValueError(
                f"{_describe(model)} has {len(ins)} inputs and {len(outs)} outputs; expected "
                "x, h → y, h_out (write it with edge.model.tflite_export)"
            )
        self.x, self.h = ins[0]["index"], ins[1]["index"]
        self.y, self.h_out = outs[0]["index"], outs[1]["index"]
        self.x_shape = tuple(int(d) for d in ins[0]["shape"])
        self.h_shape = tuple(int(d) for d in ins[1]["shape"])
        self.y_shape = tuple(int(d) for d in outs[0]["shape"])
        self.packet_size = self.x_shape[0] if len(self.x_shape) == 3 else None
        self.n_streams = self.h_shape[0]

    def resize(self, n: int) -> None:
        it = self.interpreter
        it.resize_tensor_input(self.x, [*self.x_shape[:-2], n, self.x_shape[-1]])
        it.resize_tensor_input(self.h, [n, *self.h_shape[1:]])
        it.allocate_tensors()
        self.n_streams = n


def _describe(model: ModelSource) -> str:
    return f"the .tflite model of {len(model)} bytes" if isinstance(model, bytes) else repr(model)


class LiteRTBackend(Backend):
    """The tflite twin run by LiteRT (or tflite-runtime), state kept in NumPy.

    Parameters
    ----------
    step_model : bytes or path
        The per-step graph (:func:`edge.model.tflite_export.tflite_model` with
        ``packet_size=None``), as file contents or a path.
    packet_model : bytes or path, optional
        The packet graph of the same weights (``packet_size=K``): :meth:`step_packet` with
        K samples is then one invoke; other K, or without it, K per-step invokes.
    xnnpack : bool
        Use LiteRT's default XNNPACK delegate (True) or the builtin kernels only.
    num_threads : int
        Threads for the interpreter and XNNPACK; 1 leaves the other cores to the radio
        and the store.

    Attributes
    ----------
    packet_size : int or None
        K of the packet graph, None without one.
    """

    def __init__(
        self,
        step_model: ModelSource,
        packet_model: ModelSource | None = None,
        *,
        xnnpack: bool = True,
        num_threads: int = 1,
    ) -> None:
        module = load_interpreter_module()
        self.xnnpack, self.num_threads = xnnpack, num_threads
        self._step = _Graph(module, step_model, xnnpack=xnnpack, num_threads=num_threads)
        if self._step.packet_size is not None:
            raise ValueError(
                f"step_model: {_describe(step_model)} is a packet graph (x {self._step.x_shape});"
                " pass the per-step graph first and this one as packet_model"
            )
        self.n_inputs = self._step.x_shape[-1]
        _, self.n_layers, self.hidden = self._step.h_shape
        self.n_outputs = self._step.y_shape[-1]
        self._packet: _Graph | None = None
        self.packet_size: int | None = None
        if packet_model is not None:
            g = _Graph(module, packet_model, xnnpack=xnnpack, num_threads=num_threads)
            if g.packet_size is None or (g.x_shape[-1], *g.h_shape[1:], g.y_shape[-1]) != (
                self.n_inputs,
                self.n_layers,
                self.hidden,
                self.n_outputs,
            ):
                raise ValueError(
                    f"packet_model: {_describe(packet_model)} has x {g.x_shape}, h {g.h_shape},"
                    f" y {g.y_shape}; expected the packet graph (K, n, {self.n_inputs}) of the "
                    f"step model's weights (h (n, {self.n_layers}, {self.hidden}))"
                )
            self._packet, self.packet_size = g, g.packet_size
        self._rows = StreamRows()
        self._state = np.zeros((0, self.n_layers, self.hidden), F32)
        self._x_shape = (0, self.n_inputs)

    # ------------------------------------------------------------------ streams

    @property
    def streams(self) -> list[Hashable]:
        return self._rows.keys

    def add_stream(self, key: Hashable) -> int:
        row = self._rows.add(key)
        zero = np.zeros((1, self.n_layers, self.hidden), F32)
        self._state = np.concatenate([self._state, zero])
        self._x_shape = (row + 1, self.n_inputs)
        return row

    def remove_stream(self, key: Hashable) -> None:
        self._state = np.delete(self._state, self._rows.remove(key), axis=0)
        self._x_shape = (len(self._rows), self.n_inputs)

    def reset_stream(self, key: Hashable) -> None:
        self._state[self._rows.row(key)] = 0.0

    @property
    def state(self) -> Array:
        return self._state.copy()

    @state.setter
    def state(self, value: npt.ArrayLike) -> None:
        v = np.asarray(value, dtype=F32)
        want = (len(self._rows.keys), self.n_layers, self.hidden)
        if v.shape != want:
            raise ValueError(f"state of shape {v.shape}; expected {want}")
        self._state = np.array(v, dtype=F32, order="C")

    # ------------------------------------------------------------------ live

    def _invoke(self, g: _Graph, x: Array) -> Array:
        if g.n_streams != len(self._rows.keys):
            g.resize(len(self._rows.keys))
        it = g.interpreter
        it.set_tensor(g.x, x)
        it.set_tensor(g.h, self._state)
        it.invoke()
        self._state = it.get_tensor(g.h_out)
        return it.get_tensor(g.y)

    def step(self, x: npt.ArrayLike) -> Array:
        x = np.asarray(x, dtype=F32)
        if x.shape != self._x_shape:
            self._check_x(x, packet=False)
        if not self._rows.keys:
            return np.empty((0, self.n_outputs), F32)
        return self._invoke(self._step, x)

    def step_packet(self, x: npt.ArrayLike) -> Array:
        x = np.asarray(x, dtype=F32)
        if x.shape[1:] != self._x_shape or x.ndim != 3:
            self._check_x(x, packet=True)
        if not self._rows.keys:
            return np.empty((x.shape[0], 0, self.n_outputs), F32)
        if self._packet is not None and x.shape[0] == self.packet_size:
            return self._invoke(self._packet, x)
        out = np.empty((x.shape[0], len(self._rows.keys), self.n_outputs), F32)
        for t in range(x.shape[0]):
            out[t] = self._invoke(self._step, x[t])
        return out
