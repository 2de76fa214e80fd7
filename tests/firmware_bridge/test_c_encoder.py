"""The C99 firmware encoder (firmware_bridge/c/gaitedge_insole.h) against the Python encoder.

A small C program (c_encoder_main.c, next to this file) prints frames built by the header:
the worked examples of PROTOCOL.md section 6, SAMPLES frames from an LCG that this file
mirrors, DEVICE_INFO / STATUS edge cases, raw COBS cases and the return values of calls
that must be refused. Every frame must equal the Python encoder's byte for byte and decode
cleanly with StreamDecoder. A last test keeps the header's #defines in step with spec.py.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from cobs import cobs

from firmware_bridge import spec
from firmware_bridge.decoder import SampleBlock, StreamDecoder
from firmware_bridge.packets import (
    DeviceInfo,
    Status,
    encode_device_info,
    encode_samples,
    encode_status,
)

HERE = Path(__file__).resolve().parent
PKG = HERE.parent.parent / "firmware_bridge"
HEADER = PKG / "c" / "gaitedge_insole.h"
MAIN_C = HERE / "c_encoder_main.c"
PROTOCOL_MD = PKG / "PROTOCOL.md"
COMPILERS = ("cc", "gcc", "clang")
CFLAGS = ["-Wall", "-Wextra", "-Wpedantic", "-Werror", "-O2"]

# Mirrors of the tables in c_encoder_main.c.
SAMPLE_CASES = [(1, 0), (19, 0), (5, 16), (4, 0), (3, 8), (1, 16), (13, 3), (2, 1),
                (7, 2), (19, 0), (1, 1), (6, 13), (4, 4), (11, 4), (9, 7), (5, 16)]  # fmt: skip
COBS_CASES = [(0, 0), (1, 0), (1, 1), (2, 1), (253, 0), (254, 0), (255, 0), (256, 0),
              (508, 0), (509, 0), (254, 254), (255, 255), (256, 255), (600, 100), (600, 1),
              (300, 2)]  # fmt: skip
DEVICE_INFOS = [
    DeviceInfo(device_id=0, side="U", sample_rate_hz=0.001, accel_range_code=0,
               gyro_range_code=0, samples_per_packet=1),
    DeviceInfo(device_id=2**64 - 1, side="R", sample_rate_hz=0xFFFFFFFF / 1000.0,
               accel_range_code=4, gyro_range_code=5, n_pressure=16, samples_per_packet=5,
               boot_id=0xFFFF, firmware=(255, 255, 65535), model="ABCDEFGHIJKLMNOP",
               axis_frame=spec.AXIS_FRAME_INSOLE),
    DeviceInfo(device_id=0x0100000000000001, side="L", sample_rate_hz=104.0,
               accel_range_code=2, gyro_range_code=3, n_pressure=8, samples_per_packet=3,
               boot_id=0xABCD, firmware=(2, 7, 513), model="insole-ü-X",
               axis_frame=spec.AXIS_FRAME_INSOLE),
    DeviceInfo(device_id=0xFFFFFFFF, side="L", sample_rate_hz=100.0, accel_range_code=3,
               gyro_range_code=4, samples_per_packet=4, boot_id=0x0100, firmware=(0, 1, 0),
               model="AB"),
]  # fmt: skip
STATUSES = [
    Status(t_device_us=0, battery_pct=0, battery_mv=1, temperature_c=-127),
    Status(t_device_us=0xFFFFFFFF, error_flags=0x3F, device_dropped=0xFFFFFFFF),
    Status(t_device_us=0x10000, battery_pct=100, battery_mv=65535,
           error_flags=spec.ERR_LOW_BATTERY | spec.ERR_CLOCK, temperature_c=127,
           device_dropped=256),
]  # fmt: skip
MAX_N = {p: spec.max_samples_per_packet(p) for p in range(spec.MAX_PRESSURE_CELLS + 1)}
# Return values the C program prints ("ret <label> <value>"); every other label must be 0.
EXPECTED_RET = {
    "samples_n19_cap_exact": 19 + 19 * 12,
    "samples_n5_p16_cap_exact": 19 + 5 * 44,
    "samples_max_n_p0": MAX_N[0],
    "samples_max_n_p16": MAX_N[16],
    "frame_buf_fits_largest": 1,
    "devinfo_cap_exact": 2 + 2 + spec.DEVICE_INFO.size + 2,
    "status_cap_exact": 2 + 2 + spec.STATUS.size + 2,
    "cobs_null_src_empty": 1,
}


# --------------------------------------------------------------------------- generator


class Lcg:
    """The C program's generator: Numerical Recipes LCG, mod 2**32."""

    def __init__(self, seed: int = 0x12345678) -> None:
        self.state = seed

    def next(self) -> int:
        self.state = (self.state * 1664525 + 1013904223) & 0xFFFFFFFF
        return self.state

    def imu(self) -> int:
        r = self.next()
        v, sel = r >> 16, (r >> 8) & 7
        v = {0: 0x8000, 1: 0x7FFF, 2: 0, 3: v & 0xFF00}.get(sel, v)
        return v - 0x10000 if v >= 0x8000 else v

    def pressure(self) -> int:
        r = self.next()
        v, sel = r >> 16, (r >> 8) & 7
        return {0: spec.PRESSURE_INVALID, 1: 0, 2: v & 0xFF00, 3: v & 0xFF, 4: 0xFFFE}.get(sel, v)


