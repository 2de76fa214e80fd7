"""The wire: what insole firmware sends and how bytes become samples.

bytes -> frames (:mod:`.framing`) -> packets and samples (:mod:`.codec`), from any
transport (:mod:`.transports`); :mod:`.simulator` is a virtual insole. PROTOCOL.md is the
normative spec; :mod:`.spec` holds its numbers.
"""

from firmware_bridge.codec import (
    DecoderStats,
    DeviceInfo,
    SampleBlock,
    Status,
    StreamDecoder,
    encode_device_info,
    encode_samples,
    encode_status,
    quantise_imu,
)
from firmware_bridge.errors import DeviceNotFoundError, FrameError, GaitedgeError, TransportError

__all__ = [
    "DecoderStats",
    "DeviceInfo",
    "DeviceNotFoundError",
    "FrameError",
    "GaitedgeError",
    "SampleBlock",
    "Status",
    "StreamDecoder",
    "TransportError",
    "encode_device_info",
    "encode_samples",
    "encode_status",
    "quantise_imu",
]
