"""GAN losses against hand-worked values, identities between the pairs, and numpy references."""

from __future__ import annotations

import doctest

import keras
import numpy as np
import pytest
import tensorflow as tf

import vidgen_tf.losses
from vidgen_tf.losses import (
    GAN_LOSSES,
    adversarial,
    bce_discriminator_loss,
    bce_generator_loss,
    category_loss,
    get_gan_loss,
    gradient_penalty,
    hinge_discriminator_loss,
    hinge_generator_loss,
    mask_sparsity_loss,
    r1_penalty,
    wgan_discriminator_loss,
    wgan_generator_loss,
)

LOG2 = float(np.log(2.0))
VIDEO_SHAPE = (3, 4, 5, 5, 2)  # (batch, frames, height, width, channels)
NON_BATCH = (1, 2, 3, 4)


def f32(values) -> np.ndarray:
    return np.asarray(values, np.float32)


def value(tensor) -> float:
    return float(keras.ops.convert_to_numpy(tensor))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def close(actual, expected, tol: float = 1e-5) -> None:
    np.testing.assert_allclose(value(actual), expected, rtol=tol, atol=tol)


# BCE


def test_bce_at_zero_logits_is_log_2_per_term():
    zeros = f32(np.zeros(6))
    close(bce_generator_loss(zeros), LOG2)
    close(bce_discriminator_loss(zeros, zeros), 2 * LOG2)


def test_bce_matches_numpy_logaddexp_on_patch_maps(rng):
    real = f32(rng.normal(0, 3, (4, 2, 3, 3, 1)))
    fake = f32(rng.normal(0, 3, (4, 2, 3, 3, 1)))
    # -log sigmoid(x) = log(1 + exp(-x)); -log(1 - sigmoid(x)) = log(1 + exp(x)).
    expected_g = np.logaddexp(0, -fake.astype(np.float64)).mean()
    expected_d = (np.logaddexp(0, -real.astype(np.float64)).mean()
                  + np.logaddexp(0, fake.astype(np.float64)).mean())
    close(bce_generator_loss(fake), expected_g)
    close(bce_discriminator_loss(real, fake), expected_d)


def test_bce_is_finite_and_exact_for_huge_logits():
    big = f32([1000.0, 1000.0])
    # softplus(-1000) underflows to 0; softplus(1000) = 1000 (log(sigmoid) would give inf).
    close(bce_generator_loss(big), 0.0)
    close(bce_generator_loss(-big), 1000.0)
    close(bce_discriminator_loss(big, -big), 0.0)
    close(bce_discriminator_loss(-big, big), 2000.0)


def test_bce_discriminator_is_the_sum_of_two_generator_terms(rng):
    # softplus(-r) + softplus(f) = softplus(-r) + softplus(-(-f)): D(r, f) = G(r) + G(-f).
    real, fake = f32(rng.normal(0, 2, 7)), f32(rng.normal(0, 2, 5))
    close(bce_discriminator_loss(real, fake),
          value(bce_generator_loss(real)) + value(bce_generator_loss(-fake)))


def test_bce_non_saturating_differs_from_minimax_by_the_mean_logit(rng):
    # softplus(-x) = softplus(x) - x, so D(r, f) - D(r, -f) = mean(f) = -hinge_G(f).
    real, fake = f32(rng.normal(0, 2, 6)), f32(rng.normal(0, 2, 6))
    close(value(bce_discriminator_loss(real, fake)) - value(bce_discriminator_loss(real, -fake)),
          float(fake.astype(np.float64).mean()))
    close(value(bce_generator_loss(fake)),
          float(np.logaddexp(0, fake.astype(np.float64)).mean() - fake.mean()))


# Symmetry: swapping real and fake with negation leaves every discriminator loss unchanged


@pytest.mark.parametrize(
    "loss", [bce_discriminator_loss, hinge_discriminator_loss, wgan_discriminator_loss]
)
def test_discriminator_losses_are_symmetric_under_swap_and_negation(loss, rng):
    real, fake = f32(rng.normal(0, 2, (3, 4))), f32(rng.normal(0, 2, (5,)))
    close(loss(real, fake), value(loss(-fake, -real)))
    # And they are not symmetric without the negation, so the check above can fail.
    assert abs(value(loss(real, fake)) - value(loss(fake, real))) > 1e-3


