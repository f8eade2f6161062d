"""Action-conditioned SVG: the training pass against the step graph fed one-hot actions, the
exported rollout against the Keras one with the same actions, that the actions reach the
frames, and the one-line errors of `vidgen generate --actions`."""

from __future__ import annotations

import numpy as np
import pytest

from vidgen_tf.cli.main import main
from vidgen_tf.models.registry import model_kwargs
from vidgen_tf.models.svg import SVG
from vidgen_tf.models.svg.presets import SVG_PRESETS

HORIZON, SIZE = 4, 16
NAMES = ["left", "right", "up", "down"]


def clips(num: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(
        -1, 1, (num, 1 + HORIZON, SIZE, SIZE, 3)).astype(np.float32)


@pytest.fixture(scope="module")
def svg() -> SVG:
    model = SVG(**{**model_kwargs(SVG_PRESETS["tiny"]), "context": 1, "horizon": HORIZON,
                   "size": SIZE, "channels": 3, "conditions": ["actions"],
                   "action_names": NAMES})
    model.compile()
    model.build()
    return model


@pytest.fixture(scope="module")
def export(svg, tmp_path_factory):
    from vidgen_tf.export.generator_export import export_generator

    root = tmp_path_factory.mktemp("svg_actions")
    svg.save(root / "svg.keras")
    export_generator(root / "svg.keras", "svg_actions", saved_models_dir=root / "sm",
                     export_dir=root / "ex")
    return root / "ex" / "svg_actions"


def test_the_training_pass_feeds_each_step_the_action_of_its_frame(svg):
    video = clips(2)
    actions = np.array([[0, 1, 2, 3, 0], [3, 3, 1, 1, 1]], np.int32)
    terms = svg.losses_of(video, np.zeros((2, HORIZON, svg.predictor.z_dim), np.float32),
                          actions, training=False)
    net = svg.predictor
    encoded = [net.encoder({"frame": video[:, t]}) for t in range(1 + HORIZON)]
    skips = {k: v for k, v in encoded[0].items() if k != "h"}  # context 1: the first frame's
    states = {name: np.zeros((2, *shape), np.float32) for name, shape in
              net.state_spec().items()}
    expected = []
    for t in range(1, 1 + HORIZON):
        out = net.step({"h": encoded[t - 1]["h"], "h_target": encoded[t]["h"],
                        "eps": np.ones((2, net.z_dim), np.float32),
                        "posterior": np.ones((2, 1), np.float32),
                        "action": np.eye(4, dtype=np.float32)[actions[:, t - 1]], **states})
        states = {name: np.asarray(out[name]) for name in states}
        expected.append(np.asarray(net.decoder({"h_pred": out["h_pred"], **skips})["frame"]))
    expected = np.stack(expected, axis=1)
    np.testing.assert_allclose(np.asarray(terms["predicted"]), expected, atol=1e-5)
    # Other actions give other frames from the first step on: the action reaches them.
    other = svg.losses_of(video, np.zeros((2, HORIZON, net.z_dim), np.float32),
                          (actions + 1) % 4, training=False)
    assert np.abs(np.asarray(other["predicted"])[:, 0] - expected[:, 0]).max() > 1e-4


def test_the_exported_rollout_follows_the_actions_as_keras_does(svg, export):
    from vidgen_tf.runtime import VideoGenerator

    generator = VideoGenerator(export)
    item = generator.manifest["inputs"]["actions"]
    assert item["action_names"] == NAMES and item["shape"] == ["frames"]
    first = ((clips(2, seed=3)[:, :1] + 1) * 127.5).round().astype(np.uint8)
    steer = ["right", "right", "up", "down"]
    got = generator.generate(2, seed=4, context=first, actions=steer)
    feeds = generator.inputs(2, seed=4, context=first, actions=steer)
    np.testing.assert_array_equal(feeds["actions"], [[1, 1, 2, 3]] * 2)
    expected = svg.predict(feeds["context"], HORIZON, seed=4, actions=feeds["actions"])
    np.testing.assert_allclose(got.astype(np.float32) / 127.5 - 1, expected, atol=2 / 127.5)
    swapped = generator.generate(2, seed=4, context=first, actions=["left", "left", "down",
                                                                   "up"])
    assert np.abs(got.astype(int) - swapped).max() > 0
    # Longer than trained, up to the bound: one action per frame.
    assert generator.generate(1, seed=4, context=first[:1], frames=6,
                              actions="up,up,up,left,left,left").shape == (1, 6, SIZE, SIZE, 3)


@pytest.mark.parametrize("actions, message", [
    ("right,right", "2 action(s) given, 4 needed"),
    ("right,right,jump,up", "unknown action(s) 'jump'; this model takes left, right, up, down"),
    ("right,,up,up", "--actions takes comma-separated action names"),
])
def test_generate_refuses_bad_actions_in_one_line(export, tmp_path, capsys, actions, message):
    first = tmp_path / "first.npy"
    np.save(first, np.zeros((1, 1, SIZE, SIZE, 3), np.uint8))
    out = tmp_path / "out.npy"
    code = main(["generate", str(export), "--context", str(first), "--actions", actions,
                 "--frames", str(HORIZON), "--seed", "0", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_generate_refuses_actions_for_an_export_without_them(tmp_path, capsys):
    out = tmp_path / "out.npy"
    code = main(["generate", "export/vae_shapes", "--actions", "right,up", "--seed", "0",
                 "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "takes no actions" in err and not out.exists()


def test_an_action_model_needs_one_frame_of_context_and_named_actions():
    base = {**model_kwargs(SVG_PRESETS["tiny"]), "size": SIZE, "conditions": ["actions"]}
    with pytest.raises(ValueError, match="starts from one frame"):
        SVG(**{**base, "context": 2, "action_names": NAMES})
    with pytest.raises(ValueError, match="at least 2 distinct action_names"):
        SVG(**{**base, "context": 1, "action_names": ["left"]})
    with pytest.raises(ValueError, match="takes the condition actions or none"):
        SVG(**{**base, "context": 1, "conditions": ["label"]})
