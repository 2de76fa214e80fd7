"""The one Bluetooth adapter of this process: its lock, the bleak backend, the devices it saw.

BlueZ answers overlapping scan/connect requests with ``org.bluez.Error.InProgress`` or
hangs, so every scan and every connect goes through :func:`adapter_lock`. Every device a
scan sees is remembered for :data:`_SEEN_MAX_AGE_S`, so a transport connects from a
:class:`~bleak.backends.device.BLEDevice` without scanning again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import weakref
from typing import Final

from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import BaseBleakScanner

__all__ = ["BleBackend", "adapter_lock"]

#: How long a device seen by a scan is trusted to still be known to BlueZ, s.
_SEEN_MAX_AGE_S: Final = 120.0


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
