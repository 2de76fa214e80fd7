"""What a store gives back: typed rows and arrays, read in one snapshot.

Each function takes a read connection (inside a read transaction) and returns frozen
dataclasses: :class:`TrialRecord` (with its :class:`DeviceRecord` per side),
:class:`SampleArrays`, :class:`PredictionArrays`, :class:`EventRow`, :class:`GapRow`,
:class:`ErrorRow`. Units are those of :mod:`edge.store.schema`.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from edge.errors import StoreError
from edge.store.schema import (
    IMU_COLUMNS,
    INFO_FIELDS,
    STRIDE_COLUMNS,
    TrialInfo,
)

__all__ = [
    "DeviceRecord",
    "ErrorRow",
    "EventRow",
    "GapRow",
    "PredictionArrays",
    "SampleArrays",
    "StrideRows",
    "TrialRecord",
    "errors",
    "events",
    "gaps",
    "predictions",
    "samples",
    "strides",
    "trial",
    "trials",
]


@dataclasses.dataclass(frozen=True, slots=True)
class DeviceRecord:
    """The insole on one side of a trial (the last one, after a restart)."""

    device_id: int | str
    firmware: str
    sample_rate_hz: float
    channels: list[str]  # e.g. ["acc_x", …]
    units: list[str]  # parallel to channels, e.g. ["m/s^2", …]
    transport: str  # the URL it was opened with
    added_unix_s: float


@dataclasses.dataclass(frozen=True, slots=True)
class TrialRecord:
    """One trial: what the operator entered, the model, status, times [unix s], devices."""

    id: int
    subject: str
    shoe: str
    shoe_model: str
    shoe_size: str
    condition: str
    surface: str
    operator: str
    notes: str
    model_name: str
    model_sha256: str
    gaitedge_version: str
    start_unix_s: float
    end_unix_s: float | None  # None while recording
    last_write_unix_s: float | None  # the last data commit
    status: str  # one of edge.store.schema.STATUSES
    writer_host: str
    writer_boot_id: str
    writer_pid: int | None
    writer_start_ticks: int | None
    devices: dict[str, DeviceRecord]  # by side, "L" / "R"
    outputs: list[str]  # the model's output names

    @property
    def info(self) -> TrialInfo:
        """What was entered for it, as a :class:`TrialInfo` (to start a trial like it)."""
        return TrialInfo(**{f: getattr(self, f) for f in INFO_FIELDS})


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class SampleArrays:
    """One shoe's n samples in arrival order."""

    counter: npt.NDArray[np.int64]  # (n,) the decoder's unwrapped sample counter
    t_host: npt.NDArray[np.float64]  # (n,) [s, unix]
    t_device_us: npt.NDArray[np.int64]  # (n,) [µs, device clock]
    imu: npt.NDArray[np.float32]  # (n, 6) acc [m/s², gravity included] then gyro [rad/s]
    pressure: npt.NDArray[np.float32] | None  # (n, p) [kPa], NaN = no reading; None: none

    def __len__(self) -> int:
        return len(self.counter)


class PredictionArrays(NamedTuple):
    """One shoe's model outputs: counter (n,) int64, outputs (n, k) float32, k names."""

    counter: npt.NDArray[np.int64]
    outputs: npt.NDArray[np.float32]
    names: list[str]


@dataclasses.dataclass(frozen=True, slots=True)
class EventRow:
    """A gait event: kind "HS" or "TO", where [samples, may lie between two] and when
    reported (counter, and t_host [unix s])."""

    side: str
    kind: str
    counter_at: float
    counter_reported: int
    t_host: float


@dataclasses.dataclass(frozen=True, slots=True)
class GapRow:
    """A run of lost samples: the first lost counter, how many, why, when appended [unix s].

    ``reason``: ``bridged`` (the model went on), ``reset`` (too long: its state was reset),
    ``stalled`` (the shoe went silent), ``restart`` (the device restarted; ``n_lost`` 0).
    """

    side: str
    first_counter: int
    n_lost: int
    reason: str
    t_host: float


