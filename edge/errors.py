"""Errors of the runtime, one class per kind of failure, all under one root.

:class:`GaitedgeError` is the root of every error gaitedge raises on purpose (it lives with
the wire, :mod:`firmware_bridge.errors`, which never imports :mod:`edge`; the wire's own
kinds, FrameError and TransportError, are there too). Messages name the problem and what
to do about it; the CLI prints them as one line.
"""

from __future__ import annotations

from firmware_bridge.errors import GaitedgeError

__all__ = ["ConfigError", "DatasetError", "GaitedgeError", "ModelFileError", "StoreError"]


class ModelFileError(GaitedgeError):
    """A model directory that cannot be used, with what is wrong and what to do."""


class StoreError(GaitedgeError):
    """A trial store that cannot be opened or written, with what is wrong and what to do."""


class ConfigError(GaitedgeError, ValueError):
    """A configuration file that cannot be used; the message names the key."""


class DatasetError(GaitedgeError, ValueError):
    """A data set or trial file that cannot be read; the message names the path and the fix."""
