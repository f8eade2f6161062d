"""Under mixed_bfloat16 a recurrent step computes in bfloat16 but keeps its memories float32
between steps: checked on zeroed weights, where each memory update is worked out by hand."""

import keras
import numpy as np
import pytest

from vidgen_tf.models.convlstm import ConvLSTMStep
from vidgen_tf.models.predrnn import PredRNNStep

FORGET = 1 / (1 + np.exp(-1.0))  # sigmoid(1): both cells add 1 to the forget gate


def convlstm():
    # Zero gates: c' = sigmoid(1) c in each layer.
    return (ConvLSTMStep(size=8, patch_size=2, hidden=(3, 2), kernel_size=3),
            {"c0": FORGET, "c1": FORGET})


def predrnn():
    # Zero convolutions: c' = sigmoid(1) c in each layer, and m passes both layers' forget
    # gates: m' = sigmoid(1)^2 m.
    return (PredRNNStep(size=8, patch_size=2, hidden=(4, 4), kernel_size=3),
            {"c0": FORGET, "c1": FORGET, "m": FORGET**2})


@pytest.mark.parametrize("make", [convlstm, predrnn], ids=["convlstm", "predrnn"])
def test_mixed_bfloat16_keeps_the_memories_float32_between_steps(make):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        step, factors = make()
        step.build()
        assert step.compute_dtype == "bfloat16"
        for w in step.weights:
            w.assign(np.zeros(w.shape, "float32"))
        # Offsets of about 1e-4 around 1 vanish if a memory passes through bfloat16, whose
        # spacing near 1 is 2**-7.
        rng = np.random.default_rng(0)
        states = {name: (1 + rng.uniform(0, 1e-3, (1, *shape))).astype("float32")
                  for name, shape in step.state_spec().items()}
        out = step({"frame": np.zeros((1, 8, 8, 1), "float32"), **states})
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert all(v.dtype == "float32" for v in out.values())
    for name, factor in factors.items():
        np.testing.assert_allclose(out[name], factor * states[name], rtol=1e-6)
