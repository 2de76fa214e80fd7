from __future__ import annotations

import pytest

from firmware_bridge import spec
from firmware_bridge.errors import FrameError
from firmware_bridge.framing import FrameSplitter, crc16, decode_frame, encode_frame


def test_crc_is_ibm_3740_check_value() -> None:
    assert crc16(b"123456789") == spec.CRC_CHECK_VALUE == 0x29B1


def test_frame_round_trip_and_no_zero_inside() -> None:
    body = bytes([1, 2]) + bytes(range(256))[:200]
    frame = encode_frame(body)
    assert frame.endswith(b"\x00") and b"\x00" not in frame[:-1]
    assert len(frame) <= spec.MAX_FRAME_LEN + 1
    assert decode_frame(frame[:-1]) == body


def test_too_long_packet_refused() -> None:
    with pytest.raises(ValueError, match="exceeds the protocol's 254"):
        encode_frame(bytes(253))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\x03\x01\x02", "length"),  # decodes to 2 bytes: too short for header + CRC
        (b"\x05\x01\x02\x03", "cobs"),  # code byte promises more bytes than there are
        (encode_frame(b"\x01\x02abc")[:-2] + b"\x01", "crc"),
        (b"\x01" * 300, "length"),
    ],
)
def test_bad_frames_name_their_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(FrameError) as err:
        decode_frame(raw)
    assert err.value.reason == reason
    assert err.value.raw == raw


def test_splitter_keeps_tail_across_chunks() -> None:
    s = FrameSplitter()
    assert s.feed(b"\x02a") == []
    assert s.pending == 2
    assert s.feed(b"b\x00\x00\x03x") == [b"\x02ab"]
    assert s.feed(b"y\x00") == [b"\x03xy"]


def test_splitter_drops_overlong_runs_and_recovers() -> None:
    s = FrameSplitter(max_frame_len=10)
    assert s.feed(b"\x01" * 8) == []
    assert s.feed(b"\x01" * 8) == []  # 16 bytes, no delimiter: dropped
    assert s.feed(b"\x01" * 5 + b"\x00good\x00") == [b"good"]
    assert s.oversize_ == 1
    assert s.bytes_dropped_ == 22  # 21 bytes and the delimiter that ended them
