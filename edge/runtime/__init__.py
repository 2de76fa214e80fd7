"""The live loop: transports → decoder → clock map → GRU (both shoes batched) → events → store.

- :mod:`.recorder`: :class:`TrialRecorder`, one trial of up to two shoes.
- :mod:`.stepper`: :class:`Stepper`, the model side (packets, one batched engine call, events).
- :mod:`.replay`: :func:`replay_trial`, a stored trial through the model side again.

Imports only :mod:`edge.model`, :mod:`edge.events`, :mod:`edge.clock`, :mod:`edge.store`
and :mod:`firmware_bridge` (never training code or the simulator; a test reads the imports).
"""

from edge.runtime.recorder import ShoeStats, TrialRecorder
from edge.runtime.replay import replay_trial, segment_starts
from edge.runtime.stepper import Stepper

__all__ = ["ShoeStats", "Stepper", "TrialRecorder", "replay_trial", "segment_starts"]
