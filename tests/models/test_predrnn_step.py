"""PredRNNStep: the spatiotemporal memory, the decoupling loss against numpy, and arguments."""

import numpy as np
import pytest

from vidgen_tf.models.predrnn import PredRNNStep


def step_and_inputs(seed=0, decouple=True):
    step = PredRNNStep(size=8, patch_size=2, hidden=(4, 4), kernel_size=3,
                       decouple_loss=decouple)
    step.build()
    rng = np.random.default_rng(seed)
    for w in step.weights:
        w.assign(rng.normal(0, 0.4, w.shape).astype("float32"))
    inputs = {"frame": rng.uniform(-1, 1, (2, 8, 8, 1)).astype("float32")}
    inputs.update({name: rng.normal(0, 0.5, (2, *shape)).astype("float32")
                   for name, shape in step.state_spec().items()})
    return step, inputs


def test_the_spatiotemporal_memory_passes_up_the_stack_and_out():
    step, inputs = step_and_inputs()
    out = step(inputs)
    assert set(out) == {"frame", "h0", "c0", "h1", "c1", "m"}
    # Layer 0's temporal memory c0 comes from the frame and h0 only; the incoming m (the top
    # layer's, from the step before) reaches h0 through the output gate, then everything above.
    changed = dict(inputs, m=inputs["m"] + 1.0)
    again = step(changed)
    np.testing.assert_array_equal(again["c0"], out["c0"])
    for name in ("h0", "c1", "h1", "m", "frame"):
        assert not np.allclose(again[name], out[name]), name


def test_the_decoupling_loss_is_the_mean_absolute_cosine_of_the_adapted_increments():
    step, inputs = step_and_inputs()
    out = step(inputs, training=True)
    assert "decouple_loss" not in step(inputs, training=False)
    # Recompute layer 0's increments by hand from its convolutions, then the cosine.
    import tensorflow as tf

    x = tf.nn.space_to_depth(inputs["frame"], 2).numpy()
    xs = np.split(step.conv_x[0](x).numpy(), 7, -1)
    hs = np.split(step.conv_h[0](inputs["h0"]).numpy(), 4, -1)
    ms = np.split(step.conv_m[0](inputs["m"]).numpy(), 3, -1)
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    delta_c = sig(xs[0] + hs[0]) * np.tanh(xs[2] + hs[2])
    delta_m = sig(xs[3] + ms[0]) * np.tanh(xs[5] + ms[2])
    a = step.adapter(delta_c).numpy().reshape(2, -1, 4)
    b = step.adapter(delta_m).numpy().reshape(2, -1, 4)
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    layer0 = np.abs(cos).mean(-1)
    loss = np.asarray(out["decouple_loss"])
    assert loss.shape == (2,) and np.all((loss >= 0) & (loss <= 1))
    # The loss averages two layers; layer 0's share is checked by removing layer 1's.
    assert np.all(np.abs(2 * loss - layer0) <= 1 + 1e-6)
    single = PredRNNStep(size=8, patch_size=2, hidden=(4,), kernel_size=3, decouple_loss=True)
    single.build()
    for mine, theirs in zip(single.weights, [w for w in step.weights
                                             if w.path.split("/")[-2].endswith(("_0", "adapter",
                                                                                "to_frame"))],
                            strict=True):
        mine.assign(theirs)
    one = {k: inputs[k] for k in ("frame", "h0", "c0", "m")}
    np.testing.assert_allclose(single(one, training=True)["decouple_loss"], layer0, atol=1e-5)


def test_layers_of_different_widths_are_refused():
    with pytest.raises(ValueError, match="same width"):
        PredRNNStep(hidden=(64, 32))


def test_the_openstl_setting_has_openstls_weights():
    # OpenSTL's PredRNN_Model(4, [128] * 4, in_shape (20, 1, 64, 64), filter 5, patch 4, no
    # layer norm) has 23,838,720 parameters (PyTorch, counted on its code); PredRNN-V2 adds
    # the adapter.
    step = PredRNNStep()
    step.build()
    weights = [w for w in step.trainable_weights if "adapter" not in w.path]
    assert sum(int(np.prod(w.shape)) for w in weights) == 23_838_720
