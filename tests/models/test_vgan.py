"""VGAN: two-stream composition, mask penalty, round trips, fit updates, resumable state."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import (
    assert_config_round_trip,
    assert_fit_changes_every_network,
    assert_resume_matches_uninterrupted,
    assert_same_optimizer_state,
    optimizer_state,
)
from vidgen_tf.losses import mask_sparsity_loss
from vidgen_tf.models.vgan import VGAN, VGAN_PRESETS, VGANDiscriminator, VGANGenerator
from vidgen_tf.training.gan_trainer import default_adam

TINY = dict(frames=8, size=16, z_dim=8, base_filters=8)


def real_batch(n=4, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 8, 16, 16, 3)).astype("float32")


def noise(n=3, z_dim=8, seed=1, scale=1.0):
    return {"z": (scale * np.random.default_rng(seed).normal(size=(n, z_dim))).astype("float32")}


@pytest.mark.parametrize("frames, size", [(32, 64), (10, 32), (1, 8)])
def test_shapes_and_ranges(frames, size):
    g = VGANGenerator(frames=frames, size=size, z_dim=4, base_filters=4)
    z = noise(2, 4, scale=3.0)
    video = g(z)
    assert video.shape == (2, frames, size, size, 3) and video.dtype == "float32"
    foreground, mask, background = (np.asarray(x) for x in g.streams(z))
    assert foreground.shape == (2, frames, size, size, 3)
    assert mask.shape == (2, frames, size, size, 1)
    assert background.shape == (2, size, size, 3)
    assert mask.min() >= 0.0 and mask.max() <= 1.0
    assert np.abs(video).max() <= 1.0 and np.abs(foreground).max() <= 1.0
    d = VGANDiscriminator(frames=frames, size=size, base_filters=4)
    logits = d(video)
    assert logits.shape == (2, 1) and logits.dtype == "float32"


def test_paper_preset_matches_the_paper_architecture():
    preset = dict(VGAN_PRESETS["paper_64"])
    assert preset.pop("batch_size") == 64 and preset["mask_weight"] == 0.1
    gan = VGAN(**preset)  # networks are not built yet: no paper-sized weights are made
    # Foreground starts at 2x4x4 with 512 filters and doubles time and space 4 times.
    assert (gan.generator.start_frames, gan.generator.top_filters) == (2, 512)
    assert (gan.frames, gan.size, gan.z_dim) == (32, 64, 100)
    # The paper's Adam(lr 0.0002, momentum 0.5) is the default of every network.
    adam = default_adam()
    assert (float(adam.learning_rate), adam.beta_1) == (pytest.approx(2e-4), 0.5)
    tiny = dict(VGAN_PRESETS["tiny"])
    tiny.pop("batch_size")
    assert VGAN(**tiny).generator(noise()).shape == (3, 8, 16, 16, 3)


def test_video_is_mask_times_foreground_plus_rest_times_static_background():
    g = VGANGenerator(**TINY)
    z = noise()
    for training in (False, True):
        foreground, mask, background = (np.asarray(x, "float64")
                                        for x in g.streams(z, training=training))
        expected = mask * foreground + (1 - mask) * background[:, None]
        video, returned_mask = g(z, training=training, return_mask=True)
        np.testing.assert_allclose(video, expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(returned_mask, mask, rtol=0, atol=0)
    np.testing.assert_array_equal(g(z), g(z, return_mask=True)[0])
    assert not np.array_equal(g(z)[0], g(z)[1])  # the noise reaches the output


@pytest.mark.parametrize("mask_bias, stream", [(50.0, "foreground"), (-50.0, "background")])
def test_a_saturated_mask_selects_one_stream(mask_bias, stream):
    g = VGANGenerator(**TINY)
    z = noise()
    g.build()
    rgb_before, _, background_before = (np.asarray(x) for x in g.streams(z))
    kernel, bias = g.fg_to_video.kernel, g.fg_to_video.bias  # kernel (t, h, w, out, in)
    new_kernel = kernel.numpy()
    new_kernel[:, :, :, 3, :] = 0.0  # the mask channel ignores its input...
    kernel.assign(new_kernel)
    bias.assign(np.array([0.0, 0.0, 0.0, mask_bias], "float32"))  # ...and saturates
    foreground, mask, background = (np.asarray(x) for x in g.streams(z))
    video = np.asarray(g(z))
    np.testing.assert_allclose(mask, 1.0 if mask_bias > 0 else 0.0, atol=1e-6)
    # Only the mask channel was changed: foreground RGB and background are as before.
    np.testing.assert_array_equal(foreground, rgb_before)
    np.testing.assert_array_equal(background, background_before)
    if stream == "foreground":
        np.testing.assert_allclose(video, foreground, atol=1e-6)
        assert np.abs(np.diff(video, axis=1)).max() > 1e-3  # the foreground moves
    else:
        # Background only: the same still image in every frame.
        np.testing.assert_allclose(video, np.repeat(background[:, None], 8, axis=1), atol=1e-6)
        np.testing.assert_allclose(np.diff(video, axis=1), 0.0, atol=1e-6)


def test_exported_graph_returns_only_the_video_and_has_no_random_op():
    g = VGANGenerator(**TINY)
    g.build()
    fn = tf.function(lambda z: g({"z": z}),
                     input_signature=[tf.TensorSpec((None, 8), tf.float32, name="z")])
    concrete = fn.get_concrete_function()
    assert len(concrete.outputs) == 1 and concrete.outputs[0].shape.as_list() == [None, 8, 16,
                                                                                   16, 3]
    ops_used = {op.type for op in concrete.graph.get_operations()}
    assert not [op for op in ops_used if "Random" in op]


def test_sizes_the_architecture_cannot_produce_are_clear_errors():
    with pytest.raises(ValueError, match=r"size must be 4 x a power of two .* for VGAN; "
                                         r"received size=48"):
        VGANGenerator(size=48)
    with pytest.raises(ValueError, match=r"frames must be >= 1 for VGAN; received frames=0"):
        VGANGenerator(frames=0)
    with pytest.raises(ValueError, match=r"for VGAN; received size=20"):
        VGANDiscriminator(size=20)
    with pytest.raises(ValueError, match="norm must be one of"):
        VGANDiscriminator(norm="group")
    with pytest.raises(ValueError, match="must agree on frames and size"):
        VGAN(VGANGenerator(**TINY), VGANDiscriminator(frames=4, size=16))
    with pytest.raises(ValueError, match=r"mask_weight must be >= 0.*mask_weight=-1"):
        VGAN(**TINY, mask_weight=-1)


@pytest.mark.parametrize("loss", ["bce", "hinge", "wgan_gp"])
def test_one_fit_epoch_changes_both_networks(loss):
    gan = VGAN(**TINY)
    gan.compile(loss=loss)
    # The output bias cancels exactly in mean(fake) - mean(real) (WGAN), and in the hinge loss
    # while every logit is inside the margin (as at the start): its gradient is zero.
    exempt = ("/logit/bias",) if loss in ("hinge", "wgan_gp") else ()
    history = assert_fit_changes_every_network(gan, real_batch(), ["generator", "discriminator"],
                                               exempt=exempt, batch_size=2)
    assert set(history) == {"loss", "d_loss", "g_loss", "mask_l1", "d_real", "d_fake"}
    assert all(np.isfinite(v[0]) for v in history.values())
    assert 0.0 < history["mask_l1"][0] < 1.0
    assert int(gan.generator_optimizer.iterations) == 2
    assert int(gan.discriminator_optimizer.iterations) == 2


def test_mask_weight_adds_exactly_the_mask_l1_term():
    data = {"video": real_batch(4), "noise": noise(4)}
    runs = {}
    for weight in (0.0, 1.0):
        keras.utils.set_random_seed(0)  # identical initial weights in both runs
        gan = VGAN(**TINY, mask_weight=weight)
        gan.compile()
        # The discriminator step does not touch the generator, so the generator step sees
        # these weights: its mask penalty is the L1 of this mask.
        _, mask, _ = gan.generator.streams(data["noise"], training=True)
        expected_l1 = float(mask_sparsity_loss(mask))
        history = gan.fit(data, batch_size=4, epochs=1, verbose=0).history  # one step
        runs[weight] = (history, expected_l1, [v.numpy() for v in gan.generator.weights])
    (h0, l1_0, w0), (h1, l1_1, w1) = runs[0.0], runs[1.0]
    assert l1_0 == pytest.approx(l1_1, rel=1e-6)
    np.testing.assert_allclose(h1["mask_l1"][0], l1_1, rtol=1e-5)
    np.testing.assert_allclose(h0["mask_l1"][0], l1_0, rtol=1e-5)
    np.testing.assert_allclose(h0["d_loss"][0], h1["d_loss"][0], rtol=1e-6)
    np.testing.assert_allclose(h1["g_loss"][0] - h0["g_loss"][0], l1_1, rtol=1e-4, atol=1e-6)
    # ...and the penalty reaches the generator's update.
    assert any(not np.array_equal(a, b) for a, b in zip(w0, w1, strict=True))


def test_config_and_keras_round_trip_keep_outputs_and_optimizer_state(tmp_path):
    gan = VGAN(**TINY, mask_weight=0.25, seed=3)
    gan.compile(loss="hinge")
    gan.fit(real_batch(), batch_size=2, epochs=1, verbose=0)
    assert_config_round_trip(gan)
    assert_config_round_trip(gan.generator)
    assert_config_round_trip(gan.discriminator)
    gan.save(tmp_path / "gan.keras")
    loaded = keras.models.load_model(tmp_path / "gan.keras")
    assert isinstance(loaded, VGAN) and loaded.loss == "hinge" and loaded.seed == 3
    assert loaded.mask_weight == 0.25 and isinstance(loaded.generator, VGANGenerator)
    assert isinstance(loaded.discriminator, VGANDiscriminator)
    z = noise(2)
    for a, b in zip(loaded.generator(z, return_mask=True), gan.generator(z, return_mask=True),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    video = real_batch(2)
    np.testing.assert_array_equal(loaded.discriminator(video), gan.discriminator(video))
    assert_same_optimizer_state(optimizer_state(loaded), optimizer_state(gan))
    loaded.fit(real_batch(), batch_size=2, epochs=1, verbose=0)  # ready to fit again
    assert int(loaded.generator_optimizer.iterations) == 4


def _compiled():
    gan = VGAN(**TINY)
    gan.compile()
    return gan


def test_backup_and_restore_resumes_every_optimizer_without_double_counting(tmp_path):
    assert_resume_matches_uninterrupted(_compiled, real_batch(8), tmp_path)


def test_spectral_discriminator_trains_and_round_trips(tmp_path):
    from vidgen_tf.layers.spectral_conv import SpectralConv3D

    gan = VGAN(**TINY, discriminator_norm="spectral")
    assert isinstance(gan.discriminator, VGANDiscriminator)
    gan.compile(loss="hinge")
    assert_fit_changes_every_network(gan, real_batch(), ["generator", "discriminator"],
                                     exempt=("/logit/bias",), batch_size=2)
    d = gan.discriminator
    assert all(isinstance(c, SpectralConv3D) for c in [c for c, _ in d.blocks] + [d.to_logit])
    gan.save(tmp_path / "gan.keras")
    loaded = keras.models.load_model(tmp_path / "gan.keras")
    np.testing.assert_array_equal(loaded.discriminator(real_batch(2)), d(real_batch(2)))
