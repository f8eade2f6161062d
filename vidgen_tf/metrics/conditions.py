"""Rules that read the colour, shape and direction of a `shapes` clip, to score conditioning.

A conditional generator is asked for "a red circle moves left", for class "circle_left", or
for a clip that starts from a given frame; these rules read back what it drew, clip by clip.
Numpy only, no model. Every threshold is relative to the clip (its background, its
brightest pixels, its size) or a ratio that does not depend on the size, so blurry, dim or
grey-backed GAN clips are read the way the crisp data is, at 32x32 as at 64x64.

Per frame:

- Coverage. A pixel's brightness is its largest channel. The background level is the
  clip's median brightness (the shape covers well under half the frame), the peak the
  median over frames of each frame's brightest pixel; a clip whose contrast (peak minus
  background) is under `MIN_CONTRAST` shows nothing. A pixel's coverage is its brightness
  placed between background and peak, with a floor above the background noise (at least
  `MIN_FLOOR`, `NOISE_FLOORS` robust standard deviations of the brightness) cut off and
  the rest stretched symmetrically about 1/2, so that faint noise does not add up over the
  many background pixels while an edge ramp keeps its area; an isolated pixel brighter
  than all its 4-neighbours is lowered to the brightest of them. A pixel is lit at half
  coverage or more.
- One solid shape. Only a window around the lit pixels' median position is measured, wide
  enough for the farthest corner of any shape (sqrt(lit count) + 2 pixels each side). The
  frame shows a shape when its lit fraction is within `vidgen_tf.metrics.shapes.LIT_RANGE`,
  at least `MIN_CONCENTRATION` of its coverage lies in the window, and the shape fills at
  least `MIN_FILL` of its box (below). Noise, scattered blobs and empty frames fail.
- Colour. The mean colour of the lit pixels minus the background colour (per-channel
  median), divided by its largest channel, is compared with the `COLOURS` divided the same
  way; the nearest wins. The division makes the reading independent of brightness:
  anti-aliased edges, blur and a dim shape scale all channels alike.
- Shape. The fill ratio is the summed coverage over the product of the shape's width and
  height, each the sum over columns (rows) of their largest coverage: a sub-pixel bounding
  box that rounding to whole pixels does not upset. A square fills ~1 of it, a circle
  ~pi/4, a triangle ~1/2. A triangle is also lopsided: its rows widen towards the base, so
  the vertical skewness of its coverage is about -0.57 where a circle's and a square's is
  0, and blur, which raises a small triangle's fill, leaves most of that. A frame is a
  triangle when its fill is under `TRIANGLE_FILL` or its |skewness| over `TRIANGLE_SKEW`.
  A square has corners, which neither its fill nor its second moments show robustly (a
  square's second moments are as isotropic as a disc's, and one ragged edge pixel of a
  generated shape widens its box and drops its fill to a circle's). Its fourth moments do:
  the coverage projected on an axis is uniform (kurtosis 1.8), on a diagonal triangular
  (2.4), while a disc's projections all have kurtosis 2. The "corner" feature is the mean
  kurtosis over both diagonals minus the mean over both axes: ~0.6 for a square (~0.41 at
  least when blurred at 32x32), ~0 for a disc. A frame that is no triangle is a square from
  `SQUARE_CORNER` up, else a circle.
- Position: the coverage-weighted centroid.

Per clip, over the frames that show a shape (at least half the clip, else nothing is read):
the colour of the median normalised colour, the shape of the median fill, skewness and
corner feature, and
the direction of the net displacement of the centroid, taken from a least-squares line
through its positions (robust to a jittery frame): the axis with the larger displacement and
its sign ("up" is towards row 0). A clip whose displacement is under `MIN_MOVE_FRACTION` of
the frame size does not move (direction None); the data moves at least 0.15 of it.

Given a first frame, a clip keeps its colour (shape) when at least `KEPT_FRACTION` of the
clip's frames, read one by one, show the colour (shape) read from the given frame.

On 300 clips of the data (seed 0, 16 frames) every attribute is read right on 100% of the
clips at 32x32 and at 64x64, also after a 3x3 or 5x5 box blur, on a dimmer shape on grey,
with Gaussian noise of standard deviation 10 or with 0.3% of the pixels turned white; noise
shows nothing (tests/metrics/test_conditions.py).
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

from vidgen_tf.data.shapes import BACKGROUND, COLOURS, DIRECTIONS, SHAPES
from vidgen_tf.metrics.frames import psnr_per_frame
from vidgen_tf.metrics.shapes import LIT_RANGE

#: Brightness between background and peak (of 255) under which a clip shows nothing.
MIN_CONTRAST = 40.0
#: Coverage floor: at least MIN_FLOOR, NOISE_FLOORS times the background noise (robust
#: standard deviation of brightness over contrast), at most MAX_FLOOR.
MIN_FLOOR, NOISE_FLOORS, MAX_FLOOR = 0.1, 4.0, 0.4
#: A frame shows one solid shape when at least MIN_CONCENTRATION of its coverage is in the
#: measured window and the shape fills at least MIN_FILL of its box (a triangle 1/2).
MIN_CONCENTRATION, MIN_FILL = 0.9, 0.4
#: Fill ratio under which a frame is a triangle (between 1/2 and pi/4) ...
TRIANGLE_FILL = 0.64
#: ... or vertical skewness beyond which it is one (a triangle's is -0.57, blur shrinks it).
TRIANGLE_SKEW = 0.15
#: Corner feature from which a frame is a square (a disc's is 0, a square's 0.6).
SQUARE_CORNER = 0.25
#: Net displacement, as a fraction of the frame size, under which a clip does not move.
MIN_MOVE_FRACTION = 0.05
#: A first-frame clip keeps a colour or shape when this fraction of its frames shows it.
KEPT_FRACTION = 0.75
#: PSNR (dB) given to a first frame reproduced exactly, so that a mean stays finite.
MAX_PSNR = 100.0

ATTRIBUTES = ("colour", "shape", "direction")
_COLOUR_NAMES = tuple(COLOURS)
_PALETTE = np.asarray([COLOURS[c] for c in _COLOUR_NAMES], np.float64) - np.asarray(BACKGROUND)
_PALETTE /= _PALETTE.max(axis=1, keepdims=True)
_CAPTION = re.compile(r"^an? (\w+) (\w+) moves (\w+)$")


class Attributes(NamedTuple):
    """What a clip shows, or what it should show: None is "unreadable" in a reading and
    "anything" in an expectation (a class label says nothing of the colour)."""

    colour: str | None = None
    shape: str | None = None
    direction: str | None = None


def from_caption(caption: str) -> Attributes:
    """The attributes a `shapes` caption asks for: "a red circle moves left"."""
    match = _CAPTION.match(caption.strip().lower())
    if not match or match[1] not in COLOURS or match[2] not in SHAPES \
            or match[3] not in DIRECTIONS:
        raise ValueError(f"caption must read 'a <colour> <shape> moves <direction>' with the "
                         f"shapes dataset's words; received caption={caption!r}")
    return Attributes(*match.groups())


def from_class_name(name: str) -> Attributes:
    """The attributes a `shapes` class name asks for: "circle_left" (any colour)."""
    shape, _, direction = name.partition("_")
    if shape not in SHAPES or direction not in DIRECTIONS:
        raise ValueError(f"class name must be <shape>_<direction> with shape in "
                         f"{', '.join(SHAPES)} and direction in {', '.join(DIRECTIONS)}; "
                         f"received {name!r}")
    return Attributes(None, shape, direction)


def _check_clip(video, name: str = "video") -> np.ndarray:
    video = np.asarray(video)
    if video.dtype != np.uint8 or video.ndim != 4 or video.shape[-1] != 3 or video.size == 0:
        raise ValueError(f"{name} must be uint8 of shape (frames, height, width, 3), "
                         f"channels-last; received {video.dtype} {video.shape}")
    return video


def frame_features(video) -> dict[str, np.ndarray]:
    """What the rules measure in every frame of one uint8 clip `(frames, H, W, 3)`,
    channels-last (see the module docstring), each an array over frames:

    - "present": bool, the frame shows one shape; the others are NaN where it does not;
    - "colour": (frames, 3), the lit pixels' colour over the background, largest channel 1;
    - "fill": summed coverage over sub-pixel width times height;
    - "skew": vertical skewness of the coverage (negative: more mass low in the frame);
    - "corner": diagonal minus axial kurtosis of the coverage (square 0.6, disc 0);
    - "x", "y": the centroid in pixels (column, row).

    Example:
        >>> video = np.zeros((1, 16, 16, 3), np.uint8)
        >>> video[0, 4:10, 3:9] = (200, 100, 0)  # a 6x6 orange-ish square
        >>> f = frame_features(video)
        >>> bool(f["present"][0]), f["colour"][0].tolist(), float(f["fill"][0])
        (True, [1.0, 0.5, 0.0], 1.0)
        >>> float(f["x"][0]), float(f["y"][0]), float(f["skew"][0])
        (5.5, 6.5, 0.0)
        >>> # Kurtosis of 6 equally spaced values 1.731; of the sum of two, 3 + (1.731 - 3) / 2.
        >>> round(float(f["corner"][0]), 3)
        0.634
    """
    video = _check_clip(video)
    frames, height, width = video.shape[:3]
    pixels = video.astype(np.float64)
    brightness = pixels.max(axis=-1)
    background = np.median(pixels.reshape(-1, 3), axis=0)
    level = float(np.median(brightness))
    contrast = float(np.median(brightness.reshape(frames, -1).max(axis=1))) - level
    nan = np.full(frames, np.nan)
    features = {"present": np.zeros(frames, bool), "colour": np.full((frames, 3), np.nan),
                "fill": nan, "skew": nan.copy(), "corner": nan.copy(), "x": nan.copy(),
                "y": nan.copy()}
    if contrast < MIN_CONTRAST:
        return features

    # Background noise must not add up over the many background pixels: coverage under a
    # floor above the noise is 0, and the rest is stretched symmetrically about 1/2, which
    # keeps the area and extent of a linear edge ramp.
    noise = 1.4826 * float(np.median(np.abs(brightness - level)))
    floor = min(max(MIN_FLOOR, NOISE_FLOORS * noise / contrast), MAX_FLOOR)
    coverage = np.clip(((brightness - level) / contrast - floor) / (1.0 - 2.0 * floor), 0.0, 1.0)
    coverage = _without_speckles(coverage)
    lit = coverage >= 0.5
    count = lit.sum(axis=(1, 2))
    fraction = count / (height * width)
    present = (fraction > LIT_RANGE[0]) & (fraction < LIT_RANGE[1])
    # Measure a window around the lit pixels' median position, wide enough for the farthest
    # corner of any shape (about sqrt(count) away) plus a blurred edge.
    rows = np.arange(height, dtype=np.float64)[None, :, None]
    cols = np.arange(width, dtype=np.float64)[None, None, :]
    half = np.sqrt(count) + 2.0
    row_mid = _median_index(lit.sum(axis=2), count)
    col_mid = _median_index(lit.sum(axis=1), count)
    window = ((np.abs(rows - row_mid[:, None, None]) <= half[:, None, None])
              & (np.abs(cols - col_mid[:, None, None]) <= half[:, None, None]))
    weight = coverage * window
    area = weight.sum(axis=(1, 2))
    extent_x = weight.max(axis=1).sum(axis=1)
    extent_y = weight.max(axis=2).sum(axis=1)
    # One solid shape: nearly all the frame's coverage in the window, filling its box.
    with np.errstate(invalid="ignore", divide="ignore"):
        fill = area / (extent_x * extent_y)
        present &= (area >= MIN_CONCENTRATION * coverage.sum(axis=(1, 2))) & (fill >= MIN_FILL)
    area = np.where(present, area, np.nan)

    x = (weight * cols).sum(axis=(1, 2)) / area
    y = (weight * rows).sum(axis=(1, 2)) / area
    dy = rows - y[:, None, None]
    var_y = (weight * dy ** 2).sum(axis=(1, 2)) / area
    skew = (weight * dy ** 3).sum(axis=(1, 2)) / area / np.maximum(var_y, 1e-6) ** 1.5
    dx = cols - x[:, None, None]
    corner = (_kurtosis(weight, (dx + dy) / np.sqrt(2), area)
              + _kurtosis(weight, (dx - dy) / np.sqrt(2), area)
              - _kurtosis(weight, dx, area) - _kurtosis(weight, dy, area)) / 2
    lit_window = (lit & window)[..., None]
    colour = ((pixels - background) * lit_window).sum(axis=(1, 2)) \
        / np.maximum(lit_window.sum(axis=(1, 2)), 1)
    peak = colour.max(axis=1, keepdims=True)
    present &= peak[:, 0] > 0
    keep = np.where(present, 1.0, np.nan)
    features.update(present=present, colour=colour / np.maximum(peak, 1e-6) * keep[:, None],
                    fill=fill * keep, skew=skew * keep, corner=corner * keep, x=x * keep,
                    y=y * keep)
    return features


def _kurtosis(weight: np.ndarray, u: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Per frame, the kurtosis of the coordinate `u` (centred) under the coverage `weight`."""
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (weight * u ** 2).sum(axis=(1, 2)) / area
        return (weight * u ** 4).sum(axis=(1, 2)) / area / var ** 2


