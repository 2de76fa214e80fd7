"""Model files: a directory ``models/<name>/`` with the weights, what they expect, and a card.

::

    models/<name>/
        model.json     format version, inputs (channels, units, order, rate), normalisation,
                       outputs, architecture, weight files with their SHA-256, training
                       data and metrics
        model.npz      GRU weights, arrays only (loaded with allow_pickle=False), named as in
                       PyTorch's state_dict; int8, float16 or float32 (``edge.model.quant``)
        model.tflite   the same model for LiteRT (optional; listed in model.json)
        CARD.md        what it was trained on, how well it does, its limits

Loading checks everything and fails with one :class:`ModelFileError` line that names the
file, the problem and the fix; model.json is read into a typed :class:`ModelMeta`
(:mod:`edge.model.meta`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from edge.errors import ModelFileError
from edge.model.card import model_card
from edge.model.gru import GRUWeights
from edge.model.meta import FORMAT, FORMAT_VERSION, Channel, ModelMeta, parse_meta
from edge.model.quant import Storage, storage_error, weights_from_arrays, weights_to_arrays

if TYPE_CHECKING:
    from edge.model.backends import Backend, BackendKind

__all__ = [
    "DEFAULT_MODEL",
    "FORMAT_VERSION",
    "Channel",
    "Model",
    "ModelFileError",
    "ModelMeta",
    "default_model_dir",
    "load_model",
    "save_model",
]

#: Channels an insole can provide, with their SI unit (PROTOCOL.md; decoder output order).
DEVICE_CHANNELS: dict[str, str] = {
    "acc_x": "m/s^2", "acc_y": "m/s^2", "acc_z": "m/s^2",
    "gyr_x": "rad/s", "gyr_y": "rad/s", "gyr_z": "rad/s",
}  # fmt: skip


def pressure_channels(n: int) -> dict[str, str]:
    """Names and unit of ``n`` pressure cells (``pressure_0`` … in kPa)."""
    return {f"pressure_{i}": "kPa" for i in range(n)}


@dataclasses.dataclass(frozen=True)
class Model:
    """A loaded, checked model.

    Attributes
    ----------
    path : Path
        The model directory.
    meta : ModelMeta
        model.json, typed.
    weights : GRUWeights
        Float32 weights (dequantised once if stored as int8 or float16).
    mean, std : ndarray, shape (n_inputs,), float32
        Normalisation: the network sees ``(x - mean) / std``.
    """

    path: Path
    meta: ModelMeta
    weights: GRUWeights
    mean: npt.NDArray[np.float32]
    std: npt.NDArray[np.float32]

    @property
    def name(self) -> str:
        """Model name."""
        return self.meta.name

    @property
    def inputs(self) -> tuple[Channel, ...]:
        """Input channels in the order the network takes them."""
        return self.meta.inputs

    @property
    def outputs(self) -> tuple[Channel, ...]:
        """Output channels in the order the head produces them."""
        return self.meta.outputs

    @property
    def sample_rate_hz(self) -> float:
        """Rate the model was trained at, Hz."""
        return self.meta.sample_rate_hz

    @property
    def storage(self) -> Storage:
        """How the weights are stored in the file: float32, float16 or int8."""
        return self.meta.weights.storage

    def float_weights(self) -> GRUWeights:
        """The float32 weights the stored ones were made from (``model_float32.npz``).

        A model stored as float32 returns its weights; others need the float copy that
        ``save_model(..., float_copy=True)`` writes (hash-checked like the rest).
        """
        if self.storage == "float32":
            return self.weights
        entry = self.meta.weights_float32
        if entry is None:
            raise ModelFileError(
                f"{self.path}: no float32 copy of the {self.storage} weights; re-export with "
                "float_copy=True (gaitedge train writes one)"
            )
        path = self.path / entry.file
        weights = _load_weights(path, entry.sha256)
        if weights.n_params != self.weights.n_params or weights.hidden != self.weights.hidden:
            raise ModelFileError(
                f"{path}: the float32 copy does not match {self.meta.weights.file} "
                "(shapes differ); re-export the model"
            )
        return weights

    @property
    def packet_size(self) -> int | None:
        """K of the packet graph, if the model has one."""
        packet = self.meta.tflite.get("packet")
        return None if packet is None else packet.packet_size

    def backend(self, kind: BackendKind = "numpy", *, xnnpack: bool = True) -> Backend:
        """An engine over this model: ``numpy`` (the weights) or ``tflite`` (the twins)."""
        from edge.model.backends import make_backend

        if kind == "numpy":
            return make_backend(self.weights, "numpy")
        step, packet = self.meta.tflite.get("step"), self.meta.tflite.get("packet")
        if step is None:
            raise ModelFileError(
                f"model {self.name!r} has no .tflite twin; re-export it with tflite=True "
                "or use the numpy backend"
            )
        return make_backend(
            self.path / step.file,
            "tflite",
            packet_model=None if packet is None else self.path / packet.file,
            xnnpack=xnnpack,
        )

    def normalise(self, x: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """``(x - mean) / std`` as float32; ``x`` (..., n_inputs) in the input units."""
        return ((np.asarray(x, dtype=np.float32) - self.mean) / self.std).astype(np.float32)

    def check_device(
        self, channels: Mapping[str, str], sample_rate_hz: float, *, rate_tolerance: float = 0.01
    ) -> None:
        """Refuse a device that cannot feed this model (ModelFileError, one line).

        Parameters
        ----------
        channels : mapping of name to unit
            What the device provides, e.g. ``DEVICE_CHANNELS | pressure_channels(8)``.
        sample_rate_hz : float
            The device's announced rate, Hz.
        rate_tolerance : float
            Largest relative rate difference accepted (1 % by default).
        """
        missing = [c.name for c in self.inputs if c.name not in channels]
        if missing:
            raise ModelFileError(
                f"model {self.name!r} needs {', '.join(missing)}, which the device does not "
                f"send (it sends {', '.join(channels)}); pick a model trained on these channels"
            )
        for c in self.inputs:
            if channels[c.name] != c.unit:
                raise ModelFileError(
                    f"model {self.name!r} takes {c.name} in {c.unit}, the device sends "
                    f"{channels[c.name]}; the device or model metadata is wrong"
                )
        if abs(sample_rate_hz - self.sample_rate_hz) > rate_tolerance * self.sample_rate_hz:
            raise ModelFileError(
                f"model {self.name!r} was trained at {self.sample_rate_hz:g} Hz, the device "
                f"samples at {sample_rate_hz:g} Hz; set the insole to {self.sample_rate_hz:g} Hz "
                "or use a model trained at its rate"
            )


#: The model the runtime uses when none is named.
DEFAULT_MODEL = "gait-phase"


def default_model_dir(name: str = DEFAULT_MODEL) -> Path:
    """Directory of a shipped model (``models/<name>`` in the repository, installed as the
    ``gaitedge_models`` package)."""
    from importlib.resources import files

    return Path(str(files("gaitedge_models") / name))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _save_npz(path: Path, arrays: Mapping[str, Any]) -> None:
    """``np.savez`` of named arrays (values typed Any: the stub reads ``**`` as its flags)."""
    np.savez(path, **arrays)


def save_model(
    directory: str | os.PathLike[str],
    weights: GRUWeights,
    *,
    name: str,
    inputs: Sequence[Channel],
    outputs: Sequence[Channel],
    mean: npt.ArrayLike,
    std: npt.ArrayLike,
    sample_rate_hz: float,
    storage: Storage = "int8",
    packet_size: int | None = 4,
    tflite: bool = True,
    reference_input: npt.ArrayLike | None = None,
    card: str | None = None,
    extra: Mapping[str, Any] | None = None,
    float_copy: bool = False,
) -> Path:
    """Write a model directory: ``model.npz``, ``model.json``, the .tflite twins, ``CARD.md``.

    Parameters
    ----------
    storage : {"float32", "float16", "int8"}
        How ``model.npz`` stores the weights; the .tflite twins are int8 when this is int8,
        else float32.
    packet_size : int or None
        K of the packet graph ``model_packet.tflite`` (samples per stream per invoke); None
        writes only the per-step graph.
    tflite : bool
        Write the .tflite twins (needs ``pip install 'gaitedge[tflite]'``).
    reference_input : array (T, n_streams, n_inputs), optional
        Real input in the input units; when given, model.json and the card report each
        storage's size and output error against float32 on it (``edge.model.quant``).
    card : str, optional
        CARD.md text; by default one is generated from the metadata.
    extra : mapping, optional
        Merged into model.json (training data, metrics …).
    float_copy : bool
        Also write the float32 weights as ``model_float32.npz`` (for comparing storages,
        :meth:`Model.float_weights`).

    Returns the path of model.json.
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    weights.validate()
    npz = d / "model.npz"
    _save_npz(npz, weights_to_arrays(weights, storage))
    files: dict[str, Any] = {}
    if tflite:
        from edge.model.tflite_export import export_tflite

        twin: Literal["float32", "int8"] = "int8" if storage == "int8" else "float32"
        step_path = export_tflite(weights, d / "model.tflite", storage=twin)
        files["step"] = {"file": step_path.name, "storage": twin, "sha256": _sha256(step_path)}
        if packet_size is not None:
            packet_path = export_tflite(
                weights, d / "model_packet.tflite", storage=twin, packet_size=packet_size
            )
            files["packet"] = {
                "file": packet_path.name,
                "storage": twin,
                "packet_size": packet_size,
                "sha256": _sha256(packet_path),
            }
    meta: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "inputs": {
            "channels": [dataclasses.asdict(c) for c in inputs],
            "sample_rate_hz": sample_rate_hz,
        },
        "normalisation": {
            "mean": np.asarray(mean, dtype=float).tolist(),
            "std": np.asarray(std, dtype=float).tolist(),
        },
        "outputs": [dataclasses.asdict(c) for c in outputs],
        "architecture": {
            "type": "gru",
            "layers": weights.n_layers,
            "hidden": weights.hidden,
            "inputs": weights.n_inputs,
            "outputs": weights.n_outputs,
            "parameters": weights.n_params,
        },
        "weights": {"file": npz.name, "storage": storage, "sha256": _sha256(npz)},
        "tflite": files,
    }
    if float_copy and storage != "float32":
        fpath = d / "model_float32.npz"
        _save_npz(fpath, weights_to_arrays(weights, "float32"))
        meta["weights_float32"] = {"file": fpath.name, "sha256": _sha256(fpath)}
    if reference_input is not None:
        x = (np.asarray(reference_input, np.float32) - np.asarray(mean, np.float32)) / np.asarray(
            std, np.float32
        )
        meta["quantization"] = storage_error(weights, x)
    meta.update(extra or {})
    path = d / "model.json"
    path.write_text(json.dumps(meta, indent=2) + "\n")
    (d / "CARD.md").write_text(card if card is not None else model_card(parse_meta(meta, path)))
    return path


