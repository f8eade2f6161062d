"""SimVPNetwork: horizons, use of every context frame, and OpenSTL's parameter count."""

import numpy as np
import pytest

from vidgen_tf.models.simvp import SimVP, SimVPNetwork

TINY = dict(size=16, hid_s=8, hid_t=16, n_s=2, n_t=2, mlp_ratio=2.0)


@pytest.mark.parametrize("horizon", [2, 4, 9])
def test_shorter_equal_and_longer_horizons(horizon):
    net = SimVPNetwork(context=4, horizon=horizon, **TINY)
    out = net({"context": np.zeros((3, 4, 16, 16, 1), "float32")})
    assert out.shape == (3, horizon, 16, 16, 1) and out.dtype == "float32"


def test_a_longer_horizon_chains_passes_on_the_predictions():
    short = SimVPNetwork(context=4, horizon=4, **TINY)
    long = SimVPNetwork(context=4, horizon=8, **TINY)
    long.build()
    short.build()
    short.set_weights(long.get_weights())
    context = np.random.default_rng(0).uniform(-1, 1, (2, 4, 16, 16, 1)).astype("float32")
    first = np.asarray(short({"context": context}))
    second = np.asarray(short({"context": first}))
    np.testing.assert_allclose(long({"context": context}), np.concatenate([first, second], 1),
                               atol=1e-5)


def test_every_context_frame_counts():
    net = SimVPNetwork(context=4, horizon=4, **TINY)
    context = np.random.default_rng(1).uniform(-1, 1, (1, 4, 16, 16, 1)).astype("float32")
    base = np.asarray(net({"context": context}))
    for k in range(4):
        changed = context.copy()
        changed[:, k] += 0.5
        assert not np.allclose(net({"context": changed}), base), k


def test_the_residual_path_starts_at_the_last_frame_and_adds_the_change():
    net = SimVPNetwork(context=4, horizon=6, channels=3, residual=True, **TINY)
    context = np.random.default_rng(2).uniform(-1, 1, (2, 4, 16, 16, 3)).astype("float32")
    # The readout starts at zero: every predicted frame is the last given one.
    np.testing.assert_array_equal(net({"context": context}),
                                  np.repeat(context[:, -1:], 6, axis=1))
    # With the readout trained, a pass is the plain network's output plus its input's last
    # frame; the second pass (frames 5 and 6) adds the first pass's last prediction.
    plain = SimVPNetwork(context=4, horizon=4, channels=3, **TINY)
    plain.build()
    rng = np.random.default_rng(3)
    net.set_weights([rng.normal(0, 0.1, w.shape).astype("float32") for w in net.get_weights()])
    plain.set_weights(net.get_weights())
    first = np.asarray(plain({"context": context})) + context[:, -1:]
    second = np.asarray(plain({"context": first}))[:, :2] + first[:, -1:]
    np.testing.assert_allclose(net({"context": context}), np.concatenate([first, second], 1),
                               atol=1e-5)
    assert SimVPNetwork.from_config(net.get_config()).residual


def test_the_openstl_setting_has_openstls_parameter_count():
    # OpenSTL's own SimVP_Model(in_shape=(10, 1, 64, 64), hid_S=64, hid_T=512, N_S=4, N_T=8,
    # model_type="gSTA") has 46,769,665 parameters (PyTorch, counted here on its code); its
    # table lists 46.8 M. Keras also counts BatchNorm's moving statistics, which PyTorch keeps
    # as buffers: only the trainable weights compare.
    net = SimVPNetwork()
    net.build()
    assert sum(int(np.prod(w.shape)) for w in net.trainable_weights) == 46_769_665


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="size must be a multiple of 4"):
        SimVPNetwork(size=30)
    with pytest.raises(ValueError, match="n_t must be an integer >= 2"):
        SimVPNetwork(n_t=1)
    with pytest.raises(ValueError, match="predicts the 4 frames"):
        SimVP(context=4, horizon=4, **TINY).predict_frames(np.zeros((1, 4, 16, 16, 1)), 5)
