"""The contract every GRU backend keeps: streams by key, one sample or one packet per call."""

from __future__ import annotations

import abc
from collections.abc import Hashable

import numpy as np
import numpy.typing as npt

__all__ = ["Backend"]

Array = npt.NDArray[np.float32]


class Backend(abc.ABC):
    """A GRU + head over many independent streams (one per shoe), whatever runs the math.

    Every implementation gives the same numbers as :class:`edge.model.gru.GRU` on the same
    weights (to 1e-4 on real input), keeps each stream's state apart, and preallocates:
    adding or removing a stream may allocate, stepping should not.

    Attributes
    ----------
    n_inputs, n_outputs, n_layers, hidden : int
        Sizes of the model.
    packet_size : int or None
        K for which :meth:`step_packet` is one call into the runtime (None: every K is K
        single steps, or the NumPy engine's batched path).
    """

    n_inputs: int
    n_outputs: int
    n_layers: int
    hidden: int
    packet_size: int | None

    @property
    @abc.abstractmethod
    def streams(self) -> list[Hashable]:
        """Stream keys in row order: row i of ``x`` and of the output is ``streams[i]``.

        Read-only: change it with :meth:`add_stream` and :meth:`remove_stream`.
        """

    @abc.abstractmethod
    def add_stream(self, key: Hashable) -> int:
        """Add a stream with zero state at the last row; return its row.

        Raises
        ------
        KeyError
            If ``key`` is already a stream.
        """

    @abc.abstractmethod
    def remove_stream(self, key: Hashable) -> None:
        """Drop a stream; the others keep their state (rows after it move up by one).

        Raises
        ------
        KeyError
            If ``key`` is not a stream.
        """

    @abc.abstractmethod
    def reset_stream(self, key: Hashable) -> None:
        """Zero one stream's state (a shoe reconnected, a gap too long to bridge)."""

    @property
    @abc.abstractmethod
    def state(self) -> Array:
        """Copy of the hidden state, shape (n_streams, n_layers, hidden), float32.

        Settable with an array of that shape (e.g. to resume a stream).
        """

    @state.setter
    @abc.abstractmethod
    def state(self, value: npt.ArrayLike) -> None: ...

    @abc.abstractmethod
    def step(self, x: npt.ArrayLike) -> Array:
        """Advance every stream by one sample.

        Parameters
        ----------
        x : array, shape (n_streams, n_inputs), float32
            One normalised sample per stream, rows in :attr:`streams` order.

        Returns
        -------
        ndarray, shape (n_streams, n_outputs), float32
            May be a view of a buffer that the next call overwrites: copy to keep it.
        """

    @abc.abstractmethod
    def step_packet(self, x: npt.ArrayLike) -> Array:
        """Advance every stream by K samples (one packet per shoe), in time order.

        Parameters
        ----------
        x : array, shape (K, n_streams, n_inputs), float32
            K normalised samples per stream; ``x[k]`` is what :meth:`step` would take.

        Returns
        -------
        ndarray, shape (K, n_streams, n_outputs), float32
            Equal to K calls of :meth:`step`; a new array (25 packets/s cost nothing, and a
            reused buffer silently breaks callers that keep packets).
        """

    @property
    def n_streams(self) -> int:
        """Number of streams (rows)."""
        return len(self.streams)

    def _check_x(self, x: Array, packet: bool) -> None:
        """Raise ValueError if ``x`` is not (n_streams, n_inputs) (or (K, …) for a packet)."""
        want = (self.n_streams, self.n_inputs)
        if x.ndim != len(want) + packet or x.shape[packet:] != want:
            shape = f"(K, {want[0]}, {want[1]})" if packet else str(want)
            raise ValueError(
                f"x of shape {x.shape}; expected {shape}: one row per stream in "
                f"streams order {self.streams!r}, {self.n_inputs} normalised inputs each"
            )
