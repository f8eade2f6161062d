"""VideoDCGAN: shapes, config and .keras round trips, fit updates, resumable optimizer state."""

import keras
import numpy as np
import pytest

from tests.test_case import (
    assert_config_round_trip,
    assert_fit_changes_every_network,
    assert_resume_matches_uninterrupted,
    assert_same_optimizer_state,
    optimizer_state,
)
from vidgen_tf.models.dcgan3d import VideoDCGAN, VideoDCGANDiscriminator, VideoDCGANGenerator

TINY = dict(frames=8, size=16, z_dim=8, base_filters=8)


def real_batch(n=4, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 8, 16, 16, 3)).astype("float32")


@pytest.mark.parametrize("frames, size", [(16, 64), (10, 32), (1, 8), (32, 32)])
def test_generator_and_discriminator_shapes(frames, size):
    g = VideoDCGANGenerator(frames=frames, size=size, z_dim=4, base_filters=4)
    video = g({"z": np.zeros((2, 4), "float32")})
    assert video.shape == (2, frames, size, size, 3) and video.dtype == "float32"
    assert float(np.abs(video).max()) <= 1.0
    d = VideoDCGANDiscriminator(frames=frames, size=size, base_filters=4)
    assert d(video).shape == (2, 1)


def test_sizes_the_architecture_cannot_produce_are_clear_errors():
    with pytest.raises(ValueError, match=r"size must be 4 x a power of two .* received size=48"):
        VideoDCGANGenerator(size=48)
    with pytest.raises(ValueError, match="frames must be >= 1"):
        VideoDCGANGenerator(frames=0)
    with pytest.raises(ValueError, match="norm must be one of"):
        VideoDCGANDiscriminator(norm="group")
    with pytest.raises(ValueError, match="must agree on frames and size"):
        VideoDCGAN(VideoDCGANGenerator(**TINY), VideoDCGANDiscriminator(frames=4, size=16))


def test_generator_is_deterministic_given_its_noise():
    g = VideoDCGANGenerator(**TINY)
    z = {"z": np.random.default_rng(1).normal(size=(3, 8)).astype("float32")}
    np.testing.assert_array_equal(g(z), g(z))
    assert not np.array_equal(g(z)[0], g(z)[1])


@pytest.mark.parametrize("loss", ["bce", "hinge", "wgan_gp"])
def test_one_fit_epoch_changes_both_networks(loss):
    gan = VideoDCGAN(**TINY)
    gan.compile(loss=loss)
    # The output bias cancels exactly in mean(fake) - mean(real) (WGAN), and in the hinge loss
    # while every logit is inside the margin (as at the start): its gradient is zero.
    exempt = ("/logit/bias",) if loss in ("hinge", "wgan_gp") else ()
    history = assert_fit_changes_every_network(gan, real_batch(), ["generator", "discriminator"],
                                               exempt=exempt, batch_size=2)
    assert set(history) == {"loss", "d_loss", "g_loss", "d_real", "d_fake"}
    # "loss" (for stock Keras callbacks) is the sum of the two objectives.
    np.testing.assert_allclose(history["loss"][0], history["d_loss"][0] + history["g_loss"][0],
                               rtol=1e-5)
    assert all(np.isfinite(v[0]) for v in history.values())
    assert int(gan.generator_optimizer.iterations) == 2
    assert int(gan.discriminator_optimizer.iterations) == 2


def test_config_and_keras_round_trip_keep_outputs_and_optimizer_state(tmp_path):
    gan = VideoDCGAN(**TINY, seed=3)
    gan.compile(loss="hinge")
    gan.fit(real_batch(), batch_size=2, epochs=1, verbose=0)
    assert_config_round_trip(gan)
    assert_config_round_trip(gan.generator)
    assert_config_round_trip(gan.discriminator)
    gan.save(tmp_path / "gan.keras")
    loaded = keras.models.load_model(tmp_path / "gan.keras")
    assert isinstance(loaded, VideoDCGAN) and loaded.loss == "hinge" and loaded.seed == 3
    z = {"z": np.random.default_rng(0).normal(size=(2, 8)).astype("float32")}
    np.testing.assert_array_equal(loaded.generator(z), gan.generator(z))
    video = real_batch(2)
    np.testing.assert_array_equal(loaded.discriminator(video), gan.discriminator(video))
    assert_same_optimizer_state(optimizer_state(loaded), optimizer_state(gan))
    loaded.fit(real_batch(), batch_size=2, epochs=1, verbose=0)  # ready to fit again
    assert int(loaded.generator_optimizer.iterations) == 4


def _compiled():
    gan = VideoDCGAN(**TINY)
    gan.compile()
    return gan


def test_backup_and_restore_resumes_every_optimizer_without_double_counting(tmp_path):
    assert_resume_matches_uninterrupted(_compiled, real_batch(8), tmp_path)


def test_mixed_bfloat16_trains_with_float32_outputs():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        gan = VideoDCGAN(**TINY)
        gan.compile()
        history = gan.fit(real_batch(), batch_size=2, epochs=1, verbose=0).history
        assert all(np.isfinite(v[0]) for v in history.values())
        assert gan.generator.project.compute_dtype == "bfloat16"
        video = gan.generator({"z": np.zeros((1, 8), "float32")})
        assert video.dtype == "float32"  # the final tanh stays float32
        assert gan.discriminator(video).dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_spectral_discriminator_normalizes_every_layer_and_round_trips(tmp_path):
    from vidgen_tf.layers.spectral_conv import SpectralConv3D

    keras.utils.set_random_seed(0)
    gan = VideoDCGAN(**TINY, discriminator_norm="spectral")
    d = gan.discriminator
    d.build()
    convs = [conv for conv, _ in d.blocks] + [d.to_logit]
    assert all(isinstance(c, SpectralConv3D) for c in convs)
    assert all(norm is None for _, norm in d.blocks)
    # The logit conv covers the whole remaining volume (8 frames halved twice, 16 pixels
    # halved twice): one logit per clip, as the Dense.
    assert d(real_batch(3)).shape == (3, 1) and d.to_logit.kernel_size == (2, 4, 4)
    gan.compile(loss="hinge")
    assert_fit_changes_every_network(gan, real_batch(), ["generator", "discriminator"],
                                     exempt=("/logit/bias",), batch_size=2)
    # After enough power iterations, each normalized kernel (reshaped as SNGAN does) has top
    # singular value 1, checked by an SVD. (Power iteration converges slowly when the top two
    # singular values are close, as in a random kernel: 1e-2 after 50 steps. Dividing by
    # anything else, the Frobenius norm say, would be far off.)
    for _ in range(50):
        d(real_batch(2), training=True)
    for conv in convs:
        kernel = np.asarray(conv._kernel).reshape(-1, conv.filters)
        normalized = kernel / float(conv.sigma())
        assert abs(np.linalg.svd(normalized, compute_uv=False)[0] - 1) < 1e-2, conv.name
    gan.save(tmp_path / "gan.keras")
    loaded = keras.models.load_model(tmp_path / "gan.keras")
    assert loaded.discriminator.norm == "spectral"
    np.testing.assert_array_equal(loaded.discriminator(real_batch(2)), d(real_batch(2)))
