"""The video VAE: its loss terms against a numpy computation, training that lowers the bound,
and prior samples (the family contract suite covers config, round trips and export)."""

import math

import keras
import numpy as np
import pytest

from vidgen_tf.models.video_vae import VideoVAE
from vidgen_tf.models.video_vae.networks import LatentPrior
from vidgen_tf.models.video_vae.video_vae import gaussian_nll
from vidgen_tf.noise import sample_noise


def tiny_vae(**kwargs):
    keras.utils.set_random_seed(0)
    return VideoVAE(frames=8, size=16, z_dim=4, base_filters=8, **kwargs)


def test_the_gaussian_nll_is_the_closed_form_per_clip():
    video = np.zeros((2, 1, 2, 2, 1), np.float32)
    mean = np.full_like(video, 0.5)
    mean[1] = 0.0
    # Clip 0: 4 values off by 0.5 -> 0.5 * 4 * 0.25 / 0.25 = 2, plus 4 log(0.5 sqrt(2 pi)).
    constant = 4 * math.log(0.5 * math.sqrt(2 * math.pi))
    np.testing.assert_allclose(gaussian_nll(video, mean, 0.5), [2 + constant, constant],
                               rtol=1e-6)


def test_the_loss_terms_equal_a_numpy_computation():
    vae = tiny_vae(sigma=0.2, beta=0.5, kl_warmup_steps=10)
    vae.compile()
    video = np.random.default_rng(0).uniform(-1, 1, (3, 8, 16, 16, 3)).astype(np.float32)
    noise = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    terms = {k: float(v) for k, v in vae.losses_of(video, noise, step=4, training=False).items()}
    posterior = {k: np.asarray(v, np.float64) for k, v in vae.encoder(video).items()}
    z = posterior["mean"] + np.exp(posterior["logvar"] / 2) * noise
    decoded = np.asarray(vae.generator({"z": z.astype(np.float32)}), np.float64)
    squared = np.square(video - decoded).reshape(3, -1)
    nll = 0.5 * squared.sum(1) / 0.04 + squared.shape[1] * math.log(0.2 * math.sqrt(2 * math.pi))
    kl = 0.5 * (np.exp(posterior["logvar"]) + posterior["mean"] ** 2 - 1
                - posterior["logvar"]).sum(1)
    weight = 0.5 * 4 / 10  # beta 0.5, 4 of 10 warm-up steps
    assert terms["vae_loss"] == pytest.approx(np.mean(nll + weight * kl) / squared.shape[1],
                                              rel=1e-4)
    assert terms["kl"] == pytest.approx(kl.mean(), rel=1e-4)
    assert terms["neg_elbo"] == pytest.approx(np.mean(nll + kl) / 8, rel=1e-4)
    assert terms["reconstruction_loss"] == pytest.approx(squared.mean(), rel=1e-4)


def test_training_lowers_the_bound_and_prior_samples_are_clips():
    vae = tiny_vae(learning_rate=2e-3)
    vae.compile()
    # Still clips of one random colour each: easy to reconstruct from a 4-d latent.
    colours = np.random.default_rng(2).uniform(-1, 1, (16, 1, 1, 1, 3)).astype(np.float32)
    clips = np.broadcast_to(colours, (16, 8, 16, 16, 3)).copy()
    history = vae.fit(clips, batch_size=8, epochs=40, verbose=0).history
    # Measured: MSE 0.31 -> 0.16 and -ELBO 11013 -> 5216 nats per frame over 80 steps.
    assert history["reconstruction_loss"][-1] < 0.6 * history["reconstruction_loss"][0]
    assert history["neg_elbo"][-1] < 0.6 * history["neg_elbo"][0]
    samples = vae.sample(3, seed=0)
    assert samples.shape == (3, 8, 16, 16, 3)
    np.testing.assert_array_equal(samples, vae.sample(3, seed=0))
    assert not np.array_equal(samples, vae.sample(3, seed=1))


def test_the_fitted_prior_draws_from_the_codes_gaussian():
    # Codes of a known Gaussian: mean (1, -2), covariance [[4, 1.2], [1.2, 1]].
    covariance = np.array([[4.0, 1.2], [1.2, 1.0]])
    codes = np.random.default_rng(0).multivariate_normal([1, -2], covariance, 20000)
    prior = LatentPrior(2)
    np.testing.assert_array_equal(prior(np.eye(2, dtype=np.float32)), np.eye(2))  # N(0, I)
    prior.fit(codes)
    scale = np.asarray(prior.scale)
    np.testing.assert_allclose(scale @ scale.T, np.cov(codes, rowvar=False), rtol=1e-4)
    assert scale[0, 1] == 0  # lower triangular: a Cholesky factor
    draws = np.asarray(prior(np.random.default_rng(1).standard_normal((20000, 2))))
    np.testing.assert_allclose(draws.mean(0), [1, -2], atol=0.05)
    np.testing.assert_allclose(np.cov(draws, rowvar=False), covariance, atol=0.1)
    with pytest.raises(ValueError, match="more than z_dim = 2 codes"):
        prior.fit(codes[:2])