@dataclasses.dataclass(frozen=True, slots=True)
class ErrorRow:
    """An error of one shoe (``side``) or of the trial (``side`` None), when [unix s]."""

    side: str | None
    message: str
    t_host: float


def _dicts(cur: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _records(conn: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> list[TrialRecord]:
    rows = _dicts(conn.execute(f"SELECT * FROM trials {where} ORDER BY id", args))
    if not rows:
        return []
    ids = tuple(r["id"] for r in rows)
    marks = ", ".join("?" * len(ids))
    devices: dict[int, dict[str, DeviceRecord]] = {i: {} for i in ids}
    query = f"SELECT * FROM devices WHERE trial_id IN ({marks}) ORDER BY trial_id, side"
    for d in _dicts(conn.execute(query, ids)):
        devices[d["trial_id"]][d["side"]] = DeviceRecord(
            device_id=d["device_id"], firmware=d["firmware"], sample_rate_hz=d["sample_rate_hz"],
            channels=list(json.loads(d["channels"])), units=list(json.loads(d["units"])),
            transport=d["transport"], added_unix_s=d["added_unix_s"],
        )  # fmt: skip
    outputs: dict[int, list[str]] = {i: [] for i in ids}
    query = f"SELECT trial_id, name FROM outputs WHERE trial_id IN ({marks}) ORDER BY idx"
    for tid, name in conn.execute(query, ids):
        outputs[tid].append(name)
    return [TrialRecord(**r, devices=devices[r["id"]], outputs=outputs[r["id"]]) for r in rows]


def trials(conn: sqlite3.Connection) -> list[TrialRecord]:
    """Every trial, oldest first."""
    return _records(conn, "", ())


def trial(conn: sqlite3.Connection, trial_id: int, where: str) -> TrialRecord:
    """One trial; ``where`` names the store in the error when there is no such trial."""
    found = _records(conn, "WHERE id = ?", (trial_id,))
    if not found:
        raise ValueError(f"no trial {trial_id!r} in {where}; see trials()")
    return found[0]


def samples(conn: sqlite3.Connection, trial_id: int, side: str) -> SampleArrays:
    """One shoe's samples in arrival order (rows without pressure among rows with it: NaN)."""
    rows = conn.execute(
        f"SELECT counter, t_host, t_device_us, {', '.join(IMU_COLUMNS)}, pressure_kpa "
        "FROM samples WHERE trial_id = ? AND side = ? ORDER BY rowid",
        (trial_id, side),
    ).fetchall()
    n = len(rows)
    cols = list(zip(*rows, strict=True)) if rows else [()] * 10
    blobs = cols[9]
    width = next((len(b) for b in blobs if b is not None), None)
    pressure = None
    if width is not None:
        nan_row = np.full(width // 4, np.nan, "<f4").tobytes()
        joined = b"".join(nan_row if b is None else b for b in blobs)
        pressure = np.frombuffer(joined, "<f4").reshape(n, width // 4).astype(np.float32)
    return SampleArrays(
        counter=np.array(cols[0], dtype=np.int64),
        t_host=np.array(cols[1], dtype=np.float64),
        t_device_us=np.array(cols[2], dtype=np.int64),
        imu=np.array(cols[3:9], dtype=np.float64).T.astype(np.float32).reshape(n, 6),
        pressure=pressure,
    )


def predictions(conn: sqlite3.Connection, trial_id: int, side: str) -> PredictionArrays:
    """One shoe's model outputs, checked against the trial's output names."""
    names = [
        n
        for (n,) in conn.execute(
            "SELECT name FROM outputs WHERE trial_id = ? ORDER BY idx", (trial_id,)
        )
    ]
    rows = conn.execute(
        "SELECT counter, output, value FROM predictions WHERE trial_id = ? AND side = ? "
        "ORDER BY rowid",
        (trial_id, side),
    ).fetchall()
    k = len(names)
    arr = np.array(rows, dtype=np.float64).reshape(-1, 3)
    whole = k > 0 and len(arr) % k == 0
    if len(arr) and not (whole and np.array_equal(arr[:, 1], np.tile(np.arange(k), len(arr) // k))):
        raise StoreError(
            f"predictions of trial {trial_id} side {side} do not match its {k} "
            "outputs; was the file edited by hand?"
        )
    counter = np.array([r[0] for r in rows[::k]] if k else [], dtype=np.int64)
    outputs = arr[:, 2].astype(np.float32).reshape(len(counter), k)
    return PredictionArrays(counter, outputs, names)


def events(conn: sqlite3.Connection, trial_id: int) -> list[EventRow]:
    """Gait events, in the order appended."""
    query = "SELECT side, kind, counter_at, counter_reported, t_host FROM events"
    return [EventRow(*r) for r in _rows(conn, query, trial_id)]


def gaps(conn: sqlite3.Connection, trial_id: int) -> list[GapRow]:
    """Lost-sample runs, in the order appended."""
    query = "SELECT side, first_counter, n_lost, reason, t_host FROM gaps"
    return [GapRow(*r) for r in _rows(conn, query, trial_id)]


def errors(conn: sqlite3.Connection, trial_id: int) -> list[ErrorRow]:
    """Errors, in the order appended."""
    return [ErrorRow(*r) for r in _rows(conn, "SELECT side, message, t_host FROM errors", trial_id)]


def _rows(conn: sqlite3.Connection, select: str, trial_id: int) -> list[tuple[Any, ...]]:
    return conn.execute(f"{select} WHERE trial_id = ? ORDER BY id", (trial_id,)).fetchall()


_STRIDE_FLAGS = ("steady", "turn", "short", "bout_edge")


@dataclasses.dataclass(frozen=True, slots=True)
class StrideRows:
    """A trial's strides, column by column, in time order per side (L first).

    ``columns``: ``side`` (str), ``counter_start``, ``counter_end`` (int64), ``t_start_s``,
    ``t_end_s`` [unix s] and every one of ``STRIDE_FLOAT_COLUMNS`` (float64, NaN where
    NULL), ``strike_class`` (str), ``steady``, ``turn``, ``short``, ``bout_edge`` (bool);
    each (k,). ``source``: ``"live"``, ``"offline"``, or None when none were computed;
    ``dropped``: reason → strides left out; ``geometry``: the heel/toe offsets used.
    """

    columns: dict[str, npt.NDArray[Any]]
    source: str | None
    dropped: dict[str, int]
    geometry: dict[str, Any]


def strides(conn: sqlite3.Connection, trial_id: int) -> StrideRows:
    """A trial's strides and how they were computed."""
    names = [c for c in STRIDE_COLUMNS if c != "source"]
    rows = conn.execute(
        f"SELECT {', '.join(names)} FROM strides WHERE trial_id = ? ORDER BY side, counter_start",
        (trial_id,),
    ).fetchall()
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    out: dict[str, npt.NDArray[Any]] = {}
    for name, values in zip(names, cols, strict=True):
        if name in ("side", "strike_class"):
            out[name] = np.array(values, dtype=str)
        elif name in ("counter_start", "counter_end"):
            out[name] = np.array(values, dtype=np.int64)
        elif name in _STRIDE_FLAGS:
            out[name] = np.array(values, dtype=bool)
        else:
            out[name] = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    p = conn.execute(
        "SELECT source, dropped, geometry FROM stride_passes WHERE trial_id = ?", (trial_id,)
    ).fetchone()
    if p is None:
        return StrideRows(out, None, {}, {})
    return StrideRows(out, p[0], json.loads(p[1]), json.loads(p[2]))
