"""Write the GRU's ``.tflite`` twin without TensorFlow (a desktop step; the Pi only runs it).

The file is written with the flatbuffers object API of the TFLite schema (``ModelT.Pack``).
The schema module comes from ``ai_edge_litert`` (``ai_edge_litert.schema_py_generated``):
the package that has to be installed anyway to check the export, a stable release that is
already the ``tflite`` extra, and whose runtime is the one that reads the file; its only
import is ``flatbuffers`` (pure Python). The same generated module in the tflite-micro
wheel is the fallback; that wheel exists on PyPI only as nightly pre-releases, so it is
not the first choice. Both are imported lazily, when a model is written.

Two graph shapes, from one :class:`edge.model.gru.GRUWeights`, same equations as
:mod:`edge.model.gru` (PyTorch's ``nn.GRU`` + ``nn.Linear``):

per-step (``packet_size=None``)
    inputs ``x`` (n_streams, n_inputs) and ``h`` (n_streams, layers, hidden);
    outputs ``y`` (n_streams, n_outputs) and ``h_out`` (n_streams, layers, hidden).
packet (``packet_size=K``)
    inputs ``x`` (K, n_streams, n_inputs) and ``h``; outputs ``y`` (K, n_streams,
    n_outputs) and ``h_out``: K steps of every stream in one invoke. The input projections
    of all K samples are one FULLY_CONNECTED per layer (as in :meth:`edge.model.gru.GRU.run`).

The state layout is the NumPy engine's (:attr:`edge.model.gru.GRU.state`): stream-major, so a
backend hands its state array over as it is, and the shape tells layers and hidden. Inputs
and outputs are float32, in that order (x, h → y, h_out). The stream axis is free: every
shape constant in the graph leaves it as -1, so ``resize_tensor_input`` to another
n_streams works without a new export.

Builtin ops only (FULLY_CONNECTED, ADD, SUB, MUL, LOGISTIC, TANH, SPLIT, RESHAPE,
CONCATENATION, and DEQUANTIZE for int8), all delegated by XNNPACK. Per layer and step::

    gi = FC(x, W_ih, b_ih)            gh = FC(h, W_hh, b_hh)     # rows [r; z; n]
    r = σ(gi_r + gh_r)   z = σ(gi_z + gh_z)   n = tanh(gi_n + r ⊙ gh_n)
    h' = n + z ⊙ (h − n)                                         # = (1 − z) ⊙ n + z ⊙ h

Weight storage:

``float32``
    Constant float32 weights and biases.
``int8`` with ``int8_mode="dequantize"`` (the int8 twin)
    Weights are int8 constants with per-output-channel scales (exactly
    :func:`edge.model.quant.quantize_int8`), each followed by a DEQUANTIZE op; the runtime
    dequantises constants once, so the compute is float32 and the output equals the NumPy
    engine running the dequantised weights (``weights_from_arrays(weights_to_arrays(w,
    "int8"))``) to float rounding. Biases stay float32.
``int8`` with ``int8_mode="hybrid"``
    TFLite dynamic-range FULLY_CONNECTED: int8 per-channel weights fed straight to the FC,
    which quantises its float input (x and h) to int8, row by row, on every invoke. About
    1.5× faster under XNNPACK, but every activation is rounded to 8 bits at every step and
    the recurrence carries it on: 2–5e-3 max abs error against the NumPy engine on the
    same int8 weights (real gait, hidden 16–128), so it cannot meet 1e-4 whatever the
    weights. Offered for comparison only.

Measured (hidden 64, 1 layer, 2 streams, x86, one thread, XNNPACK): file 59 kB float32,
23 kB int8 (per-step graph; +5 kB for the K=4 packet graph); invoke 1.7 µs per-step, 5.1 µs
per K=4 packet, the same for float32 and int8-dequantize (constant DEQUANTIZE is done once,
at load, XNNPACK on or off); 1.3 and 3.3 µs hybrid.

TFLite Micro (the tflite-micro wheel's Python interpreter, what insole firmware would
run) runs the float32 graphs, per-step and packet, to the same output (2e-7). It runs the
int8-dequantize graph but wrongly: its DEQUANTIZE applies the first channel's scale to
every row (per-tensor only), 6e-2 off. It rejects hybrid FULLY_CONNECTED ("Input type:
FLOAT32 with filter type: INT8 not supported"). For a microcontroller, export float32.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from edge.model.gru import GRUWeights
from edge.model.quant import quantize_int8

__all__ = ["Int8Mode", "TfliteStorage", "export_tflite", "tflite_model"]

TfliteStorage = Literal["float32", "int8"]
Int8Mode = Literal["dequantize", "hybrid"]

#: Byte alignment of every constant buffer in the file (TFLite Micro reads them in place).
_ALIGN = 16


def _schema() -> ModuleType:
    """The generated TFLite schema module (object API), imported only when exporting."""
    try:
        from ai_edge_litert import schema_py_generated as schema
    except ImportError:
        try:
            from tflite_micro.tensorflow.lite.micro.python import (  # type: ignore[import-not-found]
                schema_py_generated as schema,
            )
        except ImportError:
            raise ImportError(
                "writing a .tflite file needs the TFLite schema module: "
                "pip install 'gaitedge[tflite]' (ai-edge-litert, which brings flatbuffers); "
                "TensorFlow is not needed"
            ) from None
    return schema


class _Graph:
    """Tensors, constant buffers and operators of one subgraph, with shapes worked out here."""

    def __init__(self, schema: ModuleType) -> None:
        self.s = schema
        self.tensors: list[Any] = []
        self.shapes: list[tuple[int, ...]] = []
        self.buffers: list[Any] = [schema.BufferT()]  # buffer 0: the empty sentinel
        self.operators: list[Any] = []
        self.opcodes: dict[int, int] = {}

    # ----------------------------------------------------------------- tensors

    def tensor(
        self,
        name: str,
        shape: tuple[int, ...],
        dtype: int | None = None,
        buffer: int = 0,
        quantization: Any = None,
    ) -> int:
        t = self.s.TensorT()
        t.name = name
        t.shape = list(shape)
        t.type = self.s.TensorType.FLOAT32 if dtype is None else dtype
        t.buffer = buffer
        t.quantization = quantization
        self.tensors.append(t)
        self.shapes.append(tuple(shape))
        return len(self.tensors) - 1

    def const(self, name: str, value: npt.ArrayLike, scale: npt.NDArray | None = None) -> int:
        """A constant tensor; int8 ``value`` gets per-axis-0 ``scale`` (zero point 0)."""
        a = np.ascontiguousarray(value)
        b = _AlignedBufferT(self.s)
        b.data = a.reshape(-1).view(np.uint8)
        self.buffers.append(b)
        types = {
            np.dtype(np.float32): self.s.TensorType.FLOAT32,
            np.dtype(np.int32): self.s.TensorType.INT32,
            np.dtype(np.int8): self.s.TensorType.INT8,
        }
        q = None
        if scale is not None:
            q = self.s.QuantizationParametersT()
            q.scale = [float(v) for v in scale]
            q.zeroPoint = [0] * len(q.scale)
            q.quantizedDimension = 0
        return self.tensor(name, a.shape, types[a.dtype], len(self.buffers) - 1, q)

    # ----------------------------------------------------------------- operators

    def op(
        self,
        code: int,
        inputs: list[int],
        out_shapes: list[tuple[int, ...]],
        name: str,
        options_type: int = 0,
        options: Any = None,
    ) -> list[int]:
        if code not in self.opcodes:
            self.opcodes[code] = len(self.opcodes)
        outs = [
            self.tensor(f"{name}" if len(out_shapes) == 1 else f"{name}:{i}", s)
            for i, s in enumerate(out_shapes)
        ]
        o = self.s.OperatorT()
        o.opcodeIndex = self.opcodes[code]
        o.inputs = list(inputs)
        o.outputs = outs
        o.builtinOptionsType = options_type
        o.builtinOptions = options
        self.operators.append(o)
        return outs

    def _options(self, cls_name: str, **fields: Any) -> Any:
        opt = getattr(self.s, cls_name)()
        for k, v in fields.items():
            setattr(opt, k, v)
        return opt

    def fc(self, x: int, w: int, b: int, name: str, hybrid: bool = False) -> int:
        rows = int(np.prod(self.shapes[x][:-1]))
        opt = self._options("FullyConnectedOptionsT", asymmetricQuantizeInputs=hybrid)
        return self.op(
            self.s.BuiltinOperator.FULLY_CONNECTED,
            [x, w, b],
            [(rows, self.shapes[w][0])],
            name,
            self.s.BuiltinOptions.FullyConnectedOptions,
            opt,
        )[0]

    def binary(self, kind: Literal["ADD", "SUB", "MUL"], a: int, b: int, name: str) -> int:
        code = getattr(self.s.BuiltinOperator, kind)
        opt_name = kind.capitalize() + "Options"
        opt = self._options(opt_name + "T")
        opt_type = getattr(self.s.BuiltinOptions, opt_name)
        return self.op(code, [a, b], [self.shapes[a]], name, opt_type, opt)[0]

    def unary(self, kind: Literal["TANH", "LOGISTIC", "DEQUANTIZE"], a: int, name: str) -> int:
        code = getattr(self.s.BuiltinOperator, kind)
        return self.op(code, [a], [self.shapes[a]], name)[0]

    def split(self, a: int, axis: int, parts: int, name: str) -> list[int]:
        shape = list(self.shapes[a])
        shape[axis] //= parts
        ax = self.const(f"{name}/axis", np.array(axis, dtype=np.int32))
        opt = self._options("SplitOptionsT", numSplits=parts)
        return self.op(
            self.s.BuiltinOperator.SPLIT,
            [ax, a],
            [tuple(shape)] * parts,
            name,
            self.s.BuiltinOptions.SplitOptions,
            opt,
        )

    def reshape(self, a: int, shape: tuple[int, ...], free_axis: int, name: str) -> int:
        """Reshape to ``shape``, written with -1 on ``free_axis`` (the stream axis)."""
        spec = [-1 if i == free_axis else d for i, d in enumerate(shape)]
        new = self.const(f"{name}/shape", np.array(spec, dtype=np.int32))
        opt = self._options("ReshapeOptionsT", newShape=spec)
        return self.op(
            self.s.BuiltinOperator.RESHAPE,
            [a, new],
            [shape],
            name,
            self.s.BuiltinOptions.ReshapeOptions,
            opt,
        )[0]

    def concat(self, parts: list[int], axis: int, name: str) -> int:
        shape = list(self.shapes[parts[0]])
        shape[axis] = sum(self.shapes[p][axis] for p in parts)
        opt = self._options("ConcatenationOptionsT", axis=axis)
        return self.op(
            self.s.BuiltinOperator.CONCATENATION,
            parts,
            [tuple(shape)],
            name,
            self.s.BuiltinOptions.ConcatenationOptions,
            opt,
        )[0]

    # ----------------------------------------------------------------- file

    def finish(self, inputs: list[int], outputs: list[int], description: str) -> bytes:
        import flatbuffers  # type: ignore[import-untyped]

        s = self.s
        sub = s.SubGraphT()
        sub.tensors, sub.inputs, sub.outputs = self.tensors, inputs, outputs
        sub.operators, sub.name = self.operators, "main"
        codes = []
        for code in sorted(self.opcodes, key=self.opcodes.__getitem__):
            c = s.OperatorCodeT()
            c.builtinCode = code
            c.deprecatedBuiltinCode = min(code, 127)
            c.version = 1
            codes.append(c)
        sig = s.SignatureDefT()
        sig.signatureKey = "serving_default"
        sig.subgraphIndex = 0
        sig.inputs = [_tensor_map(s, self.tensors[i].name, i) for i in inputs]
        sig.outputs = [_tensor_map(s, self.tensors[i].name, i) for i in outputs]
        model = s.ModelT()
        model.version = 3
        model.operatorCodes = codes
        model.subgraphs = [sub]
        model.description = description
        model.buffers = self.buffers
        model.signatureDefs = [sig]
        builder = flatbuffers.Builder(1024)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())


def _tensor_map(s: ModuleType, name: str, index: int) -> Any:
    m = s.TensorMapT()
    m.name, m.tensorIndex = name, index
    return m


class _AlignedBufferT:
    """A ``BufferT`` whose bytes start on a ``_ALIGN``-byte boundary of the file."""

    def __init__(self, schema: ModuleType) -> None:
        self.s = schema
        self.data: npt.NDArray[np.uint8] | None = None

    def Pack(self, builder: Any) -> int:  # the object API calls it by this name
        assert self.data is not None
        payload = self.data.tobytes()
        builder.StartVector(1, len(payload), _ALIGN)
        builder.head -= len(payload)
        builder.Bytes[builder.head : builder.head + len(payload)] = payload
        builder.vectorNumElems = len(payload)
        data = builder.EndVector()
        self.s.BufferStart(builder)
        self.s.BufferAddData(builder, data)
        return self.s.BufferEnd(builder)


def tflite_model(
    weights: GRUWeights,
    *,
    n_streams: int = 1,
    packet_size: int | None = None,
    storage: TfliteStorage = "float32",
    int8_mode: Int8Mode = "dequantize",
) -> bytes:
    """The ``.tflite`` file of ``weights``, as bytes (see the module docstring for the graph).

    Parameters
    ----------
    weights : GRUWeights
        Float32 weights in PyTorch's layout, 1 or more layers.
    n_streams : int
        Streams (shoes) per invoke, the inputs' stream axis; other counts work after
        ``resize_tensor_input``.
    packet_size : int or None
        None for the per-step graph (x: (n_streams, n_inputs)); K ≥ 1 for the packet graph
        that runs K samples of every stream in one invoke (x: (K, n_streams, n_inputs)).
    storage : {"float32", "int8"}
        Weight storage; int8 is per-output-channel symmetric
        (:func:`edge.model.quant.quantize_int8`), biases stay float32.
    int8_mode : {"dequantize", "hybrid"}
        For int8: DEQUANTIZE ops to float compute (matches NumPy on the dequantised weights),
        or dynamic-range FULLY_CONNECTED (activations rounded to int8; not within 1e-4).

    Returns
    -------
    bytes
        A TFLite flatbuffer ("TFL3"), schema version 3.
    """
    weights.validate()
    if n_streams < 1:
        raise ValueError(f"n_streams={n_streams!r}; need at least 1 stream")
    if packet_size is not None and packet_size < 1:
        raise ValueError(f"packet_size={packet_size!r}; use None (per-step) or K >= 1")
    if storage not in ("float32", "int8"):
        raise ValueError(f"storage={storage!r}; expected 'float32' or 'int8' (float16: use int8)")
    if int8_mode not in ("dequantize", "hybrid"):
        raise ValueError(f"int8_mode={int8_mode!r}; expected 'dequantize' or 'hybrid'")

    g = _Graph(_schema())
    hybrid = storage == "int8" and int8_mode == "hybrid"
    hid, n_layers, n_in = weights.hidden, weights.n_layers, weights.n_inputs
    n, k = n_streams, packet_size or 1

    def weight(name: str, w: npt.NDArray[np.float32]) -> int:
        if storage == "float32":
            return g.const(name, np.asarray(w, np.float32))
        q, scale = quantize_int8(w)
        t = g.const(f"{name}/int8", q, scale)
        return t if hybrid else g.unary("DEQUANTIZE", t, name)

    x_shape = (n, n_in) if packet_size is None else (k, n, n_in)
    x_in = g.tensor("x", x_shape)
    h_in = g.tensor("h", (n, n_layers, hid))
    if n_layers == 1:
        h_layers = [g.reshape(h_in, (n, hid), 0, "h/flat")]
    else:
        h_flat = g.reshape(h_in, (n, n_layers * hid), 0, "h/flat")
        h_layers = g.split(h_flat, 1, n_layers, "h/layers")

    seq = x_in  # this layer's input over the K steps: (K, n, in) or (K·n, in)
    finals: list[int] = []
    for layer in range(n_layers):
        p = f"l{layer}"
        w_ih = weight(f"{p}/w_ih", weights.w_ih[layer])
        w_hh = weight(f"{p}/w_hh", weights.w_hh[layer])
        b_ih = g.const(f"{p}/b_ih", np.asarray(weights.b_ih[layer], np.float32))
        b_hh = g.const(f"{p}/b_hh", np.asarray(weights.b_hh[layer], np.float32))
        gi_all = g.fc(seq, w_ih, b_ih, f"{p}/gi", hybrid)  # (K·n, 3H)
        gi_steps = [gi_all] if k == 1 else g.split(gi_all, 0, k, f"{p}/gi_t")
        h = h_layers[layer]
        outs = []
        for t, gi in enumerate(gi_steps):
            q = f"{p}/t{t}"
            gh = g.fc(h, w_hh, b_hh, f"{q}/gh", hybrid)
            i_r, i_z, i_n = g.split(gi, 1, 3, f"{q}/gi_rzn")
            h_r, h_z, h_n = g.split(gh, 1, 3, f"{q}/gh_rzn")
            r = g.unary("LOGISTIC", g.binary("ADD", i_r, h_r, f"{q}/r_pre"), f"{q}/r")
            z = g.unary("LOGISTIC", g.binary("ADD", i_z, h_z, f"{q}/z_pre"), f"{q}/z")
            rn = g.binary("MUL", r, h_n, f"{q}/r_hn")
            n_gate = g.unary("TANH", g.binary("ADD", i_n, rn, f"{q}/n_pre"), f"{q}/n")
            diff = g.binary("SUB", h, n_gate, f"{q}/h_minus_n")
            h = g.binary("ADD", n_gate, g.binary("MUL", z, diff, f"{q}/z_diff"), f"{q}/h")
            outs.append(h)
        finals.append(h)
        seq = outs[0] if k == 1 else g.concat(outs, 0, f"{p}/out")  # (K·n, H)

    w_out = weight("head/w", weights.w_out)
    b_out = g.const("head/b", np.asarray(weights.b_out, np.float32))
    y = g.fc(seq, w_out, b_out, "head/y" if packet_size is None else "head/y_flat", hybrid)
    if packet_size is not None:
        y = g.reshape(y, (k, n, weights.n_outputs), 1, "head/y")
    h_cat = finals[0] if n_layers == 1 else g.concat(finals, 1, "h_out/flat")
    h_out = g.reshape(h_cat, (n, n_layers, hid), 0, "h_out")
    g.tensors[y].name = "y"
    desc = (
        f"gaitedge GRU {'per-step' if packet_size is None else f'packet K={k}'}: "
        f"layers={n_layers} hidden={hid} inputs={n_in} outputs={weights.n_outputs} "
        f"weights={storage}{'/' + int8_mode if storage == 'int8' else ''}"
    )
    return g.finish([x_in, h_in], [y, h_out], desc)


def export_tflite(
    weights: GRUWeights,
    path: str | os.PathLike[str],
    *,
    n_streams: int = 1,
    packet_size: int | None = None,
    storage: TfliteStorage = "float32",
    int8_mode: Int8Mode = "dequantize",
) -> Path:
    """Write :func:`tflite_model` to ``path`` (parent directories created); return the path."""
    data = tflite_model(
        weights,
        n_streams=n_streams,
        packet_size=packet_size,
        storage=storage,
        int8_mode=int8_mode,
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return out
