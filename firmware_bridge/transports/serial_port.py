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

The port is named by a path (``/dev/ttyACM0``), a stable udev link
(``/dev/serial/by-id/usb-...``, resolved again at every reopen) or by USB ids
(``usb:VID:PID[:SERIAL]``, hex, matched against ``serial.tools.list_ports.comports()``
at every reopen). Ports are always opened exclusively (``flock``): Linux would otherwise
let two programs share the port, each receiving part of the bytes.

pyserial is imported only when a port is opened or listed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import functools
import glob
import logging
import os
import select
import termios
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final

from firmware_bridge.errors import DeviceNotFoundError, TransportError
from firmware_bridge.transports.base import (
    MAX_READ_BYTES,
    ChunkQueue,
    EventCallback,
    Transport,
    future_failed,
    joined,
)

if TYPE_CHECKING:
    import serial
    from serial.tools.list_ports_common import ListPortInfo

__all__ = ["SerialPortInfo", "SerialTransport", "find_usb_port", "list_serial_insoles"]

log = logging.getLogger(__name__)

#: Longest a reader-thread read() blocks before it looks at the stop flag again, s.
#: aclose() also wakes it at once (``Serial.cancel_read``); this is the fallback.
_READ_TIMEOUT_S: Final = 0.2
#: Longest aclose() (or a failed open) waits for the reader thread to end, s.
_JOIN_TIMEOUT_S: Final = _READ_TIMEOUT_S + 5.0
#: Where udev puts stable, per-device links to serial ports.
_BY_ID_DIR: Final = "/dev/serial/by-id"
#: open() errnos that mean "no such device (any more)".
_GONE_ERRNOS: Final = frozenset({errno.ENOENT, errno.ENODEV, errno.ENXIO, errno.EIO})


@dataclasses.dataclass(frozen=True, slots=True)
class _UsbTarget:
    vid: int
    pid: int
    serial_number: str | None

    def __str__(self) -> str:
        sn = "" if self.serial_number is None else f":{self.serial_number}"
        return f"usb:{self.vid:04x}:{self.pid:04x}{sn}"


def _parse_usb_target(target: str) -> _UsbTarget:
    """``"usb:VID:PID[:SERIAL]"`` (hex ids, optional ``0x``) -> its parts; ValueError if bad."""
    parts = target.split(":", 3)
    if len(parts) < 3 or parts[0] != "usb" or (len(parts) == 4 and not parts[3]):
        raise ValueError(
            f"serial target {target!r} is not usb:VID:PID[:SERIAL]; write e.g. usb:2e8a:000a "
            "or usb:2e8a:000a:E6614C311B4A5E2F (ids in hex)"
        )
    try:
        vid, pid = (int(p, 16) for p in parts[1:3])
    except ValueError:
        raise ValueError(
            f"serial target {target!r}: USB vendor and product ids must be hex, e.g. usb:2e8a:000a"
        ) from None
    if not (0 <= vid <= 0xFFFF and 0 <= pid <= 0xFFFF):
        raise ValueError(f"serial target {target!r}: USB ids are 16-bit (0000 to ffff)")
    return _UsbTarget(vid, pid, parts[3] if len(parts) == 4 else None)


def _describe(port: ListPortInfo) -> str:
    vid = "????" if port.vid is None else f"{port.vid:04x}"
    pid = "????" if port.pid is None else f"{port.pid:04x}"
    sn = f" serial {port.serial_number}" if port.serial_number else " (no serial number)"
    loc = f" at {port.location}" if port.location else ""
    return f"{port.device} usb:{vid}:{pid}{sn}{loc}"


def find_usb_port(target: str, ports: Iterable[ListPortInfo] | None = None) -> str:
    """The device path of the one serial port matching ``usb:VID:PID[:SERIAL]``.

    Parameters
    ----------
    target : str
        ``"usb:VID:PID"`` or ``"usb:VID:PID:SERIAL"``; ids in hex, the serial number
        compared case-insensitively.
    ports : iterable of serial.tools.list_ports_common.ListPortInfo, optional
        Ports to choose from; default ``serial.tools.list_ports.comports()``.

    Returns
    -------
    str
        The port's device path, e.g. ``"/dev/ttyACM0"``.

    Raises
    ------
    ValueError
        ``target`` is not ``usb:VID:PID[:SERIAL]``.
    DeviceNotFoundError
        No port matches (the message lists the USB serial ports that exist).
    TransportError
        Several ports match (the message lists them and says how to pick one).
    """
    want = _parse_usb_target(target)
    if ports is None:
        from serial.tools import list_ports

        ports = list_ports.comports()
    usb = [p for p in ports if p.vid is not None]
    found = [
        p
        for p in usb
        if p.vid == want.vid
        and p.pid == want.pid
        and (
            want.serial_number is None
            or (p.serial_number or "").casefold() == want.serial_number.casefold()
        )
    ]
    if len(found) == 1:
        return str(found[0].device)
    if not found:
        seen = "; ".join(_describe(p) for p in usb) or "none"
        raise DeviceNotFoundError(
            f"no serial port matches {want}: is the insole plugged in and powered? "
            f"USB serial ports present: {seen}"
        )
    listed = "; ".join(_describe(p) for p in found)
    fix = (
        "add the serial number (usb:VID:PID:SERIAL)"
        if want.serial_number is None
        else "use its /dev/serial/by-id/ link instead"
    )
    raise TransportError(f"{len(found)} serial ports match {want}: {listed}; {fix}")


