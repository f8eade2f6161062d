"""SpectralConv2D/3D: sigma against numpy's SVD, scale invariance, u updates, round trips."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import assert_config_round_trip
from vidgen_tf.layers.spectral_conv import SpectralConv2D, SpectralConv3D


def _top_singular_value(layer) -> float:
    w = np.asarray(layer._kernel).reshape(-1, layer.filters)
    return float(np.linalg.svd(w, compute_uv=False)[0])


@pytest.mark.parametrize("cls, shape", [(SpectralConv2D, (2, 16, 16, 3)),
                                        (SpectralConv3D, (2, 6, 16, 16, 3))])
def test_sigma_converges_to_the_top_singular_value_and_normalizes_the_kernel(cls, shape):
    layer = cls(8, 3, padding="same", power_iterations=5,
                kernel_initializer=keras.initializers.RandomNormal(
                    stddev=0.5, seed=1))
    x = keras.random.normal(shape, seed=2)
    for _ in range(40):  # each training call runs 5 power-iteration steps
        layer(x, training=True)
    sigma = float(layer.sigma())
    assert sigma == pytest.approx(_top_singular_value(layer), rel=1e-4)
    assert sigma > 1.5  # far from 1, so the division below is not a no-op
    # The convolution uses kernel / sigma: equal to a plain conv with that kernel.
    plain = (keras.layers.Conv2D if cls is SpectralConv2D else keras.layers.Conv3D)(
        8, 3, padding="same")
    plain.build(shape)
    plain.set_weights([np.asarray(layer._kernel) / sigma, np.asarray(layer.bias)])
    np.testing.assert_allclose(layer(x), plain(x), rtol=1e-5, atol=1e-5)


def test_inference_calls_leave_u_alone_and_training_calls_update_it():
    layer = SpectralConv2D(4, 3)
    x = keras.random.normal((1, 8, 8, 2), seed=0)
    layer(x)
    u0 = np.asarray(layer.vector_u).copy()
    layer(x, training=False)
    np.testing.assert_array_equal(layer.vector_u, u0)
    layer(x, training=True)
    assert not np.allclose(layer.vector_u, u0)
    assert np.linalg.norm(layer.vector_u) == pytest.approx(1.0, rel=1e-5)


def test_gradient_flows_through_sigma():
    # W / sigma(W) is invariant to scaling W (u, v fixed, sigma linear in W), so the gradient
    # of any loss is orthogonal to W. Keras' SpectralNormalization, which divides outside
    # the gradient, fails this.
    layer = SpectralConv2D(4, 3, use_bias=False)
    x = keras.random.normal((2, 8, 8, 3), seed=3)
    layer(x, training=True)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(layer(x) - 0.3))
    grad = tape.gradient(loss, layer._kernel).numpy()
    w = np.asarray(layer._kernel)
    cosine = np.sum(grad * w) / (np.linalg.norm(grad) * np.linalg.norm(w))
    assert abs(cosine) < 1e-5
    assert np.linalg.norm(grad) > 1e-3


def test_round_trip_and_mixed_precision(tmp_path):
    layer = SpectralConv3D(4, 3, strides=(1, 2, 2), power_iterations=2)
    x = keras.random.normal((1, 5, 8, 8, 2), seed=4)
    layer(x, training=True)
    assert_config_round_trip(layer)
    model = keras.Sequential([keras.Input((5, 8, 8, 2)), layer])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded(x), model(x))
    assert loaded.layers[0].power_iterations == 2
    mixed = SpectralConv2D(4, 3, dtype="mixed_bfloat16")
    out = mixed(keras.random.normal((1, 8, 8, 2)), training=True)
    assert out.dtype == "bfloat16" and mixed.vector_u.dtype == "float32"
    with pytest.raises(ValueError, match="channels-last only"):
        SpectralConv2D(4, 3, data_format="channels_first")
