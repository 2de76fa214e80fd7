"""Shared fixtures: the bundled recording everywhere, the full data set where it exists."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

from firmware_bridge.sim.walks import Recording, bundled_recording, find_ipol_dir

# CI replays the same examples every run (a corrupted frame passes CRC-16 by chance about
# once in 65,536, which random exploration would eventually hit); local runs explore anew.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _seed_numpy() -> None:
    np.random.seed(0)


@pytest.fixture(scope="session")
def walk_left() -> Recording:
    """The bundled 14 s of real walking, left foot (ships with the package)."""
    return bundled_recording("L")


@pytest.fixture(scope="session")
def walk_right() -> Recording:
    """The bundled 14 s of real walking, right foot."""
    return bundled_recording("R")


@pytest.fixture(scope="session")
def ipol_dir() -> Path:
    """The full ipol-gait recordings ($GAITEDGE_IPOL_DIR, then ../shared); skip if absent."""
    found = find_ipol_dir()
    if found is None:
        pytest.skip(
            "full ipol-gait recordings not found: set GAITEDGE_IPOL_DIR or put ../shared "
            "beside the project (CI has them)"
        )
    return found


def capture_of(path: Path, rec: Recording, *, paced: bool = False) -> str:
    """Write ``rec`` as the raw capture a live session would record; its replay URL.

    ``paced``: frames carry the times they were sent, and the URL replays them at real
    time; otherwise they all carry one instant and replay as fast as possible.
    """
    import time

    from firmware_bridge.sim.insole import InsoleSimulator
    from firmware_bridge.transports.capture import CaptureWriter

    w = CaptureWriter(path, source="test")
    t0 = time.monotonic()
    for t_s, frame in InsoleSimulator(rec).frames():
        w.write(frame, t0 + t_s if paced else None)
    w.close()
    return f"replay://{path}" + ("?speed=1" if paced else "")
