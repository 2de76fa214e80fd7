"""A study's worth of trials as one Parquet data set, appended to from many Pis, read in
place by DuckDB, pyarrow, Polars, Dask and Spark (the ``report`` extra: pyarrow).

Layout: one hive-partitioned data set per table, so that every engine reads a table with
one schema and no conversion::

    DIR/<table>/study=<study>/shoe=<shoe>/subject=<subject>/trial=<uuid>/part-0.parquet

``<table>`` is ``samples`` (every received sample, the model's outputs as columns, as in
:mod:`edge.export`), ``events``, ``gaps``, ``strides`` (:mod:`edge.strides`) and
``trials`` (one row: the trial's metadata, the insoles' sample rate and its stride summary
as JSON). Every row of
every table carries the trial's metadata as columns (``condition``, ``shoe_model``,
``shoe_size``, ``surface``, ``operator``, ``model_name``, ``model_sha256``,
``gaitedge_version``, ``start_unix_s``, ``status``); ``study``, ``shoe``, ``subject`` and
``trial`` come from the path (hive partitioning), so they are not repeated in the files.
Partition values are made safe for paths (letters, digits, ``-``, ``_``, ``.``; anything
else becomes ``_``; the original text is in the ``trials`` table).

``trial`` is a UUID made from the trial itself (the writing host, its start time and its
id in that store: :func:`trial_uuid`), so the same trial exported twice, from a copy of
the store or again after a crash, is the same trial and replaces itself, while trials of
different Pis never collide.

Appending is crash-safe: a trial is written whole into ``DIR/_incoming/<uuid>/`` first
(files flushed to disk), then each table's folder is renamed into place, ``trials`` last:
a reader never sees a half-written file, and a reader that starts from ``trials`` never
sees a trial whose tables are not all in place. What a crash leaves in ``_incoming`` is
removed by the next export of that trial. Readers: see the README ("A study's data set").
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.compare.design import StudyTrial, day_start
from edge.export import trial_tables
from edge.store import TrialRecord, TrialStore
from edge.strides.analysis import StrideTable

__all__ = [
    "META_COLUMNS",
    "TABLES",
    "dataset_trials",
    "export_to_dataset",
    "partition_value",
    "trial_parts",
    "trial_uuid",
    "write_trial",
]

#: The tables of a data set, ``trials`` last (it marks a trial complete).
TABLES = ("samples", "events", "gaps", "strides", "trials")
#: The trial's metadata, a column of every table.
META_COLUMNS = (
    "condition", "shoe_model", "shoe_size", "surface", "operator", "model_name",
    "model_sha256", "gaitedge_version", "start_unix_s", "status",
)  # fmt: skip
_NAMESPACE = uuid.UUID("6f0c1b9e-3a52-4d0e-9d7a-5e2b8f1c4a70")  # gaitedge trials


def trial_uuid(trial: TrialRecord) -> str:
    """A trial's id across every store: from its writing host, start time and store id."""
    key = f"{trial.writer_host}|{trial.writer_boot_id}|{trial.start_unix_s!r}|{trial.id}"
    return str(uuid.uuid5(_NAMESPACE, key))


