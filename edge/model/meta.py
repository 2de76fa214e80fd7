"""model.json, typed: :class:`ModelMeta` and its parts, parsed and checked once.

:func:`parse_meta` turns the decoded JSON object into frozen dataclasses and refuses, with
one :class:`~edge.errors.ModelFileError` line, a field that is missing or of the wrong
type. The free-form blocks (``training``, ``metrics``, ``quantization``) stay mappings, as
written. :func:`edge.model.files.save_model` writes the file.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast, get_args

from edge.errors import ModelFileError
from edge.events import GaitEventDetector
from edge.model.quant import Storage

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Architecture",
    "Channel",
    "DetectorSettings",
    "ModelMeta",
    "TfliteTwin",
    "WeightFile",
    "parse_meta",
]

#: The model.json layout this gaitedge reads and writes: format name and version.
FORMAT = "gaitedge-model"
FORMAT_VERSION = 1


@dataclasses.dataclass(frozen=True, slots=True)
class Channel:
    """One input or output channel: name and unit (``"m/s^2"``, ``"rad/s"``, ``"1"`` …)."""

    name: str
    unit: str


@dataclasses.dataclass(frozen=True, slots=True)
class Architecture:
    """model.json ``architecture``: a GRU stack and its linear head (sizes, parameter count)."""

    type: str
    layers: int
    hidden: int
    inputs: int
    outputs: int
    parameters: int


@dataclasses.dataclass(frozen=True, slots=True)
class WeightFile:
    """A weight file beside model.json: name, SHA-256 (hex) and storage."""

    file: str
    sha256: str
    storage: Storage = "float32"


@dataclasses.dataclass(frozen=True, slots=True)
class TfliteTwin:
    """A .tflite graph of the same weights: name, storage, SHA-256, and K for a packet graph."""

    file: str
    storage: str
    sha256: str
    packet_size: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class DetectorSettings:
    """model.json ``detector``: keyword arguments of :class:`edge.events.GaitEventDetector`.

    A field left None takes the detector's default.
    """

    min_stride_ms: float | None = None
    hysteresis: float | None = None
    stance_offset_samples: float | None = None
    hs_phase_window: tuple[float, float] | None = None
    to_phase_window: tuple[float, float] | None = None
    max_delay_ms: float | None = None
    max_gap_ms: float | None = None
    min_phase_norm: float | None = None

    def kwargs(self) -> dict[str, Any]:
        """The settings given, as keyword arguments of the detector."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) is not None
        }


@dataclasses.dataclass(frozen=True)
class ModelMeta:
    """model.json, checked.

    Attributes
    ----------
    name : str
        Model name (the directory's name when model.json has none).
    inputs : tuple of Channel
        Input channels in the order the network takes them.
    sample_rate_hz : float
        Rate the model was trained at, Hz.
    mean, std : tuple of float
        Normalisation, one per input: the network sees ``(x - mean) / std``.
    outputs : tuple of Channel
        Output channels in the order the head produces them.
    architecture : Architecture
    weights : WeightFile
        ``model.npz``.
    weights_float32 : WeightFile or None
        The float32 copy of int8 or float16 weights (``model_float32.npz``), if written.
    tflite : mapping of role to TfliteTwin
        The .tflite twins by role, ``step`` and ``packet`` (either may be absent).
    detector : DetectorSettings
        The event detector the model ships with (all defaults when model.json has none).
    quantization, training, metrics : mapping
        Free-form blocks as written (empty when absent): each storage's size and error,
        what the weights were fitted on, the cross-validation scores.
    validation_subjects : tuple of str
        ``training.validation_subjects``: the subjects a fold model never saw.
    limits : tuple of str
        Known limits, one sentence each.
    citation : str or None
        Citation of the training data.
    """

    name: str
    inputs: tuple[Channel, ...]
    sample_rate_hz: float
    mean: tuple[float, ...]
    std: tuple[float, ...]
    outputs: tuple[Channel, ...]
    architecture: Architecture
    weights: WeightFile
    weights_float32: WeightFile | None
    tflite: Mapping[str, TfliteTwin]
    detector: DetectorSettings
    quantization: Mapping[str, Any]
    training: Mapping[str, Any]
    metrics: Mapping[str, Any]
    validation_subjects: tuple[str, ...]
    limits: tuple[str, ...]
    citation: str | None


_TWIN_ROLES = ("step", "packet")
_SIZES = ("layers", "hidden", "inputs", "outputs", "parameters")


