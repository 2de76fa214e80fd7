"""Recordings in the project's data formats as stride input (:mod:`edge.strides`), per foot."""

from __future__ import annotations

import os
from collections.abc import Iterable

from edge.strides.analysis import FootRecording
from edge.training.data.load import load_dataset
from edge.training.data.trial import Trial

__all__ = ["feet_of", "load_feet"]


def feet_of(trial: Trial) -> FootRecording:
    """One :class:`~edge.training.data.Trial` (one foot) as a :class:`FootRecording`.

    The counter is the shared clock of both feet (ipol-gait's PacketCounter), so sample 0
    sits at ``counter[0] / rate`` on the trial's time axis; the events are the trial's own
    (ipol-gait: the manually checked heel strikes and toe-offs).
    """
    return FootRecording(
        side=trial.side,
        rate_hz=trial.sample_rate_hz,
        counter=trial.counter,
        imu=trial.imu,
        t0_s=float(trial.counter[0]) / trial.sample_rate_hz if len(trial.counter) else 0.0,
        heel_strikes=trial.events.get("heel_strike", trial.counter[:0]),
        toe_offs=trial.events.get("toe_off", trial.counter[:0]),
    )


def load_feet(
    data_dir: str | os.PathLike[str], *, trials: Iterable[str] | None = None
) -> dict[tuple[str, str], list[FootRecording]]:
    """Every trial of a data folder: ``(subject, trial name)`` → its feet, L before R.

    Raises
    ------
    edge.errors.DatasetError
        As :func:`~edge.training.data.load_dataset`.
    """
    out: dict[tuple[str, str], list[FootRecording]] = {}
    for t in load_dataset(data_dir, trials=trials):
        out.setdefault((t.subject, t.name), []).append(feet_of(t))
    return out
