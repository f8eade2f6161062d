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


def test_best_per_clip_picks_each_clips_own_closest_sample():
    best_per_clip = load_benchmark("prediction_gif").best_per_clip
    target = np.zeros((2, 3, 2, 2, 1), np.uint8)
    near, far = np.full_like(target, 10), np.full_like(target, 200)
    mixed_a = np.concatenate([near[:1], far[1:]])  # clip 0 close, clip 1 far
    mixed_b = np.concatenate([far[:1], near[1:]])  # the other way round
    best = best_per_clip([mixed_a, mixed_b], target)
    np.testing.assert_array_equal(best, near)
