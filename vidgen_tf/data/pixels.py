"""The one conversion in each direction between uint8 video and float video in [-1, 1]."""

import numpy as np


def uint8_to_float(video) -> np.ndarray:
    """Map uint8 pixels in [0, 255] to float32 in [-1, 1] (0 -> -1, 255 -> 1).

    Works on any shape; video is channels-last `(..., frames, height, width, channels)`.
    """
    video = np.asarray(video)
    if video.dtype != np.uint8:
        raise TypeError(f"uint8_to_float expects uint8 pixels; received dtype={video.dtype}")
    return video.astype(np.float32) / np.float32(127.5) - np.float32(1.0)


def float_to_uint8(video) -> np.ndarray:
    """Map float pixels in [-1, 1] to uint8 in [0, 255], rounding and clipping out-of-range values.

    Works on any shape; video is channels-last `(..., frames, height, width, channels)`.
    NaN pixels become 0.
    """
    video = np.asarray(video, dtype=np.float32)
    scaled = np.nan_to_num((video + 1.0) * 127.5, nan=0.0)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
