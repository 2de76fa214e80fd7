"""Reconnecting a device link: backoff within a wall-clock budget, connect on first read.

:class:`ReconnectPolicy` holds the numbers, :class:`Backoff` times one run of attempts
(the caller sleeps: a reader thread on a ``threading.Event``, a task with
``asyncio.sleep``), and :class:`ReconnectingTransport` is the part of a live link's
``read()`` that is the same for serial and BLE: connect on the first read, then hand
out what the link's thread or callback queued.
"""

from __future__ import annotations

import abc
import asyncio
import dataclasses
import time

from firmware_bridge.errors import TransportError
from firmware_bridge.transports._chunk_queue import ChunkQueue
from firmware_bridge.transports.base import (
    EventCallback,
    StampedChunk,
    Transport,
    future_failed,
    joined,
)

__all__ = ["Backoff", "ReconnectPolicy", "ReconnectingTransport"]


@dataclasses.dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """How a link retries after a drop.

    Attributes
    ----------
    reconnect_budget_s : float or None
        Wall-clock time to keep trying after a drop, s; None = forever, 0 = give up at
        the first drop.
    retry_initial_s, retry_max_s : float
        First and longest wait between attempts, s (the wait doubles each time).
    """

    reconnect_budget_s: float | None = 30.0
    retry_initial_s: float = 0.1
    retry_max_s: float = 2.0

    def __post_init__(self) -> None:
        budget = self.reconnect_budget_s
        if budget is not None and budget < 0:
            raise ValueError(f"reconnect_budget_s={budget!r}; must be >= 0 s, or None for forever")
        if not 0 < self.retry_initial_s <= self.retry_max_s:
            raise ValueError(
                f"retry_initial_s={self.retry_initial_s!r}, retry_max_s={self.retry_max_s!r}; "
                "need 0 < retry_initial_s <= retry_max_s"
            )

    def backoff(self, t_start: float, budget_s: float | None) -> Backoff:
        """A run of attempts that began at ``t_start`` (``time.monotonic()``) and may last
        ``budget_s`` s (None = forever)."""
        return Backoff(self, t_start, budget_s)


class Backoff:
    """The waits of one run of attempts: ``retry_initial_s`` doubling up to
    ``retry_max_s``, each cut to what is left of the budget.

    Parameters
    ----------
    policy : ReconnectPolicy
        The waits.
    t_start : float
        ``time.monotonic()`` when the run began (the drop, or the first connect), s.
    budget_s : float or None
        How long the run may last, s; None = forever.
    """

    def __init__(self, policy: ReconnectPolicy, t_start: float, budget_s: float | None) -> None:
        #: ``time.monotonic()`` after which no attempt starts, s; None = never.
        self.deadline = None if budget_s is None else t_start + budget_s
        self._delay = policy.retry_initial_s
        self._max = policy.retry_max_s

    def expired(self) -> bool:
        """True once the budget has run out."""
        return self.deadline is not None and time.monotonic() >= self.deadline

    def next_wait(self) -> float:
        """The wait before the next attempt, s (>= 0, at most the time left); the wait
        after it is twice as long, up to ``retry_max_s``."""
        wait = self._delay
        if self.deadline is not None:
            wait = max(0.0, min(wait, self.deadline - time.monotonic()))
        self._delay = min(2 * self._delay, self._max)
        return wait


class ReconnectingTransport(Transport):
    """A device link that connects on its first read and reconnects by itself.

    A subclass implements :meth:`open`: it starts its reader thread or task (once, and
    again after a failed attempt), which resolves :attr:`_up` when the link is first up
    (or fails it with why not), then puts every chunk on :attr:`_chunks` and ends it when
    the stream is over (closed, or reconnection given up).

    Parameters
    ----------
    policy : ReconnectPolicy
        How to retry after a drop.
    on_event : callable, optional
        Called on the event loop with each :class:`TransportEvent`.
    """

    def __init__(self, policy: ReconnectPolicy, *, on_event: EventCallback | None = None) -> None:
        super().__init__(on_event=on_event)
        self.policy = policy
        self._chunks = ChunkQueue(self)
        #: Resolved when the link first comes up, failed with why it did not; None
        #: before the first attempt (or after a failed one that a retry cleared).
        self._up: asyncio.Future[None] | None = None
        self._closed = False

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect now (:meth:`read` does this on its first call); raise TransportError
        if the link cannot be brought up."""

    async def read(self) -> bytes:
        """Wait for the next bytes (>= 1); b"" once closed or reconnection is given up.

        Raises
        ------
        TransportError
            On the first call, if the link cannot be brought up (see :meth:`open`).
        ConcurrentReadError
            Another read is waiting.
        """
        return joined(await self.read_stamped())

    async def read_stamped(self) -> list[StampedChunk]:
        """:meth:`read`'s chunks as received, each with its ``time.monotonic()``."""
        with self._reading():
            if self._closed or self._chunks.ended:
                return []
            up = self._up
            if up is None or not up.done() or future_failed(up):
                try:
                    await self.open()
                except TransportError:
                    if self._closed:  # aclose() ran meanwhile: that is the end of the stream
                        return []
                    raise
            return await self._chunks.get_stamped()
