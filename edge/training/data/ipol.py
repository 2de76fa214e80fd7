"""ipol-gait recordings as :class:`~edge.training.data.trial.Trial` objects with gait targets."""

from __future__ import annotations

import numpy as np

from edge.training.data.targets import gait_targets
from edge.training.data.trial import Trial
from firmware_bridge.sim.walks import Recording


def trial_from_recording(rec: Recording, *, turn_margin_s: float = 0.5) -> Trial:
    """An ipol-gait :class:`~firmware_bridge.sim.walks.Recording` with its gait targets.

    Targets ``phase_cos``, ``phase_sin``, ``stance``; masks ``in_trial``, ``scored``,
    ``steady``; events ``heel_strike``, ``toe_off`` (see :func:`gait_targets`). The subject
    is ``meta["Subject"]`` as a string (the trial name's part before ``-`` if absent).
    """
    t = gait_targets(
        rec.counter,
        rec.meta,
        rec.side,
        sample_rate_hz=rec.sample_rate_hz,
        turn_margin_s=turn_margin_s,
    )
    subject = str(rec.meta.get("Subject", rec.name.split("-")[0]))
    return Trial(
        subject=subject,
        name=rec.name,
        side=rec.side,
        sample_rate_hz=rec.sample_rate_hz,
        counter=rec.counter,
        imu=rec.imu.astype(np.float32, copy=False),
        targets={"phase_cos": t.phase_cos, "phase_sin": t.phase_sin, "stance": t.stance},
        masks={"in_trial": t.in_trial, "scored": t.scored, "steady": t.steady},
        events={"heel_strike": t.heel_strikes, "toe_off": t.toe_offs},
    )
