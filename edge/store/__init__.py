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
  :attr:`TrialStore.status` says ``"disk full: …"`` for the first case and
  ``"write error …"`` (never the word "disk") for the others.
- **Locked** (another program holds the write lock longer than the 5 s busy timeout): the
  batch is kept and retried at the next flush; nothing is dropped.

Schema (version 1, ``PRAGMA user_version``; ``PRAGMA application_id`` = 0x47414954, "GAIT").
Times are unix seconds (UTC) as float; ``side`` is ``'L'`` or ``'R'``; rows of one trial
are deleted with it (``ON DELETE CASCADE``).

===============  ==============================================================================
table            columns
===============  ==============================================================================
``trials``       ``id`` INTEGER PK; ``subject``, ``shoe``, ``shoe_model``, ``shoe_size``,
                 ``condition``, ``surface``, ``operator``, ``notes``, ``model_name``,
                 ``model_sha256`` TEXT (:class:`TrialInfo`); ``gaitedge_version`` TEXT;
                 ``start_unix_s``, ``end_unix_s`` (NULL while recording), ``last_write_unix_s``
                 (time of the last data commit) REAL; ``status`` TEXT (:data:`STATUSES`);
                 ``writer_host``, ``writer_boot_id`` TEXT, ``writer_pid``, ``writer_start_ticks``
                 INTEGER (who writes it; see "Interrupted trials")
``devices``      ``trial_id``, ``side`` (PK together); ``device_id`` (integer or text, as given);
                 ``firmware`` TEXT; ``sample_rate_hz`` REAL; ``channels``, ``units`` TEXT (JSON
                 lists, e.g. ``["acc_x", …]`` and ``["m/s^2", …]``); ``transport`` TEXT (URL);
                 ``added_unix_s`` REAL. Adding a side again (a restarted device) replaces it.
