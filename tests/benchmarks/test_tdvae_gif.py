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


def test_a_frame_looks_like_a_digit_when_one_class_is_confident():
    gif = load_benchmark("tdvae_gif")
    sure, torn = np.full(10, 0.01), np.full(10, 0.1)
    sure[4] = 0.91
    assert gif.confident_share(np.stack([sure, torn, sure, sure])) == 0.75


def test_the_centre_error_is_per_clip_and_time():
    gif = load_benchmark("tdvae_gif")
    real = np.zeros((2, 3, 32, 32, 1), np.uint8)
    predicted = real.copy()
    for clip in range(2):
        for t in range(3):
            real[clip, t, 10, 5 + t] = 255
            predicted[clip, t, 10 + 3 * clip, 9 + t] = 255  # 4 columns right, 3 rows per clip
    np.testing.assert_allclose(gif.centre_error(predicted, real), [[4.0] * 3, [5.0] * 3])
