"""Packets to and from bytes: each packet kind round-trips, the encoders refuse what the
parser would drop, and decode_packet returns one typed packet per body."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from firmware_bridge import spec
from firmware_bridge.decoder import StreamDecoder
from firmware_bridge.errors import FrameError
from firmware_bridge.framing import decode_frame, encode_frame
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

RANGES = 0x43


def test_device_info_and_status_round_trip() -> None:
    info = DeviceInfo(
        device_id=2**64 - 2, side="R", sample_rate_hz=104.0, accel_range_code=2,
        gyro_range_code=3, n_pressure=8, samples_per_packet=3, boot_id=0xABCD,
        firmware=(2, 7, 513), model="insole-ü-X", axis_frame=spec.AXIS_FRAME_INSOLE,
    )  # fmt: skip
    status = Status(
        t_device_us=2**32 - 1, battery_pct=None, battery_mv=4100,
        error_flags=spec.ERR_FIFO_OVERFLOW, temperature_c=-5, device_dropped=17,
    )  # fmt: skip
    out = StreamDecoder().feed(encode_device_info(info) + encode_status(status))
    assert out == [info, status]


def test_quantise_round_trips_within_half_a_step() -> None:
    rng = np.random.default_rng(1)
    si = np.column_stack([rng.uniform(-150, 150, (500, 3)), rng.uniform(-34, 34, (500, 3))])
    (block,) = StreamDecoder().feed(
        encode_samples(0, 0, 10_000, RANGES, quantise_imu(si[:19], RANGES))
    )
    step = np.array([spec.accel_lsb_mps2(3)] * 3 + [spec.gyro_lsb_radps(4)] * 3)
    assert np.all(np.abs(block.imu - si[:19]) <= step / 2 + 1e-5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"imu_counts": np.zeros((0, 6), np.int16)}, "n >= 1"),
        ({"imu_counts": np.zeros((2, 5), np.int16)}, "need \\(n, 6\\)"),
        ({"ranges": 0x9F}, "unknown accelerometer range code 15"),
        ({"pressure_counts": np.zeros((1, 17), np.uint16)}, "at most 16"),
    ],
)
def test_encoder_refuses_what_the_decoder_would_drop(kwargs, message) -> None:
    args = {"seq": 0, "t_device_us": 0, "period_us": 10_000, "ranges": RANGES,
            "imu_counts": np.zeros((1, 6), np.int16)} | kwargs  # fmt: skip
    with pytest.raises(ValueError, match=message):
        encode_samples(**args)


def test_device_info_side_and_long_model_name() -> None:
    with pytest.raises(ValueError, match="expected 'L', 'R' or 'U'"):
        encode_device_info(DeviceInfo(device_id=1, side="left", sample_rate_hz=100))
    info = DeviceInfo(device_id=1, side="U", sample_rate_hz=100, model="é" * 9)  # 18 bytes
    (got,) = StreamDecoder().feed(encode_device_info(info))
    assert got.model == "é" * 8 and got.side == "U"


def test_decode_packet_returns_one_typed_packet_per_kind() -> None:
    imu = np.arange(12, dtype=np.int16).reshape(2, 6)
    p = np.array([[1, 2, 3], [4, 5, spec.PRESSURE_INVALID]], dtype=np.uint16)
    frame = encode_samples(2**32 + 5, 2**32 + 123, 10_000, RANGES, imu, p)
    got = decode_packet(decode_frame(frame[:-1]))
    assert got == SamplesPacket(
        seq=5, t_device_us=123, period_us=10_000, ranges=RANGES, n_samples=2, n_pressure=3,
        records=imu[0].tobytes() + p[0].tobytes() + imu[1].tobytes() + p[1].tobytes(),
    )  # fmt: skip
    info = DeviceInfo(device_id=7, side="L", sample_rate_hz=100.0, boot_id=3)
    assert decode_packet(decode_frame(encode_device_info(info)[:-1])) == info
    status = Status(t_device_us=9, battery_pct=50, battery_mv=3700, temperature_c=30)
    assert decode_packet(decode_frame(encode_status(status)[:-1])) == status
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.boot_id = 4  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        status.battery_pct = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\x02\x02abc", "version"),
        (b"\x01\x7fxyz", "type"),
        (b"\x01\x02" + bytes(5), "layout"),
        (b"\x01\x02" + spec.SAMPLES_HEADER.pack(0, 0, 10_000, RANGES, 3, 0) + bytes(24), "layout"),
    ],
)
def test_decode_packet_refuses_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(FrameError) as e:
        decode_packet(decode_frame(encode_frame(body)[:-1]))
    assert e.value.reason == reason
