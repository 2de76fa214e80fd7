"""A model (and the stride analytics) re-run over a whole study data set, in parallel.

Each trial of a data set (:mod:`edge.dataset`) is independent: :func:`replay_trial_dir`
reads one trial's samples and gaps, runs the model side of the live loop on them
(:class:`edge.runtime.Stepper`, segment ends from the stored gaps, so a trial replayed
with the model it was recorded with gives the very outputs it recorded), detects the gait
events, measures the strides offline, and writes the trial into the output data set
(same study, shoe and subject; a new trial UUID made from the old one and the model's
weights hash, so a replay is a trial of its own and replaying again replaces it).
:func:`replay_dataset` runs it over every trial: local processes by default, or the
workers of a Dask cluster when given its scheduler's address (``dask.distributed``).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.dataset import META_COLUMNS, TABLES, trial_parts, write_trial
from edge.events import GaitEvent
from edge.store import GapRow, StoreHealth

__all__ = ["replay_dataset", "replay_trial_dir", "trial_dirs"]

_SAMPLE_COLUMNS = ("side", "counter", "t_host_s", "t_device_us")
_IMU = ("acc_x_mps2", "acc_y_mps2", "acc_z_mps2", "gyr_x_radps", "gyr_y_radps", "gyr_z_radps")
_NAMESPACE = uuid.UUID("a3c5e1d2-8b6f-4f0a-9e27-1d4b6c8f0e51")  # gaitedge replays


def trial_dirs(root: str | os.PathLike[str]) -> list[tuple[str, ...]]:
    """The partition folders (study, shoe, subject, trial) of every trial of a data set."""
    base = Path(root) / "trials"
    if not base.is_dir():
        raise ValueError(f"{root}: no trials/ table; is it a gaitedge data set?")
    return sorted(p.relative_to(base).parts for p in base.glob("study=*/shoe=*/subject=*/trial=*"))


class _MemorySink:
    """A :class:`~edge.runtime.sink.TrialSink` that keeps the model's outputs and events."""

    trial_id = 0
    health = StoreHealth.OK
    status = "ok"

    def __init__(self) -> None:
        self.outputs: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.events: list[tuple[str, GaitEvent, float]] = []

    def predictions(self, side: str, counter: npt.ArrayLike, outputs: npt.ArrayLike) -> None:
        self.outputs.setdefault(side, []).append((np.array(counter), np.array(outputs)))

    def event(self, side: str, event: GaitEvent, t_host: float) -> None:
        self.events.append((side, event, t_host))

    def device(self, side: str, **kw: Any) -> None: ...
    def samples(self, *a: Any) -> None: ...
    def gap(self, *a: Any) -> None: ...
    def error(self, side: str | None, message: str) -> None: ...
    def strides(self, rows: Any) -> None: ...
    def finish(self, status: Any) -> None: ...


def _read(path: Path) -> dict[str, np.ndarray]:
    import pyarrow.parquet as pq

    t = pq.read_table(path / "part-0.parquet")
    return {n: t.column(n).to_numpy(zero_copy_only=False) for n in t.column_names}


