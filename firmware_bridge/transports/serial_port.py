"""A wired insole on a serial port (USB CDC-ACM or a USB-UART bridge), through pyserial.

A dedicated reader thread owns the port: it waits for bytes (``select``) with a
short timeout (no busy-waiting: an idle port costs a few wake-ups a second), stamps each
chunk with its reception time and queues it (:class:`ChunkQueue`), waking the event loop
only when a reader waits. Link events ("disconnected", "reconnected") and the end of the
stream reach the loop with ``loop.call_soon_threadsafe``: the end comes after every
chunk; an event's callback runs after the chunks before it were queued, though a reader
may take bytes received after a "reconnected" before that callback has run.

On an unplug it closes the port at once (so the kernel does not renumber ttyACM0 to
ttyACM1 on replug), reports "disconnected" and reopens with exponential backoff within a
wall-clock budget; the same :class:`SerialTransport` object keeps delivering bytes after
"reconnected".

The port is named by a path, a ``/dev/serial/by-id/`` link or ``usb:VID:PID[:SERIAL]``
(:mod:`.serial_discovery`), resolved again at every reopen. Ports are always opened
exclusively (``flock``): Linux would otherwise let two programs share the port, each
receiving part of the bytes.

pyserial is imported only when a port is opened or listed.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import logging
import os
import select
import termios
import threading
import time
from collections.abc import Callable
from typing import Any, Final, Protocol

from firmware_bridge.errors import DeviceNotFoundError, TransportError
from firmware_bridge.transports._chunk_queue import MAX_READ_BYTES
from firmware_bridge.transports._reconnect import ReconnectingTransport, ReconnectPolicy
from firmware_bridge.transports.base import EventCallback, EventKind, future_failed
from firmware_bridge.transports.serial_discovery import BY_ID_DIR, find_usb_port, parse_usb_target

__all__ = ["SerialTransport"]

log = logging.getLogger(__name__)

#: Longest a reader-thread read() blocks before it looks at the stop flag again, s.
#: aclose() also wakes it at once (``Serial.cancel_read``); this is the fallback.
_READ_TIMEOUT_S: Final = 0.2
#: Longest aclose() (or a failed open) waits for the reader thread to end, s.
_JOIN_TIMEOUT_S: Final = _READ_TIMEOUT_S + 5.0
#: open() errnos that mean "no such device (any more)".
_GONE_ERRNOS: Final = frozenset({errno.ENOENT, errno.ENODEV, errno.ENXIO, errno.EIO})


def _open_error(port: str, e: BaseException) -> TransportError:
    """Turn a pyserial/OS failure to open ``port`` into one line saying what to do."""
    code = getattr(e, "errno", None)
    why = os.strerror(code) if isinstance(code, int) else str(e)
    if code in _GONE_ERRNOS:
        hint = (
            "the device is unplugged or its serial number changed; `ls /dev/serial/by-id/` "
            "lists what is connected"
            if port.startswith(BY_ID_DIR)
            else "is the insole plugged in? `python -m serial.tools.list_ports -v` lists ports"
        )
        return DeviceNotFoundError(f"serial port {port} not found ({why}): {hint}")
    if code in (errno.EACCES, errno.EPERM):
        return TransportError(
            f"no permission to open serial port {port}: add yourself to the dialout group "
            "(sudo usermod -aG dialout $USER, then log in again)"
        )
    if code in (errno.EAGAIN, errno.EBUSY):
        return TransportError(
            f"serial port {port} is busy: is another program using it? gaitedge opens ports "
            "exclusively; close the other program (serial monitor, a second gaitedge, "
            "ModemManager probing a new ttyACM) and retry"
        )
    return TransportError(
        f"cannot open serial port {port}: {why}; is it the insole's port, and does its "
        "driver accept the baud rate? `python -m serial.tools.list_ports -v` lists ports"
    )


class SerialTransport(ReconnectingTransport):
    """Bytes from an insole on a serial port, with automatic reopen after an unplug.

    The port opens on the first :meth:`read` (or an explicit :meth:`open`), which raises if
    it cannot. After an unplug the link reports "disconnected", retries with exponential
    backoff (``retry_initial_s`` doubling up to ``retry_max_s``) and reports "reconnected"
    (with ``gap_s``) when the port is back, or "gave_up" once ``reconnect_budget_s`` has
    passed; :meth:`read` then returns ``b""``.

    Parameters
    ----------
    target : str
        ``"/dev/ttyACM0"``, ``"/dev/serial/by-id/usb-..."`` (resolved again at every open)
        or ``"usb:VID:PID[:SERIAL]"`` with hex ids (see :func:`find_usb_port`).
    baudrate : int
        Line rate, baud. CDC-ACM devices ignore it; USB-UART bridges need the firmware's.
    reconnect_budget_s : float or None
        Wall-clock time to keep trying to reopen after an unplug, s; ``None`` = forever,
        ``0`` = give up at the first unplug.
    retry_initial_s, retry_max_s : float
        First and longest wait between reopen attempts, s (the wait doubles each time).
    low_latency : bool
        Ask the driver for low-latency mode (FTDI adapters otherwise hold data for 16 ms);
        ignored where the driver does not support it.
    on_event : callable, optional
        Called on the event loop with each :class:`TransportEvent`.

    Attributes
    ----------
    device_ : str or None
        The device path currently (or last) open, after resolving links and USB ids.
    """

    def __init__(
        self,
        target: str,
        *,
        baudrate: int = 921_600,
        reconnect_budget_s: float | None = 30.0,
        retry_initial_s: float = 0.1,
        retry_max_s: float = 2.0,
        low_latency: bool = True,
        on_event: EventCallback | None = None,
    ) -> None:
        if not target:
            raise ValueError("serial target is empty; give a port such as /dev/ttyACM0")
        if isinstance(baudrate, bool) or not isinstance(baudrate, int) or baudrate <= 0:
            raise ValueError(f"baudrate={baudrate!r}; must be a positive int, e.g. 921600")
        policy = ReconnectPolicy(reconnect_budget_s, retry_initial_s, retry_max_s)
        super().__init__(policy, on_event=on_event)
        self.target = target
        self.name = target
        self.baudrate = baudrate
        self.low_latency = low_latency
        self._usb = parse_usb_target(target) if target.startswith("usb:") else None
        self.device_: str | None = None

        self._lock = threading.Lock()  # guards _ser between reader thread and aclose()
        self._ser: _Port | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._exited: asyncio.Future[None] | None = None

    # ------------------------------------------------------------------ async side

    async def open(self) -> None:
        """Open the port and start reading (:meth:`read` does this on its first call).

        Raises
        ------
        DeviceNotFoundError
            The port, link or USB device does not exist.
        TransportError
            The port is busy, not permitted, or several USB devices match.
        """
        failed = self._up
        if failed is not None and future_failed(failed):
            # An open that failed while nobody waited for it (its caller was cancelled):
            # let the old thread end, then try again.
            await self._join(self._thread, self._exited)
            if self._up is failed:
                self._up = None
        if self._closed:
            raise TransportError(f"serial port {self.name} is closed; make a new transport")
        if self._up is None:
            loop = asyncio.get_running_loop()
            self._loop = loop
            self._up = loop.create_future()
            self._exited = loop.create_future()
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name=f"gaitedge-serial {self.name}", daemon=True
            )
            self._thread.start()
        opening, thread, exited = self._up, self._thread, self._exited
        try:
            await asyncio.shield(opening)
        except BaseException:
            if future_failed(opening) and self._up is opening:  # it failed (not our caller)
                self._up = None  # a later read() or open() tries again
                await self._join(thread, exited)
            raise

    async def aclose(self) -> None:
        """Stop the reader thread and close the port. Idempotent; never raises."""
        if self._closed:
            return
        self._closed = True
        try:
            self._stop.set()
            with self._lock:
                if self._ser is not None:
                    self._ser.cancel_read()  # wake the thread out of select() now
            await self._join(self._thread, self._exited)
            opening = self._up
            if opening is not None:
                future_failed(opening)  # an open error nobody awaited: mark it seen
        except Exception:  # aclose never raises
            log.exception("%s: error while closing", self.name)

    async def _join(
        self, thread: threading.Thread | None, exited: asyncio.Future[None] | None
    ) -> None:
        """Wait (without blocking the loop) for the reader thread to end."""
        if thread is None or exited is None:
            return
        if not exited.done():
            await asyncio.wait({exited}, timeout=_JOIN_TIMEOUT_S)
        if thread.is_alive():  # it has posted its last callback and is returning
            await asyncio.to_thread(thread.join, 1.0)
        if thread.is_alive():
            log.warning(
                "%s: reader thread did not stop; the port stays locked until this process exits",
                self.name,
            )

    # ------------------------------------------------------------------ reader thread

    def _post(self, fn: Callable[..., object], *args: Any) -> None:
        """Run ``fn(*args)`` on the event loop; drop it if the loop is gone."""
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # loop closed without aclose(): nobody listens
            self._loop.call_soon_threadsafe(fn, *args)

    def _emit_later(self, kind: EventKind, *, gap_s: float = 0.0, detail: str = "") -> None:
        self._post(functools.partial(self._emit, kind, gap_s=gap_s, detail=detail))

    def _run(self) -> None:
        assert self._up is not None and self._exited is not None
        opening, exited = self._up, self._exited
        ser: _Port | None = None
        try:
            try:
                ser = self._open_port()
            except BaseException as e:
                self._post(_set_exception, opening, e)
                return
            self._emit_later("connected", detail=self._opened_detail())
            self._post(_set_result, opening)
            while ser is not None:
                error = self._pump(ser)
                self._drop(ser)
                ser = None
                if error is None:  # stopped by aclose()
                    break
                t_down = time.monotonic()
                self._emit_later("disconnected", detail=str(error))
                ser = self._reopen(t_down)
                if ser is not None:
                    gap = time.monotonic() - t_down
                    self._emit_later("reconnected", gap_s=gap, detail=self._opened_detail())
            self._post(self._chunks.end)
        except BaseException as e:  # a bug: hand it to read() rather than lose it
            log.exception("%s: reader thread failed", self.name)
            if ser is not None:
                self._drop(ser)
            self._post(self._chunks.end, e)
        finally:
            self._post(_set_result, exited)

    def _pump(self, ser: _Port) -> OSError | None:
        """Move bytes to the loop until stopped (None) or the port fails (its error)."""
        assert self._loop is not None
        while not self._stop.is_set() and not self._loop.is_closed():  # closed: nobody reads
            try:
                chunk = ser.read_available()
            except OSError as e:  # SerialException is one (EIO or no data after an unplug)
                return e
            if chunk:  # queued from this thread: the loop wakes only if a reader waits
                self._chunks.put(chunk, time.monotonic())
        return None

    def _reopen(self, t_down: float) -> _Port | None:
        """Retry with backoff until open (the port), stopped or out of budget (None)."""
        budget = self.policy.reconnect_budget_s
        backoff = self.policy.backoff(t_down, budget)
        last = "no attempt made"
        while True:
            if backoff.expired():
                gap = time.monotonic() - t_down
                self._emit_later(
                    "gave_up", gap_s=gap, detail=f"not back within {budget:g} s; {last}"
                )
                return None
            if self._stop.wait(backoff.next_wait()):
                return None
            try:
                return self._open_port()
            except TransportError as e:
                last = str(e)
                log.debug("%s: reopen failed: %s", self.name, e)

    def _open_port(self) -> _Port:
        """Resolve the target and open it exclusively; TransportError says why not."""
        device = find_usb_port(self.target) if self._usb is not None else self.target
        try:
            ser = _serial_class()(
                port=device, baudrate=self.baudrate, timeout=_READ_TIMEOUT_S, exclusive=True
            )
        except (OSError, ValueError, termios.error) as e:  # ValueError: baud rate refused
            raise _open_error(device, e) from e
        if self.low_latency:
            try:
                ser.set_low_latency_mode(True)
            except (OSError, ValueError, NotImplementedError, termios.error) as e:
                log.debug("%s: no low-latency mode (%s)", device, e)
        with self._lock:
            self._ser = ser
            self.device_ = os.path.realpath(device)
        if self._stop.is_set():  # aclose() ran while we were opening
            ser.cancel_read()
        return ser

    def _drop(self, ser: _Port) -> None:
        """Close a port at once (so a replugged device gets the same name back)."""
        with self._lock:
            self._ser = None
            try:
                ser.close()
            except (OSError, termios.error) as e:
                log.debug("%s: error closing a failed port: %s", self.name, e)

    def _opened_detail(self) -> str:
        via = "" if self.device_ == self.target else f" ({self.device_})"
        return f"opened {self.target}{via} at {self.baudrate} baud"


class _Port(Protocol):
    """What the reader thread uses of an open port (:func:`_serial_class`'s instances)."""

    def read_available(self) -> bytes: ...
    def cancel_read(self) -> None: ...
    def close(self) -> None: ...
    def set_low_latency_mode(self, low_latency_settings: bool) -> None: ...


@functools.cache
def _serial_class() -> Callable[..., _Port]:
    """pyserial's Serial, except that open() keeps the bytes already received.

    pyserial flushes the input queue when it opens a port. On a USB port that queue is
    (nearly) empty anyway, as the driver starts reading only at open; on a pty (the
    simulator) it holds the first bytes of the stream, and after a quick replug the bytes
    sent since. The decoder resynchronises on its own, so nothing is gained by dropping them.
    """
    import serial

    class _KeepInputSerial(serial.Serial):
        def _reset_input_buffer(self) -> None:
            pass

        def read_available(self) -> bytes:
            """Whatever the port has received (>= 1 byte), waiting up to ``timeout`` for
            the first byte; b"" on timeout or :meth:`cancel_read`.

            One ``select`` and one ``read`` a chunk, where pyserial's ``read(in_waiting or
            1)`` then ``read(in_waiting)`` makes two of each, two ioctls and its Timeout
            objects (README, "Recording trials", has the CPU it saves).
            """
            fd, abort = self.fd, self.pipe_abort_read_r
            assert fd is not None and abort is not None  # the port is open
            ready, _, _ = select.select([fd, abort], [], [], self.timeout)
            if abort in ready:  # cancel_read()
                os.read(abort, 1000)
                return b""
            if not ready:
                return b""
            try:
                chunk = os.read(fd, MAX_READ_BYTES)
            except BlockingIOError:
                return b""
            if not chunk:  # as pyserial's read(): readable, yet nothing = gone
                raise serial.SerialException(
                    "device reports readiness to read but returned no data "
                    "(device disconnected or multiple access on port?)"
                )
            return chunk

    return _KeepInputSerial


def _set_result(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def _set_exception(fut: asyncio.Future[None], e: BaseException) -> None:
    if not fut.done():
        fut.set_exception(e)
