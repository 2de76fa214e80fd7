"""``gaitedge``: the command line (:func:`main`); see :mod:`edge.cli.main`."""

from edge.cli.main import main

__all__ = ["main"]
