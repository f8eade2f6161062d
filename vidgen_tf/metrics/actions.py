"""Whether a video follows its actions: the shape's centre per frame, and per stretch of one
action, whether it moved the commanded way (for `shapes_actions` and the models trained on it).

Numpy only, no model. A clip is the full clip, channels-last `(frames, height, width,
channels)` uint8: for a predictor, its given first frame followed by the frames it predicted.
Its actions are those of the moves: `actions[t]` moves frame t to frame t + 1, so a clip of
`frames` frames has `frames - 1` moves. (A predictor given one first frame and one action per
predicted frame k fits this directly: its action k moves frame k - 1 of the prediction, frame
-1 being the first frame, to frame k; that is move k of the full clip.)

On 2000 clips of the data (`ShapesActions`, seed 20221) at 32x32 and 16 frames, all 6002
stretches are followed with the clips' own actions; with the actions rotated (left -> up ->
right -> down -> left) none is, and with left and right swapped none of the 2972 horizontal
ones is (tests/metrics/test_actions.py checks a smaller sample).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vidgen_tf.data.shapes import DIRECTION_VECTORS
from vidgen_tf.data.shapes_actions import ACTION_NAMES

#: A pixel belongs to the shape when its brightest channel is above this level, and weighs
#: by how far above it is (so that an edge pixel crossing the level does not make the centre
#: jump). The background is black; the dimmest colour of the data in grey (red, mean 93)
#: stays above the level, and the dim haze a generated frame may carry stays below it.
BRIGHTNESS_LEVEL = 64
#: A stretch is followed when the shape travels at least this many pixels per move of the
#: stretch along the commanded direction (0.75 px over the shortest stretch of 3 moves).
#: The slowest clip of the data moves 0.63 px per move at 32x32 and 16 frames (half the free
#: room, 15.2 px, over the longest possible stretch, 12 moves), 0.93 px at 16x16 and 7
#: frames, 1.43 px at 64x64 and 16 frames; the displacement of a rendered shape's centre is
#: measured to within 0.3 px (2000 clips at 32x32: median error 0.07 px). So the threshold
#: is above the measurement's noise, below 40% of the slowest real motion, and a shape that
#: stays put (or only shakes) does not pass. Long clips at small sizes are slower: 16 frames
#: at 16x16 go down to 0.23 px per move; pass a smaller `min_move` there.
MIN_MOVE = 0.25
#: The wrong command used as a check: every action turned a quarter turn, so each stretch
#: asks for a direction perpendicular to its own (by name: left -> up -> right -> down ->
#: left).
ROTATED: dict[str, str] = {"left": "up", "up": "right", "right": "down", "down": "left"}


@dataclass(frozen=True)
class Segment:
    """One stretch of one action and what the shape did over it.

    Attributes:
        start: its first move; the stretch starts on frame `start`.
        end: one past its last move; the stretch ends on frame `end`.
        action: the commanded action id.
        displacement: (dx, dy) of the shape's centre from frame `start` to frame `end`, in
            pixels, y growing downwards; NaN when the shape is lost on any of its frames.
        direction: the action id whose direction is the displacement's dominant axis and
            sign, or None (shape lost, or no motion at all).
        followed: `direction == action` and the travel along it is at least `min_move`
            pixels per move.
    """

    start: int
    end: int
    action: int
    displacement: tuple[float, float]
    direction: int | None
    followed: bool

    @property
    def moves(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class ActionFollowing:
    """The segments of one clip, with the number followed and their fraction."""

    segments: tuple[Segment, ...]

    @property
    def followed(self) -> int:
        return sum(s.followed for s in self.segments)

    @property
    def fraction(self) -> float:
        return self.followed / len(self.segments)


def shape_centres(video) -> np.ndarray:
    """The centre of the shape in every frame: float64 `(..., frames, 2)` as (x, y) pixels.

    The centre is the centroid of the pixels whose brightest channel is above
    `BRIGHTNESS_LEVEL`, each weighted by how far above; pixel (i, j) has its centre at
    x = j + 0.5, y = i + 0.5 (the convention `render_shape` draws with), y growing
    downwards. NaN in a frame with no such pixel: the shape is lost.

    Args:
        video: uint8 channels-last video `(..., frames, height, width, channels)`, 1 or 3
            channels, on a black background.

    Example:
        >>> frame = np.zeros((1, 6, 6, 3), np.uint8)
        >>> frame[0, 1:3, 2:5] = 200  # rows 1-2, columns 2-4
        >>> shape_centres(frame).tolist()
        [[3.5, 2.0]]
        >>> shape_centres(np.zeros((1, 6, 6, 3), np.uint8)).tolist()
        [[nan, nan]]
    """
    video = np.asarray(video)
    if video.dtype != np.uint8 or video.ndim < 4 or video.shape[-1] not in (1, 3):
        raise ValueError("video must be uint8 channels-last (..., frames, height, width, "
                         f"channels) with 1 or 3 channels; received {video.dtype} {video.shape}")
    brightness = video.max(axis=-1).astype(np.float64)
    weight = np.clip(brightness - BRIGHTNESS_LEVEL, 0.0, None)
    total = weight.sum(axis=(-2, -1))
    height, width = video.shape[-3:-1]
    rows = np.arange(height) + 0.5
    cols = np.arange(width) + 0.5
    with np.errstate(invalid="ignore", divide="ignore"):
        x = (weight.sum(axis=-2) * cols).sum(axis=-1) / total
        y = (weight.sum(axis=-1) * rows).sum(axis=-1) / total
    centres = np.stack([x, y], axis=-1)
    centres[total == 0] = np.nan
    return centres


def segment_directions(actions) -> list[tuple[int, int, int]]:
    """The runs of one action in a sequence of per-move actions, as (start, end, action):
    moves `start` to `end - 1` all have `action`, so the run takes frame `start` to frame
    `end`.

    Example:
        >>> segment_directions([1, 1, 1, 2, 2, 2, 2])
        [(0, 3, 1), (3, 7, 2)]
    """
    actions = np.asarray(actions)
    if actions.ndim != 1 or actions.size == 0 or actions.dtype.kind not in "iu":
        raise ValueError("actions must be a non-empty 1-D sequence of integer ids; received "
                         f"{actions.dtype} {actions.shape}")
    changes = np.flatnonzero(np.diff(actions)) + 1
    starts = np.concatenate([[0], changes])
    ends = np.concatenate([changes, [len(actions)]])
    return [(int(s), int(e), int(actions[s])) for s, e in zip(starts, ends, strict=True)]


def follows_actions(video, actions, first_frame=None, *, min_move: float = MIN_MOVE,
                    action_names=ACTION_NAMES) -> ActionFollowing:
    """Per stretch of one action, whether the shape moved in the commanded direction.

    For every run of one action (`segment_directions`), the displacement of the shape's
    centre (`shape_centres`) from the run's first frame to its last, i.e. the frames its
    moves produce, gives a direction: the dominant axis and its sign. The run is followed
    when that direction is the commanded one, the shape travelled at least `min_move` pixels
    per move along it, and the shape was found in every frame of the run. The travel in
    between is not checked: a shape that goes back and forth but ends up far enough the
    right way counts as following.

    Args:
        video: uint8 channels-last `(frames, height, width, channels)`: the full clip, or,
            with `first_frame`, the frames that follow it.
        actions: integer ids `(moves,)`, `actions[t]` moving frame t to t + 1 of the full
            clip: `frames - 1` of them. `frames` are accepted too, the last one unused (the
            datasets repeat the last action on the last frame).
        first_frame: None, or uint8 `(height, width, channels)` (or `(1, height, width,
            channels)`): the frame the video continues, put in front of it. A predictor's
            output is then scored with its own actions, one per predicted frame.
        min_move: float, default `MIN_MOVE` (0.25). The least travel per move, in pixels.
        action_names: the names of the action ids, default left, right, up, down; each must
            be a key of `DIRECTION_VECTORS`.

    Returns:
        `ActionFollowing`: its `segments`, the number `followed` and their `fraction`.

    Example:
        >>> video = np.zeros((4, 8, 8, 3), np.uint8)
        >>> for t in range(4):
        ...     video[t, 3:5, 1 + t:3 + t] = 255  # a 2x2 square, one pixel right per frame
        >>> result = follows_actions(video, [1, 1, 1])  # right, right, right
        >>> result.fraction, result.segments[0].displacement
        (1.0, (3.0, 0.0))
        >>> follows_actions(video, [0, 0, 0]).fraction  # left: the wrong way
        0.0
    """
    video = np.asarray(video)
    if first_frame is not None:
        first = np.asarray(first_frame)
        first = first[None] if first.ndim == 3 else first
        if first.shape != (1, *video.shape[1:]) or first.dtype != video.dtype:
            raise ValueError(f"first_frame must be one frame {video.shape[1:]} {video.dtype} "
                             f"like the video's; received {first.dtype} {first.shape}")
        video = np.concatenate([first, video])
    if video.ndim != 4:
        raise ValueError("video must be one clip (frames, height, width, channels); received "
                         f"shape {video.shape}")
    actions = np.asarray(actions)
    frames = len(video)
    if actions.ndim != 1 or len(actions) not in (frames - 1, frames) or frames < 2:
        raise ValueError(f"a clip of {frames} frames needs {frames - 1} actions (one per move; "
                         f"{frames} with the last unused); received shape {actions.shape}")
    if len(actions) and (actions.min() < 0 or actions.max() >= len(action_names)):
        raise ValueError(f"action ids must be in 0..{len(action_names) - 1}; received "
                         f"{actions.min()}..{actions.max()}")
    units = np.array([DIRECTION_VECTORS[name] for name in action_names], np.float64)
    centres = shape_centres(video)
    segments = []
    for start, end, action in segment_directions(actions[:frames - 1]):
        path = centres[start:end + 1]
        if np.isnan(path).any():
            segments.append(Segment(start, end, action, (np.nan, np.nan), None, False))
            continue
        dx, dy = (path[-1] - path[0]).tolist()
        direction = _direction(dx, dy, units)
        travel = float(units[action] @ (dx, dy))
        followed = direction == action and travel >= min_move * (end - start)
        segments.append(Segment(start, end, action, (dx, dy), direction, followed))
    return ActionFollowing(tuple(segments))


def _direction(dx: float, dy: float, units: np.ndarray) -> int | None:
    """The action whose unit vector is the displacement's dominant axis and sign."""
    if dx == 0 and dy == 0:
        return None
    axis = (np.sign(dx), 0.0) if abs(dx) >= abs(dy) else (0.0, np.sign(dy))
    matches = np.flatnonzero((units == axis).all(axis=1))
    return int(matches[0]) if len(matches) else None


