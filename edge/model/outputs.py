"""What a model's outputs mean at run time: activation and the gait-event detector.

Shared by the live loop (:mod:`edge.runtime`) and offline scoring
(:mod:`edge.training.evaluate`), so both read a model's outputs the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from edge.events import GaitEventDetector
from edge.model.files import Model

__all__ = ["GAIT_OUTPUTS", "activate", "is_gait_model", "make_detector"]

#: The outputs of a gait-phase model, in the order the event detector takes them.
GAIT_OUTPUTS: tuple[str, str, str] = ("phase_cos", "phase_sin", "stance")


def activate(y: npt.NDArray[np.float32], units: Sequence[str]) -> npt.NDArray[np.float32]:
    """Outputs with every ``"logit"`` channel turned into a probability (σ); others as is.

    ``y`` : (..., n_outputs); ``units`` : the model's output units, in order.
    """
    out = np.array(y, dtype=np.float32, copy=True)
    for k, unit in enumerate(units):
        if unit == "logit":
            out[..., k] = 1.0 / (1.0 + np.exp(-out[..., k]))
    return out


def make_detector(model: Model, sample_rate_hz: float) -> GaitEventDetector:
    """The event detector the model was shipped with (model.json ``detector``, checked by
    :func:`edge.model.files.load_model`)."""
    return GaitEventDetector(sampling_rate_hz=sample_rate_hz, **model.meta.detector.kwargs())


def is_gait_model(model: Model) -> bool:
    """Whether ``model`` reports gait phase and stance (scored by phase and events)."""
    names = {c.name for c in model.outputs}
    return all(n in names for n in GAIT_OUTPUTS)
