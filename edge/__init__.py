"""The runtime: what runs on the Pi beside the shoes, and the offline tools around it.

Online (what a live trial loads):

- :mod:`edge.model`: the GRU engine, weights, model files, what outputs mean.
- :mod:`edge.events`: the causal gait-event detector.
- :mod:`edge.clock`: device clock → host clock.
- :mod:`edge.runtime`: the live loop (transports → model → events → store) and replay.
- :mod:`edge.store`: the per-deployment trial store (SQLite, WAL).

Offline and around it:

- :mod:`edge.training`: training data, training (PyTorch), scoring; never loaded live.
- :mod:`edge.export`: CSV / Parquet export of a stored trial.
- :mod:`edge.config`: the TOML file for ``gaitedge run``.
- :mod:`edge.progress`: progress bars.
- :mod:`edge.cli`: ``gaitedge``.

The stable entry points are importable from here::

    from edge import TrialInfo, TrialRecorder, TrialStore, load_model
"""

from edge.clock import ClockMap
from edge.events import GaitEvent, GaitEventDetector
from edge.model.backends import make_backend
from edge.model.files import Model, ModelFileError, default_model_dir, load_model
from edge.runtime import TrialRecorder, replay_trial
from edge.store import StoreError, TrialInfo, TrialStore
from firmware_bridge.errors import GaitedgeError

__all__ = [
    "ClockMap",
    "GaitEvent",
    "GaitEventDetector",
    "GaitedgeError",
    "Model",
    "ModelFileError",
    "StoreError",
    "TrialInfo",
    "TrialRecorder",
    "TrialStore",
    "default_model_dir",
    "load_model",
    "make_backend",
    "replay_trial",
]
