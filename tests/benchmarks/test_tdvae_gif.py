"""benchmarks/tdvae_gif.py: its jump schedules, landing times and MSE, worked by hand."""

import numpy as np

from tests.benchmarks.scripts import load_benchmark


def test_schedules_land_on_shared_times_and_the_mse_is_per_frame():
    gif = load_benchmark("tdvae_gif")
    plans = gif.schedules(4, 15)  # up to 12 frames: twelve single steps or three jumps of 4
    assert plans == {"1 frame per jump": [1] * 12, "4 frames per jump": [4, 4, 4]}
    assert gif.jump_times(plans["4 frames per jump"]) == [4, 8, 12]
    target = np.zeros((2, 3, 2, 2, 1), np.uint8)
    predicted = target.copy()
    predicted[0, 1] = 255  # one frame of four pixels off by 1 -> 4; six frames in all
    assert gif.frame_mse(predicted, target) == 4 / 6


def test_the_kept_share_counts_frames_read_as_the_clips_digit_per_time():
    gif = load_benchmark("tdvae_gif")
    read = np.array([[3, 3, 8], [5, 6, 5]])  # two clips, three landing times
    assert gif.kept_share(read, np.array([3, 5])) == [1.0, 0.5, 0.5]
