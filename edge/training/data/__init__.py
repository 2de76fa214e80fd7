"""Training and evaluation data, offline only.

- :mod:`~edge.training.data.trial`: :class:`Trial` (one foot's recording, targets, masks)
  and the column names (:data:`CHANNEL_COLUMNS`, :func:`unit_of`).
- :mod:`~edge.training.data.targets`: gait phase, stance and scoring masks from footstep
  events (:func:`gait_targets`).
- :mod:`~edge.training.data.formats`: the plain per-trial format, ``*.npz`` / ``*.csv``
  (its docstring is the format's reference); :func:`save_trial`, :func:`load_trial`.
- :mod:`~edge.training.data.ipol`: ipol-gait recordings as trials.
- :mod:`~edge.training.data.load`: a folder of either layout (:func:`load_dataset`).
- :mod:`~edge.training.data.split`: leave-subjects-out folds (:func:`split_by_subject`).
"""

from edge.errors import DatasetError
from edge.training.data.formats import load_trial, save_trial
from edge.training.data.ipol import trial_from_recording
from edge.training.data.load import load_dataset
from edge.training.data.split import split_by_subject
from edge.training.data.targets import Targets, gait_targets
from edge.training.data.trial import CHANNEL_COLUMNS, Trial, subject_key, unit_of

__all__ = [
    "CHANNEL_COLUMNS",
    "DatasetError",
    "Targets",
    "Trial",
    "gait_targets",
    "load_dataset",
    "load_trial",
    "save_trial",
    "split_by_subject",
    "subject_key",
    "trial_from_recording",
    "unit_of",
]
