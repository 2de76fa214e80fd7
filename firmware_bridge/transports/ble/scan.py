"""Listening for insoles: :func:`scan_insoles`, and the bounded scan a transport runs."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Final

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakBluetoothNotAvailableError, BleakError

from firmware_bridge import spec
from firmware_bridge.errors import TransportError
from firmware_bridge.transports.ble.adapter import BleBackend, _remember, adapter_lock

__all__ = ["InsoleAdvert", "scan_insoles"]

log = logging.getLogger(__name__)

#: Longest wait for BlueZ to stop a scan, s (it sometimes never answers, FIELD-NOTES §1b).
_SCAN_STOP_TIMEOUT_S: Final = 3.0


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
        except (BleakError, TimeoutError) as e:  # InProgress after discovery ended (bleak #2021)
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


def _describe(e: BaseException) -> str:
    return str(e) or type(e).__name__
