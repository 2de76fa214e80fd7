"""A data folder (ipol-gait or plain per-trial files) as a list of trials."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from edge.errors import DatasetError
from edge.training.data.formats import load_trial
from edge.training.data.ipol import trial_from_recording
from edge.training.data.trial import Trial
from firmware_bridge.sim.walks import load_ipol


def _ipol_trial_names(gait: Path) -> list[str]:
    def key(name: str) -> tuple[int, ...] | tuple[str]:
        parts = name.split("-")
        return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else (name,)

    names = [p.stem for p in gait.glob("*.json")]
    return sorted(names, key=key)  # type: ignore[arg-type]


def load_dataset(
    data_dir: str | os.PathLike[str], *, trials: Iterable[str] | None = None
) -> list[Trial]:
    """Every trial in a data folder, as :class:`Trial` objects.

    Parameters
    ----------
    data_dir : path-like
        A folder laid out like ipol-gait (holding ``GaitData/``): both feet of every
        trial with gait targets (:func:`trial_from_recording`), ordered by subject, trial,
        then L before R. Any other folder: every ``*.npz`` and ``*.csv`` below it in the
        plain per-trial format (module docstring), in path order.
    trials : iterable of str, optional
        ipol-gait only: load just these trials (names like ``"1-6"``).

    Raises
    ------
    DatasetError
        Missing or empty folder, unknown layout, unreadable trial file.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder; DATA_DIR must be a folder of trials")
    gait = root / "GaitData"
    if gait.is_dir():
        names = _ipol_trial_names(gait)
        if trials is not None:
            wanted = list(trials)
            unknown = [t for t in wanted if t not in names]
            if unknown:
                raise DatasetError(
                    f"no trial(s) {', '.join(unknown)} in {gait}; names look like "
                    f"{names[0] if names else '1-6'!r}"
                )
            names = wanted
        if not names:
            raise DatasetError(f"{gait} holds no <trial>.json; is it an ipol-gait copy?")
        return [
            trial_from_recording(load_ipol(root, name, side))
            for name in names
            for side in ("L", "R")
        ]
    if trials is not None:
        raise DatasetError(f"trials= only applies to the ipol-gait layout; {root} has no GaitData/")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".npz", ".csv"))
    if not files:
        if not any(root.iterdir()):
            raise DatasetError(
                f"{root} is empty; put one *.npz or *.csv per trial in it (see "
                "edge.training.data.formats) or point DATA_DIR at an ipol-gait folder "
                "(with GaitData/)"
            )
        raise DatasetError(
            f"unknown layout in {root}: no GaitData/ (ipol-gait) and no *.npz / *.csv trial "
            "files (plain format, see edge.training.data.formats)"
        )
    return [load_trial(p) for p in files]
