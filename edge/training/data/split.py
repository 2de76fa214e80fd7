"""Leave-subjects-out folds: accuracy is scored on subjects a model never saw."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edge.errors import DatasetError
from edge.training.data.trial import Trial, subject_key


def split_by_subject(
    trials: Sequence[Trial], n_folds: int, seed: int = 0
) -> list[tuple[list[Trial], list[Trial]]]:
    """Leave-subjects-out folds: each subject is validation in exactly one fold.

    Parameters
    ----------
    trials : sequence of Trial
        The data set.
    n_folds : int
        Folds, 2 ≤ n_folds ≤ number of subjects; subjects are shuffled with ``seed`` and
        dealt into folds of sizes differing by at most one.
    seed : int
        Seed of the shuffle; the same seed and trials give the same folds.

    Returns
    -------
    list of (train, val)
        One pair per fold; trial order within each list follows ``trials``. No subject is
        in both lists of a pair.
    """
    subjects = sorted({t.subject for t in trials}, key=subject_key)
    if not 2 <= n_folds <= len(subjects):
        raise DatasetError(
            f"n_folds is {n_folds!r} but there are {len(subjects)} subjects; choose "
            f"2 <= n_folds <= {len(subjects)}"
        )
    order = np.random.default_rng(seed).permutation(len(subjects))
    chunks = np.array_split(order, n_folds)
    folds = []
    for chunk in chunks:
        val_subjects = {subjects[i] for i in chunk}
        train = [t for t in trials if t.subject not in val_subjects]
        val = [t for t in trials if t.subject in val_subjects]
        folds.append((train, val))
    return folds
