"""A simulated Bluetooth LE radio: virtual insoles behind bleak's own public API.

:class:`SimRadio` holds :class:`VirtualPeripheral` objects and provides bleak backend
classes (:attr:`SimRadio.backend`, a :class:`~firmware_bridge.transports.ble.BleBackend`)
to pass as ``backend=`` to :class:`bleak.BleakScanner` / :class:`bleak.BleakClient`, or to
:class:`~firmware_bridge.transports.ble.BleTransport` and
:func:`~firmware_bridge.transports.ble.scan_insoles`. The code under test is then exactly
the code that runs on a Pi; only what is below bleak's backend interface is simulated.

What it models, after BlueZ on a Raspberry Pi (FIELD-NOTES.md section 1):

* Each peripheral advertises (every ``advertise_interval_s``) while it is neither
  connected nor down, and takes one connection at a time.
* Once notifications are on, it pulls its byte source and sends what it got once per
  connection interval, in notifications of at most ``mtu - 3`` bytes (20 by default), so
  frames span notifications. It keeps pulling while the link is down: those bytes are
  lost, as over the air.
* The adapter does one scan or connect at a time: overlapping ones fail with
  ``org.bluez.Error.InProgress``. A client made from a bare address scans by itself
  first (counted in :attr:`SimRadio.scans`).
* Faults: :meth:`SimRadio.drop_link`, :meth:`SimRadio.fail_connects`,
  :meth:`SimRadio.forget` (BlueZ removed the device object) and
  :meth:`SimRadio.fire_stale_disconnect` (a late callback from an old client).

The byte source is an async iterable of ``bytes`` that paces itself (it must await
something between chunks, e.g. :func:`paced_source`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from typing import Any, ClassVar, Final, Literal, Self

from bleak.args import SizedBuffer
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDBusError, BleakDeviceNotFoundError, BleakError

from firmware_bridge import spec
from firmware_bridge.transports.ble import BleBackend

__all__ = ["SimRadio", "VirtualPeripheral", "paced_source"]

log = logging.getLogger(__name__)

#: Handles of the simulated GATT table.
_SERVICE_HANDLE: Final = 0x0010
_DATA_CHAR_HANDLE: Final = 0x0011


async def paced_source(chunks: Iterable[bytes], *, interval_s: float = 0.0) -> AsyncIterator[bytes]:
    """Yield ``chunks`` one by one, ``interval_s`` s apart (a byte source for a peripheral)."""
    for chunk in chunks:
        yield chunk
        await asyncio.sleep(interval_s)


@dataclasses.dataclass(frozen=True, slots=True)
class _SimDetails:
    """``BLEDevice.details`` of a simulated device: which radio and BlueZ object it is."""

    radio_id: int
    generation: int


class VirtualPeripheral:
    """One simulated insole: advertises, accepts one connection, streams its source.

    Parameters
    ----------
    address : str
        Bluetooth address, e.g. ``"C0:FF:EE:00:00:A1"``.
    name : str or None
        Advertised local name, e.g. ``"GaitEdge-L-00A1"``; None advertises no name.
    source : async iterable of bytes
        The byte stream the insole sends (protocol frames), paced by the producer.
    service_uuids : iterable of str
        Service UUIDs in the advertisement (``()`` for a name-only advertisement).
    rssi : int
        Signal strength the scanner reports, dBm.
    mtu : int
        Negotiated ATT MTU, bytes; notifications carry at most ``mtu - 3``.
    connect_delay_s : float
        How long a connect takes, s.
    connection_interval_s : float
        Time between connection events, s: bytes produced within one interval go out
        together, split into notifications.
    fail_first_connects : int
        Make the first this many connect attempts fail (as :meth:`SimRadio.fail_connects`).

    Attributes
    ----------
    clients : list
        Every backend client ever made for this peripheral, oldest first.
    bytes_sent, bytes_lost : int
        Bytes notified, and bytes produced while nobody was subscribed (or in flight at a
        drop).
    notification_sizes : collections.Counter
        Payload length -> number of notifications sent with it.
    connect_attempts : int
        Connect calls, failed ones included.
    """

    def __init__(
        self,
        address: str,
        name: str | None,
        source: AsyncIterable[bytes],
        *,
        service_uuids: Iterable[str] = (spec.BLE_SERVICE_UUID,),
        rssi: int = -60,
        mtu: int = 23,
        connect_delay_s: float = 0.005,
        connection_interval_s: float = 0.0075,
        fail_first_connects: int = 0,
    ) -> None:
        if mtu < 23:
            raise ValueError(f"mtu={mtu!r}; the ATT minimum is 23")
        self.address = address.upper()
        self.name = name
        self.source = source
        self.service_uuids = tuple(u.lower() for u in service_uuids)
        self.rssi = rssi
        self.mtu = mtu
        self.connect_delay_s = connect_delay_s
        self.connection_interval_s = connection_interval_s
        self.clients: list[_SimClient] = []
        self.bytes_sent = 0
        self.bytes_lost = 0
        self.notification_sizes: collections.Counter[int] = collections.Counter()
        self.connect_attempts = 0
        self.source_done = False

        self._client: _SimClient | None = None  # connected
        self._notify: NotifyCallback | None = None  # subscribed
        self._pending = bytearray()
        self._flush_handle: asyncio.TimerHandle | None = None
        self._pump: asyncio.Task[None] | None = None
        self._down_until = 0.0  # loop time
        self._fail_next = fail_first_connects
        self._generation = 0

    @property
    def is_connected(self) -> bool:
        """True while a central holds the connection."""
        return self._client is not None

    def is_down(self) -> bool:
        """True while a :meth:`SimRadio.drop_link` outage lasts."""
        return asyncio.get_running_loop().time() < self._down_until

    @property
    def advertising(self) -> bool:
        """True while a scanner can hear it (neither connected nor down)."""
        return self._client is None and not self.is_down()

    def _services(self) -> BleakGATTServiceCollection:
        services = BleakGATTServiceCollection()
        service = BleakGATTService(None, _SERVICE_HANDLE, spec.BLE_SERVICE_UUID)
        services.add_service(service)
        services.add_characteristic(
            BleakGATTCharacteristic(
                None,
                _DATA_CHAR_HANDLE,
                spec.BLE_DATA_CHAR_UUID,
                ["notify"],
                lambda: self.mtu - 3,
                service,
            )
        )
        return services

    def _subscribe(self, callback: NotifyCallback) -> None:
        self._notify = callback
        if self._pump is None:
            self._pump = asyncio.create_task(self._run(), name=f"sim-ble {self.address}")

    def _unlink(self) -> None:
        """The connection ends: whatever was not yet sent is lost."""
        self._client = None
        self._notify = None
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self.bytes_lost += len(self._pending)
        self._pending.clear()

    async def _run(self) -> None:
        """Pull the source for ever after the first subscription; send or lose each chunk."""
        loop = asyncio.get_running_loop()
        async for chunk in self.source:
            if self._notify is None:
                self.bytes_lost += len(chunk)
            else:
                self._pending += chunk
                if self._flush_handle is None:
                    self._flush_handle = loop.call_later(self.connection_interval_s, self._flush)
            await asyncio.sleep(0)
        self.source_done = True
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        self._flush()

    def _flush(self) -> None:
        """A connection event: send everything pending, ``mtu - 3`` bytes per notification."""
        self._flush_handle = None
        notify = self._notify
        if notify is None or not self._pending:
            return
        data = bytes(self._pending)
        self._pending.clear()
        size = self.mtu - 3
        for i in range(0, len(data), size):
            piece = bytearray(data[i : i + size])
            self.bytes_sent += len(piece)
            self.notification_sizes[len(piece)] += 1
            notify(piece)

    async def _stop(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        pump, self._pump = self._pump, None
        if pump is not None:
            pump.cancel()
            await asyncio.wait({pump})


class SimRadio:
    """A simulated Bluetooth adapter and the air around it.

    Use as ``async with SimRadio() as radio:`` (or call :meth:`aclose`), so that the
    peripherals' source-pulling tasks end with the test.

    Parameters
    ----------
    advertise_interval_s : float
        Time between advertisements of each peripheral, s.

    Attributes
    ----------
    peripherals : dict of str to VirtualPeripheral
        By address (upper case).
    backend : BleBackend
        Client and scanner backend classes bound to this radio, for ``backend=``.
    client_backend, scanner_backend : type
        The same classes separately, for :class:`bleak.BleakClient` /
        :class:`bleak.BleakScanner` used directly.
    scans : list of (float, str)
        Loop time and kind (``"scan"`` or ``"implicit"``: a client made from a bare
        address) of every scan started.
    max_adapter_ops : int
        Most scans and connects that were ever in progress at once (1 if serialised).
    """

    def __init__(self, *, advertise_interval_s: float = 0.02) -> None:
        self.advertise_interval_s = advertise_interval_s
        self.peripherals: dict[str, VirtualPeripheral] = {}
        self.scans: list[tuple[float, Literal["scan", "implicit"]]] = []
        self.max_adapter_ops = 0
        self._adapter_ops = 0
        self.client_backend: type[_SimClient] = type(
            "SimBleakClient", (_SimClient,), {"radio": self}
        )
        self.scanner_backend: type[_SimScanner] = type(
            "SimBleakScanner", (_SimScanner,), {"radio": self}
        )
        self.backend = BleBackend(client=self.client_backend, scanner=self.scanner_backend)

    def add(self, peripheral: VirtualPeripheral) -> VirtualPeripheral:
        """Put ``peripheral`` in range; return it."""
        if peripheral.address in self.peripherals:
            raise ValueError(f"a peripheral with address {peripheral.address} is already in range")
        self.peripherals[peripheral.address] = peripheral
        return peripheral

    def add_insole(
        self, address: str, name: str | None, source: AsyncIterable[bytes], **kwargs: Any
    ) -> VirtualPeripheral:
        """Make a :class:`VirtualPeripheral` (same arguments) and put it in range."""
        return self.add(VirtualPeripheral(address, name, source, **kwargs))

    def __getitem__(self, address: str) -> VirtualPeripheral:
        return self.peripherals[address.upper()]

    # ------------------------------------------------------------------ faults

    def drop_link(self, address: str, down_s: float) -> None:
        """Cut ``address``'s link now; it cannot be connected (nor heard) for ``down_s`` s.

        The connected client's disconnected callback fires (soon, on the loop, as BlueZ's
        does). Bytes the source produces meanwhile are lost; after the outage a new
        connection streams from wherever the source is then.
        """
        p = self[address]
        log.debug("%s: link dropped, down for %.2f s", p.address, down_s)
        p._down_until = asyncio.get_running_loop().time() + down_s
        client = p._client
        p._unlink()
        if client is not None:
            client._link_lost()

    def fail_connects(self, address: str, count: int) -> None:
        """Make the next ``count`` connect attempts to ``address`` fail."""
        self[address]._fail_next = count

    def forget(self, address: str) -> None:
        """BlueZ removes its device object: connecting with an old BLEDevice now fails
        (``BleakDeviceNotFoundError``) until a scan has seen the device again."""
        self[address]._generation += 1

    def fire_stale_disconnect(self, address: str) -> bool:
        """Call the disconnected callback of the newest old (not connected) client of
        ``address``, as a late BlueZ signal would; False if there is none."""
        p = self[address]
        for client in reversed(p.clients):
            if client is not p._client and client._disconnected_callback is not None:
                client._disconnected_callback()
                return True
        return False

    # ------------------------------------------------------------------ lifecycle

    async def aclose(self) -> None:
        """Stop every peripheral's source-pulling task."""
        for p in self.peripherals.values():
            await p._stop()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ for the backends

    @contextlib.contextmanager
    def _adapter_op(self) -> Iterator[None]:
        if self._adapter_ops:
            raise BleakDBusError("org.bluez.Error.InProgress", ["Operation already in progress"])
        self._adapter_ops += 1
        self.max_adapter_ops = max(self.max_adapter_ops, self._adapter_ops)
        try:
            yield
        finally:
            self._adapter_ops -= 1

    def _advert(self, p: VirtualPeripheral) -> AdvertisementData:
        return AdvertisementData(
            local_name=p.name,
            manufacturer_data={},
            service_data={},
            service_uuids=list(p.service_uuids),
            tx_power=None,
            rssi=p.rssi,
            platform_data=(),
        )

    def _details(self, p: VirtualPeripheral) -> _SimDetails:
        return _SimDetails(id(self), p._generation)