@dataclasses.dataclass
class SamplesInput:
    seq: int
    t_us: int
    period_us: int
    ranges: int
    imu: np.ndarray  # (n, 6) int16
    pressure: np.ndarray | None  # (n, p) uint16


def generated_samples() -> list[SamplesInput]:
    """The inputs c_encoder_main.c's gen_samples() feeds to ge_frame_samples()."""
    rng = Lcg()
    seq, t_us = 0xFFFFFFFF - 60, 0xFFFFFFFF - 250_000
    out = []
    for k, (n, p) in enumerate(SAMPLE_CASES):
        period = 2500 + 3700 * k
        imu = np.array([rng.imu() for _ in range(n * 6)], dtype=np.int16).reshape(n, 6)
        pres = np.array([rng.pressure() for _ in range(n * p)], dtype=np.uint16).reshape(n, p)
        out.append(SamplesInput(seq, t_us, period, (k % 5) | ((k % 6) << 4), imu,
                                pres if p else None))  # fmt: skip
        seq = (seq + n) % spec.WRAP
        t_us = (t_us + n * period) % spec.WRAP
    return out


def cobs_input(length: int, every: int) -> bytes:
    return bytes(
        0 if every and i % every == every - 1 else (i * 7) % 255 + 1 for i in range(length)
    )


# --------------------------------------------------------------------------- C build


def _compiler() -> str:
    for name in COMPILERS:
        path = shutil.which(name)
        if path:
            return path
    reason = f"no C compiler on PATH (looked for {', '.join(COMPILERS)}); C encoder not tested"
    print(reason)
    pytest.skip(reason)