# Hinge


def test_hinge_hand_values():
    real, fake = f32([2.0, 0.5]), f32([-2.0, 0.5])
    # relu(1 - [2, .5]) = [0, .5] -> .25; relu(1 + [-2, .5]) = [0, 1.5] -> .75.
    close(hinge_discriminator_loss(real, fake), 1.0)
    close(hinge_generator_loss(fake), 0.75)
    close(hinge_generator_loss(real), -1.25)


def test_hinge_discriminator_is_linear_in_fake_inside_the_margin(rng):
    # Confident real (>= 1) and fake above -1: D = mean(1 + f) = 1 - G(f).
    real = f32(rng.uniform(1.0, 4.0, 8))
    fake = f32(rng.uniform(-1.0, 3.0, 6))
    close(hinge_discriminator_loss(real, fake), 1.0 - value(hinge_generator_loss(fake)))


# WGAN


def test_wgan_hand_values():
    real, fake = f32([3.0, 5.0]), f32([1.0, 2.0])
    close(wgan_generator_loss(fake), -1.5)
    close(wgan_discriminator_loss(real, fake), 1.5 - 4.0)
    close(wgan_discriminator_loss(real, fake),
          value(wgan_generator_loss(real)) - value(wgan_generator_loss(fake)))


def test_each_term_is_its_own_mean_when_real_and_fake_sizes_differ():
    # Per-term means: 1 - 2 = -1. A joint mean over [2] and [-0, 0, -3] would give -0.25.
    close(wgan_discriminator_loss(f32([2.0]), f32([0.0, 0.0, 3.0])), -1.0)
    close(hinge_discriminator_loss(f32([0.0]), f32([-1.0, -1.0, 2.0])), 1.0 + 1.0)


# Gradient penalty


def linear_critic(w: np.ndarray):
    return lambda x: tf.reduce_sum(x * w, axis=NON_BATCH)


def random_videos(rng):
    real = f32(rng.normal(0, 1, VIDEO_SHAPE))
    fake = f32(rng.normal(0, 1, VIDEO_SHAPE))
    alpha = f32(rng.uniform(0, 1, (VIDEO_SHAPE[0], 1, 1, 1, 1)))
    return real, fake, alpha


@pytest.mark.parametrize("norm, expected", [(1.0, 0.0), (3.0, 4.0), (0.5, 0.25)])
def test_gradient_penalty_of_linear_critic_is_norm_of_w_minus_one_squared(norm, expected, rng):
    w = rng.normal(0, 1, VIDEO_SHAPE[1:])
    w = f32(w / np.linalg.norm(w) * norm)
    real, fake, alpha = random_videos(rng)
    close(gradient_penalty(linear_critic(w), real, fake, alpha), expected, tol=1e-5)


def test_gradient_penalty_of_quadratic_critic_matches_analytic_norm(rng):
    real, fake, alpha = random_videos(rng)
    real, fake = real * 0.05, fake * 0.05  # puts 2 * ||x|| on both sides of 1
    x = alpha.astype(np.float64) * real + (1 - alpha.astype(np.float64)) * fake
    norms = 2.0 * np.sqrt((x ** 2).reshape(len(x), -1).sum(axis=1))
    assert norms.min() < 1.0 < norms.max()
    expected = float(np.mean((norms - 1.0) ** 2))
    penalty = gradient_penalty(lambda v: tf.reduce_sum(v ** 2, axis=NON_BATCH), real, fake, alpha)
    close(penalty, expected, tol=1e-5)