class _SimClient(BaseBleakClient):
    """bleak client backend talking to a :class:`SimRadio` (bound by subclassing)."""

    radio: ClassVar[SimRadio]

    def __init__(self, address_or_ble_device: BLEDevice | str, **kwargs: Any) -> None:
        super().__init__(
            address_or_ble_device,
            disconnected_callback=kwargs.get("disconnected_callback"),
            timeout=kwargs.get("timeout", 10.0),
        )
        self.address = self.address.upper()
        self._device = (
            address_or_ble_device if isinstance(address_or_ble_device, BLEDevice) else None
        )
        self._connected = False
        self._peripheral = self.radio.peripherals.get(self.address)
        if self._peripheral is not None:
            self._peripheral.clients.append(self)

    def _link_lost(self) -> None:
        self._connected = False
        self.services = None
        callback = self._disconnected_callback
        if callback is not None:
            asyncio.get_running_loop().call_soon(callback)

    def _not_found(self) -> BleakDeviceNotFoundError:
        return BleakDeviceNotFoundError(
            self.address,
            f"Device with address {self.address} was not found. It may have been removed "
            "from BlueZ when scanning stopped.",
        )

    @property
    def name(self) -> str:
        p = self._peripheral
        return p.name if p is not None and p.name else self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        return 23 if self._peripheral is None else self._peripheral.mtu

    @property
    def is_connected(self) -> bool:
        return self._connected

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        radio, p = self.radio, self._peripheral
        if self._device is None:  # a bare address: bleak on BlueZ scans for it first
            with radio._adapter_op():
                radio.scans.append((asyncio.get_running_loop().time(), "implicit"))
                await asyncio.sleep(radio.advertise_interval_s)
            if p is None or not p.advertising:
                raise self._not_found()
        elif (
            p is None
            or not isinstance(self._device.details, _SimDetails)
            or self._device.details != radio._details(p)
        ):
            raise self._not_found()
        with radio._adapter_op():
            p.connect_attempts += 1
            await asyncio.sleep(p.connect_delay_s)
            if p.is_down():
                raise BleakDBusError("org.bluez.Error.Failed", ["le-connection-abort-by-local"])
            if p._fail_next > 0:
                p._fail_next -= 1
                raise BleakDBusError("org.bluez.Error.Failed", ["Software caused connection abort"])
            if p._client is not None:
                raise BleakDBusError("org.bluez.Error.Failed", ["le-connection-abort-by-local"])
            p._client = self
            self._connected = True
            self.services = p._services()

    async def disconnect(self) -> None:
        p = self._peripheral
        if not self._connected or p is None:
            return
        p._unlink()
        self._link_lost()  # BlueZ calls the callback for a disconnect we asked for, too

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def unpair(self) -> None:
        return None

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        raise BleakError("the simulated insole has no readable characteristic")

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        raise BleakError("the simulated insole has no descriptors")

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        raise BleakError("the simulated insole has no writable characteristic")

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: SizedBuffer
    ) -> None:
        raise BleakError("the simulated insole has no descriptors")

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        p = self._peripheral
        if not self._connected or p is None or p._client is not self:
            raise BleakError("Not connected")
        if characteristic.uuid != spec.BLE_DATA_CHAR_UUID:
            raise BleakError(f"characteristic {characteristic.uuid} does not notify")
        p._subscribe(callback)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        p = self._peripheral
        if p is not None and p._client is self:
            p._notify = None


