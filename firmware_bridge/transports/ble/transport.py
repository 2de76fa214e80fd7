"""BleTransport: bytes from one insole's notify characteristic, reconnecting after drops."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Iterable
from typing import Final

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakDeviceNotFoundError, BleakError

from firmware_bridge import spec
from firmware_bridge.errors import DeviceNotFoundError, TransportError
from firmware_bridge.transports._reconnect import ReconnectingTransport, ReconnectPolicy
from firmware_bridge.transports.base import EventCallback, future_failed
from firmware_bridge.transports.ble.adapter import (
    BleBackend,
    _forget,
    _recall,
    adapter_lock,
)
from firmware_bridge.transports.ble.scan import (
    _SCAN_STOP_TIMEOUT_S,
    _advert_name,
    _describe,
    _scan_locked,
)

__all__ = ["ALLOW_ENV", "BleTransport"]

log = logging.getLogger(__name__)

#: Environment variable read by :meth:`BleTransport.from_target` (the ``ble://`` URL
#: factory): comma-separated addresses this process may connect to. Unset = any.
ALLOW_ENV: Final = "GAITEDGE_BLE_ALLOW"

#: Longest a disconnect may take before we stop waiting for it, s (BlueZ allows 10 s).
_DISCONNECT_TIMEOUT_S: Final = 3.0
_ADDRESS_RE: Final = re.compile(r"[0-9A-F]{2}(?::[0-9A-F]{2}){5}")
#: Errors of one failed connect attempt (D-Bus broken pipes are OSError, dbus EOFError;
#: TransportError is an OSError).
_ATTEMPT_ERRORS: Final = (BleakError, TimeoutError, OSError, EOFError)


class _AmbiguousTarget(TransportError):
    """Several insoles match a name prefix: retrying cannot help, the user must choose."""


def _normalise_address(address: str) -> str:
    norm = address.strip().upper()
    if not _ADDRESS_RE.fullmatch(norm):
        raise ValueError(
            f"BLE address {address!r} is not of the form AA:BB:CC:DD:EE:FF; "
            "`gaitedge scan` lists the insoles in range"
        )
    return norm


class BleTransport(ReconnectingTransport):
    """Bytes from one insole's notify characteristic, reconnecting by itself after a drop.

    The link comes up on the first :meth:`read` or an explicit :meth:`open` (connect
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
        :meth:`open` raises and lists them (then connect by address). After it is
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
        policy = ReconnectPolicy(reconnect_budget_s, retry_initial_s, retry_max_s)
        super().__init__(policy, on_event=on_event)
        self.allowed_addresses = (
            None
            if allowed_addresses is None
            else frozenset(_normalise_address(a) for a in allowed_addresses)
        )
        self.name_prefix = name_prefix
        self.scan_timeout_s = scan_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.open_budget_s = open_budget_s
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
        self._lost = asyncio.Event()
        self._t_lost = 0.0
        self._supervisor: asyncio.Task[None] | None = None

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

    async def open(self) -> None:
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
                    await self._connect_within(t_down, self.policy.reconnect_budget_s)
                except TransportError as e:
                    self._emit("gave_up", gap_s=time.monotonic() - t_down, detail=str(e))
                    self._chunks.end()
                    return
                self._emit(
                    "reconnected", gap_s=time.monotonic() - t_down, detail=self._link_detail()
                )
        except Exception as e:  # a bug: fail open() or end the stream, loudly
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
        backoff = self.policy.backoff(t_start, budget_s)
        attempt = 0
        last: BaseException | None = None
        while not backoff.expired():
            attempt += 1
            try:
                await self._attempt(backoff.deadline)
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
            wait = backoff.next_wait()
            if wait > 0:
                await asyncio.sleep(wait)
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
