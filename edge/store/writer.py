"""The store's writer thread: batched commits, durability, a full disk, who is writing.

The loop enqueues typed items (:class:`SamplesItem`, :class:`PredictionsItem`,
:class:`RowsItem`) and never waits; :class:`StoreWriter` commits everything queued as one
transaction every ``flush_interval_s`` and answers requests (start, finish, flush, close).
Durability and the full-disk rule: :mod:`edge.store` (module docstring).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import itertools
import logging
import os
import queue
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from edge.errors import StoreError
from edge.store.health import StoreHealth
from edge.store.schema import (
    INFO_FIELDS,
    INSERT_ERROR,
    INSERT_EVENT,
    INSERT_GAP,
    INSERT_OUTPUT,
    INSERT_PREDICTIONS,
    INSERT_SAMPLES,
    INSERT_STRIDE,
    UPSERT_DEVICE,
    UPSERT_STRIDE_PASS,
    TrialInfo,
)

__all__ = [
    "Item",
    "PredictionsItem",
    "Request",
    "RowsItem",
    "SamplesItem",
    "StoreWriter",
    "free_bytes",
    "writer_alive",
]

log = logging.getLogger("edge.store")


class SamplesItem(NamedTuple):
    """n samples of one shoe, as :meth:`TrialStore.append_samples` took them (copies)."""

    trial_id: int
    side: str
    counter: npt.NDArray[np.int64]  # (n,)
    t_host: npt.NDArray[np.float64]  # (n,) [s, unix]
    t_device_us: npt.NDArray[np.int64]  # (n,) [µs]
    imu: npt.NDArray[np.float32]  # (n, 6) [m/s², rad/s]
    pressure: npt.NDArray[np.float32] | None  # (n, p) [kPa], little-endian


class PredictionsItem(NamedTuple):
    """The model's k outputs for n samples of one shoe."""

    trial_id: int
    side: str
    counter: npt.NDArray[np.int64]  # (n,)
    outputs: npt.NDArray[np.float32]  # (n, k)


class RowsItem(NamedTuple):
    """Ready rows for one of the small tables (devices, outputs, events, gaps, errors,
    strides and their pass)."""

    sql: str
    rows: tuple[tuple[Any, ...], ...]


Item = SamplesItem | PredictionsItem | RowsItem

#: The small tables' statements, in the order one commit writes them.
_ROW_ORDER = (
    UPSERT_DEVICE, INSERT_OUTPUT, INSERT_EVENT, INSERT_GAP, INSERT_ERROR, INSERT_STRIDE,
    UPSERT_STRIDE_PASS,
)  # fmt: skip


@dataclasses.dataclass(eq=False)
class Request:
    """A call the writer thread answers (start, finish, flush, close, strides)."""

    kind: Literal["start", "finish", "flush", "close", "strides"]
    args: tuple[Any, ...] = ()
    done: threading.Event = dataclasses.field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


