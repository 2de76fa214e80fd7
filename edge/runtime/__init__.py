"""The live loop: transports → decoder → clock map → GRU (both shoes batched) → events → sink.

- :mod:`.recorder`: :class:`TrialRecorder`, one trial of up to two shoes.
- :mod:`.link`: :class:`ShoeStats`, one shoe's link state and live counts.
- :mod:`.stepper`: :class:`Stepper`, the model side (packets, one batched engine call, events).
- :mod:`.sink`: :class:`TrialSink`, where a trial's data goes; :class:`StoreSink` (the store).
- :mod:`.replay`: :func:`replay_trial`, a stored trial through the model side again.
- :mod:`.summary`: :func:`summarize`, a stored trial in a few figures per shoe.

Imports only :mod:`edge.model`, :mod:`edge.events`, :mod:`edge.clock`, :mod:`edge.store`
and :mod:`firmware_bridge` (never training code or the simulator; a test reads the imports).
"""

from edge.runtime.link import ShoeStats
from edge.runtime.recorder import TrialRecorder
from edge.runtime.replay import replay_trial, segment_starts
from edge.runtime.sink import StoreSink, TrialSink
from edge.runtime.stepper import Stepper
from edge.runtime.summary import ShoeSummary, TrialSummary, summarize

__all__ = [
    "ShoeStats",
    "ShoeSummary",
    "Stepper",
    "StoreSink",
    "TrialRecorder",
    "TrialSink",
    "TrialSummary",
    "replay_trial",
    "segment_starts",
    "summarize",
]
