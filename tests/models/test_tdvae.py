"""TD-VAE: the Gaussian and Bernoulli terms against closed forms, the whole bound against a
numpy computation (belief LSTM and D-blocks written out from their weights), training lowering
the bound, the pairs drawn, seeds, and the exported step graph against the Keras rollout (the
family contract suite covers config, round trips and export parity)."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from vidgen_tf.models.registry import model_kwargs
from vidgen_tf.models.tdvae import TDVAE
from vidgen_tf.models.tdvae.presets import TDVAE_PRESETS
from vidgen_tf.models.tdvae.tdvae import bernoulli_nll, gaussian_log_density

CONTEXT, HORIZON, SIZE = 3, 3, 16
LOG_2PI = math.log(2 * math.pi)


def tiny_tdvae(**overrides) -> TDVAE:
    kwargs = {**model_kwargs(TDVAE_PRESETS["tiny"]), "context": CONTEXT, "horizon": HORIZON,
              "size": SIZE, **overrides}
    return TDVAE(**kwargs)


def clips(num: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(
        -1, 1, (num, CONTEXT + HORIZON, SIZE, SIZE, 1)).astype(np.float32)


def moving_bars(num: int, frames: int, seed: int = 0) -> np.ndarray:
    """A 2-pixel white bar on black moving right by one pixel per frame, from a random
    column: a deterministic future once its position is seen."""
    start = np.random.default_rng(seed).integers(0, SIZE - frames - 2, num)
    video = -np.ones((num, frames, SIZE, SIZE, 1), np.float32)
    for i, column in enumerate(start):
        for t in range(frames):
            video[i, t, :, column + t:column + t + 2] = 1.0
    return video


@pytest.fixture(scope="module")
def tdvae() -> TDVAE:
    keras.utils.set_random_seed(0)
    model = tiny_tdvae()
    model.compile()
    return model


# --------------------------------------------------------------------------- closed forms


def test_the_gaussian_log_density_and_kl_are_the_closed_forms():
    # log N(1; 0, 1) = -(log 2 pi + 1) / 2; log N(0.5; 1, e^2) = -(log 2 pi + 2 + 0.25 e^-2) / 2
    got = np.asarray(gaussian_log_density(np.array([1.0, 0.5]), np.array([0.0, 1.0]),
                                          np.array([0.0, 2.0])))
    np.testing.assert_allclose(got, [-(LOG_2PI + 1) / 2, -(LOG_2PI + 2 + 0.25 * math.exp(-2)) / 2],
                               rtol=1e-6)
    # KL(N(1, e^0) || N(0, e^2)) = (2 - 0 + (1 + 1) e^-2 - 1) / 2, as the trainer sums it.
    from vidgen_tf.losses.variational import gaussian_kl

    assert float(gaussian_kl(1.0, 0.0, 0.0, 2.0)) == pytest.approx(
        (2 + 2 * math.exp(-2) - 1) / 2, rel=1e-6)


def test_the_bernoulli_nll_is_the_closed_form_per_frame():
    # Logits 0 give p = 1/2: log 2 per value, whatever the pixel. Logit 2 on a white pixel
    # (y = 1): log(1 + e^-2); on a black one (y = 0): log(1 + e^2); on grey (y = 1/2): the mean.
    frames = np.array([[[1.0, -1.0, 0.0]], [[1.0, -1.0, 0.0]]], np.float32)  # (2, 1, 3)
    logits = np.stack([np.zeros((1, 3)), np.full((1, 3), 2.0)]).astype(np.float32)
    white, black = math.log1p(math.exp(-2)), math.log1p(math.exp(2))
    np.testing.assert_allclose(np.asarray(bernoulli_nll(frames, logits)),
                               [3 * math.log(2), white + black + (white + black) / 2], rtol=1e-6)


# --------------------------------------------------------------------------- the bound in numpy


def numpy_lstm(x: np.ndarray, cell) -> np.ndarray:
    """Keras' LSTM (gates i, f, g, o; sigmoid and tanh) over `x` (batch, T, in), from zero."""
    kernel, recurrent, bias = (np.asarray(w, np.float64) for w in
                               (cell.kernel, cell.recurrent_kernel, cell.bias))
    units = recurrent.shape[0]
    h = c = np.zeros((len(x), units))
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    out = []
    for t in range(x.shape[1]):
        i, f, g, o = np.split(x[:, t] @ kernel + h @ recurrent + bias, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        out.append(h)
    return np.stack(out, axis=1)


def numpy_dblock(x: np.ndarray, block) -> tuple[np.ndarray, np.ndarray]:
    """The D-block from its weights: t = tanh(W1 x) sigmoid(W2 x); mean, clipped logvar."""
    def dense(layer, v):
        return v @ np.asarray(layer.kernel, np.float64) + np.asarray(layer.bias, np.float64)
    t = np.tanh(dense(block.tanh_part, x)) / (1 + np.exp(-dense(block.gate, x)))
    return dense(block.mean, t), np.clip(dense(block.logvar, t), -10.0, 5.0)


def test_the_loss_equals_a_numpy_computation_of_the_papers_objective(tdvae):
    net = tdvae.predictor
    video = clips(3, seed=4)
    t1 = np.array([[0, 2], [3, 1], [1, 0]], np.int32)
    jump = np.array([[2, 1], [2, 1], [1, 2]], np.int32)
    rng = np.random.default_rng(5)
    noise_z2, noise_z1 = (rng.standard_normal((3, 2, net.z_dim)).astype(np.float32)
                          for _ in range(2))
    model = tiny_tdvae(pairs_per_clip=2, beta=0.5, kl_warmup_steps=10)
    model.build()
    model.predictor.set_weights(net.get_weights())
    terms = {k: np.asarray(v) for k, v in model.losses_of(
        video, t1, jump, noise_z2, noise_z1, step=4, training=False).items()}

    # The paper's objective per pair, written out: only the encoder and decoder come from Keras.
    encoded = np.stack([np.asarray(net.encoder({"frame": video[:, t]})["h"], np.float64)
                        for t in range(video.shape[1])], axis=1)
    skip = net.belief_skip
    beliefs = numpy_lstm(encoded, net.belief.cell) + (
        encoded @ np.asarray(skip.kernel, np.float64) + np.asarray(skip.bias, np.float64))
    rows = np.arange(3)[:, None]
    b1, b2 = beliefs[rows, t1].reshape(6, -1), beliefs[rows, t1 + jump].reshape(6, -1)
    x2 = video[rows, t1 + jump].reshape(6, SIZE, SIZE, 1).astype(np.float64)
    mean_b2, logvar_b2 = numpy_dblock(b2, net.belief_to_z)
    z2 = mean_b2 + np.exp(logvar_b2 / 2) * noise_z2.reshape(6, -1)
    mean_q1, logvar_q1 = numpy_dblock(np.concatenate([b1, b2, z2], axis=-1), net.smoothing)
    z1 = mean_q1 + np.exp(logvar_q1 / 2) * noise_z1.reshape(6, -1)
    mean_b1, logvar_b1 = numpy_dblock(b1, net.belief_to_z)
    one_hot = np.eye(net.max_jump)[jump.reshape(-1) - 1]
    change, logvar_t2 = numpy_dblock(np.concatenate([z1, one_hot], axis=-1), net.transition)
    mean_t2 = z1 + change  # the residual transition

    def log_normal(x, mean, logvar):
        return (-0.5 * (LOG_2PI + logvar + (x - mean) ** 2 / np.exp(logvar))).sum(-1)

    kl = 0.5 * (logvar_b1 - logvar_q1 + (np.exp(logvar_q1) + (mean_q1 - mean_b1) ** 2)
                / np.exp(logvar_b1) - 1).sum(-1)
    transition_kl = log_normal(z2, mean_b2, logvar_b2) - log_normal(z2, mean_t2, logvar_t2)
    logits = np.asarray(net.decoder({"z": z2.astype(np.float32)})["logits"], np.float64)
    p = 1 / (1 + np.exp(-logits))
    y = (x2 + 1) / 2
    nll = -(y * np.log(p) + (1 - y) * np.log(1 - p)).reshape(6, -1).sum(-1)
    weight = 0.5 * 4 / 10  # beta 0.5, 4 of 10 warm-up steps
    assert float(terms["kl"]) == pytest.approx(kl.mean(), rel=1e-4, abs=1e-5)
    assert float(terms["transition_kl"]) == pytest.approx(transition_kl.mean(), rel=1e-4,
                                                          abs=1e-4)
    assert float(terms["nll"]) == pytest.approx(nll.mean(), rel=1e-5)
    assert float(terms["neg_elbo"]) == pytest.approx((nll + kl + transition_kl).mean(),
                                                     rel=1e-5)
    assert float(terms["tdvae_loss"]) == pytest.approx(
        (nll + weight * (kl + transition_kl)).mean() / (SIZE * SIZE), rel=1e-5)
    np.testing.assert_allclose(terms["predicted"].reshape(6, SIZE, SIZE, 1), 2 * p - 1,
                               atol=1e-5)
    assert float(terms["reconstruction_loss"]) == pytest.approx(
        np.mean((2 * p - 1 - x2) ** 2), rel=1e-5)
    assert float(terms["kl"]) > 0


def test_the_pairs_drawn_lie_in_the_clip_and_cover_every_jump(tdvae):
    frames = tdvae.frames
    seen = set()
    for step in range(30):
        t1, jump = (np.asarray(a) for a in tdvae.draw_pairs(8, step))
        assert t1.shape == jump.shape == (8, 1)
        assert jump.min() >= 1 and jump.max() <= tdvae.max_jump
        assert t1.min() >= 0 and (t1 + jump).max() <= frames - 1
        seen.update(zip(t1.ravel().tolist(), jump.ravel().tolist(), strict=True))
    every = {(t, d) for d in range(1, tdvae.max_jump + 1) for t in range(frames - d)}
    assert seen == every


# --------------------------------------------------------------------------- content


@pytest.fixture(scope="module")
def content_tdvae() -> TDVAE:
    keras.utils.set_random_seed(1)
    model = tiny_tdvae(content=True, pairs_per_clip=2)
    model.compile()
    model.build()
    return model


def test_a_content_decoder_takes_the_encoding_of_the_source_frame(content_tdvae):
    net = content_tdvae.predictor
    video = clips(2, seed=11)
    t1 = np.array([[2, 3], [1, 2]], np.int32)
    jump = np.array([[1, 2], [2, 1]], np.int32)
    noise = np.zeros((2, 2, net.z_dim), np.float32)  # z2 is P_B's mean at t2

    def predicted(source):
        return np.asarray(content_tdvae.losses_of(video, t1, jump, noise, noise,
                                                  training=False, source=source)["predicted"])

    source = np.array([[0, 3], [1, 0]], np.int32)
    rows = np.arange(2)[:, None]
    z2 = np.asarray(net.p_belief(np.asarray(net.beliefs(video))[rows, t1 + jump].reshape(
        4, -1))[0])
    frames = video[rows, source].reshape(4, SIZE, SIZE, 1)
    h = np.asarray(net.encoder({"frame": frames})["h"])
    expected = np.asarray(net.decoder({"z": z2, "h": h})["frame"]).reshape(2, 2, SIZE, SIZE, 1)
    np.testing.assert_allclose(predicted(source), expected, atol=1e-5)
    assert np.max(np.abs(predicted(np.zeros_like(source)) - expected)) > 1e-4
    with pytest.raises(ValueError, match="needs `source`"):
        content_tdvae.losses_of(video, t1, jump, noise, noise, training=False)


def test_the_content_frames_drawn_lie_at_or_before_t1_and_cover_them(content_tdvae):
    seen = set()
    for step in range(40):
        t1, _ = content_tdvae.draw_pairs(8, step)
        source = np.asarray(content_tdvae.draw_sources(t1, step))
        t1 = np.asarray(t1)
        assert source.shape == t1.shape and source.min() >= 0 and (source <= t1).all()
        seen.update(zip(t1.ravel().tolist(), source.ravel().tolist(), strict=True))
    frames = content_tdvae.frames
    assert seen == {(t, s) for t in range(frames - 1) for s in range(t + 1)}


def test_a_content_rollout_decodes_with_the_last_context_frame(content_tdvae):
    net = content_tdvae.predictor
    context = clips(3, seed=12)[:, :CONTEXT]
    expected = content_tdvae.jumpy_rollout(context, [1] * 3, seed=4)
    np.testing.assert_allclose(content_tdvae.predict(context, horizon=3, seed=4), expected,
                               atol=1e-5)
    # `predict` runs the export's sampler, which passes the decoder the encoder's "h" of the
    # last context frame as a skip; `jumpy_rollout` passes it directly.
    spec = content_tdvae.export_spec()
    assert spec.sampler["params"]["skips"] == ["h"]
    assert spec.graphs["decoder"].inputs == ["h_pred", "h"]
    assert net.get_config()["content"] is True


# --------------------------------------------------------------------------- training


def test_fit_on_a_moving_bar_lowers_the_bound_below_the_pixels_entropy():
    keras.utils.set_random_seed(0)
    model = tiny_tdvae(base_filters=8, hidden=32, belief_size=32, block_size=32, z_dim=4,
                       pairs_per_clip=4, learning_rate=5e-3, kl_warmup_steps=100)
    model.compile()
    video = moving_bars(16, CONTEXT + HORIZON)
    history = model.fit(video, batch_size=8, epochs=100, verbose=0).history
    # A model that ignores the past can at best learn each pixel's frequency: the entropy of
    # those Bernoullis, about 86 nats per frame. Below it, the belief predicts the bar.
    p = ((video + 1) / 2).reshape(-1, SIZE * SIZE).mean(axis=0).clip(1e-9, 1 - 1e-9)
    entropy = float(-(p * np.log(p) + (1 - p) * np.log(1 - p)).sum())
    first, last = history["nll"][0], float(np.mean(history["neg_elbo"][-5:]))
    # The decoder starts at p = 1/2: log 2 nats per pixel, 177 per frame. (The bound starts
    # higher: the D-blocks' small initial variances make the first KL terms large.)
    assert first == pytest.approx(SIZE * SIZE * math.log(2), rel=0.02)
    assert last < 0.5 * entropy, (first, last, entropy)
    assert history["reconstruction_loss"][-1] < 0.2 * history["reconstruction_loss"][0]


# --------------------------------------------------------------------------- rollouts


def test_a_seed_repeats_its_rollout_and_another_seed_changes_it(tdvae):
    context = clips(2, seed=2)[:, :CONTEXT]
    a, b = tdvae.predict(context, seed=5), tdvae.predict(context, seed=5)
    c = tdvae.predict(context, seed=6)
    np.testing.assert_array_equal(a, b)
    assert np.max(np.abs(a - c)) > 1e-4
    jumpy = tdvae.jumpy_rollout(context, [2, 1, 2], seed=5)
    assert jumpy.shape == (2, 3, SIZE, SIZE, 1)
    np.testing.assert_array_equal(jumpy, tdvae.jumpy_rollout(context, [2, 1, 2], seed=5))
    assert np.max(np.abs(jumpy - tdvae.jumpy_rollout(context, [2, 1, 2], seed=6))) > 1e-4
    assert tdvae.predict(context, horizon=2 * HORIZON, seed=5).shape == (
        2, 2 * HORIZON, SIZE, SIZE, 1)


def test_the_step_graph_rollout_is_the_keras_jumpy_rollout(tdvae):
    # `predict` runs the export's sampler over the step graph (the belief LSTM cell stepped,
    # flags mixed arithmetically); `jumpy_rollout` is written from the LSTM layer and the
    # distributions directly. With jumps of 1 they must agree; other jumps must change it.
    context = clips(3, seed=7)[:, :CONTEXT]
    expected = tdvae.jumpy_rollout(context, [1] * 4, seed=3)
    np.testing.assert_allclose(tdvae.predict(context, horizon=4, seed=3), expected, atol=1e-5)
    jumped = tdvae.jumpy_rollout(context, [2, 2, 2, 2], seed=3)
    assert np.max(np.abs(jumped - expected)) > 1e-4


def test_the_rollout_uses_only_the_last_context_frames(tdvae):
    context = clips(2, seed=8)
    longer = np.concatenate([clips(2, seed=9)[:, :2], context[:, :CONTEXT]], axis=1)
    np.testing.assert_array_equal(tdvae.jumpy_rollout(longer, [1, 2], seed=0),
                                  tdvae.jumpy_rollout(context[:, :CONTEXT], [1, 2], seed=0))


# --------------------------------------------------------------------------- arguments


def test_bad_arguments_are_named(tdvae):
    with pytest.raises(ValueError, match="max_jump must be an integer >= 1"):
        tiny_tdvae(max_jump=0)
    with pytest.raises(ValueError, match=r"max_jump must be at most context \+ horizon - 1 = 5"):
        tiny_tdvae(max_jump=6)
    with pytest.raises(ValueError, match="pairs_per_clip must be an integer >= 1"):
        tiny_tdvae(pairs_per_clip=0)
    with pytest.raises(ValueError, match="beta must be a number >= 0"):
        tiny_tdvae(beta=-1.0)
    with pytest.raises(ValueError, match="kl_warmup_steps must be an integer >= 0"):
        tiny_tdvae(kl_warmup_steps=-5)
    with pytest.raises(ValueError, match="size must be a power of two"):
        tiny_tdvae(size=24)
    with pytest.raises(ValueError, match="TDVAE's loss is bernoulli"):
        tiny_tdvae().compile(loss="mse")
    context = clips(1)[:, :CONTEXT]
    with pytest.raises(ValueError, match=r"jumps must be .* integers in 1..2"):
        tdvae.jumpy_rollout(context, [1, 3])
    with pytest.raises(ValueError, match="jumps must be a non-empty list"):
        tdvae.jumpy_rollout(context, [])
    with pytest.raises(ValueError, match="context must be"):
        tdvae.jumpy_rollout(context[:, :1], [1])
    with pytest.raises(ValueError, match="trains on clips of context \\+ horizon = 6"):
        tdvae.fit(clips(2)[:, :4], batch_size=2, epochs=1, verbose=0)