def test_sampling_and_export_go_through_the_fitted_prior(tmp_path):
    vae = tiny_vae()
    vae.compile()
    clips = np.random.default_rng(3).uniform(-1, 1, (40, 8, 16, 16, 3)).astype(np.float32)
    before = vae.sample(2, seed=0)
    assert vae.fit_prior([clips[:16], {"video": clips[16:]}], num=30) == 30
    codes = np.asarray(vae.encoder(clips[:30])["mean"])
    np.testing.assert_allclose(np.asarray(vae.latent_prior.mean), codes.mean(0), atol=1e-5)
    # The sample decodes mean + scale @ noise, the noise being what seed 0 draws.
    spec = vae.export_spec()
    assert spec.inputs["z"]["distribution"] == "normal"
    z0 = sample_noise(spec.inputs, 2, 0, default_frames=8)["z"]
    expected = vae.generator({"z": np.asarray(vae.latent_prior(z0))})
    after = vae.sample(2, seed=0)
    assert not np.allclose(before, after)
    # Saved and loaded, the fitted prior comes back.
    vae.save(tmp_path / "vae.keras")
    loaded = keras.saving.load_model(tmp_path / "vae.keras")
    np.testing.assert_allclose(loaded.sample(2, seed=0), after, atol=1e-6)
    np.testing.assert_allclose(after, np.asarray(expected), atol=1e-5)


def test_tracked_codes_give_the_prior_their_weighted_gaussian():
    # Three batches folded in with decay 0.5: weights 0.125, 0.25, 0.5 (sum 0.875), oldest
    # first; the refreshed prior is the Gaussian of those weighted batch moments.
    rng = np.random.default_rng(4)
    batches = [rng.normal(size=(5, 2)) * [1.0, 3.0] + [2.0, -1.0] for _ in range(3)]
    prior = LatentPrior(2)
    assert not prior.refresh()  # nothing tracked yet: N(0, I) stays
    for codes in batches:
        prior.track(codes.astype(np.float32), decay=0.5)
    weights = np.array([0.125, 0.25, 0.5])
    mean = sum(w * b.mean(0) for w, b in zip(weights, batches, strict=True)) / weights.sum()
    outer = sum(w * b.T @ b / 5 for w, b in zip(weights, batches, strict=True)) / weights.sum()
    assert prior.refresh()
    scale = np.asarray(prior.scale, np.float64)
    np.testing.assert_allclose(np.asarray(prior.mean), mean, rtol=1e-5)
    np.testing.assert_allclose(scale @ scale.T, outer - np.outer(mean, mean), rtol=1e-4)
    # The exact fit wins from then on: refresh leaves it alone.
    codes = rng.normal(size=(50, 2))
    prior.fit(codes)
    assert not prior.refresh()
    np.testing.assert_allclose(np.asarray(prior.mean), codes.mean(0), rtol=1e-5)


def test_a_prior_saved_before_the_moving_averages_loads_its_mean_and_scale():
    # A .keras from 0.1.18 or earlier stores two variables for the prior: mean and scale.
    prior = LatentPrior(2)
    mean, scale = np.array([1.0, -2.0], np.float32), np.array([[2, 0], [1, 3]], np.float32)
    prior.load_own_variables({"0": mean, "1": scale})
    np.testing.assert_array_equal(prior(np.array([[1.0, 1.0]], np.float32)), [[3.0, 2.0]])
    assert not prior.refresh()  # no moving averages: the stored prior stays


def test_an_unfinished_run_samples_and_exports_through_the_tracked_prior(tmp_path):
    # Issue 21: a run stopped before its end (SIGTERM, Ctrl-C) never fitted its prior, so its
    # checkpoint's samples and export drew from N(0, I) and decoded to flat grey.
    vae = tiny_vae(learning_rate=2e-3)
    vae.compile()
    colours = np.random.default_rng(2).uniform(-1, 1, (16, 1, 1, 1, 3)).astype(np.float32)
    clips = np.broadcast_to(colours, (16, 8, 16, 16, 3)).copy()
    vae.fit(clips, batch_size=8, epochs=10, verbose=0)  # no finish_training: as if stopped
    vae.save(tmp_path / "checkpoint.keras")
    loaded = keras.saving.load_model(tmp_path / "checkpoint.keras")
    loaded.export_spec()
    prior = loaded.latent_prior
    weight = float(prior.running_weight.numpy())
    assert weight == pytest.approx(1 - 0.99**20, rel=1e-5)  # 20 steps folded in
    codes = np.asarray(loaded.encoder(clips)["mean"])
    tracked = np.asarray(prior.running_mean) / weight
    np.testing.assert_allclose(np.asarray(prior.mean), tracked, rtol=1e-5)
    # The codes moved away from the N(0, I) prior's mean, and the prior went their way (an
    # average over the 20 steps, so it lags behind the last step's codes).
    mean = codes.mean(0)
    assert np.linalg.norm(mean) > 1
    assert tracked @ mean / (np.linalg.norm(tracked) * np.linalg.norm(mean)) > 0.8


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="sigma must be > 0"):
        tiny_vae(sigma=0)
    with pytest.raises(ValueError, match="loss is gaussian"):
        tiny_vae().compile(loss="hinge")
