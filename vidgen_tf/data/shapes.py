"""The built-in Shapes dataset: coloured circles, squares and triangles moving on black."""

from __future__ import annotations

import numpy as np

from vidgen_tf.data.clip_source import ClipSource, check_int

SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
DIRECTIONS: tuple[str, ...] = ("left", "right", "up", "down")
# Unit motion per direction as (dx, dy); y grows downwards (row index), so "up" is -y.
DIRECTION_VECTORS: dict[str, tuple[int, int]] = {
    "left": (-1, 0),
    "right": (1, 0),
    "up": (0, -1),
    "down": (0, 1),
}
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (230, 25, 25),
    "green": (40, 210, 60),
    "blue": (40, 90, 255),
    "yellow": (255, 225, 25),
    "cyan": (30, 220, 230),
    "magenta": (230, 40, 220),
    "white": (255, 255, 255),
    "orange": (255, 140, 0),
}
BACKGROUND: tuple[int, int, int] = (0, 0, 0)


def caption(colour: str, shape: str, direction: str) -> str:
    """The caption of a clip: "a red circle moves left", "an orange square moves up"."""
    article = "an" if colour[0] in "aeiou" else "a"
    return f"{article} {colour} {shape} moves {direction}"


# Every caption the dataset can produce: 8 colours x 3 shapes x 4 directions.
ALL_CAPTIONS: tuple[str, ...] = tuple(
    caption(c, s, d) for c in COLOURS for s in SHAPES for d in DIRECTIONS)
# Captions a text-conditioned model never trains on, to test composition: every magenta
# triangle, and four other colour/shape/direction combinations whose words all appear in
# other training captions.
HELD_OUT_CAPTIONS: tuple[str, ...] = (
    *(caption("magenta", "triangle", d) for d in DIRECTIONS),
    caption("cyan", "circle", "up"),
    caption("yellow", "square", "left"),
    caption("green", "triangle", "right"),
    caption("white", "circle", "down"),
)

# Size of one shape relative to the frame: radius of a circle, half side of a square,
# half the bounding box of a triangle.
MIN_RADIUS_FRACTION = 0.12
MAX_RADIUS_FRACTION = 0.2
# Pixels kept free between the shape's bounding box and the frame border, so that the
# anti-aliased fringe (up to 1 px beyond a triangle's vertex) never touches the border.
BORDER_MARGIN = 2.0
# The labelled travel covers between this fraction and all of the free room.
MIN_TRAVEL_FRACTION = 1.0 / 3.0
# The perpendicular drift moves at most this fraction of the labelled speed.
MAX_DRIFT_FRACTION = 0.5
# A triangle's circumradius relative to the shape radius; the triangle's bounding box is
# then at most the shape radius from its centre (horizontal half-width 0.996 r).
_TRIANGLE_CIRCUMRADIUS = 1.15
_SQRT3_2 = float(np.sqrt(3.0) / 2.0)


def _fold(position: np.ndarray, low: float, high: float) -> np.ndarray:
    """Reflect unbounded positions back into [low, high], as a point bouncing between walls."""
    span = high - low
    if span <= 0:
        return np.full_like(position, low)
    offset = np.mod(position - low, 2.0 * span)
    return low + span - np.abs(offset - span)


def shape_signed_distance(
    shape: str, cx: np.ndarray, cy: np.ndarray, radius: float, size: int
) -> np.ndarray:
    """Signed distance (negative inside) from every pixel centre to a shape, for every frame.

    Pixel (row i, column j) has its centre at x = j + 0.5, y = i + 0.5; the frame spans
    [0, size] on both axes. The shape is centred at (cx[t], cy[t]) in frame t.

    Args:
        shape: one of `SHAPES`. A square has half side `radius`; a triangle is equilateral,
            points up and has its bounding box centred on (cx, cy), at most `radius` away.
        cx, cy: float arrays of shape (frames,), the centre per frame.
        radius: the shape radius in pixels.
        size: the frame height and width in pixels.

    Returns:
        float32 array of shape (frames, size, size).
    """
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}; received shape={shape!r}")
    centres = np.arange(size, dtype=np.float32) + np.float32(0.5)
    dx = centres[None, None, :] - np.asarray(cx, dtype=np.float32)[:, None, None]
    dy = centres[None, :, None] - np.asarray(cy, dtype=np.float32)[:, None, None]
    radius = np.float32(radius)
    if shape == "circle":
        return np.sqrt(dx * dx + dy * dy) - radius
    if shape == "square":
        return np.maximum(np.abs(dx), np.abs(dy)) - radius
    # Equilateral triangle pointing up: the max over its three edges of the distance to the
    # edge's half-plane. Exact inside and along edges, slightly short near the vertices.
    circumradius = np.float32(_TRIANGLE_CIRCUMRADIUS) * radius
    inradius = circumradius / np.float32(2.0)
    # The centroid sits a quarter circumradius below the bounding-box centre.
    dy = dy - circumradius / np.float32(4.0)
    bottom = dy
    upper_right = np.float32(_SQRT3_2) * dx - np.float32(0.5) * dy
    upper_left = -np.float32(_SQRT3_2) * dx - np.float32(0.5) * dy
    return np.maximum(np.maximum(bottom, upper_right), upper_left) - inradius


