"""The trial store: one SQLite file per deployment, written off the loop, safe to kill.

A :class:`TrialStore` holds every trial of a deployment: what the operator entered, the
devices, every decoded sample, the model's outputs, gait events, lost-sample gaps and
errors. The streaming loop only enqueues NumPy arrays (``append_*`` never touch the disk);
one writer thread commits everything queued as one transaction every ``flush_interval_s``.

Durability (SQLite WAL; ``../shared/FIELD-NOTES.md`` §6):

- **kill -9** loses what was queued since the last commit: at most ``flush_interval_s`` plus
  the commit in progress. Committed WAL frames are in the OS page cache and survive the
  process, whatever ``synchronous`` is.
- **Power cut**: WAL never corrupts with ``synchronous`` NORMAL or FULL (OFF did, in the
  field), given a filesystem that keeps write order (ext4 ``data=ordered``, the default;
  a vendor image with ``data=writeback`` corrupted SQLite after power cuts). With ``FULL``
  (the default here) every commit fsyncs the WAL, so a power cut loses no more than a
  kill. With ``NORMAL`` the WAL is fsynced only at checkpoints, and a power cut can roll
  back every commit the kernel had not yet written back (Linux writes dirty pages after
  ~30 s): use it only with a UPS. Commits are batched, so FULL costs one fsync per
  ``flush_interval_s`` on the writer thread (the loop never waits for it), and the bytes
  written are the same as with NORMAL. Trial boundaries (start, finish, disk full,
  interrupted) are always FULL-synced.
- **Interrupted trials**: every trial records its writer (host name, kernel boot id, pid
  and the process's start time in clock ticks, from ``/proc``). Opening a store
  read-write marks each trial still ``recording`` as ``interrupted`` unless that exact
  process is alive: same host, same boot, the pid exists, is not a zombie, and started at
  the same tick (so a recycled pid is not mistaken for the writer). Its ``end_unix_s``
  becomes the time of its last commit, and an ``errors`` row says so.
- **Disk nearly full**: before every commit the writer checks the free space of the
  database's folder; below ``min_free_bytes`` (or on SQLite's "database or disk is full",
  ``ENOSPC``, or any other write error) it stops writing data, marks the recording trials
  ``disk_full`` (or ``error``) with one small FULL-synced update, sets :attr:`TrialStore.status`,
  logs one warning and drops later appends. It never raises into the caller's loop.
  :attr:`TrialStore.health` says which (:class:`StoreHealth`); :attr:`TrialStore.status`
  says it in one line for people (``"disk full: …"``, ``"write error …"``).
- **Locked** (another program holds the write lock longer than the 5 s busy timeout): the
  batch is kept and retried at the next flush; nothing is dropped.

Tables, columns and units: :mod:`edge.store.schema`. Rows read back are typed
(:mod:`edge.store.reader`); the writer thread is :mod:`edge.store.writer`.

Samples are rows with real columns, not per-block BLOBs, so SQL works on them, and rows
keep up easily. Measured on the x86 dev box (Python 3.11, SQLite 3.40, FULL; 125 s of two
shoes at 100 Hz in blocks of 4, one commit per 0.5 s = 100 sample rows + 300 prediction
rows): the writer thread used 0.38 % of one core (0.50 % with 16 pressure cells), ~2 ms
of CPU per commit; the caller pays 2-4 µs per ``append_*`` call. A Pi 4 core is ~3-5x
slower: still under 2.5 %. Size: ~150 MB per hour of two shoes (samples ~70 MB with their
index, predictions ~80 MB). Predictions are long (one row per output) because the number
of outputs depends on the model; pressure is a BLOB per sample because the number of cells
depends on the insole.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import numpy as np
import numpy.typing as npt

from edge.errors import StoreError
from edge.store import reader
from edge.store.health import StoreHealth
from edge.store.reader import (
    DeviceRecord,
    ErrorRow,
    EventRow,
    GapRow,
    PredictionArrays,
    SampleArrays,
    StrideRows,
    TrialRecord,
)
from edge.store.schema import (
    APPLICATION_ID,
    BUSY_TIMEOUT_S,
    INFO_FIELDS,
    INSERT_ERROR,
    INSERT_EVENT,
    INSERT_GAP,
    INSERT_OUTPUT,
    INSERT_STRIDE,
    MIGRATIONS,
    OPERATOR_FIELDS,
    SCHEMA_VERSION,
    STATUSES,
    STRIDE_COLUMNS,
    UPSERT_DEVICE,
    UPSERT_STRIDE_PASS,
    Side,
    TrialInfo,
    TrialStatus,
)
from edge.store.writer import (
    Item,
    PredictionsItem,
    Request,
    RowsItem,
    SamplesItem,
    StoreWriter,
    free_bytes,
    writer_alive,
)

__all__ = [
    "APPLICATION_ID",
    "OPERATOR_FIELDS",
    "SCHEMA_VERSION",
    "STATUSES",
    "DeviceRecord",
    "ErrorRow",
    "EventRow",
    "GapRow",
    "PredictionArrays",
    "SampleArrays",
    "StoreError",
    "StoreHealth",
    "StrideRows",
    "TrialInfo",
    "TrialRecord",
    "TrialStatus",
    "TrialStore",
    "schema_version",
]

log = logging.getLogger(__name__)


@dataclasses.dataclass
class _Live:
    """Caller-side view of a trial this store is recording (for argument checks)."""

    n_outputs: int | None = None
    output_names: tuple[str, ...] = ()


class TrialStore:
    """The per-deployment trial store (schema and guarantees: module docstring).

    Parameters
    ----------
    path : str or Path
        The database file; created with its parent folders if missing.
    flush_interval_s : float
        How often the writer commits what was queued [s]; a kill loses at most this plus
        one commit.
    min_free_bytes : int
        Free space the database's folder must keep [bytes], checked before every commit
        (and by :meth:`start_trial`); below it, recording stops cleanly (``disk_full``).
        A plain attribute: it may be changed while recording.
    synchronous : {"FULL", "NORMAL"}
        SQLite's ``synchronous`` for data commits. FULL: a power cut loses no more than a
        kill. NORMAL: one fsync fewer per commit, but a power cut can lose the last ~30 s
        (see the module docstring); trial boundaries are FULL-synced either way.
    read_only : bool
        Open an existing store for reading only (export, a live viewer in another
        process): no writer thread, no schema upgrade, and trials are not marked
        ``interrupted``; ``append_*`` and trial calls raise :class:`StoreError`.

    Attributes
    ----------
    path : Path
        The database file.
    status : str
        ``"ok"``, or why recording stopped (property).

    Notes
    -----
    Use it as a context manager, or call :meth:`close`: that commits what is queued and
    marks any trial not finished as ``interrupted``. ``append_*`` copy their arrays and
    return at once, from any thread; reads (``trials``, ``samples`` …) use their own
    connection and see what has been committed (call :meth:`flush` first to see
    everything). If the writer cannot keep up (a very slow card), the queue grows in
    memory (tens of kB per second of two shoes) until it catches up.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        flush_interval_s: float = 0.5,
        min_free_bytes: int = 50_000_000,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
        read_only: bool = False,
    ) -> None:
        if not flush_interval_s > 0:
            raise ValueError(f"flush_interval_s must be > 0, got {flush_interval_s!r}")
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be 'FULL' or 'NORMAL', got {synchronous!r}")
        self.path = Path(path)
        self.flush_interval_s = float(flush_interval_s)
        self._min_free_bytes = int(min_free_bytes)
        self.synchronous = synchronous
        self.read_only = read_only
        self._queue: queue.SimpleQueue[Item | Request] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._live: dict[int, _Live] = {}
        self._writer: StoreWriter | None = None
        self._closed = False
        self._read_lock = threading.Lock()
        self._reader: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None
        if read_only:
            self._reader = self._open_reader()
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(
                f"cannot create the folder of trial store {str(self.path)!r}: {e.strerror}; "
                "pick a writable path"
            ) from e
        self._conn = self._connect(self.path)
        try:
            self._migrate()
            self._mark_interrupted()
        except BaseException as e:
            self._conn.close()
            if isinstance(e, sqlite3.DatabaseError):
                raise StoreError(
                    f"cannot open trial store {str(self.path)!r}: {e}; is another program "
                    "holding it locked?"
                ) from e
            raise
        self._conn.execute(f"PRAGMA synchronous = {synchronous}")
        self._writer = StoreWriter(
            self._conn, self.path, flush_interval_s=self.flush_interval_s,
            min_free_bytes=int(min_free_bytes), synchronous=synchronous,
            requests=self._queue, wake=self._wake,
        )  # fmt: skip
        self._thread = threading.Thread(
            target=self._writer.run, name=f"gaitedge-store-writer {self.path.name}", daemon=True
        )
        self._thread.start()

    # ------------------------------------------------------------------ opening

    def _connect(self, path: Path) -> sqlite3.Connection:
        conn = None
        try:
            conn = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA foreign_keys = ON")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(
                    f"trial store {str(path)!r} cannot use WAL (journal_mode is {mode!r}); "
                    "put it on a local disk, not a network share"
                )
            conn.execute("PRAGMA journal_size_limit = 67108864")  # WAL shrinks back to 64 MB
            return conn
        except BaseException as e:
            if conn is not None:
                conn.close()
            if isinstance(e, sqlite3.DatabaseError):
                raise StoreError(
                    f"cannot open trial store {str(path)!r}: {e}; is it an SQLite file on a "
                    "local, writable disk?"
                ) from e
            raise

    def _open_reader(self) -> sqlite3.Connection:
        if self.read_only and not self.path.exists():
            raise StoreError(f"no trial store at {str(self.path)!r}; check the path")
        # mode=ro: this connection never writes (a viewer cannot damage a recording)
        target = f"{self.path.resolve().as_uri()}?mode=ro" if self.read_only else str(self.path)
        conn = None
        try:
            conn = sqlite3.connect(
                target, uri=self.read_only, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
            conn.execute("PRAGMA query_only = ON")
            version = self._check_version(conn)
            if version < SCHEMA_VERSION:
                raise StoreError(
                    f"trial store {str(self.path)!r} has schema {version}, this gaitedge "
                    f"reads {SCHEMA_VERSION}; open it once read-write to upgrade it"
                )
            return conn
        except BaseException as e:
            if conn is not None:
                conn.close()
            if isinstance(e, sqlite3.DatabaseError):
                raise StoreError(f"cannot read trial store {str(self.path)!r}: {e}") from e
            raise

    def _check_version(self, conn: sqlite3.Connection) -> int:
        version, app = (
            conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("user_version", "application_id")
        )
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"trial store {str(self.path)!r} was written by a newer gaitedge (schema "
                f"{version}, this one reads up to {SCHEMA_VERSION}); upgrade gaitedge"
            )
        has_tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
        if (version > 0 and app != APPLICATION_ID) or (version == 0 and has_tables):
            raise StoreError(
                f"{str(self.path)!r} is an SQLite database but not a gaitedge trial store; "
                "pick another path"
            )
        return int(version)

    def _migrate(self) -> None:
        conn = self._conn
        try:
            if self._check_version(conn) == SCHEMA_VERSION:
                return
            conn.execute("BEGIN IMMEDIATE")  # re-read inside: another process may migrate too
            try:
                version = self._check_version(conn)
                for v in range(version, SCHEMA_VERSION):
                    for statement in MIGRATIONS[v]:
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {v + 1}")
                    log.info("trial store %s: schema %d -> %d", self.path, v, v + 1)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as e:
            raise StoreError(
                f"cannot open trial store {str(self.path)!r}: {e}; check the file and its folder"
            ) from e

    def _mark_interrupted(self) -> None:
        """Mark trials left ``recording`` by a writer that is gone (rule: module docstring)."""
        conn = self._conn
        now = time.time()
        query = "SELECT count(*) FROM trials WHERE status = 'recording'"
        if conn.execute(query).fetchone()[0] == 0:
            return  # nothing to check: no write lock taken
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            rows = conn.execute(
                "SELECT id, writer_host, writer_boot_id, writer_pid, writer_start_ticks, "
                "start_unix_s, last_write_unix_s FROM trials WHERE status = 'recording'"
            ).fetchall()
            for tid, host, boot, pid, ticks, start, last in rows:
                if writer_alive(host, boot, pid, ticks):
                    continue
                end = last if last is not None else start
                conn.execute(
                    "UPDATE trials SET status = 'interrupted', end_unix_s = ? WHERE id = ?",
                    (end, tid),
                )
                conn.execute(
                    INSERT_ERROR,
                    (tid, None, f"writer (pid {pid} on {host}) gone; marked interrupted", now),
                )
                log.warning("trial %d in %s was interrupted (writer gone)", tid, self.path)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # ------------------------------------------------------------------ context, state

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(reason=None if exc is None else f"store closed by {exc!r}")

    @property
    def status(self) -> str:
        """``"ok"``, or the one line saying why recording stopped (for people)."""
        return "ok" if self._writer is None else self._writer.message

    @property
    def health(self) -> StoreHealth:
        """Whether the store is still recording, and if not, why (for code)."""
        return StoreHealth.OK if self._writer is None else self._writer.health

    @property
    def min_free_bytes(self) -> int:
        """Free space the folder must keep [bytes]; may be changed while recording."""
        return self._min_free_bytes if self._writer is None else self._writer.min_free_bytes

    @min_free_bytes.setter
    def min_free_bytes(self, value: int) -> None:
        self._min_free_bytes = int(value)
        if self._writer is not None:
            self._writer.min_free_bytes = int(value)

    @property
    def _stopped(self) -> bool:
        return self._writer is not None and self._writer.stopped

    def close(self, reason: str | None = None) -> None:
        """Commit what is queued, mark unfinished trials ``interrupted``, stop the writer.

        ``reason`` (optional) is stored as an error of each unfinished trial. Idempotent.
        """
        if self._closed:
            return
        if self._thread is not None and self._thread.is_alive():
            with contextlib.suppress(StoreError):
                self._call("close", reason)
            self._thread.join()
        self._closed = True
        self._live.clear()
        with self._read_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    def flush(self) -> None:
        """Block until everything queued so far is committed (or dropped: see status)."""
        self._check_writable()
        self._call("flush")

    # ------------------------------------------------------------------ trials

    def start_trial(self, info: TrialInfo) -> int:
        """Create a trial (status ``recording``, start time now) and return its id.

        Blocks until the row is committed (FULL-synced). Raises :class:`StoreError` when
        the disk is already below ``min_free_bytes`` or recording has stopped.
        """
        self._check_writable()
        if not isinstance(info, TrialInfo):
            raise TypeError(f"info must be a TrialInfo, got {type(info).__name__}")
        for f in INFO_FIELDS:
            if not isinstance(getattr(info, f), str):
                raise TypeError(f"TrialInfo.{f} must be a str, got {getattr(info, f)!r}")
        if self._stopped:
            raise StoreError(f"trial store {str(self.path)!r} stopped recording: {self.status}")
        free = free_bytes(self.path.parent)
        if free is not None and free < self.min_free_bytes:
            raise StoreError(
                f"disk nearly full: {free / 1e6:.0f} MB free in {str(self.path.parent)!r}, "
                f"need {self.min_free_bytes / 1e6:.0f} MB; free space or store elsewhere"
            )
        trial_id = int(self._call("start", info))
        self._live[trial_id] = _Live()
        return trial_id

    def finish_trial(self, trial_id: int, status: TrialStatus = "complete") -> None:
        """End a trial: commit what is queued, set its end time and status; blocks.

        A trial the store already marked ``disk_full`` or ``error`` keeps that status (and
        the time recording stopped as its end). Never raises for a full disk.
        """
        self._check_writable()
        if status not in STATUSES or status == "recording":
            raise ValueError(f"status must be one of {', '.join(STATUSES[1:])}, got {status!r}")
        self._check_live(trial_id)
        del self._live[trial_id]
        self._call("finish", trial_id, status)

    def add_device(
        self,
        trial_id: int,
        side: Side,
        *,
        device_id: int | str,
        firmware: str,
        sample_rate_hz: float,
        channels: Sequence[str],
        units: Sequence[str],
        transport: str,
    ) -> None:
        """Record the device on one side (again after a restart: replaces it). Enqueues.

        ``channels`` and ``units`` are parallel lists (``"acc_x"`` / ``"m/s^2"`` …);
        ``transport`` is the URL it was opened with.
        """
        self._check_append(trial_id, side)
        if len(channels) != len(units):
            raise ValueError(
                f"channels and units must be the same length, got {len(channels)} and {len(units)}"
            )
        row = (
            trial_id, side, device_id if isinstance(device_id, int) else str(device_id),
            str(firmware), float(sample_rate_hz), json.dumps(list(channels)),
            json.dumps(list(units)), str(transport), time.time(),
        )  # fmt: skip
        self._put(RowsItem(UPSERT_DEVICE, (row,)))

    def set_outputs(self, trial_id: int, names: Sequence[str]) -> None:
        """Name the model's outputs (columns of ``append_predictions``), once per trial."""
        self._check_append(trial_id, None)
        names = tuple(str(n) for n in names)
        if not names:
            raise ValueError("names must not be empty")
        live = self._live[trial_id]
        if live.n_outputs is not None:
            if names != live.output_names:
                raise ValueError(
                    f"trial {trial_id} already has outputs {list(live.output_names)}, "
                    f"got {list(names)}"
                )
            return
        live.n_outputs, live.output_names = len(names), names
        self._put(RowsItem(INSERT_OUTPUT, tuple((trial_id, i, n) for i, n in enumerate(names))))

    # ------------------------------------------------------------------ appending

    def append_samples(
        self,
        trial_id: int,
        side: Side,
        counter: npt.ArrayLike,
        t_host: npt.ArrayLike,
        t_device_us: npt.ArrayLike,
        imu: npt.ArrayLike,
        pressure: npt.ArrayLike | None = None,
    ) -> None:
        """Enqueue n samples of one shoe (copied; never touches the disk).

        Parameters
        ----------
        counter : array, shape (n,), int64 — the decoder's unwrapped sample counter.
        t_host : array, shape (n,), float64 — host time of each sample [s, unix].
        t_device_us : array, shape (n,), int64 — device clock [µs], unwrapped.
        imu : array, shape (n, 6), float32 — acc_x/y/z [m/s²] then gyr_x/y/z [rad/s].
        pressure : array, shape (n, p), float32 [kPa] (NaN = no reading), or None.

        Dropped silently (after the store's one warning) once recording has stopped.
        """
        self._check_append(trial_id, side)
        if self._stopped:
            return
        c = np.array(counter, dtype=np.int64)
        n = len(c)
        th = np.array(t_host, dtype=np.float64)
        td = np.array(t_device_us, dtype=np.int64)
        x = np.array(imu, dtype=np.float32)
        p = None if pressure is None else np.array(pressure, dtype="<f4")
        if c.shape != (n,) or th.shape != (n,) or td.shape != (n,) or x.shape != (n, 6):
            raise ValueError(
                f"expected counter, t_host, t_device_us of shape (n,) and imu (n, 6); got "
                f"{c.shape}, {th.shape}, {td.shape}, {x.shape}"
            )
        if p is not None and (p.ndim != 2 or len(p) != n):
            raise ValueError(f"pressure must have shape ({n}, p), got {p.shape}")
        if n:
            self._put(SamplesItem(trial_id, side, c, th, td, x, p))

    def append_predictions(
        self, trial_id: int, side: Side, counter: npt.ArrayLike, outputs: npt.ArrayLike
    ) -> None:
        """Enqueue the model's outputs for n samples (copied).

        Parameters
        ----------
        counter : array, shape (n,), int64 — the samples' counters.
        outputs : array, shape (n, k), float32 — k = len(names) given to :meth:`set_outputs`.
        """
        self._check_append(trial_id, side)
        if self._stopped:
            return
        live = self._live.get(trial_id)
        k = None if live is None else live.n_outputs
        if k is None:
            raise ValueError(f"call set_outputs({trial_id}, names) before append_predictions")
        c = np.array(counter, dtype=np.int64)
        y = np.array(outputs, dtype=np.float32)
        if c.ndim != 1 or y.shape != (len(c), k):
            raise ValueError(
                f"expected counter (n,) and outputs (n, {k}); got {c.shape} and {y.shape}"
            )
        if len(c):
            self._put(PredictionsItem(trial_id, side, c, y))

    def append_event(
        self,
        trial_id: int,
        side: Side,
        kind: str,
        counter_at: float,
        counter_reported: int,
        t_host: float,
    ) -> None:
        """Enqueue one gait event (``kind`` ``"HS"``/``"TO"``; counters in samples; t_host [s])."""
        self._check_append(trial_id, side)
        if not self._stopped:
            row = (
                trial_id,
                side,
                str(kind),
                float(counter_at),
                int(counter_reported),
                float(t_host),
            )
            self._put(RowsItem(INSERT_EVENT, (row,)))

    def append_gap(
        self, trial_id: int, side: Side, first_counter: int, n_lost: int, reason: str
    ) -> None:
        """Enqueue a run of ``n_lost`` lost samples starting at ``first_counter``."""
        self._check_append(trial_id, side)
        if not self._stopped:
            row = (trial_id, side, int(first_counter), int(n_lost), str(reason), time.time())
            self._put(RowsItem(INSERT_GAP, (row,)))

    def append_error(self, trial_id: int, side: Side | None, message: str) -> None:
        """Enqueue an error of one shoe (``side``) or of the trial (``side=None``)."""
        self._check_append(trial_id, side)
        if not self._stopped:
            self._put(RowsItem(INSERT_ERROR, ((trial_id, side, str(message), time.time()),)))

    def append_strides(
        self,
        trial_id: int,
        rows: Sequence[Mapping[str, Any]],
        *,
        dropped: Mapping[str, int],
        geometry: Mapping[str, Any],
    ) -> None:
        """Enqueue strides the live loop closed (source ``'live'``), with the pass so far.

        ``rows``: one mapping per stride with every column of ``strides`` but ``source``
        (:data:`~edge.store.schema.STRIDE_COLUMNS`; NaN for undefined floats).
        """
        self._check_append(trial_id, None)
        if self._stopped or not rows:
            return
        self._put(RowsItem(INSERT_STRIDE, tuple(_stride_row(trial_id, r, "live") for r in rows)))
        self._put(
            RowsItem(UPSERT_STRIDE_PASS, (_stride_pass(trial_id, "live", dropped, geometry),))
        )

    def replace_strides(
        self,
        trial_id: int,
        rows: Sequence[Mapping[str, Any]],
        *,
        source: Literal["live", "offline"] = "offline",
        dropped: Mapping[str, int],
        geometry: Mapping[str, Any],
    ) -> None:
        """Replace a trial's strides (any trial, recording or not) in one transaction; blocks.

        The end of a trial and ``replay`` put the smoothed offline pass in place of the live
        rows this way. Raises :class:`StoreError` when the store stopped recording.
        """
        self._check_writable()
        self.trial(trial_id)  # raises for an unknown id
        self._call(
            "strides",
            trial_id,
            [_stride_row(trial_id, r, source) for r in rows],
            _stride_pass(trial_id, source, dropped, geometry),
        )

    # ------------------------------------------------------------------ reading

    def trials(self) -> list[TrialRecord]:
        """Every trial, oldest first. Read-only, a trial left ``recording`` by a writer
        that is gone is shown ``interrupted``, as opening read-write would mark it."""
        with self._reading() as conn:
            return [self._as_seen(t) for t in reader.trials(conn)]

    def _as_seen(self, t: TrialRecord) -> TrialRecord:
        if (
            self.read_only
            and t.status == "recording"
            and not writer_alive(
                t.writer_host, t.writer_boot_id, t.writer_pid, t.writer_start_ticks
            )
        ):
            return dataclasses.replace(t, status="interrupted")
        return t

    def trial(self, trial_id: int) -> TrialRecord:
        """One trial, with its devices and output names."""
        with self._reading() as conn:
            return self._as_seen(reader.trial(conn, trial_id, repr(str(self.path))))

    def samples(self, trial_id: int, side: Side) -> SampleArrays:
        """One shoe's samples in arrival order (shapes and units: :class:`SampleArrays`)."""
        with self._reading() as conn:
            return reader.samples(conn, trial_id, side)

    def predictions(self, trial_id: int, side: Side) -> PredictionArrays:
        """One shoe's model outputs: counter (n,) int64, outputs (n, k) float32, k names."""
        with self._reading() as conn:
            return reader.predictions(conn, trial_id, side)

    def events(self, trial_id: int) -> list[EventRow]:
        """Gait events, in the order appended."""
        with self._reading() as conn:
            return reader.events(conn, trial_id)

    def gaps(self, trial_id: int) -> list[GapRow]:
        """Lost-sample runs, in the order appended."""
        with self._reading() as conn:
            return reader.gaps(conn, trial_id)

    def errors(self, trial_id: int) -> list[ErrorRow]:
        """Errors (side None: the trial's), in the order appended."""
        with self._reading() as conn:
            return reader.errors(conn, trial_id)

    def strides(self, trial_id: int) -> StrideRows:
        """A trial's strides, column by column (:class:`StrideRows`)."""
        with self._reading() as conn:
            return reader.strides(conn, trial_id)

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """The read connection, inside one read transaction (a consistent snapshot)."""
        with self._read_lock:
            if self._closed:
                raise StoreError(f"trial store {str(self.path)!r} is closed")
            if self._reader is None:
                self._reader = self._open_reader()
            conn = self._reader
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    # ------------------------------------------------------------------ caller side helpers

    def _check_writable(self) -> None:
        if self.read_only:
            raise StoreError(f"trial store {str(self.path)!r} was opened read_only")
        if self._closed:
            raise StoreError(f"trial store {str(self.path)!r} is closed")

    def _check_live(self, trial_id: int) -> None:
        if trial_id not in self._live:
            raise ValueError(
                f"trial {trial_id!r} is not recording in this store; start_trial() returns "
                "the ids it can append to"
            )

    def _check_append(self, trial_id: int, side: str | None) -> None:
        if trial_id not in self._live:
            self._check_writable()
            self._check_live(trial_id)
        if side not in ("L", "R") and side is not None:
            raise ValueError(f"side must be 'L' or 'R', got {side!r}")

    def _put(self, item: Item) -> None:
        self._queue.put(item)  # SimpleQueue.put never blocks; the writer wakes on its own

    def _call(
        self, kind: Literal["start", "finish", "flush", "close", "strides"], *args: Any
    ) -> Any:
        req = Request(kind, args)
        self._queue.put(req)
        self._wake.set()
        while not req.done.wait(0.5):
            if self._thread is None or not self._thread.is_alive():
                raise StoreError(
                    f"the writer of trial store {str(self.path)!r} has stopped; "
                    "see the log and reopen the store"
                )
        if req.error is not None:
            raise req.error
        return req.result


def _stride_row(trial_id: int, row: Mapping[str, Any], source: str) -> tuple[Any, ...]:
    """One ``strides`` row from a mapping of its columns (NaN → NULL, flags → 0/1)."""
    out: list[Any] = [trial_id]
    for c in STRIDE_COLUMNS:
        if c == "source":
            out.append(source)
            continue
        v = row[c]
        if c in ("side", "strike_class"):
            out.append(str(v))
        elif c in ("counter_start", "counter_end"):
            out.append(int(v))
        elif c in ("steady", "turn", "short", "bout_edge"):
            out.append(int(bool(v)))
        else:
            f = float(v)
            out.append(f if f == f and abs(f) != float("inf") else None)
    return tuple(out)


def _stride_pass(
    trial_id: int, source: str, dropped: Mapping[str, int], geometry: Mapping[str, Any]
) -> tuple[Any, ...]:
    return (trial_id, source, json.dumps(dict(dropped)), json.dumps(dict(geometry)), time.time())


def schema_version(path: str | os.PathLike[str]) -> int:
    """The schema version of the store at ``path`` (0: empty or not a store), read-only."""
    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        raise StoreError(f"cannot read trial store {str(path)!r}: {e}") from e
