"""Finding an insole's serial port: listing candidates, and resolving a target to a path.

A port is named by a path (``/dev/ttyACM0``), a stable udev link
(``/dev/serial/by-id/usb-...``) or by USB ids (``usb:VID:PID[:SERIAL]``, hex, matched
against ``serial.tools.list_ports.comports()``). pyserial is imported only when ports
are listed.
"""

from __future__ import annotations

import dataclasses
import glob
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from firmware_bridge.errors import DeviceNotFoundError, TransportError

if TYPE_CHECKING:
    from serial.tools.list_ports_common import ListPortInfo

__all__ = [
    "BY_ID_DIR",
    "SerialPortInfo",
    "UsbTarget",
    "find_usb_port",
    "list_serial_insoles",
    "parse_usb_target",
]

#: Where udev puts stable, per-device links to serial ports.
BY_ID_DIR: Final = "/dev/serial/by-id"


@dataclasses.dataclass(frozen=True, slots=True)
class UsbTarget:
    """A serial port named by USB ids: vendor and product id, and optionally the serial
    number (``str()`` gives back ``usb:vvvv:pppp[:SERIAL]``)."""

    vid: int
    pid: int
    serial_number: str | None

    def __str__(self) -> str:
        sn = "" if self.serial_number is None else f":{self.serial_number}"
        return f"usb:{self.vid:04x}:{self.pid:04x}{sn}"


def parse_usb_target(target: str) -> UsbTarget:
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
    return UsbTarget(vid, pid, parts[3] if len(parts) == 4 else None)


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
    want = parse_usb_target(target)
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


def _by_id_links(directory: str = BY_ID_DIR) -> dict[str, str]:
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
