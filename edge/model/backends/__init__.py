"""GRU backends: one contract (:class:`Backend`), two engines, chosen by config.

``numpy``
    :class:`NumpyBackend`, :class:`edge.model.gru.GRU` (the default: NumPy only, runs everywhere,
    including aarch64 Python 3.13 where no LiteRT wheel exists).
``tflite``
    :class:`LiteRTBackend`, the ``.tflite`` twin (:mod:`edge.model.tflite_export`) in LiteRT,
    XNNPACK on by default; a per-step graph and, optionally, a packet graph that runs K
    samples of every stream in one invoke. Needs ``pip install 'gaitedge[tflite]'``,
    imported when the first one is made.

::

    backend = make_backend(weights, "tflite", packet_size=4)
    backend.add_stream("L"); backend.add_stream("R")
    y = backend.step_packet(x)          # x (4, 2, n_inputs) → y (4, 2, n_outputs)
"""

from __future__ import annotations

import os
from typing import Literal

import numpy as np

from edge.model.backends._base import Backend
from edge.model.backends.litert import (  # LiteRT loads on first use
    LiteRTBackend,
    load_interpreter_module,
)
from edge.model.backends.numpy_engine import NumpyBackend
from edge.model.gru import GRUWeights
from edge.model.quant import weights_from_arrays, weights_to_arrays

__all__ = ["Backend", "BackendKind", "LiteRTBackend", "NumpyBackend", "make_backend"]

BackendKind = Literal["numpy", "tflite"]
KINDS: tuple[BackendKind, ...] = ("numpy", "tflite")


def make_backend(
    model: GRUWeights | str | os.PathLike[str] | bytes,
    kind: BackendKind = "numpy",
    *,
    packet_model: str | os.PathLike[str] | bytes | None = None,
    packet_size: int | None = None,
    storage: Literal["float32", "int8"] = "float32",
    xnnpack: bool = True,
    num_threads: int = 1,
) -> Backend:
    """The backend ``kind`` over ``model``, with no streams yet.

    Parameters
    ----------
    model : GRUWeights, path or bytes
        Float32 weights (either kind); a ``model.npz`` of named arrays (``numpy``, see
        :mod:`edge.model.quant`); or a per-step ``.tflite`` graph as a path or bytes (``tflite``).
    kind : {"numpy", "tflite"}
        The engine.
    packet_model : path or bytes, optional
        ``tflite`` from files: the packet graph of the same weights.
    packet_size : int, optional
        ``tflite`` from weights: also export a packet graph of K samples per invoke (the
        live loop's packet length). Ignored by ``numpy``.
    storage : {"float32", "int8"}
        From weights: run int8 per-channel weights (``tflite``: int8 constants + DEQUANTIZE;
        ``numpy``: the same weights dequantised at load), so both kinds agree.
    xnnpack, num_threads
        ``tflite`` only: XNNPACK delegate on/off, interpreter threads.

    Returns
    -------
    Backend
    """
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r}; expected one of {KINDS}")
    if storage not in ("float32", "int8"):
        raise ValueError(f"storage={storage!r}; expected 'float32' or 'int8'")
    if kind == "numpy":
        if isinstance(model, GRUWeights):
            weights = model
            if storage == "int8":
                weights = weights_from_arrays(weights_to_arrays(model, "int8"))
        elif isinstance(model, bytes) or os.fspath(model).endswith(".tflite"):
            raise ValueError(
                "kind='numpy' runs GRUWeights or a model.npz, not a .tflite graph; "
                "pass the weights, or kind='tflite'"
            )
        else:
            with np.load(os.fspath(model), allow_pickle=False) as npz:
                weights = weights_from_arrays(dict(npz))
        return NumpyBackend(weights)

    load_interpreter_module()  # before exporting: its ImportError says what to do
    if isinstance(model, GRUWeights):
        if packet_model is not None:
            raise ValueError("packet_model is for .tflite files; from weights use packet_size=K")
        from edge.model.tflite_export import tflite_model

        step_model = tflite_model(model, storage=storage)
        if packet_size is not None:
            packet_model = tflite_model(model, packet_size=packet_size, storage=storage)
        return LiteRTBackend(step_model, packet_model, xnnpack=xnnpack, num_threads=num_threads)
    return LiteRTBackend(model, packet_model, xnnpack=xnnpack, num_threads=num_threads)