def test_gradient_penalty_interpolates_with_per_sample_alpha(rng):
    # Quadratic critic: alpha = 1 sees only real, alpha = 0 only fake.
    real, fake, _ = random_videos(rng)
    quadratic = lambda v: tf.reduce_sum(v ** 2, axis=NON_BATCH)  # noqa: E731
    ones, zeros = f32(np.ones((3, 1, 1, 1, 1))), f32(np.zeros((3, 1, 1, 1, 1)))
    on_real = gradient_penalty(quadratic, real, fake, ones)
    on_fake = gradient_penalty(quadratic, real, fake, zeros)
    close(on_real, value(gradient_penalty(quadratic, real, real, zeros)))
    close(on_fake, value(gradient_penalty(quadratic, fake, fake, ones)))
    assert abs(value(on_real) - value(on_fake)) > 1e-3


def test_gradient_penalty_accepts_patch_map_critics_and_keras_models(rng):
    w = rng.normal(0, 1, VIDEO_SHAPE[1:])
    w = f32(w / np.linalg.norm(w) * 3.0)
    real, fake, alpha = random_videos(rng)
    # Output (batch, t, h, w, 1): the penalty uses the gradient of its sum.
    patch_critic = lambda x: tf.reduce_sum(x * w, axis=-1, keepdims=True)  # noqa: E731
    close(gradient_penalty(patch_critic, real, fake, alpha), 4.0)
    dense = keras.layers.Dense(1, use_bias=False)
    model = keras.Sequential([keras.Input(VIDEO_SHAPE[1:]), keras.layers.Flatten(), dense])
    dense.kernel.assign(w.reshape(-1, 1))
    close(gradient_penalty(model, real, fake, alpha), 4.0)


def test_gradient_penalty_is_differentiable_with_respect_to_critic_weights(rng):
    # penalty = (||w|| - 1)^2, so d penalty / dw = 2 (||w|| - 1) w / ||w||.
    w0 = f32(rng.normal(0, 1, VIDEO_SHAPE[1:]))
    w = tf.Variable(w0)
    real, fake, alpha = random_videos(rng)
    with tf.GradientTape() as tape:
        penalty = gradient_penalty(lambda x: tf.reduce_sum(x * w, axis=NON_BATCH),
                                   real, fake, alpha)
    norm = np.linalg.norm(w0)
    np.testing.assert_allclose(tape.gradient(penalty, w).numpy(), 2 * (norm - 1) * w0 / norm,
                               rtol=1e-4, atol=1e-5)


def test_gradient_penalty_rejects_a_critic_that_ignores_its_input(rng):
    real, fake, alpha = random_videos(rng)
    with pytest.raises(ValueError, match="critic_fn"):
        gradient_penalty(lambda x: tf.constant([1.0, 2.0, 3.0]), real, fake, alpha)


def test_gradient_penalty_names_the_backend_it_needs(monkeypatch, rng):
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(RuntimeError, match=r"'tensorflow'.*received KERAS_BACKEND='jax'"):
        gradient_penalty(lambda x: x, *random_videos(rng))


def test_r1_penalty_of_linear_critic_is_squared_weight_norm(rng):
    # critic(x) = <w, x>: the gradient is w at every x, so the penalty is ||w||^2.
    w = f32(rng.normal(0, 1, VIDEO_SHAPE[1:]))
    real, _, _ = random_videos(rng)
    close(r1_penalty(linear_critic(w), real), float((w.astype(np.float64) ** 2).sum()), tol=1e-4)


def test_r1_penalty_of_quadratic_critic_averages_per_sample_squared_norms(rng):
    # critic(x) = sum(x^2): gradient 2x, so the penalty is mean_i 4 ||x_i||^2.
    real, _, _ = random_videos(rng)
    expected = float(np.mean(4.0 * (real.astype(np.float64) ** 2).reshape(len(real), -1).sum(1)))
    close(r1_penalty(lambda v: tf.reduce_sum(v ** 2, axis=NON_BATCH), real), expected, tol=1e-4)


def test_r1_penalty_is_differentiable_with_respect_to_critic_weights(rng):
    # penalty = ||w||^2 for a linear critic, so d penalty / dw = 2 w.
    w0 = f32(rng.normal(0, 1, VIDEO_SHAPE[1:]))
    w = tf.Variable(w0)
    real, _, _ = random_videos(rng)
    with tf.GradientTape() as tape:
        penalty = r1_penalty(lambda x: tf.reduce_sum(x * w, axis=NON_BATCH), real)
    np.testing.assert_allclose(tape.gradient(penalty, w).numpy(), 2 * w0, rtol=1e-4, atol=1e-5)


