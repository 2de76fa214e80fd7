"""Stream keys in row order: the bookkeeping every GRU engine shares.

Row i of an engine's input and output belongs to ``keys[i]``; a new stream takes the last
row, and removing one moves the rows after it up by one.
"""

from __future__ import annotations

from collections.abc import Hashable

__all__ = ["StreamRows"]


class StreamRows:
    """Stream key → row, with the errors every engine raises.

    Attributes
    ----------
    keys : list of hashable
        Stream keys in row order (read it; change it with :meth:`add` and :meth:`remove`).
    """

    __slots__ = ("keys",)

    def __init__(self) -> None:
        self.keys: list[Hashable] = []

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, key: Hashable) -> int:
        """Append ``key``; return its row. KeyError if it is already a stream."""
        if key in self.keys:
            raise KeyError(f"stream {key!r} already exists")
        self.keys.append(key)
        return len(self.keys) - 1

    def remove(self, key: Hashable) -> int:
        """Drop ``key``; return the row it had. KeyError if it is not a stream."""
        i = self.row(key)
        del self.keys[i]
        return i

    def row(self, key: Hashable) -> int:
        """The row of ``key``; KeyError naming the streams if it is not one."""
        try:
            return self.keys.index(key)
        except ValueError:
            raise KeyError(f"no stream {key!r}; streams are {self.keys!r}") from None