def partition_value(text: str) -> str:
    """``text`` safe as a folder name and a hive value (never empty, never ``..``)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", text.strip())
    return safe if safe.strip(".") else "_"


def _write(path: Path, table: dict[str, npt.NDArray[Any]], meta: dict[str, Any]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = len(next(iter(table.values()))) if table else 0
    cols = {k: pa.array(v.tolist() if v.dtype == object else v) for k, v in table.items()}
    for k in META_COLUMNS:
        cols[k] = pa.array([meta[k]] * n, type=pa.float64() if k == "start_unix_s" else pa.string())
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        pq.write_table(pa.table(cols), f)
        f.flush()
        os.fsync(f.fileno())


def trial_parts(study: str, shoe: str, subject: str, uuid_text: str) -> tuple[str, ...]:
    """The hive partition folders of one trial."""
    return (
        f"study={partition_value(study)}", f"shoe={partition_value(shoe or 'unknown')}",
        f"subject={partition_value(subject or 'unknown')}", f"trial={uuid_text}",
    )  # fmt: skip


def write_trial(
    root: Path,
    parts: Sequence[str],
    tables: dict[str, dict[str, npt.NDArray[Any]]],
    meta: dict[str, Any],
) -> Path:
    """Write one trial's tables (each of :data:`TABLES`) into the data set, crash-safe
    (module docstring); returns its ``trials`` folder."""
    tid = parts[-1].removeprefix("trial=")
    incoming = root / "_incoming" / tid
    if incoming.exists():
        shutil.rmtree(incoming)  # what an earlier crash left
    for name in TABLES:
        _write(incoming / name / "part-0.parquet", tables[name], meta)
    for name in TABLES:  # into place, trials last
        final = root.joinpath(name, *parts)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():  # the same trial again: replace it
            final.rename(incoming / f"{name}.old")
        (incoming / name).rename(final)
    shutil.rmtree(incoming)
    return root.joinpath("trials", *parts)


def export_to_dataset(
    store: TrialStore, trial_id: int, root: str | os.PathLike[str], *, study: str = "default"
) -> Path:
    """Append (or replace) one finished trial in the data set at ``root``; returns its
    ``trials`` folder. Raises ``ValueError`` for a trial still recording."""
    from edge.strides.analysis import summarise
    from edge.strides.stored import stored_table
    from edge.strides.text import json_ready

    rec = store.trial(trial_id)
    if rec.status == "recording":
        raise ValueError(f"trial {trial_id} is still recording; export it when it has ended")
    root = Path(root)
    tid = trial_uuid(rec)
    parts = trial_parts(study, rec.shoe, rec.subject, tid)
    meta: dict[str, Any] = {k: getattr(rec, k) for k in META_COLUMNS}
    meta["status"] = rec.status
    tables: dict[str, dict[str, npt.NDArray[Any]]] = dict(trial_tables(store, trial_id))
    table = stored_table(store, trial_id)
    tables["trials"] = {
        "study_text": np.array([study], dtype=object),
        "shoe_text": np.array([rec.shoe], dtype=object),
        "subject_text": np.array([rec.subject], dtype=object),
        "source_trial_id": np.array([rec.id], dtype=np.int64),
        "writer_host": np.array([rec.writer_host], dtype=object),
        "end_unix_s": np.array([np.nan if rec.end_unix_s is None else rec.end_unix_s]),
        "notes": np.array([rec.notes], dtype=object),
        "sample_rate_hz": np.array(
            [next(iter(rec.devices.values())).sample_rate_hz if rec.devices else np.nan]
        ),
        "stride_summary_json": np.array(
            [json.dumps(json_ready(summarise(table))) if table is not None else ""], dtype=object
        ),
    }
    return write_trial(root, parts, tables, meta)


def dataset_trials(
    root: str | Path,
    *,
    shoes: Sequence[str] | None = None,
    subjects: Sequence[str] | None = None,
    condition: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> tuple[list[StudyTrial], list[str]]:
    """The trials of a data set that match, with their strides, as
    :func:`edge.compare.design.select_trials` gives them from a store: its ``trials`` and
    ``strides`` tables, read in place with pyarrow. Oldest first."""
    import pyarrow.dataset as pads

    root = Path(root)
    if not (root / "trials").is_dir() or not (root / "strides").is_dir():
        raise ValueError(f"{root}: no trials/ and strides/ tables; is it a gaitedge data set?")
    t0 = day_start(since, "--since") if since else -math.inf
    t1 = day_start(until, "--until") + 86400.0 if until else math.inf
    meta = pads.dataset(root / "trials", format="parquet", partitioning="hive").to_table()
    rows = meta.to_pylist()
    strides = pads.dataset(root / "strides", format="parquet", partitioning="hive").to_table()
    trial_col = np.asarray(strides.column("trial").to_pylist())
    names = [n for n in strides.column_names if n not in ("study", "shoe", "subject", "trial")]
    arrays = {n: strides.column(n).to_numpy(zero_copy_only=False) for n in names}
    out = []
    for r in sorted(rows, key=lambda r: r["start_unix_s"]):
        shoe, subject = r["shoe_text"], r["subject_text"]
        if (shoes is not None and shoe not in shoes) or (
            subjects is not None and subject not in subjects
        ):
            continue
        if condition is not None and r["condition"] != condition:
            continue
        if not t0 <= r["start_unix_s"] < t1:
            continue
        sel = trial_col == str(r["trial"])
        cols = {n: np.asarray(a[sel]) for n, a in arrays.items()}
        for flag in ("steady", "turn", "short", "bout_edge"):
            cols[flag] = cols[flag].astype(bool)
        table = StrideTable(columns=cols, dropped={}, smoothed=True)
        out.append(
            StudyTrial(str(r["trial"]), subject, shoe, r["condition"], r["start_unix_s"], table)
        )
    return out, []
