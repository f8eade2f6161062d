"""Tile a batch of videos into one video grid, for sample previews."""

from __future__ import annotations

import math

import numpy as np


def grid_size(num: int, height: int, width: int, cols: int | None = None,
              pad: int = 2) -> tuple[int, int, int]:
    """(columns, grid height, grid width) of `video_grid` for `num` cells of height x width."""
    cols = cols or math.ceil(math.sqrt(num))
    rows = math.ceil(num / cols)
    return cols, pad + rows * (height + pad), pad + cols * (width + pad)


def video_grid(videos: np.ndarray, cols: int | None = None, pad: int = 2,
               pad_value: int = 128) -> np.ndarray:
    """Tile uint8 videos `(num, frames, height, width, 3)` into `(frames, H', W', 3)`.

    `cols` defaults to ceil(sqrt(num)); cells are separated by `pad` grey pixels.
    """
    videos = np.asarray(videos)
    if videos.ndim != 5:
        raise ValueError(f"videos must be (num, frames, height, width, channels); received "
                         f"shape={videos.shape}")
    num, frames, height, width, channels = videos.shape
    cols, grid_height, grid_width = grid_size(num, height, width, cols, pad)
    grid = np.full((frames, grid_height, grid_width, channels), pad_value, dtype=videos.dtype)
    for index in range(num):
        row, col = divmod(index, cols)
        top, left = pad + row * (height + pad), pad + col * (width + pad)
        grid[:, top:top + height, left:left + width] = videos[index]
    return grid