@dataclass
class FollowScores:
    """Running counts of followed segments over many clips, overall and per commanded
    action.

    Example:
        >>> scores = FollowScores(("left", "right"))
        >>> scores.update(ActionFollowing((Segment(0, 3, 1, (3.0, 0.0), 1, True),)))
        >>> scores.result()["fraction"], scores.result()["per_action"]["right"]["segments"]
        (1.0, 1)
    """

    action_names: tuple[str, ...] = ACTION_NAMES
    clips: int = 0
    followed: dict[int, int] = field(default_factory=dict)
    segments: dict[int, int] = field(default_factory=dict)

    def update(self, following: ActionFollowing) -> None:
        self.clips += 1
        for s in following.segments:
            self.segments[s.action] = self.segments.get(s.action, 0) + 1
            self.followed[s.action] = self.followed.get(s.action, 0) + int(s.followed)

    def result(self) -> dict:
        """{"fraction", "followed", "segments", "clips", "per_action": {name: {"fraction",
        "followed", "segments"}}}; a fraction is NaN with no segment."""
        def part(followed: int, segments: int) -> dict:
            return {"fraction": followed / segments if segments else float("nan"),
                    "followed": followed, "segments": segments}

        per_action = {name: part(self.followed.get(i, 0), self.segments.get(i, 0))
                      for i, name in enumerate(self.action_names)}
        total = part(sum(self.followed.values()), sum(self.segments.values()))
        return {**total, "clips": self.clips, "per_action": per_action}
