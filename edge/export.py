"""Export a stored trial to CSV (stdlib) or Parquet (the ``report`` extra: pyarrow).

``gaitedge export TRIAL --db STORE --out DIR [--format csv,parquet]`` writes, per trial:

``trial-<id>-samples.csv|.parquet``
    One row per received sample of either shoe, in arrival order per shoe (left first):
    ``side``; ``counter`` (the device's sample counter; a jump is lost samples);
    ``t_host_s`` (unix seconds, the device clock mapped onto the host's); ``t_device_us``;
    ``acc_x_mps2`` … ``acc_z_mps2`` [m/s², gravity included], ``gyr_x_radps`` …
    ``gyr_z_radps`` [rad/s], insole frame; ``pressure_<i>_kpa`` [kPa] per cell when the
    insole has them; then the model's outputs as the loop stored them, one column each,
    named by the model (``phase_cos``, ``phase_sin`` [1]; ``stance`` is a probability, 0–1).
``trial-<id>-events.csv|.parquet``
    One row per gait event: ``side``, ``kind`` (``HS`` heel strike, ``TO`` toe-off),
    ``counter_at`` (when it happened, in samples, may lie between two), ``t_at_s`` (that
    instant on the host axis, unix s, interpolated), ``counter_reported``, ``t_reported_s``.
``trial-<id>-gaps.csv|.parquet``
    Lost-sample runs: ``side``, ``first_counter``, ``n_lost``, ``reason``
    (``bridged``: the model ran on; ``reset``: too long, its state was reset).
``trial-<id>-strides.csv|.parquet``
    One row per stride (:mod:`edge.strides`, every definition there): ``side``,
    ``counter_start``, ``counter_end``, ``t_start_s``, ``t_end_s``, each parameter named
    with its unit (``stride_length_m``, ``strike_angle_deg`` …), ``strike_class``, and the
    steady-walking flags ``steady``, ``turn``, ``short``, ``bout_edge`` (True/False).
``trial-<id>.json``
    The trial's metadata (subject, shoe, condition … , model name and hash, start, end,
    status), its devices, output names and errors; under ``strides``: how they were
    computed (``source``: ``offline`` smoothed or ``live``; ``dropped``; ``geometry``) and
    the trial summary (mean, SD, CV per foot over steady strides, symmetry index).

CSV: comma-separated, a header row, ``.`` decimals, full float precision, empty = none.
Every file is written as ``<name>.part`` and renamed when complete: a full disk or a kill
leaves no truncated file under a final name.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.store import TrialStore

__all__ = ["FORMATS", "export_trial", "trial_tables", "write_csv"]

FORMATS = ("csv", "parquet")
_IMU = ("acc_x_mps2", "acc_y_mps2", "acc_z_mps2", "gyr_x_radps", "gyr_y_radps", "gyr_z_radps")


def trial_tables(store: TrialStore, trial_id: int) -> dict[str, dict[str, npt.NDArray[Any]]]:
    """The trial as column tables: ``samples``, ``events``, ``gaps``, ``strides``
    (name → 1-D array)."""
    sides = sorted(store.trial(trial_id).devices or ("L", "R"))
    parts: list[dict[str, npt.NDArray[Any]]] = []
    times: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]] = {}
    for side in sides:
        s = store.samples(trial_id, side)
        n = len(s.counter)
        if n == 0:
            continue
        cols: dict[str, npt.NDArray[Any]] = {
            "side": np.full(n, side),
            "counter": s.counter,
            "t_host_s": s.t_host,
            "t_device_us": s.t_device_us,
        }
        for j, name in enumerate(_IMU):
            cols[name] = s.imu[:, j]
        if s.pressure is not None:
            for j in range(s.pressure.shape[1]):
                cols[f"pressure_{j}_kpa"] = s.pressure[:, j]
        counter, outputs, names = store.predictions(trial_id, side)
        # one prediction per sample, stored in the same order; a trial cut short by a
        # kill may lack the last packet's: those cells stay empty (NaN)
        k = min(len(counter), n)
        if not np.array_equal(counter[:k], s.counter[:k]):
            raise ValueError(f"trial {trial_id} {side}: predictions do not follow the samples")
        for j, name in enumerate(names):
            col = np.full(n, np.nan, np.float32)
            col[:k] = outputs[:k, j]
            cols[name] = col
        parts.append(cols)
        order = np.argsort(s.counter, kind="stable")
        times[side] = (s.counter[order], s.t_host[order])
    samples: dict[str, npt.NDArray[Any]] = {}
    if parts:
        keys = list(dict.fromkeys(k for p in parts for k in p))
        for key in keys:
            filled = []
            for p in parts:
                n = len(p["counter"])
                filled.append(p[key] if key in p else np.full(n, np.nan, np.float32))
            samples[key] = np.concatenate(filled)

    def host_at(side: str, c: float) -> float:
        if side not in times:
            return float("nan")
        cs, ts = times[side]
        return float(np.interp(c, cs, ts))

    ev = store.events(trial_id)
    events = {
        "side": np.array([e.side for e in ev], dtype=object),
        "kind": np.array([e.kind for e in ev], dtype=object),
        "counter_at": np.array([e.counter_at for e in ev], dtype=np.float64),
        "t_at_s": np.array([host_at(e.side, e.counter_at) for e in ev], dtype=np.float64),
        "counter_reported": np.array([e.counter_reported for e in ev], dtype=np.int64),
        "t_reported_s": np.array([e.t_host for e in ev], dtype=np.float64),
    }
    gp = store.gaps(trial_id)
    gaps = {
        "side": np.array([g.side for g in gp], dtype=object),
        "first_counter": np.array([g.first_counter for g in gp], dtype=np.int64),
        "n_lost": np.array([g.n_lost for g in gp], dtype=np.int64),
        "reason": np.array([g.reason for g in gp], dtype=object),
    }
    strides = store.strides(trial_id).columns
    return {"samples": samples, "events": events, "gaps": gaps, "strides": strides}


def write_csv(path: Path, table: dict[str, npt.NDArray[Any]]) -> None:
    """Write a column table (name → 1-D array) as CSV in this module's format (floats in
    full precision, NaN empty), atomically (``<name>.part``, then renamed)."""
    _atomically(path, functools.partial(_write_csv, table=table))


def _write_csv(path: Path, table: dict[str, npt.NDArray[Any]]) -> None:
    names = list(table)
    n = len(next(iter(table.values()))) if table else 0
    # float → repr (full precision), NaN → empty
    cols = []
    for name in names:
        a = table[name]
        if a.dtype.kind == "f":
            cols.append(["" if v != v else repr(v) for v in a.tolist()])
        else:
            cols.append([str(v) for v in a.tolist()])
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(names)
        w.writerows(zip(*cols, strict=True) if n else [])


def _write_parquet(path: Path, table: dict[str, npt.NDArray[Any]], meta: dict[str, Any]) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError(
            "Parquet export needs pyarrow: pip install 'gaitedge[report]' (or use --format csv)"
        ) from None
    arrays = {k: pa.array(v.tolist() if v.dtype == object else v) for k, v in table.items()}
    t = pa.table(arrays, metadata={"gaitedge_trial": json.dumps(meta, default=str)})
    pq.write_table(t, path)


def _strides_meta(store: TrialStore, trial_id: int) -> dict[str, Any] | None:
    """How the trial's strides were computed, and their summary (None if never measured)."""
    from edge.strides.analysis import summarise
    from edge.strides.stored import stored_table
    from edge.strides.text import json_ready

    rows = store.strides(trial_id)
    table = stored_table(store, trial_id)
    if table is None:
        return None
    return {
        "source": rows.source,
        "dropped": rows.dropped,
        "geometry": rows.geometry,
        "summary": json_ready(summarise(table)),
    }


