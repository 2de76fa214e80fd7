"""The stream decoder: byte chunks of one device in, packets and SI samples out.

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
from firmware_bridge.framing import FrameSplitter, crc16, decode_frame
from firmware_bridge.packets import DeviceInfo, SamplesPacket, Status, decode_packet

__all__ = ["Decoded", "DecoderStats", "SampleBlock", "StreamDecoder"]

log = logging.getLogger(__name__)


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


#: A forward jump of the counter this large or larger [samples], followed at once by a
#: packet that continues the stream from before it, was a corrupted counter (see
#: :attr:`DecoderStats.resyncs`). Genuine gaps are never contradicted that way: the packets
#: from before a loss cannot arrive after one from after it except by reordering, which
#: moves one packet, not hundreds of samples.
RESYNC_JUMP: Final = 256

#: What :meth:`StreamDecoder.feed` returns, one item at a time.
Decoded = DeviceInfo | Status | SampleBlock


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
    resyncs : int
        Forward jumps of at least :data:`RESYNC_JUMP` samples that the very next packet
        contradicted by continuing the stream from before them: the jumping packet's
        counter was corrupted and still passed the CRC (about 1 in 65,536 corrupted
        frames). Its samples, already delivered, are counted in ``bogus_samples`` as well
        as ``samples_ok``; the gap it opened is not counted as lost.
    bogus_samples : int
        Samples delivered from such a packet.
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
    resyncs: int = 0
    bogus_samples: int = 0

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
        # the last packet's big forward jump, to undo if the next one contradicts it:
        # (stream position before it, jump [samples], its samples, t_last_raw, t_last)
        self._jump: tuple[int, int, int, int, int] | None = None

    def feed(self, chunk: bytes) -> list[Decoded]:
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
        out: list[Decoded] = []
        pending: list[tuple[int, int, SamplesPacket]] = []  # (seq, t_us) unwrapped, packet
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
            if isinstance(pkt, SamplesPacket):
                kept = self._accept_samples(pkt, crc16(body))
                if kept is not None:
                    if pending:
                        last = pending[-1][2]
                        if last.ranges != pkt.ranges or last.n_pressure != pkt.n_pressure:
                            out.append(self._block(pending))
                            pending = []
                    pending.append(kept)
                continue
            if pending:
                out.append(self._block(pending))
                pending = []
            if isinstance(pkt, DeviceInfo):
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
        self, pkt: SamplesPacket, crc: int
    ) -> tuple[int, int, SamplesPacket] | None:
        """Sequence accounting for one SAMPLES packet: (seq, t_device_us) of its first sample,
        unwrapped, and the packet; None if it is a duplicate or arrived out of order."""
        seq_raw, t_raw, n = pkt.seq, pkt.t_device_us, pkt.n_samples
        st = self.stats
        key = (seq_raw, crc)
        if key in self._recent:
            st.duplicates += n
            return None
        nxt = self._next_seq
        jump, self._jump = self._jump, None
        if nxt is None:
            seq = seq_raw
        else:
            delta = (seq_raw - nxt) % spec.WRAP
            if delta >= spec.WRAP // 2:
                delta -= spec.WRAP
            seq = nxt + delta
            if jump is not None and delta < 0 and seq == jump[0]:
                nxt = self._undo_jump(jump)  # the last packet's counter was corrupted
                delta = 0
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
                if delta >= RESYNC_JUMP:
                    self._jump = (seq - delta, delta, n, self._t_last_raw, self._t_last)
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
        return seq, t, pkt

    def _undo_jump(self, jump: tuple[int, int, int, int, int]) -> int:
        """Take back the last packet's forward jump (its counter was corrupted); return the
        stream position before it."""
        before, delta, n, t_raw, t = jump
        st = self.stats
        st.resyncs += 1
        st.bogus_samples += n
        st.gaps -= 1
        st.lost_samples -= delta
        if self._gaps and self._gaps[-1] == [before, before + delta]:
            self._gaps.pop()
        self._t_last_raw, self._t_last = t_raw, t
        self._next_seq = before
        log.warning("a packet's counter jumped %d samples ahead and the next one "
                    "continued from before it: resynchronised", delta)  # fmt: skip
        return before

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
    def _block(pending: list[tuple[int, int, SamplesPacket]]) -> SampleBlock:
        """Scale a run of SAMPLES packets with the same ranges and cell count, in bulk;
        ``pending`` holds each packet with its first sample's unwrapped (seq, t_device_us)."""
        first_pkt = pending[0][2]
        ranges, p = first_pkt.ranges, first_pkt.n_pressure
        if len(pending) == 1:
            seq0, t0, _ = pending[0]
            n = first_pkt.n_samples
            records = first_pkt.records
            seq = np.arange(seq0, seq0 + n, dtype=np.int64)
            t = t0 + first_pkt.period_us * np.arange(n, dtype=np.int64)
        else:
            starts = np.array([q[0] for q in pending], dtype=np.int64)
            t0s = np.array([q[1] for q in pending], dtype=np.int64)
            periods = np.array([q[2].period_us for q in pending], dtype=np.int64)
            ns = np.array([q[2].n_samples for q in pending], dtype=np.int64)
            total = int(ns.sum())
            first = np.repeat(np.cumsum(ns) - ns, ns)
            within = np.arange(total, dtype=np.int64) - first
            seq = np.repeat(starts, ns) + within
            t = np.repeat(t0s, ns) + within * np.repeat(periods, ns)
            records = b"".join([q[2].records for q in pending])
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