def replay_trial_dir(
    src: str, parts: Sequence[str], model_dir: str, dst: str, backend: str = "numpy"
) -> str:
    """Replay one trial of the data set ``src`` with the model in ``model_dir`` into the
    data set ``dst`` (module docstring); returns the new trial's ``trials`` folder.
    Arguments are plain strings so that a process or a Dask worker can take them."""
    from edge.model.files import load_model
    from edge.runtime.replay import push_segments
    from edge.runtime.stepper import Stepper
    from edge.strides.analysis import FootRecording, summarise, trial_strides
    from edge.strides.stored import geometry_of, host_anchor
    from edge.strides.text import json_ready

    root = Path(src)
    samples = _read(root.joinpath("samples", *parts))
    gaps = _read(root.joinpath("gaps", *parts))
    trial = {k: v[0] for k, v in _read(root.joinpath("trials", *parts)).items()}
    model = load_model(model_dir)
    sides = sorted(set(samples["side"].tolist()))
    sink = _MemorySink()
    stepper = Stepper(model, sides, sink=sink, backend=backend)  # type: ignore[arg-type]
    per_side = {}
    for side in sides:
        sel = samples["side"] == side
        c, h = samples["counter"][sel].astype(np.int64), samples["t_host_s"][sel]
        x = np.stack([samples[k][sel] for k in _IMU], axis=1).astype(np.float32)
        rows = [
            GapRow(side, int(f), int(n), str(r), 0.0)
            for s, f, n, r in zip(gaps["side"], gaps["first_counter"], gaps["n_lost"],
                                  gaps["reason"], strict=True) if s == side
        ]  # fmt: skip
        push_segments(stepper, side, c, h, x, rows)
        per_side[side] = (sel, c, h, x)
    while stepper.step(skip=frozenset(stepper.lanes), max_calls=512):
        stepper.reported.clear()
    names = [o.name for o in model.outputs]
    # samples: the old model's outputs out, the new one's in
    keep = {k: v for k, v in samples.items() if k in _SAMPLE_COLUMNS or k in _IMU
            or k.startswith("pressure_")}  # fmt: skip
    new = {n: np.full(len(samples["side"]), np.nan, np.float32) for n in names}
    feet = []
    rate = float(trial["sample_rate_hz"])
    for side, (sel, c, h, x) in per_side.items():
        got = sink.outputs.get(side, [])
        oc = np.concatenate([g[0] for g in got]) if got else np.zeros(0, np.int64)
        oy = np.concatenate([g[1] for g in got]) if got else np.zeros((0, len(names)))
        where = np.flatnonzero(sel)[: len(oc)]  # outputs follow the samples, in order
        for j, n in enumerate(names):
            new[n][where] = oy[:, j]
        ev = [e for s, e, _ in sink.events if s == side]
        pressure = [k for k in keep if k.startswith("pressure_")]
        feet.append(FootRecording(
            side=side, rate_hz=rate, counter=c, imu=x, t0_s=host_anchor(c, h, rate),  # type: ignore[arg-type]
            heel_strikes=np.array([round(e.counter_at) for e in ev if e.kind == "HS"], np.int64),
            toe_offs=np.array([round(e.counter_at) for e in ev if e.kind == "TO"], np.int64),
            stance_prob=new["stance"][sel].astype(np.float64) if "stance" in new else None,
            pressure=np.stack([samples[k][sel] for k in pressure], 1) if pressure else None,
        ))  # fmt: skip
    table = trial_strides(feet, geometry=geometry_of(str(trial["shoe_size"])))
    events = {
        "side": np.array([s for s, _, _ in sink.events], dtype=object),
        "kind": np.array([e.kind for _, e, _ in sink.events], dtype=object),
        "counter_at": np.array([e.counter_at for _, e, _ in sink.events], np.float64),
        "counter_reported": np.array([e.counter_reported for _, e, _ in sink.events], np.int64),
        "t_reported_s": np.array([t for _, _, t in sink.events], np.float64),
    }
    meta = {k: trial[k] for k in META_COLUMNS}
    meta["model_name"], meta["model_sha256"] = model.name, model.meta.weights.sha256
    old = parts[-1].removeprefix("trial=")
    tid = str(uuid.uuid5(_NAMESPACE, f"{old}|{model.meta.weights.sha256}"))
    trials = {
        k: np.array([v], dtype=object if isinstance(v, str) else None)
        for k, v in trial.items()
        if k not in META_COLUMNS
    }
    trials["replay_of"] = np.array([old], dtype=object)
    trials["stride_summary_json"] = np.array(
        [json.dumps(json_ready(summarise(table)))], dtype=object
    )
    tables = {"samples": {**keep, **new}, "events": events, "gaps": gaps,
              "strides": table.columns, "trials": trials}  # fmt: skip
    assert set(tables) == set(TABLES)
    study = parts[0].removeprefix("study=")
    shoe = parts[1].removeprefix("shoe=")
    subject = parts[2].removeprefix("subject=")
    return str(write_trial(Path(dst), trial_parts(study, shoe, subject, tid), tables, meta))


def replay_dataset(
    src: str | os.PathLike[str],
    model_dir: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    backend: str = "numpy",
    progress: Callable[[int, int], None] | None = None,
) -> list[str]:
    """Replay every trial of ``src`` into ``dst``: ``jobs`` local processes (default: one
    per core), or the Dask cluster at ``scheduler`` (``tcp://host:8786``)."""
    dirs = trial_dirs(src)
    args = [(str(src), d, str(model_dir), str(dst), backend) for d in dirs]
    done: list[str] = []
    if scheduler is not None:
        from dask.distributed import Client, as_completed

        with Client(scheduler) as client:
            futures = [client.submit(replay_trial_dir, *a, pure=False) for a in args]
            for f in as_completed(futures):
                done.append(f.result())
                if progress is not None:
                    progress(len(done), len(args))
        return sorted(done)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for path in pool.map(replay_trial_dir, *zip(*args, strict=True)):
            done.append(path)
            if progress is not None:
                progress(len(done), len(args))
    return sorted(done)
