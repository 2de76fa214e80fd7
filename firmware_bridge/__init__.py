"""The wire: what insole firmware sends and how bytes become samples.

bytes -> frames (:mod:`.framing`) -> packets (:mod:`.packets`) -> SI samples
(:mod:`.decoder`), from any transport (:mod:`.transports`); :mod:`.sim` holds virtual
insoles. PROTOCOL.md is the normative spec; :mod:`.spec` holds its numbers.
"""

from firmware_bridge import spec
from firmware_bridge.decoder import DecoderStats, SampleBlock, StreamDecoder
from firmware_bridge.errors import DeviceNotFoundError, FrameError, GaitedgeError, TransportError
from firmware_bridge.packets import (
    DeviceInfo,
    SamplesPacket,
    Status,
    decode_packet,
    encode_device_info,
    encode_samples,
    encode_status,
    quantise_imu,
)

__all__ = [
    "DecoderStats",
    "DeviceInfo",
    "DeviceNotFoundError",
    "FrameError",
    "GaitedgeError",
    "SampleBlock",
    "SamplesPacket",
    "Status",
    "StreamDecoder",
    "TransportError",
    "decode_packet",
    "encode_device_info",
    "encode_samples",
    "encode_status",
    "quantise_imu",
    "spec",
]
