"""The built-in `shapes_actions` dataset: one coloured shape that changes direction 1-3 times
per clip, with the direction of every frame as its action (for action-conditioned models)."""

from __future__ import annotations

import itertools

import numpy as np

from vidgen_tf.data.clip_source import ClipSource, check_int
from vidgen_tf.data.shapes import (
    BORDER_MARGIN,
    COLOURS,
    DIRECTION_VECTORS,
    DIRECTIONS,
    MAX_RADIUS_FRACTION,
    MIN_RADIUS_FRACTION,
    SHAPES,
    render_shape,
)

# The actions are the four directions of motion, in this order (the index is the action id).
ACTION_NAMES: tuple[str, ...] = DIRECTIONS
# Every stretch of one action lasts at least this many moves, so that it can be seen.
MIN_SEGMENT = 3
MAX_CHANGES = 3
# The shortest clip: two stretches of MIN_SEGMENT moves.
MIN_FRAMES = 2 * MIN_SEGMENT + 1


def segment_lengths(moves: int, rng: np.random.Generator) -> np.ndarray:
    """Lengths (in moves) of the stretches of one action: 2 to `MAX_CHANGES + 1` of them, as
    many as `moves` allows at `MIN_SEGMENT` each, summing to `moves`."""
    changes = int(rng.integers(1, min(MAX_CHANGES, moves // MIN_SEGMENT - 1) + 1))
    parts = changes + 1
    extra = rng.multinomial(moves - MIN_SEGMENT * parts, np.full(parts, 1.0 / parts))
    return MIN_SEGMENT + extra


def plan_path(start: np.ndarray, lengths: np.ndarray, speed: float, low: float, high: float,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Centres `(moves + 1, 2)` as (x, y) and actions `(moves,)` of a shape that moves
    `speed` pixels per frame, one stretch per entry of `lengths`, each in a direction other
    than the previous one, chosen uniformly among those with room for the whole stretch.

    There is always such a direction when `speed * max(lengths) <= (high - low) / 2`: on each
    axis one of the two directions has at least half the room.
    """
    position = np.array(start, dtype=np.float64)
    centres, actions, previous = [position.copy()], [], None
    for length in lengths:
        travel = speed * length
        feasible = [a for a in range(len(ACTION_NAMES)) if a != previous
                    and _inside(position + travel * _unit(a), low, high)]
        if not feasible:
            raise ValueError(f"no direction has room for a stretch of {travel:.3g} px from "
                             f"{position.tolist()} in [{low:.3g}, {high:.3g}]")
        action = feasible[int(rng.integers(len(feasible)))]
        step = speed * _unit(action)
        for _ in range(length):
            position = position + step
            centres.append(position.copy())
            actions.append(action)
        previous = action
    return np.stack(centres), np.asarray(actions, dtype=np.int32)


def _unit(action: int) -> np.ndarray:
    return np.array(DIRECTION_VECTORS[ACTION_NAMES[action]], dtype=np.float64)


def _inside(point: np.ndarray, low: float, high: float) -> bool:
    return bool(np.all(point >= low - 1e-9) and np.all(point <= high + 1e-9))


class ShapesActions(ClipSource):
    """Procedural clips of one coloured shape that changes direction 1-3 times, with an
    action per frame: the direction it moves from that frame to the next.

    Like `ShapesDataset` (the same shapes, colours, sizes and anti-aliased rendering on
    black), except for the motion. The clip is cut into 2-4 stretches of at least
    `MIN_SEGMENT` moves; each stretch moves in one of left, right, up, down, never the
    previous stretch's, chosen among the directions with room for the whole stretch, so the
    shape never stops at a wall and never leaves the frame. The speed is constant within a
    clip: half the free room over the longest stretch.

    Clip `index` depends only on `(seed, index)`.

    Args:
        frames: int, default 16. Frames per clip, at least `MIN_FRAMES` (7).
        size: int, default 64. Frame height and width in pixels, at least 16.
        seed: int, default 0. Non-negative seed of the whole dataset.
        num: int or None, default None. Number of clips; None means unbounded.

    Each clip is a dict: `video` uint8 (frames, size, size, 3); `actions` int32 (frames,),
    indices into `action_names` (`actions[t]` moves frame t to frame t + 1; the last frame
    repeats the last action); `label` int, the shape (`class_names` are `SHAPES`); `caption`
    str such as "a red circle moves left, then up".

    Example:
        >>> clip = ShapesActions(frames=12, size=32, num=1)[0]
        >>> clip["video"].shape, clip["actions"].shape
        ((12, 32, 32, 3), (12,))
    """

    name = "shapes_actions"
    action_names: tuple[str, ...] = ACTION_NAMES

    def __init__(self, frames: int = 16, size: int = 64, seed: int = 0, num: int | None = None):
        self.frames = check_int("frames", frames, MIN_FRAMES, self.name)
        self.size = check_int("size", size, 16, self.name)
        self.seed = check_int("seed", seed, 0, self.name)
        self.num = None if num is None else check_int("num", num, 1, self.name)
        self.class_names: tuple[str, ...] = SHAPES

    def clip(self, index: int) -> dict:
        """Return clip `index` as `{"video", "actions", "label", "caption"}`."""
        index = self._check_index(index)
        rng = np.random.default_rng([self.seed, index])
        label = int(rng.integers(len(SHAPES)))
        colour = list(COLOURS)[int(rng.integers(len(COLOURS)))]
        radius = rng.uniform(MIN_RADIUS_FRACTION, MAX_RADIUS_FRACTION) * self.size
        low = radius + BORDER_MARGIN
        high = self.size - radius - BORDER_MARGIN
        lengths = segment_lengths(self.frames - 1, rng)
        speed = (high - low) / (2.0 * lengths.max())
        start = rng.uniform(low, high, size=2)
        centres, actions = plan_path(start, lengths, speed, low, high, rng)
        video = render_shape(SHAPES[label], centres[:, 0], centres[:, 1], radius,
                             COLOURS[colour], self.size)
        article = "an" if colour[0] in "aeiou" else "a"
        order = [ACTION_NAMES[actions[0]]] + [ACTION_NAMES[b] for a, b in
                                              itertools.pairwise(actions) if a != b]
        return {"video": video, "actions": np.append(actions, actions[-1]), "label": label,
                "caption": f"{article} {colour} {SHAPES[label]} moves {', then '.join(order)}"}

    def __repr__(self) -> str:
        return (f"ShapesActions(frames={self.frames}, size={self.size}, seed={self.seed}, "
                f"num={self.num})")
