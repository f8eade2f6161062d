"""DiffAugment of the discriminators' inputs: each transform against a hand-worked effect."""

import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import assert_config_round_trip, assert_fit_changes_every_network
from vidgen_tf.models.mocogan import MoCoGAN
from vidgen_tf.training.diff_augment import check_policy, diff_augment


def clips(batch=4, frames=3, size=16, seed=0):
    rng = np.random.default_rng(seed)
    # Strictly positive, so a zero in the output can only come from padding or cutout.
    return rng.uniform(0.1, 1.0, (batch, frames, size, size, 3)).astype("float32")


def shifted(clip, dy, dx):
    """`clip` (frames, h, w, c) moved by (dy, dx) pixels, zero-filled, by plain loops."""
    out = np.zeros_like(clip)
    size = clip.shape[1]
    for r in range(size):
        for c in range(size):
            if 0 <= r - dy < size and 0 <= c - dx < size:
                out[:, r, c] = clip[:, r - dy, c - dx]
    return out


def test_translation_moves_each_clip_as_a_whole_by_at_most_an_eighth():
    x = clips(batch=6)
    y = diff_augment(tf.constant(x), ("translation",), tf.constant([3, 4])).numpy()
    shifts = []
    for i in range(len(x)):
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if np.array_equal(shifted(x[i], dy, dx), y[i])]
        assert len(found) == 1, f"clip {i} is not one shift of up to 2 px (16 / 8) of itself"
        shifts.append(found[0])
    assert len(set(shifts)) > 1, "every clip got the same shift"


def test_cutout_zeroes_one_square_of_half_the_side_in_every_frame():
    x = clips(batch=8, size=16)
    y = diff_augment(tf.constant(x), ("cutout",), tf.constant([5, 6])).numpy()
    for i in range(len(x)):
        erased = y[i] == 0
        assert (erased == erased[:1]).all(), "frames of one clip got different squares"
        rows = np.flatnonzero(erased[0, :, :, 0].any(axis=1))
        cols = np.flatnonzero(erased[0, :, :, 0].any(axis=0))
        # A square of 8 x 8 (half of 16), cut where it leaves the frame; nothing else erased.
        assert 4 <= len(rows) <= 8 and 4 <= len(cols) <= 8
        assert erased[0, rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].all()
        assert erased.sum() == len(rows) * len(cols) * 3 * x.shape[1]
        np.testing.assert_array_equal(y[i][~erased], x[i][~erased])
    assert sum(((y[i] == 0).sum() == 8 * 8 * 3 * 3) for i in range(len(x))) >= 1


def test_color_on_grey_clips_is_one_brightness_and_contrast_per_clip():
    # Grey pixels have no saturation to change, so each clip becomes
    # c * (x - mean(x)) + mean(x) + b with c in [0.5, 1.5] and b in [-0.5, 0.5].
    x = np.repeat(clips(batch=6)[..., :1], 3, axis=-1)
    y = diff_augment(tf.constant(x), ("color",), tf.constant([7, 8])).numpy()
    contrasts, offsets = [], []
    for i in range(len(x)):
        centred_x, centred_y = x[i] - x[i].mean(), y[i] - y[i].mean()
        c = (centred_y * centred_x).sum() / (centred_x ** 2).sum()
        np.testing.assert_allclose(centred_y, c * centred_x, atol=1e-5)
        contrasts.append(c)
        offsets.append(y[i].mean() - x[i].mean())
    assert all(0.5 <= c <= 1.5 for c in contrasts)
    assert all(-0.5 <= b <= 0.5 for b in offsets)
    assert np.ptp(contrasts) > 0.05 and np.ptp(offsets) > 0.05


def test_draws_repeat_with_the_seed_and_gradients_reach_the_input():
    x = tf.constant(clips())
    policy = check_policy("color, translation,cutout", "test")
    a = diff_augment(x, policy, tf.constant([1, 2])).numpy()
    np.testing.assert_array_equal(a, diff_augment(x, policy, tf.constant([1, 2])).numpy())
    assert not np.array_equal(a, diff_augment(x, policy, tf.constant([1, 3])).numpy())
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(diff_augment(x, policy, tf.constant([1, 2])))
    assert float(tf.reduce_mean(tf.abs(tape.gradient(total, x)))) > 0.1
    frames = tf.constant(clips()[:, 0])
    assert diff_augment(frames, policy, tf.constant([1, 2])).shape == frames.shape


def test_unknown_policy_is_an_error_that_names_it_and_the_choices():
    with pytest.raises(ValueError, match="'zoom' is unknown") as error:
        MoCoGAN(frames=8, size=16, base_filters=8, diff_augment="translation,zoom")
    assert "color, translation, cutout" in str(error.value)
    assert check_policy("", "test") == ()


def test_mocogan_trains_with_augmented_discriminators_and_keeps_the_policy():
    # One fit step in a compiled train_step (the augmentation must trace in graph mode).
    gan = MoCoGAN(frames=8, size=16, content_dim=8, motion_dim=4, noise_dim=4,
                  base_filters=8, image_batch_size=4,
                  diff_augment="color,translation,cutout")
    assert_config_round_trip(gan)
    gan.compile(loss="hinge")
    data = np.random.default_rng(0).uniform(-1, 1, (4, 8, 16, 16, 3)).astype("float32")
    assert_fit_changes_every_network(
        gan, data, ["generator", "image_discriminator", "video_discriminator"],
        batch_size=2)
