"""Which trials a comparison uses, and each subject's mean per shoe.

A footwear comparison is within-subject: each subject walked in each shoe, perhaps several
trials per shoe, in any order. A trial counts by its steady strides (both feet pooled;
:mod:`edge.strides.analysis` says which are steady); its value for a parameter is the mean
over those strides, and a subject's value for a shoe is the mean of its trials' values
(each trial weighs the same, however long).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Sequence

import numpy as np

from edge.store import TrialStore
from edge.strides.analysis import FLOAT_COLUMNS, StrideTable
from edge.strides.stored import stored_table, trial_curves

__all__ = [
    "StudyTrial",
    "TrialQuality",
    "day_start",
    "select_trials",
    "subject_curves",
    "subject_means",
    "trial_means",
    "trial_quality",
]


@dataclasses.dataclass(frozen=True, slots=True)
class StudyTrial:
    """One trial of a study: who, which shoe, when, and its strides.

    Attributes
    ----------
    trial : str
        Its id (a store's trial id as text, or a data set's name).
    subject, shoe, condition : str
    start_unix_s : float
    strides : StrideTable
    """

    trial: str
    subject: str
    shoe: str
    condition: str
    start_unix_s: float
    strides: StrideTable


def day_start(text: str, flag: str) -> float:
    """Unix time of the start of day ``text`` (``2026-11-30``); ValueError naming ``flag``."""
    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise ValueError(f"{flag} {text!r}: give a date like 2026-11-30") from None


def select_trials(
    store: TrialStore,
    *,
    shoes: Sequence[str] | None = None,
    subjects: Sequence[str] | None = None,
    condition: str | None = None,
    since: str | None = None,
    until: str | None = None,
    curves: bool = False,
) -> tuple[list[StudyTrial], list[str]]:
    """The finished trials of a store that match, with their strides (``curves``: measured
    again with their gait-cycle curves, :func:`~edge.strides.stored.trial_curves`).

    Returns
    -------
    trials : list of StudyTrial
        Oldest first; only trials whose strides were measured and that have a subject and a
        shoe.
    skipped : list of str
        One line per matching trial left out, and why.
    """
    t0 = day_start(since, "--since") if since else -math.inf
    t1 = day_start(until, "--until") + 86400.0 if until else math.inf
    out: list[StudyTrial] = []
    skipped: list[str] = []
    for rec in store.trials():
        if shoes is not None and rec.shoe not in shoes:
            continue
        if subjects is not None and rec.subject not in subjects:
            continue
        if condition is not None and rec.condition != condition:
            continue
        if not t0 <= rec.start_unix_s < t1:
            continue
        if rec.status == "recording":
            skipped.append(f"trial {rec.id}: still recording")
            continue
        if not rec.subject or not rec.shoe:
            skipped.append(f"trial {rec.id}: no subject or no shoe entered")
            continue
        table = stored_table(store, rec.id)
        if table is None:
            skipped.append(f"trial {rec.id}: strides never measured (gaitedge strides {rec.id})")
            continue
        if curves and len(table):
            again = trial_curves(store, rec.id)
            if len(again) == len(table):  # the same strides, with their curves
                table = again
            else:
                skipped.append(
                    f"trial {rec.id}: no gait-cycle curves (its samples give {len(again)} "
                    f"strides, the store holds {len(table)}; gaitedge replay {rec.id} measures "
                    "it again)"
                )
        out.append(
            StudyTrial(str(rec.id), rec.subject, rec.shoe, rec.condition, rec.start_unix_s, table)
        )
    return out, skipped


def trial_means(trial: StudyTrial, parameters: Iterable[str] = FLOAT_COLUMNS) -> dict[str, float]:
    """A trial's value per parameter: the mean over its steady strides, both feet (NaN if
    none has it)."""
    c = trial.strides.columns
    steady = c["steady"]
    out = {}
    for p in parameters:
        v = c[p][steady]
        v = v[np.isfinite(v)]
        out[p] = float(v.mean()) if len(v) else math.nan
    return out


def subject_means(
    trials: Sequence[StudyTrial], parameters: Sequence[str] = FLOAT_COLUMNS
) -> dict[tuple[str, str], dict[str, float]]:
    """``(subject, shoe)`` → parameter → the mean of that subject's trial values in that
    shoe (NaN where no trial has it)."""
    per: dict[tuple[str, str], list[dict[str, float]]] = {}
    for t in trials:
        per.setdefault((t.subject, t.shoe), []).append(trial_means(t, parameters))
    out: dict[tuple[str, str], dict[str, float]] = {}
    for key, rows in per.items():
        out[key] = {}
        for p in parameters:
            v = np.array([r[p] for r in rows])
            v = v[np.isfinite(v)]
            out[key][p] = float(v.mean()) if len(v) else math.nan
    return out


def subject_curves(
    trials: Sequence[StudyTrial],
) -> dict[tuple[str, str], dict[str, np.ndarray]]:
    """``(subject, shoe)`` → curve name → the mean gait-cycle curve, (m,): over each
    trial's steady strides with a whole cycle, then over the trials. Trials without curves
    (:attr:`StrideTable.curves` empty) do not count."""
    per: dict[tuple[str, str], dict[str, list[np.ndarray]]] = {}
    for t in trials:
        steady = t.strides.columns["steady"]
        for name, rows in t.strides.curves.items():
            x = rows[steady]
            x = x[np.isfinite(x).all(axis=1)]
            if len(x):
                per.setdefault((t.subject, t.shoe), {}).setdefault(name, []).append(x.mean(0))
    return {k: {n: np.mean(v, axis=0) for n, v in c.items()} for k, c in per.items()}


@dataclasses.dataclass(frozen=True, slots=True)
class TrialQuality:
    """One trial's data quality and provenance (a row of the report's quality table)."""

    trial: str
    subject: str
    shoe: str
    status: str
    lost_pct: float
    gaps: int
    strides: int
    steady: int
    dropped: int
    model: str
    model_sha256: str
    gaitedge_version: str


def trial_quality(store: TrialStore, trial: StudyTrial) -> TrialQuality:
    """A trial's data quality and provenance: lost % of samples (both shoes), gaps,
    strides (all, steady, left out), the model and gaitedge that recorded it."""
    rec = store.trial(int(trial.trial))
    gaps = store.gaps(rec.id)
    lost = sum(g.n_lost for g in gaps)
    received = sum(len(store.samples(rec.id, side).counter) for side in rec.devices)
    return TrialQuality(
        trial=trial.trial, subject=trial.subject, shoe=trial.shoe, status=rec.status,
        lost_pct=100.0 * lost / (lost + received) if lost + received else math.nan,
        gaps=sum(1 for g in gaps if g.n_lost), strides=len(trial.strides),
        steady=int(trial.strides.columns["steady"].sum()),
        dropped=sum(trial.strides.dropped.values()),
        model=rec.model_name, model_sha256=rec.model_sha256,
        gaitedge_version=rec.gaitedge_version,
    )  # fmt: skip
