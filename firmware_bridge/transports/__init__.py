"""Byte sources for one insole each, behind one async contract (:class:`Transport`).

Chosen by URL with :func:`open_transport`; pyserial and bleak are imported only by the
transports that need them.

==========================  ===========================================================
:mod:`.base`                the contract: Transport, TransportEvent, StampedChunk
:mod:`.serial_port`         SerialTransport (a reader thread per port)
:mod:`.serial_discovery`    listing serial ports; by-id links and usb:VID:PID targets
:mod:`.ble`                 BleTransport, scan_insoles, the adapter lock
:mod:`.capture`             the .gecap file, and RecordingTransport that writes one
:mod:`.replay`              ReplayTransport, which plays a capture back
==========================  ===========================================================

=================================  =====================================================
``serial:///dev/ttyACM0``          a port path (or a ``/dev/serial/by-id/...`` link)
``serial://usb:VID:PID[:SERIAL]``  the USB device with that vendor/product id (hex)
``ble://AA:BB:CC:DD:EE:FF``        a BLE insole by address
``ble://name=GaitEdge-L``          a BLE insole by advertised name prefix
``replay://path/to/file.gecap``    a raw capture, as fast as possible
``replay://file.gecap?speed=1``    a raw capture at real time (or N× with speed=N)
=================================  =====================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from firmware_bridge.transports.base import (
    ConcurrentReadError,
    EventCallback,
    StampedChunk,
    Transport,
    TransportEvent,
)

if TYPE_CHECKING:
    from firmware_bridge import DeviceInfo

__all__ = [
    "ConcurrentReadError",
    "EventCallback",
    "StampedChunk",
    "Transport",
    "TransportEvent",
    "identify",
    "open_transport",
]


def open_transport(url: str, *, on_event: EventCallback | None = None) -> Transport:
    """Make the transport that ``url`` names (it connects on first read)."""
    scheme, sep, target = url.partition("://")
    if not sep or not target:
        raise ValueError(
            f"transport {url!r} is not a URL; write serial:///dev/ttyACM0, ble://ADDRESS "
            "or replay://FILE"
        )
    match scheme:
        case "serial":
            from firmware_bridge.transports.serial_port import SerialTransport

            return SerialTransport(target, on_event=on_event)
        case "ble":
            from firmware_bridge.transports.ble import BleTransport

            return BleTransport.from_target(target, on_event=on_event)
        case "replay":
            from firmware_bridge.transports.replay import ReplayTransport

            path, _, query = target.partition("?")
            speed: float | None = None
            for item in filter(None, query.split("&")):
                key, _, value = item.partition("=")
                if key != "speed":
                    raise ValueError(f"unknown replay option {key!r} in {url!r}; expected speed=N")
                speed = float(value)
            return ReplayTransport(path, speed=speed, on_event=on_event)
    raise ValueError(f"unknown transport {scheme!r} in {url!r}; expected serial, ble or replay")


async def identify(
    url: str, timeout_s: float = 2.0, *, opener: Callable[..., Transport] | None = None
) -> DeviceInfo | None:
    """Open ``url``, listen up to ``timeout_s`` s for a DEVICE_INFO packet, close.

    Returns the insole's :class:`~firmware_bridge.DeviceInfo`, or None if none came
    (not an insole, or silent). Errors opening the link propagate (one-line TransportError).
    """
    import asyncio

    from firmware_bridge import DeviceInfo, StreamDecoder

    decoder = StreamDecoder()
    transport = (opener or open_transport)(url)

    async def listen() -> DeviceInfo | None:
        while chunk := await transport.read():
            for item in decoder.feed(chunk):
                if isinstance(item, DeviceInfo):
                    return item
        return None

    try:
        async with asyncio.timeout(timeout_s):  # not wait_for: python/cpython#86296 on 3.11
            return await listen()
    except TimeoutError:
        return None
    finally:
        await transport.aclose()