class _Reader:
    """Typed reads from the JSON object of ``source``, each failing with one line."""

    def __init__(self, source: Path | str) -> None:
        self.source = source

    def fail(self, where: str, expected: str) -> ModelFileError:
        return ModelFileError(
            f"{self.source}: missing or malformed field {where} (expected {expected}); "
            "re-export the model"
        )

    def block(self, raw: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(raw, Mapping):
            raise self.fail(where, "an object")
        return raw

    def optional_block(self, raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
        value = raw.get(key)
        return {} if value is None else self.block(value, key)

    def get(
        self,
        raw: Mapping[str, Any],
        key: str,
        where: str,
        kind: type | tuple[type, ...],
        expected: str,
    ) -> Any:
        value = raw.get(key)
        if kind is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, kind)
        if not ok:
            raise self.fail(f"{where}{key}", expected)
        return value

    def text(self, raw: Mapping[str, Any], key: str, where: str = "") -> str:
        return cast(str, self.get(raw, key, where, str, "a string"))

    def integer(self, raw: Mapping[str, Any], key: str, where: str = "") -> int:
        return cast(int, self.get(raw, key, where, int, "an integer"))

    def number(self, raw: Mapping[str, Any], key: str, where: str = "") -> float:
        value = float(self.get(raw, key, where, float, "a number"))
        if not math.isfinite(value):  # JSON from Python may hold NaN or Infinity
            raise self.fail(f"{where}{key}", "a finite number")
        return value

    def numbers(self, raw: Mapping[str, Any], key: str, where: str = "") -> tuple[float, ...]:
        values = self.get(raw, key, where, (list, tuple), "a list of numbers")
        if not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in values
        ):
            raise self.fail(f"{where}{key}", "a list of finite numbers")
        return tuple(float(v) for v in values)

    def texts(self, raw: Mapping[str, Any], key: str, where: str = "") -> tuple[str, ...]:
        values = raw.get(key, [])
        if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
            raise self.fail(f"{where}{key}", "a list of strings")
        return tuple(values)

    def channels(self, raw: Any, where: str) -> tuple[Channel, ...]:
        if not isinstance(raw, list):
            raise self.fail(where, "a list of {name, unit}")
        out = []
        for i, c in enumerate(raw):
            c = self.block(c, f"{where}[{i}]")
            if set(c) != {"name", "unit"}:
                raise self.fail(f"{where}[{i}]", "exactly name and unit")
            at = f"{where}[{i}]."
            out.append(Channel(self.text(c, "name", at), self.text(c, "unit", at)))
        return tuple(out)

    def weight_file(self, raw: Any, where: str, *, storage: bool) -> WeightFile:
        w = self.block(raw, where)
        file, digest = self.text(w, "file", f"{where}."), self.text(w, "sha256", f"{where}.")
        if not storage:
            return WeightFile(file, digest)
        kind = self.text(w, "storage", f"{where}.")
        if kind not in get_args(Storage):
            raise self.fail(f"{where}.storage", " or ".join(get_args(Storage)))
        return WeightFile(file, digest, cast(Storage, kind))

    def twin(self, raw: Any, role: str) -> TfliteTwin:
        where = f"tflite.{role}"
        t = self.block(raw, where)
        return TfliteTwin(
            file=self.text(t, "file", f"{where}."),
            storage=self.text(t, "storage", f"{where}."),
            sha256=self.text(t, "sha256", f"{where}."),
            packet_size=self.integer(t, "packet_size", f"{where}.") if role == "packet" else None,
        )

    def detector(self, raw: Mapping[str, Any], sample_rate_hz: float) -> DetectorSettings:
        known = [f.name for f in dataclasses.fields(DetectorSettings)]
        settings: dict[str, Any] = {}
        for key in raw:
            if key not in known:
                raise ModelFileError(
                    f"{self.source}: detector setting {key!r} is unknown (known: "
                    f"{', '.join(known)}); re-export the model"
                )
            if key.endswith("_window"):
                pair = self.numbers(raw, key, "detector.")
                if len(pair) != 2:
                    raise self.fail(f"detector.{key}", "two numbers")
                settings[key] = pair
            else:
                settings[key] = self.number(raw, key, "detector.")
        out = DetectorSettings(**settings)
        try:
            GaitEventDetector(sampling_rate_hz=sample_rate_hz, **out.kwargs())
        except ValueError as e:
            raise ModelFileError(f"{self.source}: detector settings: {e}") from None
        return out


def parse_meta(raw: Any, source: Path | str) -> ModelMeta:
    """model.json's decoded object as a :class:`ModelMeta`; ``source`` is the file's path.

    The format and version are checked first, then every field the runtime reads:
    ModelFileError (one line) for anything missing or of the wrong type.
    """
    r = _Reader(source)
    raw = r.block(raw, "(top level)")
    version = raw.get("format_version")
    if raw.get("format") != FORMAT or version != FORMAT_VERSION:
        raise ModelFileError(
            f"{source}: format {raw.get('format')!r} version {version!r}; this gaitedge "
            f"reads {FORMAT} version {FORMAT_VERSION}: update gaitedge or re-export"
        )
    inputs = r.block(raw.get("inputs"), "inputs")
    rate = r.number(inputs, "sample_rate_hz", "inputs.")
    norm = r.block(raw.get("normalisation"), "normalisation")
    arch = r.block(raw.get("architecture"), "architecture")
    twins = r.optional_block(raw, "tflite")
    for role in twins:
        if role not in _TWIN_ROLES:
            raise r.fail(f"tflite.{role}", "the roles step and packet only")
    training = r.optional_block(raw, "training")
    float_copy = raw.get("weights_float32")
    citation = raw.get("citation")
    if citation is not None and not isinstance(citation, str):
        raise r.fail("citation", "a string")
    return ModelMeta(
        name=r.text(raw, "name") if "name" in raw else Path(source).parent.name,
        inputs=r.channels(inputs.get("channels"), "inputs.channels"),
        sample_rate_hz=rate,
        mean=r.numbers(norm, "mean", "normalisation."),
        std=r.numbers(norm, "std", "normalisation."),
        outputs=r.channels(raw.get("outputs"), "outputs"),
        architecture=Architecture(
            type=r.text(arch, "type", "architecture."),
            **{k: r.integer(arch, k, "architecture.") for k in _SIZES},
        ),
        weights=r.weight_file(raw.get("weights"), "weights", storage=True),
        weights_float32=(
            None if not float_copy else r.weight_file(float_copy, "weights_float32", storage=False)
        ),
        tflite={role: r.twin(twins[role], role) for role in _TWIN_ROLES if role in twins},
        detector=r.detector(r.optional_block(raw, "detector"), rate),
        quantization=r.optional_block(raw, "quantization"),
        training=training,
        metrics=r.optional_block(raw, "metrics"),
        validation_subjects=r.texts(training, "validation_subjects", "training."),
        limits=r.texts(raw, "limits"),
        citation=citation,
    )
