"""Packets to and from bytes, and the stream decoder that turns byte chunks into samples.

Decoded samples come out as NumPy arrays in SI units, many packets at a time
(:class:`SampleBlock`): the decoder never builds a Python object per sample.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
from typing import Final

import numpy as np
import numpy.typing as npt

from firmware_bridge import spec
from firmware_bridge.errors import FrameError
from firmware_bridge.framing import FrameSplitter, crc16, decode_frame, encode_frame

__all__ = [
    "DecoderStats",
    "DeviceInfo",
    "SampleBlock",
    "Status",
    "StreamDecoder",
    "decode_packet",
    "encode_device_info",
    "encode_samples",
    "encode_status",
    "quantise_imu",
]

log = logging.getLogger(__name__)

_HDR_DEVICE_INFO: Final = bytes((spec.PROTOCOL_MAJOR, spec.TYPE_DEVICE_INFO))
_HDR_SAMPLES: Final = bytes((spec.PROTOCOL_MAJOR, spec.TYPE_SAMPLES))
_HDR_STATUS: Final = bytes((spec.PROTOCOL_MAJOR, spec.TYPE_STATUS))
_SIDES: Final = {spec.SIDE_LEFT: "L", spec.SIDE_RIGHT: "R", spec.SIDE_UNKNOWN: "U"}


@dataclasses.dataclass(frozen=True, slots=True)
class DeviceInfo:
    """Who an insole is and how it scales its integers (the DEVICE_INFO packet).

    Attributes
    ----------
    device_id : int
        64-bit unique id (e.g. the radio's factory address).
    side : {"L", "R", "U"}
        Which shoe; "U" if the firmware does not know.
    sample_rate_hz : float
        Nominal output data rate, Hz (sent as millihertz).
    accel_range_code, gyro_range_code : int
        Full-scale range codes (``spec.ACCEL_RANGES_G``, ``spec.GYRO_RANGES_DPS``).
    n_pressure : int
        Pressure cells per sample (0–16).
    samples_per_packet : int
        How many samples the firmware puts in one SAMPLES packet (nominal).
    boot_id : int
        Random 16-bit value chosen at power-up; a new value means the device restarted.
    firmware : tuple of int
        (major, minor, patch).
    model : str
        Hardware model name, at most 16 UTF-8 bytes.
    axis_frame : int
        ``spec.AXIS_FRAME_SENSOR`` (as mounted) or ``spec.AXIS_FRAME_INSOLE``.
    protocol : tuple of int
        (major, minor) protocol version the firmware speaks.
    """

    device_id: int
    side: str
    sample_rate_hz: float
    accel_range_code: int = 3
    gyro_range_code: int = 4
    n_pressure: int = 0
    samples_per_packet: int = 4
    boot_id: int = 0
    firmware: tuple[int, int, int] = (0, 0, 0)
    model: str = ""
    axis_frame: int = spec.AXIS_FRAME_SENSOR
    protocol: tuple[int, int] = (spec.PROTOCOL_MAJOR, spec.PROTOCOL_MINOR)

    @property
    def accel_range_g(self) -> float:
        """Accelerometer full scale, ±g."""
        return spec.ACCEL_RANGES_G[self.accel_range_code]

    @property
    def gyro_range_dps(self) -> float:
        """Gyroscope full scale, ±deg/s."""
        return spec.GYRO_RANGES_DPS[self.gyro_range_code]

    @property
    def ranges(self) -> int:
        """The ``ranges`` byte of a SAMPLES packet: accel code | gyro code << 4."""
        return self.accel_range_code | (self.gyro_range_code << 4)


@dataclasses.dataclass(frozen=True, slots=True)
class Status:
    """Battery and health of an insole (the STATUS packet).

    Attributes
    ----------
    t_device_us : int
        Device clock when the status was taken, µs (raw uint32, wraps).
    battery_pct : int or None
        State of charge, % (None: unknown).
    battery_mv : int or None
        Battery voltage, mV (None: unknown).
    error_flags : int
        Bit set of ``spec.ERR_*``.
    temperature_c : int or None
        Board temperature, °C (None: unknown).
    device_dropped : int
        Samples the firmware itself lost since boot (FIFO overflow, radio back-pressure).
    """

    t_device_us: int
    battery_pct: int | None = None
    battery_mv: int | None = None
    error_flags: int = 0
    temperature_c: int | None = None
    device_dropped: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class SampleBlock:
    """Consecutively decoded samples of one device, in SI units.

    Attributes
    ----------
    seq : ndarray, shape (n,), int64
        Sample counter, unwrapped (keeps counting past 2**32). Gaps are lost samples.
    t_device_us : ndarray, shape (n,), int64
        Device clock at each sample, µs, unwrapped.
    imu : ndarray, shape (n, 6), float32
        acc_x, acc_y, acc_z [m/s², gravity included] then gyr_x, gyr_y, gyr_z [rad/s],
        in the device's axis frame (``DeviceInfo.axis_frame``).
    pressure : ndarray, shape (n, p), float32
        Pressure per cell, kPa; NaN where the cell reported no valid reading; p may be 0.
    """

    seq: npt.NDArray[np.int64]
    t_device_us: npt.NDArray[np.int64]
    imu: npt.NDArray[np.float32]
    pressure: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.seq)

    @staticmethod
    def concat(blocks: list[SampleBlock]) -> SampleBlock:
        """Join blocks of one device in order (pressure cell counts must agree)."""
        return SampleBlock(
            np.concatenate([b.seq for b in blocks]),
            np.concatenate([b.t_device_us for b in blocks]),
            np.concatenate([b.imu for b in blocks]),
            np.concatenate([b.pressure for b in blocks]),
        )


Packet = DeviceInfo | Status | SampleBlock


# --------------------------------------------------------------------------- encoding


def encode_device_info(info: DeviceInfo) -> bytes:
    """One DEVICE_INFO frame, ready for the wire."""
    sides = {"L": spec.SIDE_LEFT, "R": spec.SIDE_RIGHT, "U": spec.SIDE_UNKNOWN}
    if info.side not in sides:
        raise ValueError(f"side={info.side!r}; expected 'L', 'R' or 'U'")
    side = sides[info.side]
    model = info.model.encode()
    while len(model) > 16:  # cut at a character boundary, never inside a UTF-8 sequence
        model = model[:16].decode("utf-8", "ignore").encode()
    payload = spec.DEVICE_INFO.pack(
        info.protocol[1],
        *info.firmware,
        info.device_id,
        side,
        round(info.sample_rate_hz * 1000),
        info.accel_range_code,
        info.gyro_range_code,
        info.n_pressure,
        info.samples_per_packet,
        info.boot_id,
        info.axis_frame,
        model,
    )
    return encode_frame(bytes((info.protocol[0], spec.TYPE_DEVICE_INFO)) + payload)


def encode_status(status: Status) -> bytes:
    """One STATUS frame, ready for the wire."""
    payload = spec.STATUS.pack(
        status.t_device_us % spec.WRAP,
        spec.BATTERY_UNKNOWN if status.battery_pct is None else status.battery_pct,
        0 if status.battery_mv is None else status.battery_mv,
        status.error_flags,
        spec.TEMPERATURE_UNKNOWN if status.temperature_c is None else status.temperature_c,
        status.device_dropped % spec.WRAP,
    )
    return encode_frame(_HDR_STATUS + payload)


def quantise_imu(imu: npt.ArrayLike, ranges: int) -> npt.NDArray[np.int16]:
    """SI IMU values (n, 6) -> int16 counts for range byte ``ranges``, rounded, saturating."""
    lsb = np.array(
        [spec.accel_lsb_mps2(ranges & 0x0F)] * 3 + [spec.gyro_lsb_radps(ranges >> 4)] * 3
    )
    counts = np.rint(np.asarray(imu, dtype=np.float64) / lsb)
    return np.clip(counts, -32768, 32767).astype(np.int16)


def encode_samples(
    seq: int,
    t_device_us: int,
    period_us: int,
    ranges: int,
    imu_counts: npt.NDArray[np.int16],
    pressure_counts: npt.NDArray[np.uint16] | None = None,
) -> bytes:
    """One SAMPLES frame, ready for the wire.

    Parameters
    ----------
    seq : int
        Sample counter of the first sample (wrapped to uint32 here).
    t_device_us : int
        Device clock at the first sample, µs (wrapped to uint32 here).
    period_us : int
        Spacing of the samples inside this packet, µs.
    ranges : int
        Accelerometer range code | gyroscope range code << 4.
    imu_counts : ndarray, shape (n, 6), int16
        Raw counts (see :func:`quantise_imu`).
    pressure_counts : ndarray, shape (n, p), uint16, optional
        Pressure in 0.1 kPa counts; 0xFFFF for an invalid reading.
    """
    imu_counts = np.asarray(imu_counts, dtype="<i2")
    n = len(imu_counts)
    p = 0 if pressure_counts is None else pressure_counts.shape[1]
    if n == 0 or imu_counts.shape != (n, 6):
        raise ValueError(f"imu_counts of shape {imu_counts.shape}; need (n, 6) with n >= 1")
    if p > spec.MAX_PRESSURE_CELLS:
        raise ValueError(
            f"{p} pressure cells; the protocol carries at most {spec.MAX_PRESSURE_CELLS}"
        )
    _lsb_vector(ranges)  # ValueError for an unknown range code
    if pressure_counts is None:
        records = imu_counts.tobytes()
    else:
        rec = np.empty(n, dtype=[("imu", "<i2", (6,)), ("p", "<u2", (p,))])
        rec["imu"] = imu_counts
        rec["p"] = pressure_counts
        records = rec.tobytes()
    head = spec.SAMPLES_HEADER.pack(
        seq % spec.WRAP, t_device_us % spec.WRAP, period_us, ranges, n, p
    )
    return encode_frame(_HDR_SAMPLES + head + records)


# --------------------------------------------------------------------------- decoding


def decode_packet(body: bytes) -> DeviceInfo | Status | tuple[int, int, int, int, int, int, bytes]:
    """Parse one packet body (header + payload, CRC already checked).

    Returns a DeviceInfo, a Status, or for SAMPLES the raw tuple
    ``(seq, t_us, period_us, ranges, n_samples, n_pressure, records)`` that the stream
    decoder scales in bulk. Raises FrameError (reason ``"version"``, ``"type"`` or
    ``"layout"``).
    """
    version, ptype = body[0], body[1]
    if version != spec.PROTOCOL_MAJOR:
        raise FrameError(
            f"packet speaks protocol {version}, this gaitedge speaks {spec.PROTOCOL_MAJOR}; "
            "update gaitedge or the insole firmware",
            raw=body,
            reason="version",
        )
    n_body = len(body)
    if ptype == spec.TYPE_SAMPLES:
        if n_body < 2 + spec.SAMPLES_HEADER.size:
            raise FrameError("SAMPLES packet too short", raw=body, reason="layout")
        seq, t_us, period, ranges, n, p = spec.SAMPLES_HEADER.unpack_from(body, 2)
        start = 2 + spec.SAMPLES_HEADER.size
        if (
            n == 0
            or p > spec.MAX_PRESSURE_CELLS
            or n_body - start != n * (spec.IMU_RECORD_LEN + spec.PRESSURE_CELL_LEN * p)
            or (ranges & 0x0F) not in spec.ACCEL_RANGES_G
            or (ranges >> 4) not in spec.GYRO_RANGES_DPS
        ):
            raise FrameError("SAMPLES packet layout does not add up", raw=body, reason="layout")
        return seq, t_us, period, ranges, n, p, body[start:]
    if ptype == spec.TYPE_DEVICE_INFO:
        if n_body < 2 + spec.DEVICE_INFO.size:  # a later minor version may append fields
            raise FrameError("DEVICE_INFO packet too short", raw=body, reason="layout")
        (minor, fw_maj, fw_min, fw_patch, dev_id, side, rate_mhz, acc, gyr, n_p, spp, boot,
         frame, model) = spec.DEVICE_INFO.unpack_from(body, 2)  # fmt: skip
        if acc not in spec.ACCEL_RANGES_G or gyr not in spec.GYRO_RANGES_DPS or rate_mhz == 0:
            raise FrameError("DEVICE_INFO has an unknown range or zero rate", raw=body)
        return DeviceInfo(
            device_id=dev_id,
            side=_SIDES.get(side, "U"),
            sample_rate_hz=rate_mhz / 1000.0,
            accel_range_code=acc,
            gyro_range_code=gyr,
            n_pressure=n_p,
            samples_per_packet=spp,
            boot_id=boot,
            firmware=(fw_maj, fw_min, fw_patch),
            model=model.rstrip(b"\x00").decode("utf-8", "replace"),
            axis_frame=frame,
            protocol=(version, minor),
        )
    if ptype == spec.TYPE_STATUS:
        if n_body < 2 + spec.STATUS.size:
            raise FrameError("STATUS packet too short", raw=body, reason="layout")
        t_us, pct, mv, flags, temp, dropped = spec.STATUS.unpack_from(body, 2)
        return Status(
            t_device_us=t_us,
            battery_pct=None if pct == spec.BATTERY_UNKNOWN else pct,
            battery_mv=mv or None,
            error_flags=flags,
            temperature_c=None if temp == spec.TEMPERATURE_UNKNOWN else temp,
            device_dropped=dropped,
        )
    raise FrameError(f"unknown packet type 0x{ptype:02x}", raw=body, reason="type")


@dataclasses.dataclass(slots=True)
class DecoderStats:
    """Counters of one stream decoder; every expected sample is exactly one of
    ``samples_ok`` (delivered), ``lost_samples`` (never arrived) or ``out_of_order``
    (arrived after later samples had been delivered; not delivered).

    Attributes
    ----------
    bytes_in : int
        Bytes fed.
    frames_ok : int
        Frames that decoded to a valid packet.
    crc_errors, cobs_errors, length_errors, layout_errors : int
        Frames dropped, by reason.
    unsupported : int
        Valid frames of another protocol version or an unknown packet type.
    bytes_skipped : int
        Bytes not part of any valid frame (bad frames, runs too long for a frame).
    samples_ok : int
        Samples delivered.
    lost_samples : int
        Samples skipped by the sequence counter and not (yet) seen.
    gaps : int
        Forward jumps of the sequence counter (each one is one or more lost samples).
    duplicates : int
        Samples received again (same packet, same counter); dropped.
    out_of_order : int
        Samples that arrived late, inside a gap already reported; dropped.
    resets : int
        Device restarts seen (new boot_id, or the counter went back without a duplicate).
    """

    bytes_in: int = 0
    frames_ok: int = 0
    crc_errors: int = 0
    cobs_errors: int = 0
    length_errors: int = 0
    layout_errors: int = 0
    unsupported: int = 0
    bytes_skipped: int = 0
    samples_ok: int = 0
    lost_samples: int = 0
    gaps: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    resets: int = 0

    @property
    def frames_bad(self) -> int:
        """Frames dropped for any reason other than an unsupported version or type."""
        return self.crc_errors + self.cobs_errors + self.length_errors + self.layout_errors

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain dict (for logs, JSON and the trial store)."""
        return dataclasses.asdict(self)


_REASON_FIELD: Final = {
    "crc": "crc_errors",
    "cobs": "cobs_errors",
    "length": "length_errors",
    "layout": "layout_errors",
    "version": "unsupported",
    "type": "unsupported",
}


class StreamDecoder:
    """Decode one device's byte stream, chunk by chunk, into packets and SI samples.

    Feed it whatever the transport delivers: a 20-byte BLE notification, a 4 KiB serial
    read, half a frame. It never raises on bad bytes: it resynchronises at the next 0x00,
    counts what it dropped (:attr:`stats`) and logs at DEBUG.

    Parameters
    ----------
    history : int
        Recent packets remembered to tell a duplicate from a device restart, and recent gaps
        remembered to recognise a late (out-of-order) packet.

    Attributes
    ----------
    stats : DecoderStats
        Counters since construction.
    info_ : DeviceInfo or None
        The last DEVICE_INFO received.
    status_ : Status or None
        The last STATUS received.
    """

    def __init__(self, *, history: int = 256) -> None:
        self.history = history
        self.stats = DecoderStats()
        self.info_: DeviceInfo | None = None
        self.status_: Status | None = None
        self._splitter = FrameSplitter()
        self._recent: collections.OrderedDict[tuple[int, int], None] = collections.OrderedDict()
        self._gaps: collections.deque[list[int]] = collections.deque(maxlen=history)
        self._next_seq: int | None = None  # unwrapped counter expected next
        self._t_last_raw = 0
        self._t_last = 0  # unwrapped device time of the last packet's first sample
        self._dropped_seen = 0

    def feed(self, chunk: bytes) -> list[Packet]:
        """Decode ``chunk``; return the packets it completes, in order.

        Consecutive SAMPLES packets are merged into one :class:`SampleBlock`; DeviceInfo and
        Status objects stand between blocks where they arrived.
        """
        st = self.stats
        st.bytes_in += len(chunk)
        splitter = self._splitter
        dropped_before, oversize_before = splitter.bytes_dropped_, splitter.oversize_
        frames = splitter.feed(chunk)
        st.bytes_skipped += splitter.bytes_dropped_ - dropped_before
        st.length_errors += splitter.oversize_ - oversize_before
        out: list[Packet] = []
        pending: list[tuple[int, int, int, int, int, int, bytes]] = []
        for raw in frames:
            try:
                body = decode_frame(raw)
                pkt = decode_packet(body)
            except FrameError as e:
                setattr(st, _REASON_FIELD[e.reason], getattr(st, _REASON_FIELD[e.reason]) + 1)
                st.bytes_skipped += len(raw) + 1
                log.debug("dropped frame (%s): %s", e.reason, e)
                continue
            st.frames_ok += 1
            if type(pkt) is tuple:
                kept = self._accept_samples(pkt, crc16(body))
                if kept is not None:
                    if pending and (pending[-1][3], pending[-1][5]) != (kept[3], kept[5]):
                        out.append(self._block(pending))
                        pending = []
                    pending.append(kept)
                continue
            if pending:
                out.append(self._block(pending))
                pending = []
            if type(pkt) is DeviceInfo:
                if self.info_ is not None and pkt.boot_id != self.info_.boot_id:
                    self._restart("new boot_id")
                self.info_ = pkt
            else:
                self.status_ = pkt
            out.append(pkt)
        if pending:
            out.append(self._block(pending))
        return out

    def _restart(self, why: str) -> None:
        """The device restarted: forget its sequence and clock history."""
        self.stats.resets += 1
        log.info("device restart detected (%s)", why)
        self._next_seq = None
        self._recent.clear()
        self._gaps.clear()

    def _accept_samples(
        self, pkt: tuple[int, int, int, int, int, int, bytes], crc: int
    ) -> tuple[int, int, int, int, int, int, bytes] | None:
        """Sequence accounting for one SAMPLES packet; return it with unwrapped seq and time,
        or None if it is a duplicate or arrived out of order."""
        seq_raw, t_raw, period, ranges, n, p, records = pkt
        st = self.stats
        key = (seq_raw, crc)
        if key in self._recent:
            st.duplicates += n
            return None
        nxt = self._next_seq
        if nxt is None:
            seq = seq_raw
        else:
            delta = (seq_raw - nxt) % spec.WRAP
            if delta >= spec.WRAP // 2:
                delta -= spec.WRAP
            seq = nxt + delta
            if delta < 0:
                if self._fill_gap(seq, n):
                    st.out_of_order += n
                    st.lost_samples -= n
                    return None
                self._restart("sequence counter went back")
                seq = seq_raw
            elif delta > 0:
                st.gaps += 1
                st.lost_samples += delta
                self._gaps.append([seq - delta, seq])
        # device time: unwrap against the previous packet (or start fresh after a restart)
        if nxt is None or self._next_seq is None:
            t = t_raw
        else:
            dt = (t_raw - self._t_last_raw) % spec.WRAP
            if dt >= spec.WRAP // 2:
                dt -= spec.WRAP
            t = self._t_last + dt
        self._t_last_raw, self._t_last = t_raw, t
        self._next_seq = seq + n
        self._recent[key] = None
        if len(self._recent) > self.history:
            self._recent.popitem(last=False)
        st.samples_ok += n
        return seq, t, period, ranges, n, p, records

    def _fill_gap(self, seq: int, n: int) -> bool:
        """If samples [seq, seq+n) lie in a reported gap, take them out of it; True if so."""
        for gap in self._gaps:
            lo, hi = gap
            if lo <= seq and seq + n <= hi:
                if seq == lo:
                    gap[0] = seq + n
                elif seq + n == hi:
                    gap[1] = seq
                else:  # split: keep the lower part here, append the upper part
                    gap[1] = seq
                    self._gaps.append([seq + n, hi])
                return True
        return False

    @staticmethod
    def _block(pending: list[tuple[int, int, int, int, int, int, bytes]]) -> SampleBlock:
        """Scale a run of SAMPLES packets with the same ranges and cell count, in bulk."""
        ranges, p = pending[0][3], pending[0][5]
        if len(pending) == 1:
            seq0, t0, period, _, n, _, records = pending[0]
            seq = np.arange(seq0, seq0 + n, dtype=np.int64)
            t = t0 + period * np.arange(n, dtype=np.int64)
        else:
            starts = np.array([q[0] for q in pending], dtype=np.int64)
            t0s = np.array([q[1] for q in pending], dtype=np.int64)
            periods = np.array([q[2] for q in pending], dtype=np.int64)
            ns = np.array([q[4] for q in pending], dtype=np.int64)
            total = int(ns.sum())
            first = np.repeat(np.cumsum(ns) - ns, ns)
            within = np.arange(total, dtype=np.int64) - first
            seq = np.repeat(starts, ns) + within
            t = np.repeat(t0s, ns) + within * np.repeat(periods, ns)
            records = b"".join([q[6] for q in pending])
        lsb = _lsb_vector(ranges)
        if p == 0:
            imu = np.frombuffer(records, dtype="<i2").reshape(-1, 6) * lsb
            pressure = np.empty((len(imu), 0), dtype=np.float32)
        else:
            rec = np.frombuffer(records, dtype=[("imu", "<i2", (6,)), ("p", "<u2", (p,))])
            imu = rec["imu"] * lsb
            raw_p = rec["p"]
            pressure = raw_p.astype(np.float32) * np.float32(spec.PRESSURE_LSB_KPA)
            pressure[raw_p == spec.PRESSURE_INVALID] = np.nan
        return SampleBlock(seq, t, imu, pressure)


_LSB_CACHE: dict[int, npt.NDArray[np.float32]] = {}


def _lsb_vector(ranges: int) -> npt.NDArray[np.float32]:
    """(6,) float32 SI units per count for the ``ranges`` byte, cached."""
    v = _LSB_CACHE.get(ranges)
    if v is None:
        a, g = spec.accel_lsb_mps2(ranges & 0x0F), spec.gyro_lsb_radps(ranges >> 4)
        v = _LSB_CACHE[ranges] = np.array([a, a, a, g, g, g], dtype=np.float32)
    return v