class StoreWriter:
    """The one thread that writes a store (started by :class:`edge.store.TrialStore`).

    Parameters
    ----------
    conn : sqlite3.Connection
        Its own connection (autocommit, WAL, migrated).
    path : Path
        The database file (for messages and the free-space check of its folder).
    flush_interval_s, min_free_bytes, synchronous
        As :class:`edge.store.TrialStore` documents them.
    requests : queue.SimpleQueue
        Items and :class:`Request` objects, in the order the callers put them.
    wake : threading.Event
        Set by a caller that waits for a request.

    Attributes
    ----------
    health : StoreHealth
        OK until recording stops; then why.
    message : str
        ``"ok"``, or the one line saying why recording stopped.
    stopped : bool
        Recording stopped: data items are dropped.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path,
        *,
        flush_interval_s: float,
        min_free_bytes: int,
        synchronous: str,
        requests: queue.SimpleQueue[Item | Request],
        wake: threading.Event,
    ) -> None:
        self.conn, self.path = conn, path
        self.flush_interval_s, self.min_free_bytes = flush_interval_s, min_free_bytes
        self.synchronous = synchronous
        self.queue, self.wake = requests, wake
        self.retry: list[Item] = []
        self.writing: set[int] = set()  # trials recording through this store
        self.stopped = False
        self.health = StoreHealth.OK
        self.message = "ok"

    def run(self) -> None:
        conn = self.conn
        closing = False
        next_flush = time.monotonic() + self.flush_interval_s
        try:
            while not closing:
                self.wake.wait(max(0.0, next_flush - time.monotonic()))
                self.wake.clear()
                data: list[Item] = self.retry
                self.retry = []
                while True:
                    try:
                        item = self.queue.get_nowait()
                    except queue.Empty:
                        break
                    if isinstance(item, Request):
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
            self._stop(
                StoreHealth.WRITE_ERROR, f"write error: writer failed ({type(e).__name__}: {e})"
            )
        finally:
            while True:  # answer whatever is still waiting
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, Request):
                    item.error = StoreError(f"trial store {str(self.path)!r} is closed")
                    item.done.set()
            conn.close()

    def _answer(self, req: Request) -> bool:
        """Run one request; return True for close."""
        try:
            if req.kind == "start":
                req.result = self._start(req.args[0])
            elif req.kind == "finish":
                self._finish(*req.args)
            elif req.kind == "strides":
                self._replace_strides(*req.args)
            elif req.kind == "close":
                reason = req.args[0] or "store closed before finish_trial"
                for tid in sorted(self.writing):
                    self._finish(tid, "interrupted", reason)
        except (sqlite3.Error, OSError) as e:
            if self.stopped:  # already said (status, one warning); a full disk never raises
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
        conn = self.conn
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
        host, boot, pid, ticks = this_writer()
        now = time.time()
        with self._transaction(boundary=True) as conn:
            cur = conn.execute(
                f"INSERT INTO trials ({', '.join(INFO_FIELDS)}, gaitedge_version, start_unix_s, "
                "status, writer_host, writer_boot_id, writer_pid, writer_start_ticks) "
                f"VALUES ({', '.join('?' * (len(INFO_FIELDS) + 7))})",
                (
                    *(getattr(info, f) for f in INFO_FIELDS), gaitedge_version(), now,
                    "recording", host, boot, pid, ticks,
                ),
            )  # fmt: skip
        tid = int(cur.lastrowid or 0)
        self.writing.add(tid)
        return tid

    def _finish(self, trial_id: int, status: str, reason: str | None = None) -> None:
        self.writing.discard(trial_id)
        now = time.time()
        with self._transaction(boundary=True) as conn:
            if reason is not None:
                conn.execute(INSERT_ERROR, (trial_id, None, reason, now))
            conn.execute(
                "UPDATE trials SET status = CASE WHEN status IN ('disk_full', 'error') "
                "THEN status ELSE ? END, end_unix_s = coalesce(end_unix_s, ?) WHERE id = ?",
                (status, now, trial_id),
            )

    def _replace_strides(
        self, trial_id: int, rows: list[tuple[Any, ...]], stride_pass: tuple[Any, ...]
    ) -> None:
        """A trial's strides replaced by another pass's, in one transaction."""
        if self.stopped:
            raise StoreError(f"trial store {str(self.path)!r} stopped recording: {self.message}")
        with self._transaction() as conn:
            conn.execute("DELETE FROM strides WHERE trial_id = ?", (trial_id,))
            conn.executemany(INSERT_STRIDE, rows)
            conn.execute(UPSERT_STRIDE_PASS, stride_pass)

    def _write(self, items: list[Item]) -> None:
        """Commit one batch of data items in one transaction (or keep / drop it)."""
        if not items:
            return
        if self.stopped:
            return
        free = free_bytes(self.path.parent)
        if free is not None and free < self.min_free_bytes:
            self._stop(
                StoreHealth.DISK_FULL,
                f"disk full: {free / 1e6:.0f} MB free in {str(self.path.parent)!r} < "
                f"{self.min_free_bytes / 1e6:.0f} MB; recording stopped, free space",
            )
            return
        samples = [i for i in items if isinstance(i, SamplesItem)]
        predictions = [i for i in items if isinstance(i, PredictionsItem)]
        rows: dict[str, list[tuple[Any, ...]]] = {sql: [] for sql in _ROW_ORDER}
        for item in items:
            if isinstance(item, RowsItem):
                rows[item.sql].extend(item.rows)
        touched = {i.trial_id for i in samples} | {i.trial_id for i in predictions}
        try:
            with self._transaction() as conn:
                for sql in _ROW_ORDER[:2]:  # devices and output names before their data
                    conn.executemany(sql, rows[sql])
                if samples:
                    conn.executemany(INSERT_SAMPLES, _sample_rows(samples))
                if predictions:
                    conn.executemany(INSERT_PREDICTIONS, _prediction_rows(predictions))
                for sql in _ROW_ORDER[2:]:
                    conn.executemany(sql, rows[sql])
                now = time.time()
                conn.executemany(
                    "UPDATE trials SET last_write_unix_s = ? WHERE id = ?",
                    ((now, tid) for tid in touched),
                )
        except sqlite3.OperationalError as e:
            if getattr(e, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
                log.warning("trial store %s is locked by another program; retrying", self.path)
                self.retry = items
                return
            self._write_failed(e)
        except (sqlite3.Error, OSError) as e:
            self._write_failed(e)

    def _write_failed(self, e: BaseException) -> None:
        name = getattr(e, "sqlite_errorname", "")
        if name == "SQLITE_FULL" or (isinstance(e, OSError) and e.errno == errno.ENOSPC):
            message = f"disk full: SQLite said {e}; recording stopped, free space"
            self._stop(StoreHealth.DISK_FULL, message)
        else:
            code = name or (errno.errorcode.get(getattr(e, "errno", 0) or 0, type(e).__name__))
            message = f"write error {code}: recording stopped; check the card and the log"
            self._stop(StoreHealth.WRITE_ERROR, message)

    def _stop(self, health: StoreHealth, message: str) -> None:
        """Stop writing data; mark the recording trials (one tiny FULL-synced update)."""
        if self.stopped:
            return
        self.stopped = True
        self.health, self.message = health, message
        trial_status = health.trial_status
        log.warning("trial store %s: %s", self.path, message)
        if not self.writing:
            return
        try:
            with self._transaction(boundary=True) as conn:
                conn.executemany(
                    "UPDATE trials SET status = ?, end_unix_s = ? WHERE id = ? "
                    "AND status = 'recording'",
                    ((trial_status, time.time(), tid) for tid in self.writing),
                )
        except (sqlite3.Error, OSError) as e:  # reopening will mark them interrupted
            log.error("trial store %s: could not mark trials %s: %s", self.path, trial_status, e)


def _sample_rows(items: list[SamplesItem]) -> Iterable[tuple[Any, ...]]:
    for tid, side, c, th, td, x, p in items:
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


def _prediction_rows(items: list[PredictionsItem]) -> Iterable[tuple[Any, ...]]:
    for tid, side, c, y in items:
        n, k = y.shape
        yield from zip(
            itertools.repeat(tid, n * k), itertools.repeat(side, n * k),
            np.repeat(c, k).tolist(), itertools.chain.from_iterable(itertools.repeat(range(k), n)),
            y.ravel().tolist(), strict=True,
        )  # fmt: skip


def free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


_VERSION: list[str] = []


def gaitedge_version() -> str:
    if not _VERSION:
        from importlib.metadata import PackageNotFoundError, version

        try:
            _VERSION.append(version("gaitedge"))
        except PackageNotFoundError:
            _VERSION.append("")
    return _VERSION[0]


def boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def proc_state(pid: int) -> tuple[str, int] | None:
    """(state letter, start time in clock ticks since boot) of a process, or None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # the name (field 2) may hold spaces
    return fields[0], int(fields[19])  # fields 3 and 22 of proc(5)


def this_writer() -> tuple[str, str, int, int | None]:
    """(host, boot id, pid, start ticks) of this process, as stored with its trials."""
    pid = os.getpid()
    state = proc_state(pid)
    return socket.gethostname(), boot_id(), pid, None if state is None else state[1]


def writer_alive(host: str, boot: str, pid: int | None, ticks: int | None) -> bool:
    """Whether the process that wrote a trial is still running (rule: module docstring).

    Another host cannot be writing (SQLite's WAL needs shared memory on one host), so only
    a process of this host and boot counts. Without /proc (not Linux) the pid alone decides.
    """
    if pid is None or host != socket.gethostname() or boot != boot_id():
        return False
    state = proc_state(pid)
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