def _load_weights(npz_path: Path, digest: str) -> GRUWeights:
    """Weights from an npz whose SHA-256 must be ``digest``; ModelFileError otherwise."""
    if not npz_path.is_file():
        raise ModelFileError(f"{npz_path}: weight file is missing; copy the whole model folder")
    actual = _sha256(npz_path)
    if actual != digest:
        raise ModelFileError(
            f"{npz_path}: SHA-256 {actual[:12]}… does not match model.json ({digest[:12]}…); "
            "the weights were changed or damaged: copy the model folder again"
        )
    try:
        with np.load(npz_path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        weights = weights_from_arrays(arrays)
        weights.validate()
    except (ValueError, OSError, zipfile.BadZipFile) as e:
        raise ModelFileError(f"{npz_path}: {e}; re-export the model") from None
    return weights


def load_model(directory: str | os.PathLike[str]) -> Model:
    """Load and check a model directory; ModelFileError says what is wrong and how to fix it."""
    d = Path(directory)
    meta_path = d / "model.json"
    if not d.is_dir():
        raise ModelFileError(f"{d}: no such model directory; give a folder like models/gait-phase")
    if not meta_path.is_file():
        raise ModelFileError(f"{d}: model.json is missing; a model directory needs it")
    try:
        raw = json.loads(meta_path.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise ModelFileError(f"{meta_path}: not valid JSON ({e}); re-export the model") from None
    meta = parse_meta(raw, meta_path)
    n_in = len(meta.inputs)
    mean = np.asarray(meta.mean, dtype=np.float32)
    std = np.asarray(meta.std, dtype=np.float32)
    if mean.shape != (n_in,) or std.shape != (n_in,) or not np.all(std > 0):
        raise ModelFileError(
            f"{meta_path}: normalisation needs {n_in} means and {n_in} positive "
            f"stds, one per input channel (got {mean.shape[0]} and {std.shape[0]})"
        )
    npz_path = d / meta.weights.file
    weights = _load_weights(npz_path, meta.weights.sha256)
    arch = meta.architecture
    expected = (n_in, len(meta.outputs), arch.hidden, arch.layers)
    found = (weights.n_inputs, weights.n_outputs, weights.hidden, weights.n_layers)
    if expected != found:
        raise ModelFileError(
            f"{npz_path}: weights are {found[0]} inputs, {found[1]} outputs, hidden {found[2]}, "
            f"{found[3]} layers, model.json says {expected[0]}, {expected[1]}, {expected[2]}, "
            f"{expected[3]}; re-export the model"
        )
    for role, twin in meta.tflite.items():
        twin_path = d / twin.file
        if not twin_path.is_file():
            raise ModelFileError(
                f"{twin_path}: {role} graph is missing; copy the whole model folder"
            )
        if _sha256(twin_path) != twin.sha256:
            raise ModelFileError(
                f"{twin_path}: SHA-256 does not match model.json; the {role} graph was changed "
                "or damaged: copy the model folder again"
            )
    return Model(path=d, meta=meta, weights=weights, mean=mean, std=std)
