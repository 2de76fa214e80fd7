"""Shared fixtures: the bundled recording everywhere, the full data set where it exists."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.recording import Recording, bundled_recording, find_ipol_dir


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
