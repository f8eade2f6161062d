"""The digit reader of `vidgen_tf.metrics.digits`: the crop against hand-placed patterns, and a
briefly trained classifier against MNIST test digits and Moving MNIST frames."""

from __future__ import annotations

import numpy as np
import pytest

from vidgen_tf.data.mnist import load_mnist
from vidgen_tf.metrics.digits import (
    centres_of_mass,
    classify_digits,
    digit_crops,
    train_digit_classifier,
)


def square_pattern() -> np.ndarray:
    """A 28x28 pattern whose centre of mass is exactly (14, 14): a 9x9 square on 10..18, with
    an asymmetric texture that is symmetric about the centre, so a shifted crop would differ."""
    pattern = np.zeros((28, 28), np.uint8)
    pattern[10:19, 10:19] = 100
    pattern[10, 10] = pattern[18, 18] = 250
    return pattern


def test_the_crop_recovers_a_pattern_wherever_it_was_placed():
    pattern = square_pattern()
    frames = np.zeros((3, 64, 64, 3), np.uint8)
    for i, (row, col) in enumerate([(0, 36), (17, 5), (30, 30)]):
        frames[i, row:row + 28, col:col + 28] = pattern[..., None]
    crops = digit_crops(frames)
    assert crops.shape == (3, 28, 28)
    for crop in crops:
        np.testing.assert_array_equal(crop, pattern)


def test_a_faint_haze_over_the_canvas_does_not_move_the_crop():
    pattern = square_pattern()
    frame = np.full((1, 64, 64), 40, np.uint8)  # a predicted frame's haze, under FLOOR
    frame[0, 3:31, 33:61] = np.maximum(pattern, 40)
    np.testing.assert_array_equal(digit_crops(frame)[0], np.maximum(pattern, 40))
    np.testing.assert_allclose(centres_of_mass(frame), [[17.0, 47.0]])


def test_the_crop_stays_inside_the_canvas_and_centres_a_blank_frame():
    frames = np.zeros((2, 64, 64), np.uint8)
    frames[0, 0:3, 61:64] = 200  # mass in the top-right corner: the window is clamped there
    crops = digit_crops(frames)
    np.testing.assert_array_equal(crops[0], frames[0, 0:28, 36:64])
    np.testing.assert_array_equal(crops[1], np.zeros((28, 28), np.uint8))
    with pytest.raises(ValueError, match=r"height and width >= 28; received shape \(1, 20, 64\)"):
        digit_crops(np.zeros((1, 20, 64), np.uint8))


@pytest.fixture(scope="module")
def classifier():
    return train_digit_classifier(epochs=1, num=6000)


def test_a_briefly_trained_classifier_reads_mnist_and_moving_mnist_digits(classifier):
    from vidgen_tf.metrics.prediction import mmnist_test_source

    images, labels = load_mnist("test")
    read = classify_digits(classifier, images[:500])  # a 28x28 digit is its own crop
    assert (read == labels[:500]).mean() > 0.9
    source = mmnist_test_source(5, 5, 40, num_digits=1)
    clips = [source.clip(i) for i in range(40)]
    video = np.stack([c["video"] for c in clips])  # (40, 10, 64, 64, 3)
    read = classify_digits(classifier, video.reshape(-1, 64, 64, 3)).reshape(40, 10)
    digits = np.array([c["label"] for c in clips])
    assert (read == digits[:, None]).mean() > 0.85
    # An empty canvas is not read as the clip's digit more often than chance allows.
    blank = classify_digits(classifier, np.zeros((40, 64, 64), np.uint8))
    assert (blank == digits).mean() < 0.5
