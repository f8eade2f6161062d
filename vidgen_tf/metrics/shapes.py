"""Cheap checks of generated clips of the built-in `shapes` data: one bright shape on black.

FVD says how far generated clips are from the data as a whole; these say, clip by clip,
whether there is a shape at all, whether it moves, whether it moves smoothly and whether it
keeps its colour. Numpy only, no model.

A pixel is "lit" when its brightest channel is above `LIT_LEVEL`; the lit region stands for
the shape. On 16 clips of the data at 32x32 (seed 0): 3-15% lit, travel 7-18 pixels, largest
jump 0.6-2 pixels, colour drift 0-26 (median 4) of 255.
"""

from __future__ import annotations

import numpy as np

LIT_LEVEL = 96
#: A clip "looks like the data" when its median lit fraction is within LIT_RANGE, its shape
#: travels more than MIN_TRAVEL pixels from the first frame to the last, and never jumps
#: MAX_JUMP pixels or more between two frames. Noise, grey, empty, frozen or shuffled
#: clips fail.
LIT_RANGE = (0.005, 0.4)
MIN_TRAVEL = 3.0
MAX_JUMP = 4.0


def clip_statistics(video) -> dict[str, np.ndarray]:
    """Per clip of uint8 `(clips, frames, H, W, 3)`:

    - "lit": the median over frames of the fraction of lit pixels;
    - "travel": how far the lit region's centroid moves from the first frame to the last
      (pixels);
    - "jump": its largest move between two consecutive frames (pixels);
    - "colour_drift": the largest change of one channel of the lit region's mean colour from
      the first frame to the last (0-255; NaN when either frame has no lit pixel).

    Example:
        >>> video = np.zeros((1, 2, 8, 8, 3), np.uint8)
        >>> video[0, 0, 1:3, 1:3] = 200; video[0, 1, 1:3, 4:6] = (200, 100, 200)
        >>> {k: float(v[0]) for k, v in clip_statistics(video).items()}
        {'lit': 0.0625, 'travel': 3.0, 'jump': 3.0, 'colour_drift': 100.0}
    """
    video = np.asarray(video)
    if video.dtype != np.uint8 or video.ndim != 5 or video.shape[-1] != 3:
        raise ValueError("video must be uint8 of shape (clips, frames, height, width, 3); "
                         f"received {video.dtype} {video.shape}")
    lit = video.max(axis=-1) > LIT_LEVEL
    count = lit.sum(axis=(2, 3))
    rows, cols = np.mgrid[:video.shape[2], :video.shape[3]]
    cy = (lit * rows).sum(axis=(2, 3)) / np.maximum(count, 1)
    cx = (lit * cols).sum(axis=(2, 3)) / np.maximum(count, 1)
    colour = (video * lit[..., None]).sum(axis=(2, 3)) / np.maximum(count, 1)[..., None]
    colour[count == 0] = np.nan
    return {"lit": np.median(lit.mean(axis=(2, 3)), axis=1),
            "travel": np.hypot(cy[:, -1] - cy[:, 0], cx[:, -1] - cx[:, 0]),
            "jump": np.hypot(np.diff(cy, axis=1), np.diff(cx, axis=1)).max(axis=1),
            "colour_drift": np.abs(colour[:, -1] - colour[:, 0]).max(axis=1)}


def looks_like_shapes(stats: dict[str, np.ndarray]) -> np.ndarray:
    """Per clip, whether `clip_statistics` are in the data's range (see LIT_RANGE)."""
    return ((stats["lit"] > LIT_RANGE[0]) & (stats["lit"] < LIT_RANGE[1])
            & (stats["travel"] > MIN_TRAVEL) & (stats["jump"] < MAX_JUMP))
