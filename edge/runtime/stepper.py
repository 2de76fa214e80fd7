"""The model side of the live loop: per-shoe packets, one batched engine call, events."""

from __future__ import annotations

import collections

import numpy as np

from edge.events import GaitEvent, GaitEventDetector
from edge.model.backends import Backend, BackendKind
from edge.model.files import Model
from edge.model.outputs import GAIT_OUTPUTS, activate, make_detector
from edge.runtime.sink import TrialSink

__all__ = ["Stepper"]


class _Lane:
    """One shoe's queue into the model: pending samples, segment ends, detector."""

    def __init__(self, side: str, row: int, detector: GaitEventDetector, n_in: int) -> None:
        self.side, self.row, self.detector = side, row, detector
        # pending samples: arrays [pos:] plus blocks pushed since (joined when needed)
        self.c = np.zeros(0, np.int64)
        self.h = np.zeros(0, np.float64)
        self.x = np.zeros((0, n_in), np.float32)
        self.pos = 0
        self.new: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.n = 0  # samples pending
        self.bounds: collections.deque[int] = collections.deque()  # segment ends, in pending
        self.dirty = False  # samples pushed since the last segment end
        self.reset_due = False  # reset the state before its next real sample

    def has_packet(self, k: int) -> bool:
        return self.n >= k or (bool(self.bounds) and self.n > 0)

    def take(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        """Up to ``k`` samples (counter, host, x), and whether they end a segment."""
        m = min(k, self.bounds[0]) if self.bounds else k
        if len(self.c) - self.pos < m:  # join what is left with the new blocks (amortised)
            parts = [(self.c[self.pos :], self.h[self.pos :], self.x[self.pos :]), *self.new]
            self.c, self.h, self.x = (np.concatenate(a) for a in zip(*parts, strict=True))
            self.pos, self.new = 0, []
        a, b = self.pos, self.pos + m
        self.pos = b
        self.n -= m
        for i in range(len(self.bounds)):
            self.bounds[i] -= m
        ends = bool(self.bounds) and self.bounds[0] == 0
        if ends:
            self.bounds.popleft()
        return self.c[a:b], self.h[a:b], self.x[a:b], ends


class Stepper:
    """The model side of the loop: per-shoe packets, one batched engine call, events.

    Every engine call advances all shoes by exactly ``packet_size`` samples. A shoe's
    samples are cut into packets from the start of its *segment*; a segment ends at a gap
    the model cannot bridge, a stall, a device restart or the end of the trial
    (:meth:`end_segment`): its last packet is padded with zeros, the outputs of the
    padding are dropped, and the shoe's state and detector are reset after that call. A
    shoe with nothing to contribute to a call (stalled, ended) gets a row of zeros and is
    reset after it. So each shoe's outputs depend only on its own samples and segment
    ends, never on when bytes arrived or on the other shoe: a replay of the stored samples
    with the same segment ends reproduces them exactly (the engine computes each stream's
    column on its own).

    Parameters
    ----------
    model : Model
    sides : sequence of str
        The shoes, in engine row order.
    sink : TrialSink
        Where the activated outputs of real samples and each reported gait event go
        (with the host time of the sample that reported it).
    backend : {"numpy", "tflite"}

    Attributes
    ----------
    reported : list of (side, GaitEvent, host_s)
        Events reported since the caller last emptied it (the live status reads them).
    """

    def __init__(
        self,
        model: Model,
        sides: list[str],
        *,
        sink: TrialSink,
        backend: BackendKind = "numpy",
    ) -> None:
        self.model = model
        self.engine: Backend = model.backend(backend)
        self.k = model.packet_size or 4
        self.units = [c.unit for c in model.outputs]
        names = [c.name for c in model.outputs]
        gait = all(n in names for n in GAIT_OUTPUTS)
        self.cols = [names.index(n) for n in GAIT_OUTPUTS] if gait else []
        self.lanes: dict[str, _Lane] = {}
        for row, side in enumerate(sides):
            self.engine.add_stream(side)
            det = make_detector(model, model.sample_rate_hz)
            self.lanes[side] = _Lane(side, row, det, len(model.inputs))
        self.sink = sink
        self.reported: list[tuple[str, GaitEvent, float]] = []
        self._x = np.zeros((self.k, len(sides), len(model.inputs)), np.float32)

    def push(self, side: str, counter: np.ndarray, host: np.ndarray, imu: np.ndarray) -> None:
        """Queue samples of one shoe (``imu`` in the model's input units)."""
        lane = self.lanes[side]
        if not len(counter):
            return
        lane.new.append(
            (np.asarray(counter, np.int64), np.asarray(host, np.float64), self.model.normalise(imu))
        )
        lane.n += len(counter)
        lane.dirty = True

    def end_segment(self, side: str) -> bool:
        """The samples queued so far end this shoe's segment; False if none came since
        the last end (nothing to end)."""
        lane = self.lanes[side]
        if not lane.dirty:
            return False
        lane.dirty = False
        if lane.n and (not lane.bounds or lane.bounds[-1] < lane.n):
            lane.bounds.append(lane.n)
        elif not lane.n:
            lane.reset_due = True
        return True

    def step(
        self, skip: set[str] | frozenset[str] = frozenset(), max_calls: int | None = None
    ) -> int:
        """Run engine calls while every shoe has a packet, or is in ``skip`` (silent or
        ended: it does not hold the others back), at most ``max_calls``. Returns how many."""
        lanes = list(self.lanes.values())
        done = 0
        while (max_calls is None or done < max_calls) and (
            any(ln.has_packet(self.k) for ln in lanes)
            and all(ln.has_packet(self.k) or ln.side in skip for ln in lanes)
        ):
            self._call(lanes)
            done += 1
        return done

    def _call(self, lanes: list[_Lane]) -> None:
        x = self._x
        x[...] = 0.0
        taken: dict[str, tuple[np.ndarray, np.ndarray, bool]] = {}
        for ln in lanes:
            if ln.has_packet(self.k):
                if ln.reset_due:
                    self.engine.reset_stream(ln.side)
                    ln.detector.reset()
                    ln.reset_due = False
                c, h, xs, ends = ln.take(self.k)
                x[: len(c), ln.row] = xs
                taken[ln.side] = (c, h, ends)
        y = activate(self.engine.step_packet(x), self.units)
        for ln in lanes:
            got = taken.get(ln.side)
            if got is None or got[2]:  # its row ran on zeros, or its segment ended
                ln.reset_due = True
            if got is None:
                continue
            c, h, _ = got
            out = y[: len(c), ln.row]
            self.sink.predictions(ln.side, c, out)
            if self.cols:
                self._events(ln, c, h, out)

    def _events(self, lane: _Lane, counter: np.ndarray, host: np.ndarray, y: np.ndarray) -> None:
        pc, ps, st = (y[:, j].tolist() for j in self.cols)
        update = lane.detector.update
        for i, c in enumerate(counter.tolist()):
            for e in update(c, pc[i], ps[i], st[i]):
                self.sink.event(lane.side, e, float(host[i]))
                self.reported.append((lane.side, e, float(host[i])))

    def flush(self) -> None:
        """End every segment and step until nothing is pending (the end of a trial)."""
        for side in self.lanes:
            self.end_segment(side)
        self.step(skip=frozenset(self.lanes))
