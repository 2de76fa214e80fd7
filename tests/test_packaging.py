"""What the extras install where: the markers say what the wheels on the index allow."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def _extra(name: str) -> list[Requirement]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [Requirement(r) for r in meta["project"]["optional-dependencies"][name]]


def test_litert_is_in_the_tflite_extra_on_a_pi_with_python_3_13() -> None:
    """Issue 14: the marker left LiteRT out on aarch64 Python 3.13, though LiteRT 2.3 ships
    manylinux_2_27 aarch64 wheels for cp311-cp313 (Bookworm and Trixie take them)."""
    for machine in ("aarch64", "x86_64"):
        for python in ("3.11", "3.12", "3.13"):
            env = {"platform_machine": machine, "python_version": python}
            assert any(
                r.name == "ai-edge-litert" and (r.marker is None or r.marker.evaluate(env))
                for r in _extra("tflite")
            ), (machine, python)
