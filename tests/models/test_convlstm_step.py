"""ConvLSTMStep against a plain numpy ConvLSTM step, and the patch layout it uses."""

import numpy as np
import pytest

from vidgen_tf.models.convlstm import ConvLSTM, ConvLSTMStep


def conv_same(x, kernel, bias):
    """2D 'same' convolution (cross-correlation, as Keras), x (h, w, cin), kernel (k, k, cin,
    cout), by loops."""
    k = kernel.shape[0]
    pad = k // 2
    padded = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))
    out = np.zeros((x.shape[0], x.shape[1], kernel.shape[3]))
    for r in range(x.shape[0]):
        for c in range(x.shape[1]):
            window = padded[r:r + k, c:c + k]
            out[r, c] = np.tensordot(window, kernel, axes=([0, 1, 2], [0, 1, 2])) + bias
    return out


def patches(frame, p):
    """(h, w, c) -> (h/p, w/p, p*p*c): block (i, j) holds its pixels row by row, channels last
    (TensorFlow's space_to_depth)."""
    h, w, c = frame.shape
    return frame.reshape(h // p, p, w // p, p, c).transpose(0, 2, 1, 3, 4).reshape(
        h // p, w // p, p * p * c)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_one_step_equals_a_numpy_convlstm():
    step = ConvLSTMStep(size=8, channels=1, patch_size=2, hidden=(3, 2), kernel_size=3)
    step.build()
    rng = np.random.default_rng(0)
    for w in step.weights:
        w.assign(rng.normal(0, 0.5, w.shape).astype("float32"))
    frame = rng.uniform(-1, 1, (1, 8, 8, 1)).astype("float32")
    states = {name: rng.normal(0, 0.5, (1, *shape)).astype("float32")
              for name, shape in step.state_spec().items()}
    out = step({"frame": frame, **states})

    x = patches(frame[0].astype(np.float64), 2)
    for i, conv in enumerate(step.gates):
        kernel, bias = (np.asarray(v, np.float64) for v in conv.weights)
        h, c = states[f"h{i}"][0], states[f"c{i}"][0]
        gi, gf, gg, go = np.split(conv_same(np.concatenate([x, h], -1), kernel, bias), 4, -1)
        c = sigmoid(gf + 1) * c + sigmoid(gi) * np.tanh(gg)
        x = sigmoid(go) * np.tanh(c)
        np.testing.assert_allclose(out[f"c{i}"][0], c, atol=1e-5)
        np.testing.assert_allclose(out[f"h{i}"][0], x, atol=1e-5)
    patch_out = x @ np.asarray(step.to_frame.weights[0], np.float64)[0, 0]
    # depth_to_space inverts `patches`.
    expected = patch_out.reshape(4, 4, 2, 2, 1).transpose(0, 2, 1, 3, 4).reshape(8, 8, 1)
    np.testing.assert_allclose(out["frame"][0], expected, atol=1e-5)


def test_state_spec_and_bad_arguments():
    step = ConvLSTMStep(size=16, patch_size=4, hidden=(8, 6), kernel_size=3)
    assert step.state_spec() == {"h0": (4, 4, 8), "c0": (4, 4, 8), "h1": (4, 4, 6),
                                 "c1": (4, 4, 6)}
    with pytest.raises(ValueError, match="size must be a multiple of patch_size"):
        ConvLSTMStep(size=18, patch_size=4)
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        ConvLSTMStep(kernel_size=4)
    with pytest.raises(ValueError, match="channels must be 1 or 3"):
        ConvLSTM(channels=2)


def test_a_prediction_never_sees_the_frames_it_predicts():
    model = ConvLSTM(size=16, patch_size=4, hidden=(8,), kernel_size=3, context=3, horizon=3)
    model.build()
    video = np.random.default_rng(1).uniform(-1, 1, (2, 6, 16, 16, 1)).astype("float32")
    before = np.asarray(model.forecast(video, 0)[0])
    changed = video.copy()
    changed[:, 4:] = 0.0  # frames 4 and 5 change: the predictions of frames 1..4 must not
    after = np.asarray(model.forecast(changed, 0)[0])
    np.testing.assert_array_equal(after[:, :4], before[:, :4])
    assert not np.array_equal(after[:, 4:], before[:, 4:])


def test_the_openstl_setting_has_openstls_weights_plus_the_gate_biases():
    # OpenSTL's ConvLSTM_Model(4, [128] * 4, filter 5, patch 4) lists 15,083,520 parameters,
    # of which its forward pass uses 11,675,648 (conv_o and conv_last, 851,968 per layer, are
    # defined and never called). Ours adds a bias to each layer's 4 x 128 gates.
    step = ConvLSTMStep()
    step.build()
    assert sum(int(np.prod(w.shape)) for w in step.trainable_weights) == 11_675_648 + 4 * 512