def render_shape(
    shape: str,
    cx,
    cy,
    radius: float,
    colour: tuple[int, int, int],
    size: int,
    background: tuple[int, int, int] = BACKGROUND,
) -> np.ndarray:
    """Render one anti-aliased shape per frame over a plain background.

    Each pixel's coverage is `clip(0.5 - signed_distance, 0, 1)` (a one-pixel linear ramp
    across the edge), and the pixel is `background + coverage * (colour - background)`,
    rounded to the nearest integer.

    Args:
        shape: one of `SHAPES`.
        cx, cy: the shape centre per frame, arrays of shape (frames,), in pixels
            (pixel (i, j) has its centre at x = j + 0.5, y = i + 0.5).
        radius: circle radius, square half side or triangle half bounding box, in pixels.
        colour: RGB of the shape.
        size: frame height and width.
        background: RGB of the background.

    Returns:
        uint8 video of shape (frames, size, size, 3), channels-last.
    """
    cx = np.atleast_1d(np.asarray(cx, dtype=np.float32))
    cy = np.atleast_1d(np.asarray(cy, dtype=np.float32))
    distance = shape_signed_distance(shape, cx, cy, radius, size)
    coverage = np.clip(np.float32(0.5) - distance, 0.0, 1.0)
    background = np.asarray(background, dtype=np.float32)
    colour = np.asarray(colour, dtype=np.float32)
    video = background + coverage[..., None] * (colour - background)
    return np.rint(video).astype(np.uint8)


class ShapesDataset(ClipSource):
    """Procedural clips of one coloured shape moving left, right, up or down.

    The project's embedded default dataset: it needs no download. Each clip shows one
    circle, square or triangle in one of `COLOURS` on a black background. The shape
    travels in its labelled direction at a constant speed, over at least a third of the
    free room, and never leaves the frame; a small perpendicular drift bounces off the
    walls. Rendering is anti-aliased with sub-pixel positions.

    Labels index `class_names`, which is shape-major:
    `("circle_left", "circle_right", "circle_up", "circle_down", "square_left", ...,
    "triangle_down")`, i.e. `label = 4 * SHAPES.index(shape) + DIRECTIONS.index(direction)`.

    Clip `index` depends only on `(seed, index)` (its generator is
    `np.random.default_rng([seed, index])`), never on the order of calls.

    Args:
        frames: int, default 16. Frames per clip, at least 1.
        size: int, default 64. Frame height and width in pixels, at least 16.
        seed: int, default 0. Non-negative seed of the whole dataset.
        num: int or None, default None. Number of clips; None means unbounded (then
            `len()` raises TypeError and iteration never ends).

    Each clip is a dict: `video` uint8 of shape (frames, size, size, 3), channels-last,
    in [0, 255]; `label` int; `caption` str such as "a red circle moves left".

    Example:
        >>> data = ShapesDataset(frames=8, size=32, num=4)
        >>> clip = data[0]
        >>> clip["video"].shape, clip["video"].dtype.name, len(data)
        ((8, 32, 32, 3), 'uint8', 4)
    """

    name = "shapes"

    def __init__(self, frames: int = 16, size: int = 64, seed: int = 0, num: int | None = None):
        self.frames = check_int("frames", frames, 1, self.name)
        self.size = check_int("size", size, 16, self.name)
        self.seed = check_int("seed", seed, 0, self.name)
        self.num = None if num is None else check_int("num", num, 1, self.name)
        self.class_names: tuple[str, ...] = tuple(
            f"{shape}_{direction}" for shape in SHAPES for direction in DIRECTIONS
        )

    def clip(self, index: int) -> dict:
        """Return clip `index` as `{"video", "label", "caption"}` (see the class docstring)."""
        index = self._check_index(index)
        rng = np.random.default_rng([self.seed, index])
        label = int(rng.integers(self.num_classes))
        shape = SHAPES[label // len(DIRECTIONS)]
        direction = DIRECTIONS[label % len(DIRECTIONS)]
        colour_name = list(COLOURS)[int(rng.integers(len(COLOURS)))]
        radius = rng.uniform(MIN_RADIUS_FRACTION, MAX_RADIUS_FRACTION) * self.size
        travel_fraction = rng.uniform(MIN_TRAVEL_FRACTION, 1.0)
        start_fraction = rng.uniform(0.0, 1.0)
        cross_start_fraction = rng.uniform(0.0, 1.0)
        drift_fraction = rng.uniform(-MAX_DRIFT_FRACTION, MAX_DRIFT_FRACTION)

        # The centre stays in [low, high] on both axes, so the shape and its fringe stay inside.
        low = radius + BORDER_MARGIN
        high = self.size - radius - BORDER_MARGIN
        room = high - low
        travel = travel_fraction * room
        speed = travel / max(self.frames - 1, 1)
        t = np.arange(self.frames, dtype=np.float64)

        # Along the labelled axis: start near the wall it moves away from, move monotonically.
        offset = start_fraction * (room - travel) + speed * t
        sign = sum(DIRECTION_VECTORS[direction])
        along = low + offset if sign > 0 else high - offset
        # Across it: a slower drift that bounces off the walls.
        cross_start = low + cross_start_fraction * room
        across = _fold(cross_start + drift_fraction * speed * t, low, high)
        if direction in ("left", "right"):
            cx, cy = along, across
        else:
            cx, cy = across, along

        video = render_shape(shape, cx, cy, radius, COLOURS[colour_name], self.size)
        return {"video": video, "label": label,
                "caption": caption(colour_name, shape, direction)}

    def __repr__(self) -> str:
        return (
            f"ShapesDataset(frames={self.frames}, size={self.size}, seed={self.seed}, "
            f"num={self.num})"
        )