def _open_error(port: str, e: BaseException) -> TransportError:
    """Turn a pyserial/OS failure to open ``port`` into one line saying what to do."""
    code = getattr(e, "errno", None)
    why = os.strerror(code) if isinstance(code, int) else str(e)
    if code in _GONE_ERRNOS:
        hint = (
            "the device is unplugged or its serial number changed; `ls /dev/serial/by-id/` "
            "lists what is connected"
            if port.startswith(_BY_ID_DIR)
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


class SerialTransport(Transport):
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
        super().__init__(on_event=on_event)
        if not target:
            raise ValueError("serial target is empty; give a port such as /dev/ttyACM0")
        if isinstance(baudrate, bool) or not isinstance(baudrate, int) or baudrate <= 0:
            raise ValueError(f"baudrate={baudrate!r}; must be a positive int, e.g. 921600")
        if reconnect_budget_s is not None and reconnect_budget_s < 0:
            raise ValueError(
                f"reconnect_budget_s={reconnect_budget_s!r}; must be >= 0 s, or None for forever"
            )
        if not 0 < retry_initial_s <= retry_max_s:
            raise ValueError(
                f"retry_initial_s={retry_initial_s!r}, retry_max_s={retry_max_s!r}; "
                "need 0 < retry_initial_s <= retry_max_s"
            )
        self.target = target
        self.name = target
        self.baudrate = baudrate
        self.reconnect_budget_s = reconnect_budget_s
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        self.low_latency = low_latency
        self._usb = _parse_usb_target(target) if target.startswith("usb:") else None
        self.device_: str | None = None

        self._lock = threading.Lock()  # guards _ser between reader thread and aclose()
        self._ser: serial.Serial | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._chunks = ChunkQueue(self)
        self._opening: asyncio.Future[None] | None = None
        self._exited: asyncio.Future[None] | None = None
        self._closed = False

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
        failed = self._opening
        if failed is not None and future_failed(failed):
            # An open that failed while nobody waited for it (its caller was cancelled):
            # let the old thread end, then try again.
            await self._join(self._thread, self._exited)
            if self._opening is failed:
                self._opening = None
        if self._closed:
            raise TransportError(f"serial port {self.name} is closed; make a new transport")
        if self._opening is None:
            loop = asyncio.get_running_loop()
            self._loop = loop
            self._opening = loop.create_future()
            self._exited = loop.create_future()
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name=f"gaitedge-serial {self.name}", daemon=True
            )
            self._thread.start()
        opening, thread, exited = self._opening, self._thread, self._exited
        try:
            await asyncio.shield(opening)
        except BaseException:
            if future_failed(opening) and self._opening is opening:  # it failed (not our caller)
                self._opening = None  # a later read() or open() tries again
                await self._join(thread, exited)
            raise

    async def read(self) -> bytes:
        """Wait for the next bytes (>= 1); b"" once closed or reconnection is given up.

        Raises
        ------
        TransportError
            On the first call, if the port cannot be opened (see :meth:`open`).
        """
        return joined(await self.read_stamped())

    async def read_stamped(self) -> list[tuple[bytes, float]]:
        """:meth:`read`'s chunks as received, each with its ``time.monotonic()``."""
        if self._closed or self._chunks.ended:
            return []
        opening = self._opening
        if opening is None or not opening.done() or future_failed(opening):
            await self.open()
        return await self._chunks.get_stamped()

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
            opening = self._opening
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

    def _emit_later(self, kind: str, *, gap_s: float = 0.0, detail: str = "") -> None:
        self._post(functools.partial(self._emit, kind, gap_s=gap_s, detail=detail))

    def _run(self) -> None:
        assert self._opening is not None and self._exited is not None
        opening, exited = self._opening, self._exited
        ser: serial.Serial | None = None
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

    def _pump(self, ser: serial.Serial) -> OSError | None:
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

    def _reopen(self, t_down: float) -> serial.Serial | None:
        """Retry with backoff until open (the port), stopped or out of budget (None)."""
        budget = self.reconnect_budget_s
        deadline = None if budget is None else t_down + budget
        delay, last = self.retry_initial_s, "no attempt made"
        while True:
            wait = delay
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    gap = time.monotonic() - t_down
                    self._emit_later(
                        "gave_up", gap_s=gap, detail=f"not back within {budget:g} s; {last}"
                    )
                    return None
                wait = min(delay, remaining)
            if self._stop.wait(wait):
                return None
            try:
                return self._open_port()
            except TransportError as e:
                last = str(e)
                log.debug("%s: reopen failed: %s", self.name, e)
            delay = min(2 * delay, self.retry_max_s)

    def _open_port(self) -> serial.Serial:
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

    def _drop(self, ser: serial.Serial) -> None:
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


