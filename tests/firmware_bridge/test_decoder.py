"""The stream decoder: SI scaling, sequence and clock unwrapping, loss, duplicate, late and
restart accounting, and survival of any corruption and chunking."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge import spec
from firmware_bridge.decoder import SampleBlock, StreamDecoder
from firmware_bridge.errors import FrameError
from firmware_bridge.framing import decode_frame, encode_frame
from firmware_bridge.packets import DeviceInfo, encode_device_info, encode_samples

RANGES = 0x43


def _samples(seq: int, n: int, *, t0: int = 0, p: int = 0, fill: int = 0) -> bytes:
    imu = (np.arange(n * 6).reshape(n, 6) + fill).astype(np.int16)
    pressure = None if p == 0 else np.full((n, p), 100 + fill, dtype=np.uint16)
    return encode_samples(seq, t0 + 10_000 * (seq % 1000), 10_000, RANGES, imu, pressure)


def _blocks(out: list) -> SampleBlock:
    return SampleBlock.concat([o for o in out if isinstance(o, SampleBlock)])


def test_samples_scale_to_si_units() -> None:
    one_g = 32768 // 16  # counts of 1 g at ±16 g
    imu = np.array([[one_g, -one_g, 0, 0, 0, 0], [0, 0, 0, 32767, -32768, 1]], dtype=np.int16)
    p = np.array([[0, 1013], [spec.PRESSURE_INVALID, 65534]], dtype=np.uint16)
    (block,) = StreamDecoder().feed(encode_samples(7, 123, 10_000, RANGES, imu, p))
    assert block.imu.dtype == np.float32 and block.pressure.dtype == np.float32
    np.testing.assert_allclose(block.imu[0, :3], [9.80665, -9.80665, 0], rtol=1e-6)
    gyro_dps = [2000 * 32767 / 32768, -2000, 2000 / 32768]
    np.testing.assert_allclose(block.imu[1, 3:], np.deg2rad(gyro_dps), rtol=1e-6)
    np.testing.assert_allclose(block.pressure[0], [0.0, 101.3], rtol=1e-6)
    assert np.isnan(block.pressure[1, 0]) and block.pressure[1, 1] == pytest.approx(6553.4)
    assert block.seq.tolist() == [7, 8] and block.t_device_us.tolist() == [123, 10_123]


def test_device_time_unwraps_past_2_pow_32() -> None:
    d = StreamDecoder()
    zeros = np.zeros((4, 6), np.int16)
    frames = [
        encode_samples(i * 4, 2**32 - 25_000 + i * 40_000, 10_000, RANGES, zeros) for i in range(3)
    ]
    b = _blocks(d.feed(b"".join(frames)))
    assert np.all(np.diff(b.t_device_us) == 10_000)
    assert b.t_device_us[-1] > 2**32


def test_sequence_wraps_without_a_gap() -> None:
    d = StreamDecoder()
    b = _blocks(d.feed(_samples(2**32 - 2, 2) + _samples(0, 2)))
    assert b.seq.tolist() == [2**32 - 2, 2**32 - 1, 2**32, 2**32 + 1]
    assert d.stats.lost_samples == 0 and d.stats.resets == 0


def test_gap_duplicate_and_late_packet_accounting() -> None:
    d = StreamDecoder()
    a, b, c, e = _samples(0, 4), _samples(4, 4), _samples(8, 4), _samples(12, 4)
    out = _blocks(d.feed(a + c + c + b + e))  # b is late, c duplicated
    assert out.seq.tolist() == [0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15]
    s = d.stats
    assert (s.gaps, s.lost_samples, s.duplicates, s.out_of_order) == (1, 0, 4, 4)
    assert s.samples_ok + s.lost_samples + s.out_of_order == 16


def test_device_restart_resyncs() -> None:
    d = StreamDecoder()
    info = DeviceInfo(device_id=1, side="L", sample_rate_hz=100, boot_id=1)
    d.feed(encode_device_info(info) + _samples(500, 4))
    # same boot id, counter back to 0 with new data: a restart the firmware did not announce
    b = _blocks(d.feed(_samples(0, 4, fill=9)))
    assert b.seq.tolist() == [0, 1, 2, 3] and d.stats.resets == 1
    # a new boot id resets too, and the next packet is taken as it comes
    d.feed(encode_device_info(DeviceInfo(device_id=1, side="L", sample_rate_hz=100, boot_id=2)))
    b = _blocks(d.feed(_samples(2, 4, fill=3)))
    assert b.seq.tolist() == [2, 3, 4, 5] and d.stats.resets == 2 and d.stats.lost_samples == 0


def test_unknown_version_and_type_are_counted_not_decoded() -> None:
    d = StreamDecoder()
    out = d.feed(encode_frame(b"\x02\x02abc") + encode_frame(b"\x01\x7fxyz") + _samples(0, 1))
    assert len(out) == 1 and d.stats.unsupported == 2


def test_layout_errors_counted() -> None:
    d = StreamDecoder()
    head = spec.SAMPLES_HEADER.pack(0, 0, 10_000, RANGES, 3, 0)
    bad_len = encode_frame(b"\x01\x02" + head + bytes(12 * 2))  # says 3 samples, carries 2
    bad_range = encode_frame(
        b"\x01\x02" + spec.SAMPLES_HEADER.pack(0, 0, 1, 0x9F, 1, 0) + bytes(12)
    )
    assert d.feed(bad_len + bad_range) == []
    assert d.stats.layout_errors == 2


def test_mixed_pressure_layouts_make_separate_blocks() -> None:
    out = StreamDecoder().feed(_samples(0, 2, p=4) + _samples(2, 2) + _samples(4, 2))
    assert [b.pressure.shape for b in out] == [(2, 4), (4, 0)]


def test_garbage_between_frames_is_skipped_and_counted() -> None:
    d = StreamDecoder()
    garbage = b"\xff\xfe\x13\x37" * 10
    out = d.feed(garbage + b"\x00" + _samples(0, 2) + garbage + b"\x00" + _samples(2, 2))
    assert _blocks(out).seq.tolist() == [0, 1, 2, 3]
    assert d.stats.bytes_skipped == 2 * (len(garbage) + 1)
    assert d.stats.frames_bad == 2


# ------------------------------------------------------------------ property tests

_packet = st.tuples(
    st.integers(1, spec.max_samples_per_packet(0)),  # samples
    st.sampled_from(["keep", "keep", "keep", "drop", "corrupt", "truncate", "garbage"]),
    st.integers(0, 2**16),  # corruption position / length seed
    st.integers(1, 255),  # corruption xor value
)


@settings(max_examples=300, deadline=None)
@given(
    plan=st.lists(_packet, min_size=1, max_size=25),
    seq0=st.integers(0, 2**32 - 1),
    cuts=st.lists(st.integers(1, 64), min_size=1, max_size=50),
)
def test_decoder_survives_corruption_and_any_chunking(plan, seq0, cuts) -> None:
    """Never raises; every intact frame decodes; every damaged one is counted.

    A frame is intact when its bytes are unchanged and a delimiter (or the stream start)
    stands right before it. "truncate" cuts a frame's tail and delimiter, so the next frame
    merges with it; "garbage" puts delimited junk before a frame, which stays intact.
    """
    rng = np.random.default_rng(len(plan))
    stream = bytearray()
    expected_seq: list[int] = []
    seq = seq0
    delimited = True  # the last byte of the stream so far is a delimiter (or it is empty)
    for n, action, pos, xor in plan:
        imu = rng.integers(-32768, 32768, (n, 6), dtype=np.int16)
        frame = encode_samples(seq, seq * 10_000, 10_000, RANGES, imu)
        if action == "drop":
            frame = b""
        elif action == "corrupt":
            i = pos % (len(frame) - 1)  # never the delimiter
            frame = frame[:i] + bytes([frame[i] ^ xor]) + frame[i + 1 :]
        elif action == "truncate":
            frame = frame[: 1 + pos % (len(frame) - 1)]
        elif action == "garbage":
            junk = bytes(rng.integers(1, 256, 1 + pos % 40, dtype=np.uint8)) + b"\x00"
            frame = junk + frame
        if action == "garbage" or (action == "keep" and delimited):
            expected_seq.extend(range(seq, seq + n))
        if frame:
            delimited = frame.endswith(b"\x00")
        stream += frame
        seq += n
    *segments, tail = bytes(stream).split(b"\x00")
    # a run past the longest frame is known bad before its delimiter comes
    overlong_tail = len(tail) > spec.MAX_FRAME_LEN
    n_segments = sum(1 for s in segments if s) + overlong_tail

    d = StreamDecoder()
    out: list = []
    pos = 0
    while pos < len(stream):
        for c in cuts:
            out += d.feed(bytes(stream[pos : pos + c]))
            pos += c

    got = [int(x) for b in out if isinstance(b, SampleBlock) for x in b.seq]
    assert [x % 2**32 for x in got] == [s % 2**32 for s in expected_seq]
    s = d.stats
    assert s.frames_ok + s.frames_bad + s.unsupported == n_segments
    assert s.samples_ok == len(expected_seq)
    assert s.bytes_in == len(stream)
    bad = [seg for seg in segments if seg and not _valid(seg)]
    assert s.frames_bad == len(bad) + overlong_tail
    assert s.bytes_skipped == sum(len(seg) + 1 for seg in bad) + overlong_tail * len(tail)


def _valid(segment: bytes) -> bool:
    try:
        decode_frame(segment)
    except FrameError:
        return False
    return True


def test_a_corrupted_counter_far_ahead_does_not_silence_the_shoe() -> None:
    """Issue 14: one CRC-valid frame whose counter jumped far ahead made every later
    genuine packet "late" (dropped) for the rest of the trial. The next packet continuing
    from before the jump shows the jump was false: the stream resynchronises."""
    d = StreamDecoder()
    genuine = [_samples(s, 4) for s in range(0, 40, 4)]
    later = [_samples(s, 4) for s in range(40, 80, 4)]
    out = _blocks(d.feed(b"".join(genuine) + _samples(5000, 4) + b"".join(later)))
    seq = out.seq.tolist()
    assert seq[:40] == list(range(40)) and seq[40:44] == [5000, 5001, 5002, 5003]
    assert seq[44:] == list(range(40, 80))  # every later genuine sample delivered
    s = d.stats
    assert (s.resyncs, s.bogus_samples, s.lost_samples, s.gaps, s.out_of_order) == (1, 4, 0, 0, 0)


def test_a_real_gap_is_not_taken_for_a_corrupted_counter() -> None:
    """A long outage: the counter jumps and the stream goes on from there."""
    d = StreamDecoder()
    feed = b"".join(_samples(s, 4) for s in range(0, 40, 4))
    feed += b"".join(_samples(s, 4) for s in range(1000, 1040, 4))
    out = _blocks(d.feed(feed + _samples(36, 4)))  # then a duplicate of a packet from before
    assert out.seq.tolist() == [*range(40), *range(1000, 1040)]
    s = d.stats
    assert (s.resyncs, s.lost_samples, s.gaps) == (0, 960, 1)