def test_r1_penalty_rejects_a_critic_that_ignores_its_input(rng):
    real, _, _ = random_videos(rng)
    with pytest.raises(ValueError, match="critic_fn"):
        r1_penalty(lambda x: tf.constant([1.0, 2.0, 3.0]), real)


# Auxiliary terms


def test_category_loss_matches_numpy_log_softmax(rng):
    logits = rng.normal(0, 3, (6, 5))
    labels = rng.integers(0, 5, 6)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    expected = -log_softmax[np.arange(6), labels].mean()
    close(category_loss(labels.astype(np.int32), f32(logits)), expected)
    close(category_loss(f32(np.zeros(3)).astype(np.int64), f32(np.zeros((3, 4)))), np.log(4.0))


def test_mask_sparsity_hand_value():
    mask = f32([[[0.0, 0.5]], [[-1.0, 0.25]]])  # |.| = 0, .5, 1, .25 -> mean .4375
    close(mask_sparsity_loss(mask), 0.4375)


def test_half_precision_inputs_give_float32_results():
    logits = tf.constant([0.0, 1000.0], dtype=tf.bfloat16)
    loss = bce_discriminator_loss(logits, -logits)
    assert loss.dtype == tf.float32
    close(loss, LOG2 / 2 + LOG2 / 2)


# Graph mode

GRAPH_CASES = {
    "bce_g": (bce_generator_loss, 1),
    "bce_d": (bce_discriminator_loss, 2),
    "hinge_g": (hinge_generator_loss, 1),
    "hinge_d": (hinge_discriminator_loss, 2),
    "wgan_g": (wgan_generator_loss, 1),
    "wgan_d": (wgan_discriminator_loss, 2),
    "mask": (mask_sparsity_loss, 1),
}


@pytest.mark.parametrize("name", sorted(GRAPH_CASES))
def test_losses_give_the_same_value_inside_tf_function(name, rng):
    loss, arity = GRAPH_CASES[name]
    args = [tf.constant(f32(rng.normal(0, 2, (2, 3, 4, 4, 1)))) for _ in range(arity)]
    close(tf.function(loss)(*args), value(loss(*args)), tol=1e-6)


def test_gradient_penalty_and_category_loss_inside_tf_function(rng):
    w = rng.normal(0, 1, VIDEO_SHAPE[1:])
    w = f32(w / np.linalg.norm(w) * 3.0)
    real, fake, alpha = (tf.constant(a) for a in random_videos(rng))
    graph_penalty = tf.function(lambda r, f, a: gradient_penalty(linear_critic(w), r, f, a))
    close(graph_penalty(real, fake, alpha), 4.0)
    labels, logits = tf.constant([0, 2], tf.int32), tf.constant(f32([[1, 2, 3], [0, 0, 5]]))
    close(tf.function(category_loss)(labels, logits), value(category_loss(labels, logits)),
          tol=1e-6)


# Registry


def test_registry_pairs_generator_and_discriminator_of_the_same_variant():
    assert sorted(GAN_LOSSES) == ["bce", "hinge", "wgan_gp"]
    assert get_gan_loss("bce") == (bce_generator_loss, bce_discriminator_loss)
    assert get_gan_loss("hinge") == (hinge_generator_loss, hinge_discriminator_loss)
    assert get_gan_loss("wgan_gp") == (wgan_generator_loss, wgan_discriminator_loss)


@pytest.mark.parametrize("name", ["foo", "BCE", None])
def test_unknown_gan_loss_lists_the_valid_names(name):
    expected = f"unknown GAN loss {name!r}; choose one of: bce, hinge, wgan_gp"
    with pytest.raises(ValueError) as info:
        get_gan_loss(name)
    assert str(info.value) == expected


@pytest.mark.parametrize("module", [adversarial, vidgen_tf.losses])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