@functools.cache
def _serial_class() -> type[serial.Serial]:
    """pyserial's Serial, except that open() keeps the bytes already received.

    pyserial flushes the input queue when it opens a port. On a USB port that queue is
    (nearly) empty anyway, as the driver starts reading only at open; on a pty (the
    simulator) it holds the first bytes of the stream, and after a quick replug the bytes
    sent since. The decoder resynchronises on its own, so nothing is gained by dropping them.
    """
    import serial

    class _KeepInputSerial(serial.Serial):  # type: ignore[misc]
        def _reset_input_buffer(self) -> None:
            pass

        def read_available(self) -> bytes:
            """Whatever the port has received (>= 1 byte), waiting up to ``timeout`` for
            the first byte; b"" on timeout or :meth:`cancel_read`.

            One ``select`` and one ``read`` a chunk. pyserial's ``read(in_waiting or 1)``
            then ``read(in_waiting)`` makes two of each, two ioctls and its Timeout objects:
            measured on a pty at 50 chunks/s, 1.5 % of a core against 1.1 % for this; the
            live two-shoe trial's budget (issue 5) is 5 %.
            """
            abort = self.pipe_abort_read_r
            ready, _, _ = select.select([self.fd, abort], [], [], self._timeout)
            if abort in ready:  # cancel_read()
                os.read(abort, 1000)
                return b""
            if not ready:
                return b""
            try:
                chunk = os.read(self.fd, MAX_READ_BYTES)
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


# ---------------------------------------------------------------------- discovery


@dataclasses.dataclass(frozen=True, slots=True)
class SerialPortInfo:
    """A serial port that may be an insole (one line of ``gaitedge scan``).

    Attributes
    ----------
    path : str
        Device node, e.g. ``"/dev/ttyACM0"`` (may change when the device is replugged).
    by_id : str or None
        Its stable ``/dev/serial/by-id/...`` link, if udev made one.
    vid, pid : int or None
        USB vendor and product id; None for a non-USB port.
    serial_number : str or None
        USB serial number, if the device reports one.
    description : str
        Product (and interface) name as the device reports it, or the port name.
    """

    path: str
    by_id: str | None
    vid: int | None
    pid: int | None
    serial_number: str | None
    description: str

    @property
    def vid_pid(self) -> str | None:
        """``"vvvv:pppp"`` in hex, or None for a non-USB port."""
        if self.vid is None or self.pid is None:
            return None
        return f"{self.vid:04x}:{self.pid:04x}"

    @property
    def target(self) -> str:
        """The most stable :class:`SerialTransport` target: by-id link, usb:..., or path."""
        if self.by_id is not None:
            return self.by_id
        if self.vid_pid is not None and self.serial_number:
            return f"usb:{self.vid_pid}:{self.serial_number}"
        return self.path


def _by_id_links(directory: str = _BY_ID_DIR) -> dict[str, str]:
    """Map each device node to its by-id link (device path -> link path)."""
    return {os.path.realpath(link): link for link in sorted(glob.glob(f"{directory}/*"))}


def list_serial_insoles(
    *, usb_only: bool = True, ports: Iterable[ListPortInfo] | None = None
) -> list[SerialPortInfo]:
    """The serial ports an insole could be on, sorted by path.

    Parameters
    ----------
    usb_only : bool
        Keep only USB ports (CDC-ACM and USB-UART bridges); False also lists on-board
        UARTs such as the Raspberry Pi's ``/dev/ttyAMA0``.
    ports : iterable of serial.tools.list_ports_common.ListPortInfo, optional
        Ports to describe; default ``serial.tools.list_ports.comports()``.
    """
    if ports is None:
        from serial.tools import list_ports

        ports = list_ports.comports()
    links = _by_id_links()
    out = [
        SerialPortInfo(
            path=p.device,
            by_id=links.get(os.path.realpath(p.device)),
            vid=p.vid,
            pid=p.pid,
            serial_number=p.serial_number,
            description=p.description if p.description != "n/a" else p.name,
        )
        for p in ports
        if p.vid is not None or not usb_only
    ]
    return sorted(out, key=lambda i: i.path)