``samples``      one row per sample, in arrival order (rowid): ``trial_id``, ``side``;
                 ``counter`` INTEGER (the decoder's unwrapped sample counter);
                 ``t_host`` REAL [unix s]; ``t_device_us`` INTEGER [µs, device clock];
                 ``acc_x_mps2``, ``acc_y_mps2``, ``acc_z_mps2`` REAL [m/s², gravity included],
                 ``gyr_x_radps``, ``gyr_y_radps``, ``gyr_z_radps`` REAL [rad/s], insole frame;
                 ``pressure_kpa`` BLOB: the sample's p cells as little-endian float32 [kPa],
                 NaN = no valid reading, ``x''`` for p = 0, NULL for "no pressure given"
``outputs``      ``trial_id``, ``idx`` (PK together); ``name`` TEXT: the model's output names
``predictions``  one row per sample and output: ``trial_id``, ``side``, ``counter`` INTEGER,
                 ``output`` INTEGER (``outputs.idx``), ``value`` REAL (as the loop stored it)
``events``       ``id`` PK; ``trial_id``, ``side``, ``kind`` TEXT (``"HS"``, ``"TO"``);
                 ``counter_at`` REAL [samples, may lie between samples]; ``counter_reported``
                 INTEGER; ``t_host`` REAL [unix s, when it was reported]
``gaps``         ``id`` PK; ``trial_id``, ``side``, ``first_counter`` INTEGER (first lost),
                 ``n_lost`` INTEGER [samples], ``reason`` TEXT, ``t_host`` REAL [unix s, when
                 it was appended]
``errors``       ``id`` PK; ``trial_id``, ``side`` (NULL: not one shoe's), ``message`` TEXT,
                 ``t_host`` REAL [unix s, when it was appended]
===============  ==============================================================================

Indices: ``(trial_id, side, counter)`` on samples and predictions, ``(trial_id, side)`` on
events, gaps and errors, ``status`` on trials. Example, stance of the left shoe::

    SELECT p.counter, p.value FROM predictions p JOIN outputs o
        ON o.trial_id = p.trial_id AND o.idx = p.output
    WHERE p.trial_id = 3 AND p.side = 'L' AND o.name = 'stance' ORDER BY p.rowid;

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
import errno
import itertools
import json
import logging
import os
import queue
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import numpy as np
import numpy.typing as npt

from edge.errors import StoreError

__all__ = [
    "APPLICATION_ID",
    "OPERATOR_FIELDS",
    "SCHEMA_VERSION",
    "STATUSES",
    "StoreError",
    "TrialInfo",
    "TrialStatus",
    "TrialStore",
]

log = logging.getLogger(__name__)

#: Trial statuses. ``recording`` until :meth:`TrialStore.finish_trial`; ``interrupted`` is
#: set on reopen when the writer died; ``disk_full`` and ``error`` by the writer.
STATUSES = ("recording", "complete", "stopped", "interrupted", "disk_full", "error")
TrialStatus = Literal["recording", "complete", "stopped", "interrupted", "disk_full", "error"]
Side = Literal["L", "R"]

#: ``PRAGMA application_id`` of a gaitedge trial store ("GAIT").
APPLICATION_ID = 0x47414954

_IMU_COLUMNS = (
    "acc_x_mps2",
    "acc_y_mps2",
    "acc_z_mps2",
    "gyr_x_radps",
    "gyr_y_radps",
    "gyr_z_radps",
)
_STATUS_SQL = ", ".join(f"'{s}'" for s in STATUSES)
#: The :class:`TrialInfo` fields an operator types (the rest name the model that ran).
OPERATOR_FIELDS: tuple[str, ...] = (
    "subject", "shoe", "shoe_model", "shoe_size", "condition", "surface", "operator", "notes",
)  # fmt: skip
_INFO_FIELDS = (*OPERATOR_FIELDS, "model_name", "model_sha256")

# Migrations: _MIGRATIONS[i] takes a store from schema version i to i + 1, in one
# transaction. Version 1 is the first schema. Append, never edit a released one.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        f"PRAGMA application_id = {APPLICATION_ID}",
        f"""CREATE TABLE trials (
            id INTEGER PRIMARY KEY,
            {", ".join(f"{f} TEXT NOT NULL DEFAULT ''" for f in _INFO_FIELDS)},
            gaitedge_version TEXT NOT NULL DEFAULT '',
            start_unix_s REAL NOT NULL,
            end_unix_s REAL,
            last_write_unix_s REAL,
            status TEXT NOT NULL CHECK (status IN ({_STATUS_SQL})),
            writer_host TEXT NOT NULL DEFAULT '',
            writer_boot_id TEXT NOT NULL DEFAULT '',
            writer_pid INTEGER,
            writer_start_ticks INTEGER)""",
        "CREATE INDEX trials_status ON trials(status)",
        """CREATE TABLE devices (
            trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
            side TEXT NOT NULL CHECK (side IN ('L', 'R')),
            device_id NOT NULL,
            firmware TEXT NOT NULL,
            sample_rate_hz REAL NOT NULL,
            channels TEXT NOT NULL,
            units TEXT NOT NULL,
            transport TEXT NOT NULL,
            added_unix_s REAL NOT NULL,
            PRIMARY KEY (trial_id, side))""",
        f"""CREATE TABLE samples (
            trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
            side TEXT NOT NULL,
            counter INTEGER NOT NULL,
            t_host REAL NOT NULL,
            t_device_us INTEGER NOT NULL,
            {", ".join(f"{c} REAL NOT NULL" for c in _IMU_COLUMNS)},
            pressure_kpa BLOB)""",
        "CREATE INDEX samples_trial_side ON samples(trial_id, side, counter)",
        """CREATE TABLE outputs (
            trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            name TEXT NOT NULL,
            PRIMARY KEY (trial_id, idx))""",
        """CREATE TABLE predictions (
            trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
            side TEXT NOT NULL,
            counter INTEGER NOT NULL,
            output INTEGER NOT NULL,
            value REAL NOT NULL)""",
        "CREATE INDEX predictions_trial_side ON predictions(trial_id, side, counter)",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
            side TEXT NOT NULL,
            kind TEXT NOT NULL,
            counter_at REAL NOT NULL,
            counter_reported INTEGER NOT NULL,
            t_host REAL NOT NULL)""",
        "CREATE INDEX events_trial_side ON events(trial_id, side)",
        """CREATE TABLE gaps (
            id INTEGER PRIMARY KEY,
            trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
            side TEXT NOT NULL,
            first_counter INTEGER NOT NULL,
            n_lost INTEGER NOT NULL,
            reason TEXT NOT NULL,
            t_host REAL NOT NULL)""",
        "CREATE INDEX gaps_trial_side ON gaps(trial_id, side)",
        """CREATE TABLE errors (
            id INTEGER PRIMARY KEY,
            trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
            side TEXT,
            message TEXT NOT NULL,
            t_host REAL NOT NULL)""",
        "CREATE INDEX errors_trial_side ON errors(trial_id, side)",
    ),
)

#: Schema version this gaitedge writes (and the newest it reads).
SCHEMA_VERSION = len(_MIGRATIONS)

_BUSY_TIMEOUT_S = 5.0
_INSERT_SAMPLES = (
    "INSERT INTO samples (trial_id, side, counter, t_host, t_device_us, "
    f"{', '.join(_IMU_COLUMNS)}, pressure_kpa) VALUES ({', '.join('?' * 12)})"
)
_INSERT_PREDICTIONS = (
    "INSERT INTO predictions (trial_id, side, counter, output, value) VALUES (?, ?, ?, ?, ?)"
)
_INSERT_EVENT = (
    "INSERT INTO events (trial_id, side, kind, counter_at, counter_reported, t_host) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_GAP = (
    "INSERT INTO gaps (trial_id, side, first_counter, n_lost, reason, t_host) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_ERROR = "INSERT INTO errors (trial_id, side, message, t_host) VALUES (?, ?, ?, ?)"
_UPSERT_DEVICE = (
    "INSERT OR REPLACE INTO devices (trial_id, side, device_id, firmware, sample_rate_hz, "
    "channels, units, transport, added_unix_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_OUTPUT = "INSERT OR REPLACE INTO outputs (trial_id, idx, name) VALUES (?, ?, ?)"

# queue item tags (data items are tuples: tag first, then the row's values)
_SAMPLES, _PREDICTIONS, _EVENT, _GAP, _ERROR, _DEVICE, _OUTPUTS = range(7)


@dataclasses.dataclass(frozen=True, slots=True)
class TrialInfo:
    """What the operator enters for a trial; every field is optional free text.

    Attributes
    ----------
    subject : str
        Subject code (pseudonymous, e.g. ``"P03"``; never a name).
    shoe, shoe_model, shoe_size : str
        The shoe under test: its id (e.g. a prototype label), model, size (as marked).
    condition, surface : str
        Test condition (e.g. ``"walk-preferred"``) and surface (``"treadmill"``, ``"grass"``).
    operator, notes : str
        Who ran the trial; anything else.
    model_name, model_sha256 : str
        The gait model that ran (directory name and the SHA-256 of its weights file).
    """

    subject: str = ""
    shoe: str = ""
    shoe_model: str = ""
    shoe_size: str = ""
    condition: str = ""
    surface: str = ""
    operator: str = ""
    notes: str = ""
    model_name: str = ""
    model_sha256: str = ""


@dataclasses.dataclass(eq=False)
class _Request:
    """A call the writer thread answers (start, finish, flush, close)."""

    kind: str
    args: tuple[Any, ...] = ()
    done: threading.Event = dataclasses.field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


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
        self.min_free_bytes = int(min_free_bytes)
        self.synchronous = synchronous
        self.read_only = read_only
        self._queue: queue.SimpleQueue[tuple[Any, ...] | _Request] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._live: dict[int, _Live] = {}
        self._status = "ok"
        self._stopped = False  # set by the writer: data appends are dropped
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
        self._retry: list[tuple[Any, ...]] = []
        self._writing: set[int] = set()  # writer-side: trials recording through this store
        self._thread = threading.Thread(
            target=self._run, name=f"gaitedge-store-writer {self.path.name}", daemon=True
        )
        self._thread.start()

    # ------------------------------------------------------------------ opening

    def _connect(self, path: Path) -> sqlite3.Connection:
        conn = None
        try:
            conn = sqlite3.connect(
                path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
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
                target, uri=self.read_only, timeout=_BUSY_TIMEOUT_S, isolation_level=None,
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
                    for statement in _MIGRATIONS[v]:
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
                if _writer_alive(host, boot, pid, ticks):
                    continue
                end = last if last is not None else start
                conn.execute(
                    "UPDATE trials SET status = 'interrupted', end_unix_s = ? WHERE id = ?",
                    (end, tid),
                )
                conn.execute(
                    _INSERT_ERROR,
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
        """``"ok"``, or why recording stopped (``"disk full: …"``, ``"write error …"``)."""
        return self._status

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
        for f in _INFO_FIELDS:
            if not isinstance(getattr(info, f), str):
                raise TypeError(f"TrialInfo.{f} must be a str, got {getattr(info, f)!r}")
        if self._stopped:
            raise StoreError(f"trial store {str(self.path)!r} stopped recording: {self._status}")
        free = _free_bytes(self.path.parent)
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
        self._put((_DEVICE, row))

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
        self._put((_OUTPUTS, [(trial_id, i, n) for i, n in enumerate(names)]))

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
            self._put((_SAMPLES, trial_id, side, c, th, td, x, p))

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
            self._put((_PREDICTIONS, trial_id, side, c, y))

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
            self._put((_EVENT, row))

    def append_gap(
        self, trial_id: int, side: Side, first_counter: int, n_lost: int, reason: str
    ) -> None:
        """Enqueue a run of ``n_lost`` lost samples starting at ``first_counter``."""
        self._check_append(trial_id, side)
        if not self._stopped:
            row = (trial_id, side, int(first_counter), int(n_lost), str(reason), time.time())
            self._put((_GAP, row))

    def append_error(self, trial_id: int, side: Side | None, message: str) -> None:
        """Enqueue an error of one shoe (``side``) or of the trial (``side=None``)."""
        self._check_append(trial_id, side)
        if not self._stopped:
            self._put((_ERROR, (trial_id, side, str(message), time.time())))

    # ------------------------------------------------------------------ reading

    def trials(self) -> list[dict[str, Any]]:
        """Every trial (the ``trials`` columns), oldest first."""
        with self._reading() as conn:
            return _dicts(conn.execute("SELECT * FROM trials ORDER BY id"))

    def trial(self, trial_id: int) -> dict[str, Any]:
        """One trial: its columns, ``devices`` ({side: columns, channels/units as lists})
        and ``outputs`` (the output names)."""
        with self._reading() as conn:
            rows = _dicts(conn.execute("SELECT * FROM trials WHERE id = ?", (trial_id,)))
            if not rows:
                raise ValueError(f"no trial {trial_id!r} in {str(self.path)!r}; see trials()")
            devices = _dicts(
                conn.execute("SELECT * FROM devices WHERE trial_id = ? ORDER BY side", (trial_id,))
            )
            names = conn.execute(
                "SELECT name FROM outputs WHERE trial_id = ? ORDER BY idx", (trial_id,)
            ).fetchall()
        out = rows[0]
        for d in devices:
            d["channels"], d["units"] = json.loads(d["channels"]), json.loads(d["units"])
        out["devices"] = {d.pop("side"): d for d in devices}
        out["outputs"] = [n for (n,) in names]
        return out

    def samples(self, trial_id: int, side: Side) -> dict[str, npt.NDArray[Any] | None]:
        """One shoe's samples in arrival order.

        Returns
        -------
        dict with ``counter`` (n,) int64, ``t_host`` (n,) float64 [s, unix], ``t_device_us``
        (n,) int64 [µs], ``imu`` (n, 6) float32 [m/s², rad/s], ``pressure`` (n, p) float32
        [kPa] or None when none was given (rows without pressure among rows with it: NaN).
        """
        with self._reading() as conn:
            rows = conn.execute(
                f"SELECT counter, t_host, t_device_us, {', '.join(_IMU_COLUMNS)}, pressure_kpa "
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
        return {
            "counter": np.array(cols[0], dtype=np.int64),
            "t_host": np.array(cols[1], dtype=np.float64),
            "t_device_us": np.array(cols[2], dtype=np.int64),
            "imu": np.array(cols[3:9], dtype=np.float64).T.astype(np.float32).reshape(n, 6),
            "pressure": pressure,
        }

    def predictions(
        self, trial_id: int, side: Side
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], list[str]]:
        """One shoe's model outputs: counter (n,) int64, outputs (n, k) float32, k names."""
        with self._reading() as conn:
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
        if len(arr) and not (
            whole and np.array_equal(arr[:, 1], np.tile(np.arange(k), len(arr) // k))
        ):
            raise StoreError(
                f"predictions of trial {trial_id} side {side} do not match its {k} "
                "outputs; was the file edited by hand?"
            )
        counter = np.array([r[0] for r in rows[::k]] if k else [], dtype=np.int64)
        outputs = arr[:, 2].astype(np.float32).reshape(len(counter), k)
        return counter, outputs, names

    def events(self, trial_id: int) -> list[dict[str, Any]]:
        """Gait events, in the order appended: side, kind, counter_at, counter_reported, t_host."""
        return self._rows(
            "SELECT side, kind, counter_at, counter_reported, t_host FROM events", trial_id
        )

    def gaps(self, trial_id: int) -> list[dict[str, Any]]:
        """Lost-sample runs, in order: side, first_counter, n_lost, reason, t_host."""
        return self._rows("SELECT side, first_counter, n_lost, reason, t_host FROM gaps", trial_id)

    def errors(self, trial_id: int) -> list[dict[str, Any]]:
        """Errors, in order: side (None = the trial's), message, t_host."""
        return self._rows("SELECT side, message, t_host FROM errors", trial_id)

    def _rows(self, select: str, trial_id: int) -> list[dict[str, Any]]:
        with self._reading() as conn:
            return _dicts(conn.execute(f"{select} WHERE trial_id = ? ORDER BY id", (trial_id,)))

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

    def _put(self, item: tuple[Any, ...]) -> None:
        self._queue.put(item)  # SimpleQueue.put never blocks; the writer wakes on its own

    def _call(self, kind: str, *args: Any) -> Any:
        req = _Request(kind, args)
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

    # ------------------------------------------------------------------ writer thread

    def _run(self) -> None:
        conn = self._conn
        closing = False
        next_flush = time.monotonic() + self.flush_interval_s
        try:
            while not closing:
                self._wake.wait(max(0.0, next_flush - time.monotonic()))
                self._wake.clear()
                data: list[tuple[Any, ...]] = self._retry
                self._retry = []
                while True:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if isinstance(item, _Request):
                        self._write(data)
                        data = []
                        closing = self._answer(item) or closing
                    else:
                        data.append(item)
                self._write(data)
                now = time.monotonic()
                if now >= next_flush:
                    next_flush = now + self.flush_interval_s
        except Exception as e:  # a bug: say so, stop cleanly, never hang a caller
            log.exception("trial store %s: writer failed", self.path)
            self._stop("error", f"write error: writer failed ({type(e).__name__}: {e})")
        finally:
            while True:  # answer whatever is still waiting
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, _Request):
                    item.error = StoreError(f"trial store {str(self.path)!r} is closed")
                    item.done.set()
            conn.close()

    def _answer(self, req: _Request) -> bool:
        """Run one request; return True for close."""
        try:
            if req.kind == "start":
                req.result = self._start(req.args[0])
            elif req.kind == "finish":
                self._finish(*req.args)
            elif req.kind == "close":
                reason = req.args[0] or "store closed before finish_trial"
                for tid in sorted(self._writing):
                    self._finish(tid, "interrupted", reason)
        except (sqlite3.Error, OSError) as e:
            if self._stopped:  # already said (status, one warning); a full disk never raises
                log.error("trial store %s: %s failed: %s", self.path, req.kind, e)
                return req.kind == "close"
            req.error = StoreError(
                f"trial store {str(self.path)!r}: {req.kind} failed: {e}; see the store status"
            )
        except Exception as e:
            req.error = e
        finally:
            req.done.set()
        return req.kind == "close"

    @contextlib.contextmanager
    def _transaction(self, *, boundary: bool = False) -> Iterator[sqlite3.Connection]:
        conn = self._conn
        full = boundary and self.synchronous != "FULL"
        if full:
            conn.execute("PRAGMA synchronous = FULL")
        try:
            conn.execute("BEGIN")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        finally:
            if full:
                conn.execute(f"PRAGMA synchronous = {self.synchronous}")

    def _start(self, info: TrialInfo) -> int:
        host, boot, pid, ticks = _this_writer()
        now = time.time()
        with self._transaction(boundary=True) as conn:
            cur = conn.execute(
                f"INSERT INTO trials ({', '.join(_INFO_FIELDS)}, gaitedge_version, start_unix_s, "
                "status, writer_host, writer_boot_id, writer_pid, writer_start_ticks) "
                f"VALUES ({', '.join('?' * (len(_INFO_FIELDS) + 7))})",
                (
                    *(getattr(info, f) for f in _INFO_FIELDS), _gaitedge_version(), now,
                    "recording", host, boot, pid, ticks,
                ),
            )  # fmt: skip
        tid = int(cur.lastrowid or 0)
        self._writing.add(tid)
        return tid

    def _finish(self, trial_id: int, status: str, reason: str | None = None) -> None:
        self._writing.discard(trial_id)
        now = time.time()
        with self._transaction(boundary=True) as conn:
            if reason is not None:
                conn.execute(_INSERT_ERROR, (trial_id, None, reason, now))
            conn.execute(
                "UPDATE trials SET status = CASE WHEN status IN ('disk_full', 'error') "
                "THEN status ELSE ? END, end_unix_s = coalesce(end_unix_s, ?) WHERE id = ?",
                (status, now, trial_id),
            )

    def _write(self, items: list[tuple[Any, ...]]) -> None:
        """Commit one batch of data items in one transaction (or keep / drop it)."""
        if not items:
            return
        if self._stopped:
            return
        free = _free_bytes(self.path.parent)
        if free is not None and free < self.min_free_bytes:
            self._stop(
                "disk_full",
                f"disk full: {free / 1e6:.0f} MB free in {str(self.path.parent)!r} < "
                f"{self.min_free_bytes / 1e6:.0f} MB; recording stopped, free space",
            )
            return
        by_tag: dict[int, list[tuple[Any, ...]]] = {}
        for item in items:
            by_tag.setdefault(item[0], []).append(item)
        touched = {item[1] for item in items if item[0] in (_SAMPLES, _PREDICTIONS)}
        try:
            with self._transaction() as conn:
                conn.executemany(_UPSERT_DEVICE, (i[1] for i in by_tag.get(_DEVICE, ())))
                conn.executemany(
                    _INSERT_OUTPUT,
                    itertools.chain.from_iterable(i[1] for i in by_tag.get(_OUTPUTS, ())),
                )
                if _SAMPLES in by_tag:
                    conn.executemany(_INSERT_SAMPLES, _sample_rows(by_tag[_SAMPLES]))
                if _PREDICTIONS in by_tag:
                    conn.executemany(_INSERT_PREDICTIONS, _prediction_rows(by_tag[_PREDICTIONS]))
                conn.executemany(_INSERT_EVENT, (i[1] for i in by_tag.get(_EVENT, ())))
                conn.executemany(_INSERT_GAP, (i[1] for i in by_tag.get(_GAP, ())))
                conn.executemany(_INSERT_ERROR, (i[1] for i in by_tag.get(_ERROR, ())))
                now = time.time()
                conn.executemany(
                    "UPDATE trials SET last_write_unix_s = ? WHERE id = ?",
                    ((now, tid) for tid in touched),
                )
        except sqlite3.OperationalError as e:
            if getattr(e, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
                log.warning("trial store %s is locked by another program; retrying", self.path)
                self._retry = items
                return
            self._write_failed(e)
        except (sqlite3.Error, OSError) as e:
            self._write_failed(e)

    def _write_failed(self, e: BaseException) -> None:
        name = getattr(e, "sqlite_errorname", "")
        if name == "SQLITE_FULL" or (isinstance(e, OSError) and e.errno == errno.ENOSPC):
            self._stop("disk_full", f"disk full: SQLite said {e}; recording stopped, free space")
        else:
            code = name or (errno.errorcode.get(getattr(e, "errno", 0) or 0, type(e).__name__))
            self._stop(
                "error", f"write error {code}: recording stopped; check the card and the log"
            )

    def _stop(self, trial_status: str, message: str) -> None:
        """Stop writing data; mark the recording trials (one tiny FULL-synced update)."""
        if self._stopped:
            return
        self._stopped = True
        self._status = message
        log.warning("trial store %s: %s", self.path, message)
        if not self._writing:
            return
        try:
            with self._transaction(boundary=True) as conn:
                conn.executemany(
                    "UPDATE trials SET status = ?, end_unix_s = ? WHERE id = ? "
                    "AND status = 'recording'",
                    ((trial_status, time.time(), tid) for tid in self._writing),
                )
        except (sqlite3.Error, OSError) as e:  # reopening will mark them interrupted
            log.error("trial store %s: could not mark trials %s: %s", self.path, trial_status, e)


# ---------------------------------------------------------------------------- helpers


def _sample_rows(items: list[tuple[Any, ...]]) -> Iterable[tuple[Any, ...]]:
    for _, tid, side, c, th, td, x, p in items:
        n = len(c)
        if p is None:
            blobs: Iterable[bytes | None] = itertools.repeat(None, n)
        else:
            raw, w = p.tobytes(), 4 * p.shape[1]
            blobs = [raw[i * w : (i + 1) * w] for i in range(n)]
        yield from zip(
            itertools.repeat(tid, n), itertools.repeat(side, n), c.tolist(), th.tolist(),
            td.tolist(), *x.T.tolist(), blobs, strict=True,
        )  # fmt: skip


def _prediction_rows(items: list[tuple[Any, ...]]) -> Iterable[tuple[Any, ...]]:
    for _, tid, side, c, y in items:
        n, k = y.shape
        yield from zip(
            itertools.repeat(tid, n * k), itertools.repeat(side, n * k),
            np.repeat(c, k).tolist(), itertools.chain.from_iterable(itertools.repeat(range(k), n)),
            y.ravel().tolist(), strict=True,
        )  # fmt: skip


def _dicts(cur: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


_GAITEDGE_VERSION: list[str] = []


def _gaitedge_version() -> str:
    if not _GAITEDGE_VERSION:
        from importlib.metadata import PackageNotFoundError, version

        try:
            _GAITEDGE_VERSION.append(version("gaitedge"))
        except PackageNotFoundError:
            _GAITEDGE_VERSION.append("")
    return _GAITEDGE_VERSION[0]


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _proc_state(pid: int) -> tuple[str, int] | None:
    """(state letter, start time in clock ticks since boot) of a process, or None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # the name (field 2) may hold spaces
    return fields[0], int(fields[19])  # fields 3 and 22 of proc(5)


def _this_writer() -> tuple[str, str, int, int | None]:
    """(host, boot id, pid, start ticks) of this process, as stored with its trials."""
    pid = os.getpid()
    state = _proc_state(pid)
    return socket.gethostname(), _boot_id(), pid, None if state is None else state[1]


def _writer_alive(host: str, boot: str, pid: int | None, ticks: int | None) -> bool:
    """Whether the process that wrote a trial is still running (rule: module docstring).

    Another host cannot be writing (SQLite's WAL needs shared memory on one host), so only
    a process of this host and boot counts. Without /proc (not Linux) the pid alone decides.
    """
    if pid is None or host != socket.gethostname() or boot != _boot_id():
        return False
    state = _proc_state(pid)
    if state is None:
        if Path("/proc/self/stat").exists():
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return state[0] not in ("Z", "X") and (ticks is None or state[1] == ticks)
