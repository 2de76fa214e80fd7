"""A virtual USB insole: a simulator's stream served on a pseudo-terminal.

pyserial opens the pty's slave side by path, exactly as it opens ``/dev/ttyACM0``; the
port name is a stable symlink, as udev makes under ``/dev/serial/by-id/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import tty
from pathlib import Path
from typing import Self

from firmware_bridge.sim.insole import InsoleSimulator

__all__ = ["PtyInsole"]

log = logging.getLogger(__name__)


class PtyInsole:
    """Serve a simulator's stream on a pseudo-terminal, as a USB insole would appear.

    ``port`` is a stable symlink (like ``/dev/serial/by-id/...``) to the pty's slave side;
    a disconnect fault closes the pty, and the reconnect creates a new one and repoints
    the link, as udev does when a device is unplugged and plugged back.

    Use as ``async with PtyInsole(sim) as pty: ...`` and ``await pty.run(speed)``.
    """

    def __init__(
        self, sim: InsoleSimulator, *, link_dir: str | os.PathLike[str] | None = None
    ) -> None:
        self.sim = sim
        self._own_dir = link_dir is None
        self.link_dir = Path(link_dir or tempfile.mkdtemp(prefix="gaitedge-sim-"))
        self.port = str(self.link_dir / f"usb-gaitedge_sim_{sim.name}-if00")
        self._master: int | None = None
        self.bytes_sent = 0

    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        slave_path = os.ttyname(slave)
        os.close(slave)  # the reader opens it by path; the master keeps the pty alive
        os.set_blocking(master, False)
        tmp = f"{self.port}.new"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(slave_path, tmp)
        os.replace(tmp, self.port)
        self._master = master

    def _unplug(self) -> None:
        """Close the pty and remove the link, as udev removes a by-id link on unplug."""
        if self._master is not None:
            os.close(self._master)
            self._master = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.port)

    async def __aenter__(self) -> Self:
        self._plug()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._unplug()
        if self._own_dir:
            with contextlib.suppress(OSError):  # not empty: leave it
                self.link_dir.rmdir()

    async def run(self, speed: float | None = 1.0, start: float | None = None) -> None:
        """Stream every frame into the pty (the pty stays open afterwards until exit);
        ``speed`` and ``start`` as :meth:`InsoleSimulator.stream`."""
        loop = asyncio.get_running_loop()
        outage: tuple[float, float] | None = None
        async for t_s, frame in self.sim.stream(speed, start):
            down = self.sim.faults.down_at(t_s)
            if down is not None:
                if outage is None:
                    log.info("%s: unplugged for %.1f s", self.sim.name, down[1] - down[0])
                    self._unplug()
                    outage = down
                continue
            if outage is not None:
                self._plug()
                log.info("%s: plugged back at %s", self.sim.name, self.port)
                outage = None
            await self._write(loop, frame)

    async def _write(self, loop: asyncio.AbstractEventLoop, data: bytes) -> None:
        view = memoryview(data)
        while view:
            assert self._master is not None
            try:
                n = os.write(self._master, view)
            except BlockingIOError:
                n = 0
            except OSError as e:  # EIO when the reader side is gone: the bytes are lost
                log.debug("pty write failed: %s", e)
                return
            self.bytes_sent += n
            view = view[n:]
            if view:
                ready: asyncio.Future[None] = loop.create_future()
                loop.add_writer(self._master, _set_once, ready)
                try:
                    await ready
                finally:
                    loop.remove_writer(self._master)


def _set_once(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
