"""What several command groups share: model flags, the store check, signal handling."""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

from edge.store import SCHEMA_VERSION, TrialStore, schema_version
from firmware_bridge.errors import GaitedgeError


def model_args(p: argparse.ArgumentParser, backend_default: str | None = "numpy") -> None:
    p.add_argument("--model", type=Path, help="model directory (default: models/gait-phase)")
    p.add_argument("--backend", choices=("numpy", "tflite"), default=backend_default,
                   help="engine (default numpy; tflite needs the tflite extra)")  # fmt: skip


_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}


def shown(text: object) -> str:
    """``text`` safe for a terminal: control characters (an escape sequence in a trial's
    notes, a bell in a subject code) written as ``\\xNN`` instead of acted on."""
    return str(text).translate(_CONTROL)


def existing_store(path: Path) -> None:
    """Refuse, in one line, a --db that does not exist (opening would create an empty one)."""
    if not path.exists():
        raise GaitedgeError(f"{path}: no trial store there; give --db PATH")


def reading_store(path: Path) -> TrialStore:
    """An existing store opened for reading; one of an older schema is upgraded first
    (opened read-write once, which is how a store upgrades)."""
    existing_store(path)
    if schema_version(path) < SCHEMA_VERSION:
        TrialStore(path).close()
    return TrialStore(path, read_only=True)


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM (Ctrl-C, ``systemctl stop``) in the running loop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
