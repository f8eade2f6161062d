"""benchmarks/prediction_gif.py: its MSE by blocks of frames, worked by hand."""

import numpy as np

from tests.benchmarks.scripts import load_benchmark


def test_block_mse_sums_over_pixels_and_averages_over_frames_and_clips():
    block_mse = load_benchmark("prediction_gif").block_mse
    target = np.zeros((2, 4, 2, 2, 1), np.uint8)
    predicted = target.copy()
    predicted[0, 0] = 255  # clip 0, frame 0: four pixels off by 1 -> 4
    predicted[1, 3, 0, 0] = 255  # clip 1, frame 3: one pixel off by 1 -> 1
    # Per frame, averaged over the 2 clips: 2, 0, 0, 0.5; blocks of 2 frames: 1.0, 0.25.
    assert block_mse(predicted, target, block=2) == [1.0, 0.25]