class _SimScanner(BaseBleakScanner):
    """bleak scanner backend listening to a :class:`SimRadio` (bound by subclassing)."""

    radio: ClassVar[SimRadio]

    def __init__(
        self,
        detection_callback: Callable[[BLEDevice, AdvertisementData], Any] | None = None,
        service_uuids: list[str] | None = None,
        scanning_mode: str = "active",
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._task: asyncio.Task[None] | None = None
        self._op: contextlib.ExitStack | None = None

    async def start(self) -> None:
        if self._task is not None:
            raise BleakError("the scanner is already scanning")
        op = contextlib.ExitStack()
        op.enter_context(self.radio._adapter_op())
        self._op = op
        self.seen_devices = {}
        self.radio.scans.append((asyncio.get_running_loop().time(), "scan"))
        self._task = asyncio.create_task(self._listen(), name="sim-ble scanner")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait({task})
        op, self._op = self._op, None
        if op is not None:
            op.close()

    async def _listen(self) -> None:
        radio = self.radio
        while True:
            for p in list(radio.peripherals.values()):
                if not p.advertising:
                    continue
                adv = radio._advert(p)
                if not self.is_allowed_uuid(adv.service_uuids):
                    continue
                details = radio._details(p)
                device = self.create_or_update_device(p.address, p.address, p.name, details, adv)
                device.details = details  # a forget() during the scan makes a new object
                self.call_detection_callbacks(device, adv)
            await asyncio.sleep(radio.advertise_interval_s)
