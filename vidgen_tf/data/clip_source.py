"""The sequence protocol shared by the built-in procedural datasets (`ShapesDataset`, ...)."""

from __future__ import annotations

import operator
from collections.abc import Iterator

import numpy as np


def check_int(name: str, value, minimum: int, dataset: str) -> int:
    """Return `value` as an int; raise TypeError for a non-integer, ValueError below `minimum`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"{name} must be an integer >= {minimum} for {dataset}; received {name}={value!r}"
        )
    if value < minimum:
        raise ValueError(
            f"{name} must be at least {minimum} for {dataset}; received {name}={value}"
        )
    return int(value)


class ClipSource:
    """Base of a procedural dataset: clip `i` is `clip(i)`, for `i < num` (or any i if num=None).

    Subclasses set `name`, `num` and `class_names`, and implement `clip(index)` returning
    `{"video": uint8 (frames, size, size, 3), "label": int, "caption": str}`; they call
    `self._check_index(index)` first.
    """

    name = "clips"
    num: int | None = None
    class_names: tuple[str, ...] = ()

    @property
    def num_classes(self) -> int:
        """Number of labels, `len(class_names)`."""
        return len(self.class_names)

    def clip(self, index: int) -> dict:
        raise NotImplementedError

    def _check_index(self, index: int) -> int:
        try:
            index = operator.index(index)
        except TypeError:
            raise TypeError(f"index must be an integer; received {type(index).__name__}") from None
        if index < 0 or (self.num is not None and index >= self.num):
            bound = "unbounded" if self.num is None else f"num={self.num}"
            raise IndexError(
                f"index out of range for {self.name} ({bound}); received index={index}"
            )
        return index

    def __getitem__(self, index: int) -> dict:
        index = operator.index(index)
        if index < 0 and self.num is not None:
            index += self.num
        return self.clip(index)

    def __len__(self) -> int:
        if self.num is None:
            raise TypeError(f"{type(self).__name__} with num=None is unbounded and has no length")
        return self.num

    def __iter__(self) -> Iterator[dict]:
        index = 0
        while self.num is None or index < self.num:
            yield self.clip(index)
            index += 1
