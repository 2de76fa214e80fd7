"""A wireless insole over Bluetooth LE, through bleak's public ``BleakScanner`` and ``BleakClient``.

Built around what breaks with bleak on a Raspberry Pi (FIELD-NOTES.md section 1):

* One process owns the adapter, and every scan and every connect of that process goes
  through one lock (:func:`adapter_lock`): BlueZ answers overlapping scan/connect requests
  with ``org.bluez.Error.InProgress`` or hangs.
* Clients are always made from a :class:`~bleak.backends.device.BLEDevice` found by our own
  scan, never from a bare address (which makes bleak scan again by itself). Every device a
  scan sees is remembered, so :func:`scan_insoles` once before a trial lets each shoe
  connect without scanning again.
* The notification callback only puts bytes on an :class:`asyncio.Queue` that
  :meth:`BleTransport.read` awaits; no work runs in it.
* After a drop, each reconnect attempt uses a new :class:`~bleak.BleakClient`, within a
  wall-clock budget with exponential backoff. The cached ``BLEDevice`` is tried first;
  only if BlueZ has forgotten the device is there a scan, for that one address. A
  disconnect reported by an old client is ignored.
* Every step that waits on BlueZ (the adapter lock, starting, listening and stopping a
  scan, connecting, subscribing) has a time limit: BlueZ sometimes never answers.
* One task per transport connects, then reconnects after drops: a caller that gives up
  waiting (``wait_for(read(), ...)``) does not cancel a connect half-way.
* The ATT payload size (MTU - 3) is logged, never relied on: frames may span
  notifications, and bytes are delivered as they come.

bleak-retry-connector is not used: it reuses one client across its attempts, its
``max_attempts`` does not bound the time it takes, and its extras talk to BlueZ over D-Bus
directly, so a simulated backend would not run the code a Pi runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import re
import time
import weakref
from collections.abc import Callable, Iterable
from typing import Final

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakBluetoothNotAvailableError, BleakDeviceNotFoundError, BleakError

from firmware_bridge import spec
from firmware_bridge.errors import DeviceNotFoundError, TransportError
from firmware_bridge.transports.base import (
    ChunkQueue,
    EventCallback,
    Transport,
    future_failed,
    joined,
)

__all__ = [
    "ALLOW_ENV",
    "BleBackend",
    "BleTransport",
    "InsoleAdvert",
    "adapter_lock",
    "scan_insoles",
]

log = logging.getLogger(__name__)

#: Environment variable read by :meth:`BleTransport.from_target` (the ``ble://`` URL
#: factory): comma-separated addresses this process may connect to. Unset = any.
ALLOW_ENV: Final = "GAITEDGE_BLE_ALLOW"

#: Longest a disconnect may take before we stop waiting for it, s (BlueZ allows 10 s).
_DISCONNECT_TIMEOUT_S: Final = 3.0
#: Longest wait for BlueZ to stop a scan, s (it sometimes never answers, FIELD-NOTES §1b).
_SCAN_STOP_TIMEOUT_S: Final = 3.0
#: How long a device seen by a scan is trusted to still be known to BlueZ, s.
_SEEN_MAX_AGE_S: Final = 120.0
_ADDRESS_RE: Final = re.compile(r"[0-9A-F]{2}(?::[0-9A-F]{2}){5}")
#: Errors of one failed connect attempt (D-Bus broken pipes are OSError, dbus EOFError;
#: TransportError is an OSError).
_ATTEMPT_ERRORS: Final = (BleakError, TimeoutError, OSError, EOFError)


class _AmbiguousTarget(TransportError):
    """Several insoles match a name prefix: retrying cannot help, the user must choose."""


@dataclasses.dataclass(frozen=True, slots=True)
class BleBackend:
    """The bleak backend classes to use instead of the platform's (for a simulated radio).

    Attributes
    ----------
    client : type of bleak.backends.client.BaseBleakClient
        Passed as ``backend=`` to every :class:`bleak.BleakClient`.
    scanner : type of bleak.backends.scanner.BaseBleakScanner
        Passed as ``backend=`` to every :class:`bleak.BleakScanner`.
    """

    client: type[BaseBleakClient]
    scanner: type[BaseBleakScanner]


@dataclasses.dataclass(frozen=True, slots=True)
class InsoleAdvert:
    """An insole heard by :func:`scan_insoles` (one line of ``gaitedge scan``).

    Attributes
    ----------
    address : str
        Bluetooth address, upper case, e.g. ``"C0:FF:EE:00:00:A1"``.
    name : str or None
        Advertised local name, e.g. ``"GaitEdge-L-00A1"``; None if none was heard.
    rssi : int
        Signal strength of the last advertisement, dBm.
    service_uuids : tuple of str
        Service UUIDs in the advertisement (lower case).
    device : bleak.backends.device.BLEDevice
        What to pass to :class:`BleTransport` to connect without scanning again.
    """

    address: str
    name: str | None
    rssi: int
    service_uuids: tuple[str, ...]
    device: BLEDevice = dataclasses.field(repr=False, compare=False)


# ---------------------------------------------------------------------- the adapter lock

_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)
#: (backend, address) -> (device, time.monotonic() when seen)
_seen: dict[tuple[BleBackend | None, str], tuple[BLEDevice, float]] = {}


def adapter_lock() -> asyncio.Lock:
    """The lock every BLE scan and connect of this process goes through.

    One per event loop (a process has one; tests make one per test), so that scanning and
    connecting never overlap on the adapter. Hold it only around a scan or a connect, never
    while streaming.
    """
    loop = asyncio.get_running_loop()
    lock = _locks.get(loop)
    if lock is None:
        lock = _locks[loop] = asyncio.Lock()
    return lock


def _remember(backend: BleBackend | None, device: BLEDevice) -> None:
    now = time.monotonic()
    for key in [k for k, (_, t) in _seen.items() if now - t > _SEEN_MAX_AGE_S]:
        del _seen[key]
    _seen[backend, device.address.upper()] = (device, now)


def _recall(backend: BleBackend | None, address: str) -> BLEDevice | None:
    hit = _seen.get((backend, address))
    if hit is None or time.monotonic() - hit[1] > _SEEN_MAX_AGE_S:
        return None
    return hit[0]


def _forget(backend: BleBackend | None, address: str) -> None:
    _seen.pop((backend, address), None)


# ---------------------------------------------------------------------- scanning

_Accept = Callable[[BLEDevice, AdvertisementData], bool]


def _advert_name(device: BLEDevice, adv: AdvertisementData) -> str | None:
    return adv.local_name or device.name


def _scan_error(e: BleakError) -> TransportError:
    if isinstance(e, BleakBluetoothNotAvailableError):
        return TransportError(
            f"Bluetooth is not available ({e}): is the adapter on? Try `rfkill unblock "
            "bluetooth` and `bluetoothctl power on`"
        )
    return TransportError(
        f"cannot start a BLE scan ({e}): is another program scanning or connecting on this "
        "adapter? Only one process should use it; `bluetoothctl scan off` or `sudo "
        "systemctl restart bluetooth` clears a stuck scan"
    )


async def _scan_locked(
    timeout_s: float,
    accept: _Accept,
    *,
    backend: BleBackend | None,
    stop_when: Callable[[dict[str, tuple[BLEDevice, AdvertisementData]]], bool] | None = None,
) -> dict[str, tuple[BLEDevice, AdvertisementData]]:
    """Scan (the caller holds :func:`adapter_lock`) and return the accepted devices by address.

    Stops after ``timeout_s`` s (starting the scan included), or as soon as
    ``stop_when(found)`` is true; stopping takes at most :data:`_SCAN_STOP_TIMEOUT_S` more.
    """
    found: dict[str, tuple[BLEDevice, AdvertisementData]] = {}
    done = asyncio.Event()

    def on_advert(device: BLEDevice, adv: AdvertisementData) -> None:
        if not accept(device, adv):
            return
        found[device.address.upper()] = (device, adv)
        _remember(backend, device)
        if stop_when is not None and stop_when(found):
            done.set()

    scanner = BleakScanner(on_advert, backend=None if backend is None else backend.scanner)
    log.debug("BLE scan for up to %.1f s", timeout_s)
    end = time.monotonic() + timeout_s
    try:
        try:
            async with asyncio.timeout(timeout_s):
                await scanner.start()
        except BleakError as e:
            raise _scan_error(e) from e
        except TimeoutError:  # BlueZ sometimes never answers (FIELD-NOTES §1b)
            raise TransportError(
                f"the BLE scan did not start within {timeout_s:.1f} s: BlueZ is not answering; "
                "if this repeats, `sudo systemctl restart bluetooth`"
            ) from None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, end - time.monotonic())):
                await done.wait()
    finally:  # also after a failed start: discovery may be on (stop() is a no-op if not)
        try:
            async with asyncio.timeout(_SCAN_STOP_TIMEOUT_S):
                await scanner.stop()
        except (BleakError, TimeoutError) as e:  # InProgress after discovery ended (#2021)
            log.debug("stopping the BLE scan failed, ignored: %s", _describe(e))
    return found


async def scan_insoles(
    timeout_s: float = 5.0,
    *,
    name_prefix: str | None = spec.BLE_NAME_PREFIX,
    service_uuid: str | None = spec.BLE_SERVICE_UUID,
    backend: BleBackend | None = None,
) -> list[InsoleAdvert]:
    """Listen for insoles for ``timeout_s`` s; return what was heard, sorted by name.

    A device is an insole if its advertised name starts with ``name_prefix`` or it
    advertises ``service_uuid`` (either test may be switched off with None). The filter is
    applied here rather than in BlueZ: the 128-bit UUID and the name often do not fit in
    one advertisement, so a device may show only one of them.

    Every device heard is remembered, so a :class:`BleTransport` for it connects without
    scanning again (scan once before a trial, then connect each shoe).

    Parameters
    ----------
    timeout_s : float
        How long to listen, s. BlueZ scans in windows of about 10 s with gaps of about 5 s;
        5–10 s finds an advertising insole reliably.
    name_prefix : str or None
        Advertised local name prefix, default ``spec.BLE_NAME_PREFIX``.
    service_uuid : str or None
        Primary service UUID, default ``spec.BLE_SERVICE_UUID``.
    backend : BleBackend, optional
        bleak backend classes to use instead of the platform's (tests).

    Returns
    -------
    list of InsoleAdvert

    Raises
    ------
    ValueError
        Both ``name_prefix`` and ``service_uuid`` are None.
    TransportError
        The scan could not start (Bluetooth off, adapter busy).
    """
    if name_prefix is None and service_uuid is None:
        raise ValueError("name_prefix and service_uuid are both None; give at least one")
    uuid = None if service_uuid is None else service_uuid.lower()

    def accept(device: BLEDevice, adv: AdvertisementData) -> bool:
        name = _advert_name(device, adv) or ""
        if name_prefix is not None and name.startswith(name_prefix):
            return True
        return uuid is not None and uuid in (u.lower() for u in adv.service_uuids)

    try:
        async with adapter_lock():
            found = await _scan_locked(timeout_s, accept, backend=backend)
    except (FileNotFoundError, ConnectionRefusedError) as e:  # dbus-fast: no system bus
        raise TransportError(
            f"BlueZ cannot be reached over the D-Bus system bus ({e}); start it "
            "(`sudo systemctl start bluetooth`), or in a container mount /run/dbus"
        ) from e
    adverts = [
        InsoleAdvert(
            address=address,
            name=_advert_name(device, adv),
            rssi=adv.rssi,
            service_uuids=tuple(u.lower() for u in adv.service_uuids),
            device=device,
        )
        for address, (device, adv) in found.items()
    ]
    return sorted(adverts, key=lambda a: (a.name or "", a.address))


# ---------------------------------------------------------------------- the transport


def _normalise_address(address: str) -> str:
    norm = address.strip().upper()
    if not _ADDRESS_RE.fullmatch(norm):
        raise ValueError(
            f"BLE address {address!r} is not of the form AA:BB:CC:DD:EE:FF; "
            "`gaitedge scan` lists the insoles in range"
        )
    return norm


def _describe(e: BaseException) -> str:
    return str(e) or type(e).__name__


class BleTransport(Transport):
    """Bytes from one insole's notify characteristic, reconnecting by itself after a drop.

    The link comes up on the first :meth:`read` or an explicit :meth:`connect` (connect
    both shoes before a trial starts: connecting disturbs links already up). Connect
    attempts, each with a new :class:`~bleak.BleakClient`, are retried with exponential
    backoff (``retry_initial_s`` doubling up to ``retry_max_s``) for ``open_budget_s``.
    After a drop the transport reports "disconnected", retries for ``reconnect_budget_s``
    and reports "reconnected" (with ``gap_s``) or "gave_up", after which :meth:`read`
    returns ``b""``. Bytes sent while the link is down are lost, as over the air.

    Parameters
    ----------
    address : str or bleak.backends.device.BLEDevice, optional
        The insole: ``"AA:BB:CC:DD:EE:FF"``, or a ``BLEDevice`` from a scan
        (:attr:`InsoleAdvert.device`). Give this or ``name_prefix``.
    name_prefix : str, optional
        Connect to the insole whose advertised name starts with this, e.g.
        ``"GaitEdge-L"``, listening the whole ``scan_timeout_s``: if several are heard,
        :meth:`connect` raises and lists them (then connect by address). After it is
        found, reconnects go to that same address.
    allowed_addresses : iterable of str, optional
        If given, only these addresses may be connected to; others are refused (an
        address target at once, a name match is passed over).
    scan_timeout_s : float
        Longest scan for a device not yet seen, s.
    connect_timeout_s : float
        Longest wait for :func:`adapter_lock`, and longest single connect attempt
        (connect, service discovery, subscribe), s.
    open_budget_s : float
        Wall-clock time the first connection may take, retries included, s.
    reconnect_budget_s : float or None
        Wall-clock time to keep trying after a drop, s; None = forever, 0 = give up at
        the first drop.
    retry_initial_s, retry_max_s : float
        First and longest wait between connect attempts, s (the wait doubles each time).
    backend : BleBackend, optional
        bleak backend classes to use instead of the platform's (a simulated radio).
    on_event : callable, optional
        Called on the event loop with each :class:`TransportEvent`.

    Attributes
    ----------
    address_ : str or None
        The insole's address, upper case, once known.
    device_name_ : str or None
        Its advertised name, once known.
    att_payload_ : int or None
        Largest notification payload of the current link (ATT MTU - 3), bytes, if the
        stack reports it (BlueZ < 5.62 always says 20). Logged only; nothing depends on it.
    """

    def __init__(
        self,
        address: str | BLEDevice | None = None,
        *,
        name_prefix: str | None = None,
        allowed_addresses: Iterable[str] | None = None,
        scan_timeout_s: float = 10.0,
        connect_timeout_s: float = 20.0,
        open_budget_s: float = 30.0,
        reconnect_budget_s: float | None = 30.0,
        retry_initial_s: float = 0.1,
        retry_max_s: float = 2.0,
        backend: BleBackend | None = None,
        on_event: EventCallback | None = None,
    ) -> None:
        super().__init__(on_event=on_event)
        if (address is None) == (name_prefix is None):
            raise ValueError(
                "give either address (AA:BB:CC:DD:EE:FF or a BLEDevice) or name_prefix "
                f"(e.g. 'GaitEdge-L'), not both or neither; got address={address!r}, "
                f"name_prefix={name_prefix!r}"
            )
        if name_prefix is not None and not name_prefix:
            raise ValueError("name_prefix is empty; give e.g. 'GaitEdge-L'")
        for label, value in (
            ("scan_timeout_s", scan_timeout_s),
            ("connect_timeout_s", connect_timeout_s),
            ("open_budget_s", open_budget_s),
        ):
            if not value > 0:
                raise ValueError(f"{label}={value!r}; must be > 0 s")
        if reconnect_budget_s is not None and reconnect_budget_s < 0:
            raise ValueError(
                f"reconnect_budget_s={reconnect_budget_s!r}; must be >= 0 s, or None for forever"
            )
        if not 0 < retry_initial_s <= retry_max_s:
            raise ValueError(
                f"retry_initial_s={retry_initial_s!r}, retry_max_s={retry_max_s!r}; "
                "need 0 < retry_initial_s <= retry_max_s"
            )
        self.allowed_addresses = (
            None
            if allowed_addresses is None
            else frozenset(_normalise_address(a) for a in allowed_addresses)
        )
        self.name_prefix = name_prefix
        self.scan_timeout_s = scan_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.open_budget_s = open_budget_s
        self.reconnect_budget_s = reconnect_budget_s
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        self.backend = backend

        self._device: BLEDevice | None = None
        self.address_: str | None = None
        self.device_name_: str | None = None
        self.att_payload_: int | None = None
        if isinstance(address, BLEDevice):
            self._device = address
            self.address_ = _normalise_address(address.address)
            self.device_name_ = address.name
        elif address is not None:
            self.address_ = _normalise_address(address)
        if self.address_ is not None:
            self._check_allowed(self.address_)
        self.name = self.address_ or f"name={name_prefix}"

        self._client: BleakClient | None = None
        self._chunks = ChunkQueue(self)
        self._lost = asyncio.Event()
        self._t_lost = 0.0
        self._supervisor: asyncio.Task[None] | None = None
        self._up: asyncio.Future[None] | None = None  # the supervisor's first connect
        self._closed = False

    @classmethod
    def from_target(
        cls, target: str, *, on_event: EventCallback | None = None, **kwargs: object
    ) -> BleTransport:
        """The transport a ``ble://`` URL names: ``"AA:BB:CC:DD:EE:FF"`` or ``"name=PREFIX"``.

        Unless ``allowed_addresses`` is given, it is read from the environment variable
        :data:`ALLOW_ENV` (comma-separated addresses) when that is set.
        """
        if "allowed_addresses" not in kwargs and (env := os.environ.get(ALLOW_ENV)):
            kwargs["allowed_addresses"] = [a for a in env.replace(" ", "").split(",") if a]
        key, sep, value = target.partition("=")
        if sep:
            if key != "name":
                raise ValueError(
                    f"BLE target {target!r}: expected an address AA:BB:CC:DD:EE:FF or "
                    "name=PREFIX, e.g. ble://name=GaitEdge-L"
                )
            return cls(name_prefix=value, on_event=on_event, **kwargs)  # type: ignore[arg-type]
        return cls(target, on_event=on_event, **kwargs)  # type: ignore[arg-type]

    @property
    def is_connected(self) -> bool:
        """True while the link is up and notifications are flowing."""
        client = self._client
        return client is not None and client.is_connected

    # ------------------------------------------------------------------ public async API

    async def connect(self) -> None:
        """Connect and subscribe (:meth:`read` does this on its first call).

        The connecting is done by a task of the transport: cancelling this call does not
        cancel it (a later call waits for the same attempt), :meth:`aclose` does.

        Raises
        ------
        DeviceNotFoundError
            No matching insole was heard within ``open_budget_s``.
        TransportError
            Every attempt within ``open_budget_s`` failed (the message has the last error),
            several insoles match ``name_prefix``, or the transport is (or was meanwhile)
            closed.
        """
        if self._closed:
            raise TransportError(f"BLE transport {self.name} is closed; make a new one")
        up = self._up
        if up is None or future_failed(up):  # not tried yet, or failed: try (again)
            up = self._up = asyncio.get_running_loop().create_future()
            self._supervisor = asyncio.create_task(
                self._supervise(up), name=f"gaitedge-ble {self.name}"
            )
        await asyncio.shield(up)

    async def read(self) -> bytes:
        """Wait for the next bytes (>= 1); b"" once closed or reconnection is given up.

        Raises
        ------
        TransportError
            On the first call, if the insole cannot be connected (see :meth:`connect`).
        """
        return joined(await self.read_stamped())

    async def read_stamped(self) -> list[tuple[bytes, float]]:
        """:meth:`read`'s chunks as received, each with its ``time.monotonic()``."""
        if self._closed or self._chunks.ended:
            return []
        up = self._up
        if up is None or not up.done() or future_failed(up):
            try:
                await self.connect()
            except TransportError:
                if self._closed:  # aclose() ran meanwhile: that is the end of the stream
                    return []
                raise
        return await self._chunks.get_stamped()

    async def aclose(self) -> None:
        """Stop connecting or reconnecting, and disconnect. Idempotent; never raises."""
        if self._closed:
            return
        self._closed = True
        try:
            task, self._supervisor = self._supervisor, None
            if task is not None:
                task.cancel()  # a connect in progress lets go of the adapter lock at once
                await asyncio.wait({task})
                if not task.cancelled() and task.exception() is not None:
                    log.debug("%s: supervisor had failed: %r", self.name, task.exception())
            if self._up is not None:
                future_failed(self._up)  # an error nobody awaited counts as seen
            client, self._client = self._client, None  # its disconnect callback is now stale
            if client is not None:
                await self._disconnect_quietly(client)
        except Exception:  # aclose never raises
            log.exception("%s: error while closing", self.name)
        finally:
            self._chunks.end()

    # ------------------------------------------------------------------ bleak callbacks

    def _on_notify(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        """Notification: only queue the bytes (runs on the event loop; must not block)."""
        if data and not self._closed:
            self._chunks.put(bytes(data))

    def _on_disconnected(self, client: BleakClient) -> None:
        """Disconnect callback: wake the supervisor, unless an old client reports it."""
        if client is not self._client:
            log.debug("%s: ignoring a disconnect reported by an old client", self.name)
            return
        if not self._lost.is_set():
            self._t_lost = time.monotonic()
            self._lost.set()

    # ------------------------------------------------------------------ connecting

    def _check_allowed(self, address: str) -> None:
        if self.allowed_addresses is not None and address not in self.allowed_addresses:
            allowed = ", ".join(sorted(self.allowed_addresses)) or "none"
            raise TransportError(
                f"BLE device {address} is not in the allow-list ({allowed}); if this insole "
                f"is yours, add {address} to allowed_addresses (or to the {ALLOW_ENV} "
                "environment variable, comma-separated)"
            )

    async def _supervise(self, up: asyncio.Future[None]) -> None:
        """Connect (then resolve ``up``); after each drop, reconnect within the budget."""
        try:
            try:
                await self._connect_within(time.monotonic(), self.open_budget_s)
            except TransportError as e:
                up.set_exception(e)
                return
            self._emit("connected", detail=self._link_detail())
            up.set_result(None)
            while True:
                await self._lost.wait()
                self._lost.clear()
                t_down = self._t_lost
                old, self._client = self._client, None
                self._emit("disconnected", detail="link lost; reconnecting")
                await asyncio.sleep(0)  # let the old client's pending callbacks run first
                if old is not None:
                    await self._disconnect_quietly(old)
                try:
                    await self._connect_within(t_down, self.reconnect_budget_s)
                except TransportError as e:
                    self._emit("gave_up", gap_s=time.monotonic() - t_down, detail=str(e))
                    self._chunks.end()
                    return
                self._emit(
                    "reconnected", gap_s=time.monotonic() - t_down, detail=self._link_detail()
                )
        except Exception as e:  # a bug: fail connect() or end the stream, loudly
            log.exception("%s: BLE supervisor failed", self.name)
            if up.done():
                self._chunks.end(e)
            else:
                up.set_exception(e)
        finally:  # cancelled by aclose() while connecting
            if not up.done():
                up.set_exception(
                    TransportError(f"BLE transport {self.name} was closed while connecting")
                )

    async def _connect_within(self, t_start: float, budget_s: float | None) -> None:
        """Attempt to connect until it works or ``budget_s`` after ``t_start`` has passed.

        Raises TransportError (DeviceNotFoundError if the insole was never heard) with the
        last attempt's error when the budget runs out.
        """
        deadline = None if budget_s is None else t_start + budget_s
        delay = self.retry_initial_s
        attempt = 0
        last: BaseException | None = None
        while True:
            if deadline is not None and time.monotonic() >= deadline:
                break
            attempt += 1
            try:
                await self._attempt(deadline)
                return
            except _AmbiguousTarget:
                raise
            except _ATTEMPT_ERRORS as e:
                last = e
                log.info("%s: connect attempt %d failed: %s", self.name, attempt, _describe(e))
                if isinstance(e, BleakDeviceNotFoundError) and self.address_ is not None:
                    # BlueZ has forgotten the device: next attempt scans for this address only
                    self._device = None
                    _forget(self.backend, self.address_)
            wait = delay if deadline is None else min(delay, deadline - time.monotonic())
            if wait > 0:
                await asyncio.sleep(wait)
            delay = min(2 * delay, self.retry_max_s)
        why = "no attempt was made" if last is None else _describe(last)
        msg = (
            f"could not connect to BLE insole {self.name} within {budget_s:g} s "
            f"({attempt} attempt(s)); last error: {why}"
        )
        if isinstance(last, DeviceNotFoundError):
            raise DeviceNotFoundError(msg) from last
        if isinstance(last, TransportError):  # ours: its message says what to do
            raise TransportError(msg) from last
        raise TransportError(
            f"{msg}. Is the insole on, charged and within a few metres? On a Raspberry Pi, "
            "turning Wi-Fi off or to 5 GHz often cures le-connection-abort-by-local"
        ) from last

    async def _attempt(self, deadline: float | None) -> None:
        """One attempt: (find,) connect with a new client, subscribe. Raises on failure."""

        def left(limit: float) -> float:
            return limit if deadline is None else max(0.0, min(limit, deadline - time.monotonic()))

        lock = adapter_lock()
        limit = left(self.connect_timeout_s)
        try:
            async with asyncio.timeout(limit):
                await lock.acquire()
        except TimeoutError:
            raise TimeoutError(
                f"timed out after {limit:.1f} s waiting for the Bluetooth adapter: another "
                "shoe is scanning or connecting"
            ) from None
        try:
            device = self._device
            if device is None:
                window = left(self.scan_timeout_s)
                try:  # a backstop: the scan bounds its own start, window and stop
                    async with asyncio.timeout(window + _SCAN_STOP_TIMEOUT_S + 1.0):
                        device = await self._find_locked(window)
                except TimeoutError:
                    raise TimeoutError(
                        f"scanning for {self.name} did not end in time: BlueZ is not answering"
                    ) from None
            client = BleakClient(
                device,
                disconnected_callback=self._on_disconnected,
                timeout=self.connect_timeout_s,
                backend=None if self.backend is None else self.backend.client,
            )
            limit = left(self.connect_timeout_s)
            doing = f"connecting to {device.address}"
            try:
                async with asyncio.timeout(limit):
                    await client.connect()
                    doing = f"subscribing to the notifications of {device.address}"
                    char = client.services.get_characteristic(spec.BLE_DATA_CHAR_UUID)
                    if char is None:
                        raise TransportError(
                            f"BLE device {device.address} ({device.name}) has no gaitedge "
                            f"data characteristic {spec.BLE_DATA_CHAR_UUID}: is it a gaitedge "
                            "insole (PROTOCOL.md section 5.2)?"
                        )
                    await client.start_notify(char, self._on_notify)
                if not client.is_connected:
                    raise BleakError("the link dropped while subscribing")
            except TimeoutError as e:
                await self._disconnect_quietly(client)
                raise TimeoutError(f"timed out after {limit:.1f} s {doing}") from e
            except BaseException:
                await self._disconnect_quietly(client)
                raise
        finally:
            lock.release()
        # No await from here to the assignment: a disconnect from now on is this client's.
        self._client = client
        self._device = device
        self.address_ = device.address.upper()
        self.device_name_ = device.name or self.device_name_
        self.name = self.address_
        try:
            self.att_payload_ = int(char.max_write_without_response_size)
        except Exception as e:  # informational only
            log.debug("%s: ATT payload size unknown: %s", self.name, e)
            self.att_payload_ = None

    async def _find_locked(self, timeout_s: float) -> BLEDevice:
        """A BLEDevice for the target (cached or by a scan); the caller holds the lock."""
        address = self.address_
        if address is not None and (cached := _recall(self.backend, address)) is not None:
            return cached
        prefix = self.name_prefix
        refused: dict[str, str | None] = {}

        def accept(device: BLEDevice, adv: AdvertisementData) -> bool:
            addr = device.address.upper()
            if address is not None:
                return addr == address
            name = _advert_name(device, adv) or ""
            if prefix is None or not name.startswith(prefix):
                return False
            if self.allowed_addresses is not None and addr not in self.allowed_addresses:
                refused[addr] = name
                return False
            return True

        what = address or f"a name starting with {prefix!r}"
        log.info("%s: scanning up to %.1f s for %s", self.name, timeout_s, what)
        # By address: the first advert will do. By name: listen the whole window, so that a
        # second matching insole is noticed rather than the first one heard winning.
        found = await _scan_locked(
            timeout_s,
            accept,
            backend=self.backend,
            stop_when=None if address is None else (lambda _found: True),
        )
        if not found:
            extra = ""
            if refused:
                listed = ", ".join(f"{a} ({n})" for a, n in sorted(refused.items()))
                extra = (
                    f"; heard but not in the allow-list: {listed} (add the address to "
                    f"allowed_addresses or {ALLOW_ENV} if the insole is yours)"
                )
            raise DeviceNotFoundError(
                f"no BLE insole with {what} heard in {timeout_s:.1f} s: is it on and "
                f"advertising (not connected to another phone or computer)?{extra}"
            )
        if len(found) > 1:
            listed = "; ".join(
                f"{a} ({_advert_name(d, adv)}, {adv.rssi} dBm)"
                for a, (d, adv) in sorted(found.items())
            )
            raise _AmbiguousTarget(
                f"{len(found)} BLE insoles with {what} heard: {listed}; connect by address "
                "instead (ble://AA:BB:CC:DD:EE:FF), or add only yours to allowed_addresses "
                f"({ALLOW_ENV})"
            )
        ((device, adv),) = found.values()
        name = _advert_name(device, adv)
        if name is not None:
            self.device_name_ = name
        return device

    async def _disconnect_quietly(self, client: BleakClient) -> None:
        try:
            async with asyncio.timeout(_DISCONNECT_TIMEOUT_S):
                await client.disconnect()
        except _ATTEMPT_ERRORS as e:
            log.debug("%s: disconnect failed, ignored: %s", self.name, _describe(e))

    def _link_detail(self) -> str:
        name = f" ({self.device_name_})" if self.device_name_ else ""
        size = "" if self.att_payload_ is None else f", notifications up to {self.att_payload_} B"
        return f"{self.address_}{name}{size}"