def export_trial(
    store: TrialStore,
    trial_id: int,
    out_dir: str | os.PathLike[str],
    *,
    formats: tuple[str, ...] = ("csv",),
) -> list[Path]:
    """Write the trial's tables and metadata into ``out_dir``; return the files written."""
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ValueError(f"formats {formats!r}: choose from {', '.join(FORMATS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = dataclasses.asdict(store.trial(trial_id))
    meta["errors"] = [dataclasses.asdict(e) for e in store.errors(trial_id)]
    meta["strides"] = _strides_meta(store, trial_id)
    tables = trial_tables(store, trial_id)
    written = []
    for name, table in tables.items():
        for fmt in formats:
            path = out / f"trial-{trial_id}-{name}.{fmt}"
            if fmt == "csv":
                write_csv(path, table)
            else:
                _atomically(path, functools.partial(_write_parquet, table=table, meta=meta))
            written.append(path)
    path = out / f"trial-{trial_id}.json"
    text = json.dumps(meta, indent=2, default=str) + "\n"
    _atomically(path, lambda p: p.write_text(text))
    written.append(path)
    return written


def _atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Write ``path`` through ``<name>.part`` and rename it into place when complete, so a
    full disk or a kill never leaves a truncated file under the final name."""
    part = path.with_name(path.name + ".part")
    try:
        write(part)
        with part.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
