"""The TOML configuration of ``gaitedge run``: everything its flags set, in one file.

``gaitedge run --config lab.toml`` reads it; a flag given on the command line wins over
the file, the file over the built-in default. An unknown key or a value of the wrong type
is refused with one line naming the key. Example (every key optional)::

    db = "/data/gaitedge/trials.db"      # the deployment's trial store
    model = "/opt/gaitedge/models/gait-phase"
    backend = "numpy"                     # or "tflite"
    duration = 600                        # s; omit to record until Ctrl-C / SIGTERM

    [shoes]
    left = "serial:///dev/serial/by-id/usb-Acme_Insole_L-if00"
    right = "ble://AA:BB:CC:DD:EE:FF"

    [trial]                               # what the operator would type
    subject = "P07"
    shoe = "A"
    shoe_model = "Runner 3"
    shoe_size = "42"
    condition = "treadmill 1.2 m/s"
    surface = "treadmill"
    operator = "jd"
    notes = ""

    [runtime]
    max_bridge_ms = 200.0                 # longer gaps reset the model state
    max_wait_s = 0.5                      # a silent shoe stops holding the other back
"""

from __future__ import annotations

import math
import os
import tomllib
from pathlib import Path
from typing import Any

from edge.errors import ConfigError
from edge.store import OPERATOR_FIELDS

__all__ = ["NUMBERS", "RUN_KEYS", "ConfigError", "check_number", "load_run_config"]


#: Dotted TOML key → (argparse destination, type, allowed values or None).
RUN_KEYS: dict[str, tuple[str, type, tuple[str, ...] | None]] = {
    "db": ("db", Path, None),
    "model": ("model", Path, None),
    "backend": ("backend", str, ("numpy", "tflite")),
    "duration": ("duration", float, None),
    "shoes.left": ("left", str, None),
    "shoes.right": ("right", str, None),
    **{f"trial.{k}": (k, str, None) for k in OPERATOR_FIELDS},
    "runtime.max_bridge_ms": ("max_bridge_ms", float, None),
    "runtime.max_wait_s": ("max_wait_s", float, None),
}


#: The numeric settings and what they must be: ``True`` strictly positive, ``False`` >= 0.
#: The config file and the command line check them alike (:func:`check_number`).
NUMBERS = {"duration": True, "max_bridge_ms": False, "max_wait_s": True}


def check_number(dest: str, value: object, where: str) -> float:
    """``value`` as the float setting ``dest``, or a ConfigError naming ``where`` (a flag
    or a file's key): finite, and > 0 or >= 0 as :data:`NUMBERS` says."""
    positive = NUMBERS.get(dest, False)
    bad = isinstance(value, bool) or not isinstance(value, int | float)
    if not bad:
        f = float(value)  # type: ignore[arg-type]
        bad = not math.isfinite(f) or f < 0 or (positive and f == 0)
    if bad:
        need = "a number > 0" if positive else "a number >= 0"
        raise ConfigError(f"{where} must be {need}, not {value!r}")
    return f


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def load_run_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The file's settings as argparse destinations → values (checked, converted)."""
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such config file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: not valid TOML ({e})") from None
    out: dict[str, Any] = {}
    for key, value in _flatten(raw).items():
        if key not in RUN_KEYS:
            raise ConfigError(f"{p}: unknown key {key!r}; known keys: {', '.join(RUN_KEYS)}")
        dest, kind, allowed = RUN_KEYS[key]
        if kind is float:
            value = check_number(dest, value, f"{p}: {key}")
        elif not isinstance(value, str):
            raise ConfigError(f"{p}: {key} must be a string, not {value!r}")
        elif allowed is not None and value not in allowed:
            raise ConfigError(f"{p}: {key} is {value!r}; choose one of {', '.join(allowed)}")
        out[dest] = kind(value) if kind is Path else value
    return out