def _without_speckles(coverage: np.ndarray) -> np.ndarray:
    """Coverage (frames, H, W) where no pixel exceeds its brightest 4-neighbour: isolated
    bright pixels vanish, a shape's pixels (each next to one as covered) stay."""
    padded = np.pad(coverage, ((0, 0), (1, 1), (1, 1)))
    neighbours = np.maximum(np.maximum(padded[:, :-2, 1:-1], padded[:, 2:, 1:-1]),
                            np.maximum(padded[:, 1:-1, :-2], padded[:, 1:-1, 2:]))
    return np.minimum(coverage, neighbours)


def _median_index(counts: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Per frame, the index where the cumulative `counts` (frames, n) reach half of `total`."""
    return np.argmax(np.cumsum(counts, axis=1) >= (total / 2.0)[:, None], axis=1).astype(float)


def colour_name(colour) -> str | None:
    """The nearest of `COLOURS` to a normalised colour (largest channel 1), None for NaN."""
    colour = np.asarray(colour, np.float64)
    if not np.all(np.isfinite(colour)):
        return None
    return _COLOUR_NAMES[int(np.argmin(((_PALETTE - colour) ** 2).sum(axis=1)))]


def shape_name(fill: float, skew: float, corner: float) -> str | None:
    """circle, square or triangle from a fill ratio, vertical skewness and corner feature,
    None for NaN."""
    if not (np.isfinite(fill) and np.isfinite(skew) and np.isfinite(corner)):
        return None
    if fill < TRIANGLE_FILL or abs(skew) > TRIANGLE_SKEW:
        return "triangle"
    return "square" if corner >= SQUARE_CORNER else "circle"


def _direction(x: np.ndarray, y: np.ndarray, size: int) -> str | None:
    t = np.arange(len(x), dtype=np.float64)
    seen = np.isfinite(x)
    if seen.sum() < 2:
        return None
    t, x, y = t[seen], x[seen], y[seen]
    span = t[-1] - t[0]
    dx, dy = (np.polyfit(t, v, 1)[0] * span for v in (x, y))
    if max(abs(dx), abs(dy)) < MIN_MOVE_FRACTION * size:
        return None
    if abs(dx) >= abs(dy):
        return "right" if dx > 0 else "left"
    return "down" if dy > 0 else "up"


def read_clip(video) -> Attributes:
    """The colour, shape and direction one uint8 clip `(frames, H, W, 3)`, channels-last,
    shows (see the module docstring); None for what cannot be read.

    Example:
        >>> from vidgen_tf.data.shapes import ShapesDataset
        >>> clip = ShapesDataset(frames=16, size=32).clip(0)
        >>> clip["caption"]
        'a magenta triangle moves up'
        >>> read_clip(clip["video"])
        Attributes(colour='magenta', shape='triangle', direction='up')
    """
    features = frame_features(video)
    present = features["present"]
    if present.sum() * 2 < len(present):
        return Attributes()
    colour = np.median(features["colour"][present], axis=0)
    shape = shape_name(*(np.median(features[name][present])
                         for name in ("fill", "skew", "corner")))
    size = min(np.asarray(video).shape[1:3])
    return Attributes(colour_name(colour), shape, _direction(features["x"], features["y"], size))


def read_clips(videos) -> list[Attributes]:
    """`read_clip` of every clip of uint8 `(clips, frames, H, W, 3)`, channels-last."""
    return [read_clip(video) for video in _check_batch(videos)]


def _check_batch(videos, name: str = "videos") -> np.ndarray:
    videos = np.asarray(videos)
    if videos.dtype != np.uint8 or videos.ndim != 5 or videos.shape[-1] != 3:
        raise ValueError(f"{name} must be uint8 of shape (clips, frames, height, width, 3), "
                         f"channels-last; received {videos.dtype} {videos.shape}")
    return videos


def match_attributes(videos, expected) -> dict[str, np.ndarray]:
    """Per clip, whether it shows what it should.

    Args:
        videos: uint8 `(clips, frames, H, W, 3)`, channels-last.
        expected: one `Attributes` for every clip, or one per clip; a None attribute is not
            checked.

    Returns:
        {"colour", "shape", "direction": float arrays (clips,), 1.0 right, 0.0 wrong, NaN not
        checked; "all": 1.0 when every checked attribute is right}.
    """
    readings = read_clips(videos)
    if isinstance(expected, Attributes):
        expected = [expected] * len(readings)
    if len(expected) != len(readings):
        raise ValueError(f"expected must be one Attributes or one per clip ({len(readings)}); "
                         f"received {len(expected)}")
    result = {name: np.array([np.nan if want is None else float(got == want)
                              for got, want in zip((getattr(r, name) for r in readings),
                                                   (getattr(e, name) for e in expected),
                                                   strict=True)])
              for name in ATTRIBUTES}
    checked = np.stack([result[name] for name in ATTRIBUTES])
    result["all"] = np.nanmin(np.where(np.isnan(checked), 1.0, checked), axis=0) \
        if len(readings) else np.zeros(0)
    return result


def accuracy(matches: dict[str, np.ndarray]) -> dict[str, float | None]:
    """Mean of every array of `match_attributes` or `first_frame_checks` over its clips
    (NaN entries left out; None when nothing was checked), plus "clips"."""
    out: dict = {}
    for name, values in matches.items():
        values = np.asarray(values, np.float64)
        values = values[~np.isnan(values)]
        out[name] = float(values.mean()) if len(values) else None
    out["clips"] = len(next(iter(matches.values()))) if matches else 0
    return out


def first_frame_checks(videos, first_frames) -> dict[str, np.ndarray]:
    """Per clip generated from a given first frame: does it keep that frame's colour and
    shape, does the shape move, and how close is its first frame to the given one.

    Args:
        videos: uint8 `(clips, frames, H, W, 3)`, channels-last.
        first_frames: uint8 `(clips, H, W, 3)`, the frames the clips were asked to start from.

    Returns:
        {"kept_colour", "kept_shape": 1.0 when at least `KEPT_FRACTION` of the clip's frames
        show the given frame's colour (shape), "moves": 1.0 when the clip has a direction,
        "all": all three, each float (clips,); "psnr": the first frame's PSNR against the
        given one in dB, at most `MAX_PSNR`}.
    """
    videos = _check_batch(videos)
    first_frames = np.asarray(first_frames)
    if first_frames.dtype != np.uint8 or first_frames.shape != (len(videos), *videos.shape[2:]):
        raise ValueError(f"first_frames must be uint8 of shape {(len(videos), *videos.shape[2:])}"
                         f" (one frame per clip); received {first_frames.dtype} "
                         f"{first_frames.shape}")
    result = {name: np.zeros(len(videos)) for name in ("kept_colour", "kept_shape", "moves")}
    for i, (video, frame) in enumerate(zip(videos, first_frames, strict=True)):
        given = read_clip(frame[None])
        features = frame_features(video)
        colours = [colour_name(c) for c in features["colour"]]
        shapes = [shape_name(*f) for f in zip(features["fill"], features["skew"],
                                               features["corner"], strict=True)]
        result["kept_colour"][i] = _kept(colours, given.colour)
        result["kept_shape"][i] = _kept(shapes, given.shape)
        result["moves"][i] = read_clip(video).direction is not None
    result["all"] = result["kept_colour"] * result["kept_shape"] * result["moves"]
    psnr = psnr_per_frame(videos[:, :1], first_frames[:, None])[:, 0]
    result["psnr"] = np.minimum(psnr, MAX_PSNR)
    return result


def _kept(per_frame: list, given) -> float:
    return float(given is not None and np.mean([v == given for v in per_frame]) >= KEPT_FRACTION)
