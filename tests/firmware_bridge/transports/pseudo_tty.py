"""A pseudo-terminal whose slave side stands in for an insole's serial port."""

from __future__ import annotations

import contextlib
import os
import tty


class Pty:
    """A pseudo-terminal whose slave side plays the insole's serial port."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # no echo, no line editing, no CR/LF mangling: bytes as sent
        self.path = os.ttyname(self.slave)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.master, view) :]

    def unplug(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)
