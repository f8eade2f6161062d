"""SVG-LP: the batched teacher-forced training pass against the step graph called frame by
frame, the KL term against its closed form, training lowering the loss, seeds, and the
exported rollout against a rollout written here from the Keras parts."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from vidgen_tf.models.registry import model_kwargs
from vidgen_tf.models.svg import SVG
from vidgen_tf.models.svg.presets import SVG_PRESETS

CONTEXT, HORIZON, SIZE = 3, 3, 16


def tiny_svg(**overrides) -> SVG:
    kwargs = {**model_kwargs(SVG_PRESETS["tiny"]), "context": CONTEXT, "horizon": HORIZON,
              "size": SIZE, **overrides}
    return SVG(**kwargs)


def clips(num: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(
        -1, 1, (num, CONTEXT + HORIZON, SIZE, SIZE, 1)).astype(np.float32)


@pytest.fixture(scope="module")
def svg() -> SVG:
    model = tiny_svg()
    model.compile()
    model.build()
    return model


def test_the_training_pass_equals_the_step_graph_frame_by_frame(svg):
    # With zero noise the training latent is the posterior's mean: what the step graph
    # computes with posterior=1. Frame t is decoded with the skips of frame min(t-1, C-1).
    video = clips(2)
    terms = svg.losses_of(video, np.zeros((2, CONTEXT + HORIZON - 1, svg.predictor.z_dim),
                                          np.float32), training=False)
    net = svg.predictor
    encoded = [net.encoder({"frame": video[:, t]}) for t in range(video.shape[1])]
    states = {name: np.zeros((2, *shape), np.float32) for name, shape in
              net.state_spec().items()}
    expected = []
    for t in range(1, video.shape[1]):
        out = net.step({"h": encoded[t - 1]["h"], "h_target": encoded[t]["h"],
                        "eps": np.ones((2, net.z_dim), np.float32),  # unused: posterior
                        "posterior": np.ones((2, 1), np.float32), **states})
        states = {name: np.asarray(out[name]) for name in states}
        source = encoded[min(t - 1, CONTEXT - 1)]
        frame = net.decoder({"h_pred": out["h_pred"],
                             **{k: v for k, v in source.items() if k != "h"}})["frame"]
        expected.append(np.asarray(frame))
    np.testing.assert_allclose(np.asarray(terms["predicted"]), np.stack(expected, axis=1),
                               atol=1e-5)
    mse = np.mean((np.stack(expected, axis=1) - video[:, 1:]) ** 2)
    np.testing.assert_allclose(float(terms["reconstruction_loss"]), mse, rtol=1e-5)
    assert float(terms["svg_loss"]) == pytest.approx(
        float(terms["reconstruction_loss"]) + svg.beta * float(terms["kl"]), rel=1e-6)


def test_the_kl_term_is_the_closed_form_between_posterior_and_prior(svg):
    # One step from zero states: KL(N(mq, vq) || N(mp, vp)) summed over the latent,
    # 0.5 * (log vp/vq + (vq + (mq - mp)^2) / vp - 1), worked out here in numpy.
    video = clips(3, seed=1)[:, :2]
    model = tiny_svg(context=1, horizon=1)
    model.build()
    model.predictor.set_weights(svg.predictor.get_weights())
    terms = model.losses_of(video, np.zeros((3, 1, model.predictor.z_dim), np.float32),
                            training=False)
    net = model.predictor
    h0, h1 = (np.asarray(net.encoder({"frame": video[:, t]})["h"]) for t in (0, 1))
    zero = net.step.zero_states(3)
    mq, lq = (np.asarray(x) for x in net.step.gaussian("posterior", h1, zero)[:2])
    mp, lp = (np.asarray(x) for x in net.step.gaussian("prior", h0, zero)[:2])
    kl = 0.5 * (lp - lq + (np.exp(lq) + (mq - mp) ** 2) / np.exp(lp) - 1.0)
    assert float(terms["kl"]) == pytest.approx(float(np.mean(kl.sum(axis=-1))), rel=1e-4)
    assert float(terms["kl"]) > 0


def test_fit_lowers_the_loss():
    keras.utils.set_random_seed(0)
    model = tiny_svg()
    model.compile()
    # still clips of one random level each: the easiest future to learn
    levels = np.random.default_rng(0).uniform(-0.8, 0.8, (8, 1, 1, 1, 1)).astype(np.float32)
    video = np.broadcast_to(levels, (8, CONTEXT + HORIZON, SIZE, SIZE, 1)).copy()
    history = model.fit(video, batch_size=4, epochs=30, verbose=0).history
    first, last = history["reconstruction_loss"][0], history["reconstruction_loss"][-1]
    assert last < 0.5 * first, (first, last)


def test_a_seed_repeats_its_future_and_another_seed_changes_it(svg):
    context = clips(2, seed=2)[:, :CONTEXT]
    a, b = svg.predict(context, seed=5), svg.predict(context, seed=5)
    c = svg.predict(context, seed=6)
    np.testing.assert_array_equal(a, b)
    assert np.max(np.abs(a - c)) > 1e-4
    assert svg.predict(context, horizon=2 * HORIZON, seed=5).shape == (
        2, 2 * HORIZON, SIZE, SIZE, 1)


def test_the_exported_rollout_equals_a_keras_rollout_written_here(svg, tmp_path):
    from vidgen_tf.export.generator_export import export_generator
    from vidgen_tf.noise import sample_noise
    from vidgen_tf.runtime import VideoGenerator

    path = tmp_path / "svg.keras"
    svg.save(path)
    export_generator(path, "svg", saved_models_dir=tmp_path / "sm", export_dir=tmp_path / "ex")
    generator = VideoGenerator(tmp_path / "ex" / "svg")
    assert generator.manifest["sampler"]["name"] == "latent_rollout"
    context = ((clips(2, seed=3)[:, :CONTEXT] + 1) * 127.5).round().astype(np.uint8)
    feeds = generator.inputs(2, seed=11, context=context)
    got = generator.run(feeds, frames=HORIZON)

    # The rollout, in Keras: condition on the context through the posterior's means, then
    # draw each latent from the prior and feed each decoded frame back in.
    net = svg.predictor
    x = feeds["context"]
    noise = sample_noise(generator.manifest["inputs"], 2, 11, frames=HORIZON)["noise"]
    np.testing.assert_array_equal(noise, feeds["noise"])
    states = net.step.zero_states(2)
    h = [net.encoder({"frame": x[:, t]}) for t in range(CONTEXT)]
    for t in range(1, CONTEXT):
        mq, _, q = net.step.gaussian("posterior", h[t]["h"], states)
        _, _, p = net.step.gaussian("prior", h[t - 1]["h"], states)
        _, f = net.step.predict_h(h[t - 1]["h"], mq, states)
        states = {**f, **p, **q}
    skips = {k: v for k, v in h[-1].items() if k != "h"}
    current, frames = h[-1]["h"], []
    for k in range(HORIZON):
        mp, lp, p = net.step.gaussian("prior", current, states)
        h_pred, f = net.step.predict_h(current, mp + np.exp(0.5 * lp) * noise[:, k], states)
        states = {**states, **f, **p}
        frame = np.asarray(net.decoder({"h_pred": h_pred, **skips})["frame"])
        frames.append(frame)
        current = net.encoder({"frame": frame})["h"]
    np.testing.assert_allclose(got, np.stack(frames, axis=1), atol=1e-4)


def test_the_sampler_refuses_a_short_context_and_wrong_noise(svg):
    from vidgen_tf.runtime.samplers import get_sampler

    spec = svg.export_spec()
    sampler = get_sampler({"sampler": spec.sampler},
                          {name: g.keras_call for name, g in spec.graphs.items()})
    noise = np.zeros((1, HORIZON, svg.predictor.z_dim), np.float32)
    with pytest.raises(ValueError, match="context of at least 3 frames"):
        sampler({"context": clips(1)[:, :2], "noise": noise})
    with pytest.raises(ValueError, match="noise of shape"):
        sampler({"context": clips(1)[:, :CONTEXT], "noise": noise[:, :1]})


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="beta must be a number >= 0"):
        tiny_svg(beta=-1.0)
    with pytest.raises(ValueError, match="size must be a power of two"):
        tiny_svg(size=24)
    with pytest.raises(ValueError, match="SVG's loss is mse"):
        tiny_svg().compile(loss="l1")
