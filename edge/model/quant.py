"""Weight storage: float32, float16, or int8 symmetric per output channel with float32 scales.

int8: for each output row ``o`` of a weight matrix, ``scale[o] = max|W[o, :]| / 127`` and
``q = round(W / scale)`` in [-127, 127]; biases stay float32. The engine dequantises once
at load into its fused float32 buffers (dequantising every step is 2.6× slower), so the
arithmetic is the same as the float model's.

Arrays are named as in PyTorch's ``state_dict`` of ``nn.GRU`` (prefix ``gru.``) and
``nn.Linear`` (prefix ``head.``); an int8 weight ``K`` has its scales in ``K.scale``.
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import numpy.typing as npt

from edge.model.gru import GRU, GRUWeights

__all__ = [
    "Storage",
    "dequantize_int8",
    "quantize_int8",
    "storage_error",
    "weights_from_arrays",
    "weights_to_arrays",
]

Storage = Literal["float32", "float16", "int8"]
STORAGES: tuple[Storage, ...] = ("float32", "float16", "int8")


def quantize_int8(w: npt.ArrayLike) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """Symmetric per-output-channel int8: (q (out, in) int8, scale (out,) float32)."""
    w = np.asarray(w, dtype=np.float32)
    peak = np.abs(w).max(axis=1)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def dequantize_int8(q: npt.ArrayLike, scale: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """Float32 weights back from int8 values and per-row scales."""
    return np.asarray(q, dtype=np.float32) * np.asarray(scale, dtype=np.float32)[:, None]


def _names(n_layers: int) -> list[tuple[str, str, int | None]]:
    """(array name, GRUWeights field, layer or None for the head) in file order."""
    out: list[tuple[str, str, int | None]] = []
    for i in range(n_layers):
        out += [
            (f"gru.weight_ih_l{i}", "w_ih", i),
            (f"gru.weight_hh_l{i}", "w_hh", i),
            (f"gru.bias_ih_l{i}", "b_ih", i),
            (f"gru.bias_hh_l{i}", "b_hh", i),
        ]
    return [*out, ("head.weight", "w_out", None), ("head.bias", "b_out", None)]


def _n_layers(arrays: dict[str, np.ndarray]) -> int:
    return sum(1 for k in arrays if re.fullmatch(r"gru\.weight_ih_l\d+", k))


def weights_to_arrays(weights: GRUWeights, storage: Storage = "float32") -> dict[str, np.ndarray]:
    """The named arrays of ``weights`` stored as ``storage`` (biases always float32)."""
    if storage not in STORAGES:
        raise ValueError(f"storage={storage!r}; expected one of {STORAGES}")
    arrays: dict[str, np.ndarray] = {}
    for name, field, layer in _names(weights.n_layers):
        value = getattr(weights, field)
        a = value if layer is None else value[layer]
        if ".bias" in name or storage == "float32":
            arrays[name] = np.asarray(a, dtype=np.float32)
        elif storage == "float16":
            arrays[name] = np.asarray(a, dtype=np.float16)
        else:
            arrays[name], arrays[f"{name}.scale"] = quantize_int8(a)
    return arrays


def weights_from_arrays(arrays: dict[str, np.ndarray]) -> GRUWeights:
    """Float32 GRUWeights from named arrays in any storage; ValueError names what is missing."""
    n_layers = _n_layers(arrays)
    if n_layers == 0:
        raise ValueError("no gru.weight_ih_l0 array: not a gaitedge GRU weight file")
    fields: dict[str, list[np.ndarray]] = {"w_ih": [], "w_hh": [], "b_ih": [], "b_hh": []}
    head: dict[str, np.ndarray] = {}
    for name, field, _ in _names(n_layers):
        if name not in arrays:
            raise ValueError(f"array {name!r} is missing")
        a = arrays[name]
        if a.dtype == np.int8:
            if f"{name}.scale" not in arrays:
                raise ValueError(f"int8 array {name!r} has no {name}.scale")
            value = dequantize_int8(a, arrays[f"{name}.scale"])
        elif a.dtype in (np.float16, np.float32):
            value = a.astype(np.float32)
        else:
            raise ValueError(f"array {name!r} is {a.dtype}; expected float32, float16 or int8")
        if field in fields:
            fields[field].append(value)
        else:
            head[field] = value
    return GRUWeights(**fields, w_out=head["w_out"], b_out=head["b_out"])


def storage_error(weights: GRUWeights, x: npt.ArrayLike) -> dict[str, dict[str, float]]:
    """Per storage: stored bytes, and max abs and RMS output error against float32 on ``x``.

    ``x`` : (T, n_streams, n_inputs) float32, normalised real input.
    """
    reference, _ = GRU(weights).run(x)
    report: dict[str, dict[str, float]] = {}
    for storage in STORAGES:
        arrays = weights_to_arrays(weights, storage)
        y, _ = GRU(weights_from_arrays(arrays)).run(x)
        err = y - reference
        report[storage] = {
            "bytes": float(sum(a.nbytes for a in arrays.values())),
            "max_abs_error": float(np.abs(err).max()),
            "rmse": float(np.sqrt(np.mean(err.astype(np.float64) ** 2))),
        }
    return report