def _build(out: Path, std: str, extra: tuple[str, ...] = ()) -> Path:
    cc = _compiler()
    exe = out / f"c_encoder_{std}"
    cmd = [cc, f"-std={std}", *CFLAGS, *extra, f"-I{HEADER.parent}", str(MAIN_C), "-o", str(exe)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, f"{' '.join(cmd)}\n{res.stdout}{res.stderr}"
    return exe


def _run(exe: Path) -> str:
    res = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return res.stdout


@dataclasses.dataclass
class COutput:
    text: str
    frames: dict[tuple[str, str], bytes]  # (kind, label) -> bytes, in print order
    rets: dict[str, int]
    intact: dict[str, int]
    crc: dict[str, int]


def _parse(text: str) -> COutput:
    frames: dict[tuple[str, str], bytes] = {}
    rets: dict[str, int] = {}
    intact: dict[str, int] = {}
    crc: dict[str, int] = {}
    for line in text.splitlines():
        kind, label, value = line.split(" ")
        if kind == "ret":
            rets[label] = int(value)
        elif kind == "intact":
            intact[label] = int(value)
        elif kind == "crc":
            crc[label] = int(value, 16)
        else:
            frames[kind, label] = b"" if value == "-" else bytes.fromhex(value)
    return COutput(text, frames, rets, intact, crc)


@pytest.fixture(scope="module")
def c_out(tmp_path_factory: pytest.TempPathFactory) -> COutput:
    return _parse(_run(_build(tmp_path_factory.mktemp("c_encoder"), "c99")))


def _frames(c_out: COutput, kind: str) -> list[bytes]:
    return [v for (k, _), v in c_out.frames.items() if k == kind]


# --------------------------------------------------------------------------- tests


def test_builds_as_c11_with_the_same_output(
    c_out: COutput, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert _run(_build(tmp_path_factory.mktemp("c11"), "c11")) == c_out.text


def test_no_undefined_behaviour(c_out: COutput, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Same output under UBSan (overflow, shifts, misaligned or out-of-bounds access)."""
    cc = _compiler()
    out = tmp_path_factory.mktemp("ubsan")
    probe = out / "probe.c"
    probe.write_text("int main(void) { return 0; }\n")
    flags = ["-fsanitize=undefined", "-fno-sanitize-recover=all"]
    probe_cmd = [cc, *flags, str(probe), "-o", str(out / "probe")]
    if subprocess.run(probe_cmd, capture_output=True).returncode != 0:
        pytest.skip(f"{cc} cannot link -fsanitize=undefined here")
    assert _run(_build(out, "c99", tuple(flags))) == c_out.text


def test_crc_check_value(c_out: COutput) -> None:
    assert c_out.crc["check"] == spec.CRC_CHECK_VALUE == 0x29B1
    assert c_out.crc["empty"] == spec.CRC_INIT


def _worked_example(section: str) -> bytes:
    """The hex bytes of the last code block of PROTOCOL.md section ``section`` (e.g. 6.1)."""
    text = PROTOCOL_MD.read_text(encoding="utf-8")
    part = text.split(f"### {section} ", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    block = re.findall(r"```\n(.*?)```", part, flags=re.S)[-1]
    return bytes.fromhex(" ".join(block.split()))


def test_worked_examples_match_protocol_md(c_out: COutput) -> None:
    ex = {label: v for (kind, label), v in c_out.frames.items() if kind == "example"}
    assert ex["samples"] == _worked_example("6.1")
    assert ex["device_info"] == _worked_example("6.2")
    assert ex["status"] == _worked_example("6.3")
    imu = np.array([[2048, 0, 0, 0, 0, 16], [2047, -1, 1, 256, -256, 0]], dtype=np.int16)
    assert ex["samples"] == encode_samples(1000, 4294967000, 10000, 0x43, imu)
    info = DeviceInfo(device_id=0x0000C0FFEE0000A1, side="L", sample_rate_hz=100.0,
                      accel_range_code=3, gyro_range_code=4, samples_per_packet=4,
                      boot_id=0x1234, firmware=(1, 0, 0), model="GE-IMU-1")  # fmt: skip
    assert ex["device_info"] == encode_device_info(info)
    status = Status(t_device_us=123456, battery_pct=87, battery_mv=3950, temperature_c=31)
    assert ex["status"] == encode_status(status)


def test_generator_covers_the_edges() -> None:
    """The generated inputs reach what the task is about (guards the LCG mirror, too)."""
    inputs = generated_samples()
    imu = np.concatenate([s.imu for s in inputs]).ravel()
    pres = np.concatenate([s.pressure.ravel() for s in inputs if s.pressure is not None])
    assert imu.min() == -32768 and imu.max() == 32767 and (imu == 0).any()
    assert ((imu.view(np.uint16) & 0xFF) == 0).sum() > 10
    assert (pres == spec.PRESSURE_INVALID).any() and (pres == 0).any() and (pres == 0xFFFE).any()
    assert ((pres & 0xFF) == 0).sum() > 5 and ((pres >> 8) == 0).sum() > 5
    ns = {(len(s.imu), 0 if s.pressure is None else s.pressure.shape[1]) for s in inputs}
    assert (MAX_N[0], 0) in ns and (MAX_N[16], 16) in ns
    assert all(n <= MAX_N[p] for n, p in ns)
    seqs = [s.seq for s in inputs]
    assert any(s + len(x.imu) > spec.WRAP for s, x in zip(seqs, inputs, strict=True))
    assert any(b < a for a, b in itertools.pairwise(seqs))  # seq wrapped
    ts = [s.t_us for s in inputs]
    assert any(b < a for a, b in itertools.pairwise(ts))  # t_us wrapped
    assert {s.ranges & 0x0F for s in inputs} == set(spec.ACCEL_RANGES_G)
    assert {s.ranges >> 4 for s in inputs} == set(spec.GYRO_RANGES_DPS)


def test_samples_match_python_encoder(c_out: COutput) -> None:
    frames = _frames(c_out, "samples")
    inputs = generated_samples()
    assert len(frames) == len(inputs) == len(SAMPLE_CASES)
    for k, (frame, s) in enumerate(zip(frames, inputs, strict=True)):
        py = encode_samples(s.seq, s.t_us, s.period_us, s.ranges, s.imu, s.pressure)
        assert frame == py, f"SAMPLES case {k}\n C  {frame.hex()}\n py {py.hex()}"
        n, p = len(s.imu), 0 if s.pressure is None else s.pressure.shape[1]
        assert len(frame) == 19 + n * (12 + 2 * p) <= spec.MAX_FRAME_LEN + 1


def _check_block(block: SampleBlock, s: SamplesInput) -> None:
    n = len(s.imu)
    assert block.seq.tolist() == [s.seq + i for i in range(n)]
    assert block.t_device_us.tolist() == [s.t_us + i * s.period_us for i in range(n)]
    lsb = np.array(
        [spec.accel_lsb_mps2(s.ranges & 0x0F)] * 3 + [spec.gyro_lsb_radps(s.ranges >> 4)] * 3
    )
    counts = np.rint(block.imu.astype(np.float64) / lsb).astype(np.int64)
    np.testing.assert_array_equal(counts, s.imu.astype(np.int64))
    if s.pressure is None:
        assert block.pressure.shape == (n, 0)
        return
    invalid = s.pressure == spec.PRESSURE_INVALID
    np.testing.assert_array_equal(np.isnan(block.pressure), invalid)
    back = np.rint(block.pressure[~invalid].astype(np.float64) / spec.PRESSURE_LSB_KPA)
    np.testing.assert_array_equal(back.astype(np.int64), s.pressure[~invalid].astype(np.int64))


def _clean(stats: dict[str, int]) -> dict[str, int]:
    """The error counters of DecoderStats that must stay zero."""
    keys = ("crc_errors", "cobs_errors", "length_errors", "layout_errors", "unsupported",
            "bytes_skipped")  # fmt: skip
    return {k: stats[k] for k in keys}


def test_samples_decode_field_by_field(c_out: COutput) -> None:
    for frame, s in zip(_frames(c_out, "samples"), generated_samples(), strict=True):
        dec = StreamDecoder()
        (block,) = dec.feed(frame)
        assert isinstance(block, SampleBlock)
        _check_block(block, s)
        assert dec.stats.frames_ok == 1 and dec.stats.samples_ok == len(s.imu)
        assert not any(_clean(dec.stats.as_dict()).values())


def test_samples_stream_is_gapless_across_the_wrap(c_out: COutput) -> None:
    """All generated frames in one stream, split into 20-byte BLE notifications."""
    inputs = generated_samples()
    stream = b"\x00" + b"".join(_frames(c_out, "samples")) + b"".join(_frames(c_out, "status"))
    dec = StreamDecoder()
    out = []
    for i in range(0, len(stream), 20):
        out += dec.feed(stream[i : i + 20])
    blocks = [o for o in out if isinstance(o, SampleBlock)]  # cell counts differ: no concat
    seq = np.concatenate([b.seq for b in blocks])
    t = np.concatenate([b.t_device_us for b in blocks])
    total = sum(len(s.imu) for s in inputs)
    assert len(seq) == total
    assert np.all(np.diff(seq) == 1) and seq[0] == inputs[0].seq and seq[-1] > spec.WRAP
    assert np.all(np.diff(t) > 0) and t[-1] > spec.WRAP  # unwrapped
    expected_t = np.concatenate([s.t_us + s.period_us * np.arange(len(s.imu)) for s in inputs])
    np.testing.assert_array_equal(t % spec.WRAP, expected_t % spec.WRAP)
    st = dec.stats.as_dict()
    assert _clean(st) == dict.fromkeys(_clean(st), 0)
    assert st["frames_ok"] == len(inputs) + len(STATUSES)
    assert st["samples_ok"] == total
    for key in ("lost_samples", "gaps", "duplicates", "out_of_order", "resets"):
        assert st[key] == 0, (key, st)


def test_device_info_and_status(c_out: COutput) -> None:
    for kind, cases, encode in (
        ("devinfo", DEVICE_INFOS, encode_device_info),
        ("status", STATUSES, encode_status),
    ):
        frames = _frames(c_out, kind)
        assert len(frames) == len(cases)
        for k, (frame, obj) in enumerate(zip(frames, cases, strict=True)):
            py = encode(obj)
            assert frame == py, f"{kind} case {k}\n C  {frame.hex()}\n py {py.hex()}"
            dec = StreamDecoder()
            assert dec.feed(frame) == [obj]
            assert dec.stats.frames_ok == 1
            assert not any(_clean(dec.stats.as_dict()).values())


def test_whole_output_decodes_without_errors(c_out: COutput) -> None:
    frames = [v for (kind, _), v in c_out.frames.items() if kind != "cobs"]
    stream = b"".join(frames)
    dec = StreamDecoder()
    for i in range(0, len(stream), 7):
        dec.feed(stream[i : i + 7])
    assert dec.stats.frames_ok == len(frames)
    assert not any(_clean(dec.stats.as_dict()).values())


def test_cobs_matches_python_cobs(c_out: COutput) -> None:
    frames = _frames(c_out, "cobs")
    assert len(frames) == len(COBS_CASES)
    for k, (enc, (length, every)) in enumerate(zip(frames, COBS_CASES, strict=True)):
        raw = cobs_input(length, every)
        assert enc == cobs.encode(raw), f"COBS case {k} ({length}, {every})"
        assert cobs.decode(enc) == raw and b"\x00" not in enc
        assert len(enc) <= length + length // 254 + 1
        assert c_out.rets[f"cobs_exact_{k}"] == len(enc)
        assert c_out.rets[f"cobs_short_{k}"] == 0 and c_out.intact[f"cobs_short_{k}"] == 1


def test_refusals(c_out: COutput) -> None:
    """n too large, buffer one byte short, NULL pointers, unknown codes: 0, nothing written."""
    for label in ("samples_n20_p0", "samples_n6_p16", "samples_n19_cap_short",
                  "samples_n5_p16_cap_short", "devinfo_cap_short", "status_cap_short"):  # fmt: skip
        assert label in c_out.rets
    for label, value in c_out.rets.items():
        if label.startswith(("cobs_exact_", "cobs_short_")):
            continue  # test_cobs_matches_python_cobs
        assert value == EXPECTED_RET.get(label, 0), label
    assert c_out.intact and all(v == 1 for v in c_out.intact.values()), c_out.intact
    assert MAX_N[0] == 19 and MAX_N[16] == 5


# --------------------------------------------------------------------------- constants


def _header_defines() -> dict[str, object]:
    """Object-like ``#define GE_*`` literals of the header: int, float or str."""
    text = re.sub(r"/\*.*?\*/", "", HEADER.read_text(encoding="utf-8"), flags=re.S)
    out: dict[str, object] = {}
    for name, value in re.findall(r"^#define\s+(GE_\w+)[ \t]+(.+?)\s*$", text, flags=re.M):
        if value.startswith('"'):
            out[name] = value.strip('"')
        elif re.fullmatch(r"\(?-?\d+\.\d*\)?", value):
            out[name] = float(value.strip("()"))
        else:
            m = re.fullmatch(r"\(?(-?(?:0x[0-9A-Fa-f]+|\d+))[uU]?\)?", value)
            assert m, f"{name}: cannot read {value!r}; keep header constants plain literals"
            out[name] = int(m.group(1), 0)
    return out


def _expected_defines() -> dict[str, object]:
    exp: dict[str, object] = {
        "GE_PROTOCOL_MAJOR": spec.PROTOCOL_MAJOR,
        "GE_PROTOCOL_MINOR": spec.PROTOCOL_MINOR,
        "GE_DELIMITER": spec.DELIMITER[0],
        "GE_MAX_PACKET_LEN": spec.MAX_PACKET_LEN,
        "GE_MAX_FRAME_LEN": spec.MAX_FRAME_LEN,
        "GE_FRAME_BUF_LEN": spec.MAX_FRAME_LEN + len(spec.DELIMITER),
        "GE_CRC_POLY": 0x1021,  # not in spec.py; the check value test covers it
        "GE_CRC_INIT": spec.CRC_INIT,
        "GE_CRC_CHECK_VALUE": spec.CRC_CHECK_VALUE,
        "GE_TYPE_DEVICE_INFO": spec.TYPE_DEVICE_INFO,
        "GE_TYPE_SAMPLES": spec.TYPE_SAMPLES,
        "GE_TYPE_STATUS": spec.TYPE_STATUS,
        "GE_HEADER_LEN": spec.HEADER.size,
        "GE_CRC_LEN": spec.CRC.size,
        "GE_DEVICE_INFO_PAYLOAD_LEN": spec.DEVICE_INFO.size,
        "GE_STATUS_PAYLOAD_LEN": spec.STATUS.size,
        "GE_SAMPLES_HEADER_LEN": spec.SAMPLES_HEADER.size,
        "GE_IMU_RECORD_LEN": spec.IMU_RECORD_LEN,
        "GE_PRESSURE_CELL_LEN": spec.PRESSURE_CELL_LEN,
        "GE_MAX_PRESSURE_CELLS": spec.MAX_PRESSURE_CELLS,
        "GE_MODEL_LEN": int(re.search(r"(\d+)s$", spec.DEVICE_INFO.format).group(1)),
        "GE_SAMPLES_OVERHEAD": spec.SAMPLES_OVERHEAD,
        "GE_SAMPLES_MAX_N_NO_PRESSURE": spec.max_samples_per_packet(0),
        "GE_SAMPLES_MAX_N_FULL_PRESSURE": spec.max_samples_per_packet(spec.MAX_PRESSURE_CELLS),
        "GE_STANDARD_GRAVITY": spec.STANDARD_GRAVITY,
        "GE_ACCEL_RANGE_COUNT": len(spec.ACCEL_RANGES_G),
        "GE_GYRO_RANGE_COUNT": len(spec.GYRO_RANGES_DPS),
        "GE_PRESSURE_LSB_KPA": spec.PRESSURE_LSB_KPA,
        "GE_PRESSURE_INVALID": spec.PRESSURE_INVALID,
        "GE_SIDE_LEFT": spec.SIDE_LEFT,
        "GE_SIDE_RIGHT": spec.SIDE_RIGHT,
        "GE_SIDE_UNKNOWN": spec.SIDE_UNKNOWN,
        "GE_AXIS_FRAME_SENSOR": spec.AXIS_FRAME_SENSOR,
        "GE_AXIS_FRAME_INSOLE": spec.AXIS_FRAME_INSOLE,
        "GE_BATTERY_UNKNOWN": spec.BATTERY_UNKNOWN,
        "GE_BATTERY_MV_UNKNOWN": 0,  # PROTOCOL.md 3.3; encode_status sends None as 0
        "GE_TEMPERATURE_UNKNOWN": spec.TEMPERATURE_UNKNOWN,
        "GE_BLE_SERVICE_UUID": spec.BLE_SERVICE_UUID,
        "GE_BLE_DATA_CHAR_UUID": spec.BLE_DATA_CHAR_UUID,
        "GE_BLE_NAME_PREFIX": spec.BLE_NAME_PREFIX,
    }
    for name in dir(spec):
        if name.startswith("ERR_"):
            exp[f"GE_{name}"] = getattr(spec, name)
    for code, g in spec.ACCEL_RANGES_G.items():
        exp[f"GE_ACCEL_RANGE_{g:g}G"] = code
    for code, dps in spec.GYRO_RANGES_DPS.items():
        exp[f"GE_GYRO_RANGE_{dps:g}DPS"] = code
    return exp


# spec.py names with no #define of their own, and why.
SPEC_NOT_IN_C = {
    "WRAP": "uint32_t arithmetic wraps by itself",
    "HEADER": "GE_HEADER_LEN",
    "CRC": "GE_CRC_LEN",
    "DEVICE_INFO": "GE_DEVICE_INFO_PAYLOAD_LEN, GE_MODEL_LEN",
    "SAMPLES_HEADER": "GE_SAMPLES_HEADER_LEN",
    "STATUS": "GE_STATUS_PAYLOAD_LEN",
    "ACCEL_RANGES_G": "GE_ACCEL_RANGE_<g>G",
    "GYRO_RANGES_DPS": "GE_GYRO_RANGE_<dps>DPS",
}


def test_header_defines_match_spec() -> None:
    got, exp = _header_defines(), _expected_defines()
    assert set(got) == set(exp), (
        f"missing in header: {sorted(set(exp) - set(got))}; "
        f"not checked here: {sorted(set(got) - set(exp))}"
    )
    for name, value in exp.items():
        assert got[name] == value and type(got[name]) is type(value), (name, got[name], value)
    assert sorted(spec.ACCEL_RANGES_G) == list(range(len(spec.ACCEL_RANGES_G)))
    assert sorted(spec.GYRO_RANGES_DPS) == list(range(len(spec.GYRO_RANGES_DPS)))
    # every public constant of spec.py has a counterpart (so a new one cannot be forgotten)
    constants = {n for n in dir(spec) if n.isupper() and not n.startswith("_")}
    covered = {n for n in constants if f"GE_{n}" in exp} | set(SPEC_NOT_IN_C)
    assert constants <= covered, f"spec.py constants without a C #define: {constants - covered}"
    # the DEVICE_INFO layout the header's builder writes is spec.DEVICE_INFO
    assert struct.calcsize(spec.DEVICE_INFO.format) == got["GE_DEVICE_INFO_PAYLOAD_LEN"]
