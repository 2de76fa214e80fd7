"""The NumPy backend: :class:`edge.model.gru.GRU` behind the
:class:`~edge.model.backends.Backend` contract."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import numpy.typing as npt

from edge.model.backends._base import Array, Backend
from edge.model.gru import GRU, GRUWeights

__all__ = ["NumpyBackend"]

F32 = np.float32


class NumpyBackend(Backend):
    """The NumPy engine (the default: no binary dependency beyond NumPy).

    Parameters
    ----------
    weights : GRUWeights
        Float32 weights in PyTorch's layout (dequantise int8 or float16 ones first, see
        :mod:`edge.model.quant`).

    Notes
    -----
    :meth:`step_packet` is :meth:`edge.model.gru.GRU.step_packet`, which computes a packet's
    input projections in one product (see :mod:`edge.model.gru` for the measurements).
    """

    def __init__(self, weights: GRUWeights) -> None:
        self._gru = GRU(weights)
        self.weights = weights
        self.n_inputs, self.n_outputs = weights.n_inputs, weights.n_outputs
        self.n_layers, self.hidden = weights.n_layers, weights.hidden
        self.packet_size: int | None = None
        self._x_shape = (0, self.n_inputs)

    @property
    def streams(self) -> list[Hashable]:
        return self._gru.streams

    def add_stream(self, key: Hashable) -> int:
        row = self._gru.add_stream(key)
        self._x_shape = (len(self._gru.streams), self.n_inputs)
        return row

    def remove_stream(self, key: Hashable) -> None:
        self._gru.remove_stream(key)
        self._x_shape = (len(self._gru.streams), self.n_inputs)

    def reset_stream(self, key: Hashable) -> None:
        self._gru.reset_stream(key)

    @property
    def state(self) -> Array:
        return self._gru.state

    @state.setter
    def state(self, value: npt.ArrayLike) -> None:
        self._gru.state = value

    def step(self, x: npt.ArrayLike) -> Array:
        x = np.asarray(x, dtype=F32)
        if x.shape != self._x_shape:
            self._check_x(x, packet=False)
        return self._gru.step(x)

    def step_packet(self, x: npt.ArrayLike) -> Array:
        x = np.asarray(x, dtype=F32)
        if x.shape[1:] != self._x_shape or x.ndim != 3:
            self._check_x(x, packet=True)
        return self._gru.step_packet(x)
