"""Errors of gaitedge: one root, one class per kind of failure.

Messages name the problem and what to do about it. A corrupt frame on a radio link is
expected: the stream decoder counts it and goes on; FrameError is raised only by the
one-frame functions that a caller uses on purpose.
"""

from __future__ import annotations


class GaitedgeError(Exception):
    """Root of every error gaitedge raises on purpose."""


class FrameError(GaitedgeError):
    """A frame that is not a valid packet (COBS, CRC, length or layout).

    Attributes
    ----------
    raw : bytes
        The frame as received, without its delimiter.
    reason : str
        One of ``"cobs"``, ``"crc"``, ``"length"``, ``"layout"``, ``"version"``, ``"type"``.
    """

    def __init__(self, message: str, *, raw: bytes = b"", reason: str = "layout") -> None:
        super().__init__(message)
        self.raw = raw
        self.reason = reason


class TransportError(GaitedgeError, OSError):
    """A byte source failed or could not be opened (also an OSError, like SerialException)."""


class DeviceNotFoundError(TransportError):
    """No device matched what was asked for (port, USB id, BLE name or address)."""
