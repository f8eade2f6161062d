"""ResizeConv2D: a flat map stays flat (a transposed conv's does not), the conv on a repeated
map, shapes, config and the upsample choice of the MoCoGAN generator."""

import keras
import numpy as np
import pytest

from tests.test_case import assert_config_round_trip
from vidgen_tf.layers.resize_conv import ResizeConv2D, make_upsampling
from vidgen_tf.models.mocogan import MoCoGANGenerator


def _interior(layer, flat_value: float = 1.0) -> np.ndarray:
    """The layer's output on a flat 8x8 map, border pixels dropped: (12, 12, filters)."""
    x = np.full((1, 8, 8, 3), flat_value, "float32")
    return np.asarray(layer(x))[0, 2:-2, 2:-2]


def test_a_flat_map_stays_flat_where_a_transposed_conv_makes_a_checkerboard():
    out = _interior(ResizeConv2D(5))
    np.testing.assert_allclose(out, np.broadcast_to(out[:1, :1], out.shape), rtol=1e-5,
                               atol=1e-5)
    # The paper's stride-2 4x4 transposed conv on the same flat map: 2x2-periodic, not flat.
    transpose = make_upsampling("transpose", 5, name="t")
    out = _interior(transpose)
    even, odd = out[0::2, 0::2], out[1::2, 0::2]
    np.testing.assert_allclose(even, np.broadcast_to(even[:1, :1], even.shape), rtol=1e-5,
                               atol=1e-5)
    assert np.abs(even[0, 0] - odd[0, 0]).max() > 1e-2


def test_the_output_is_a_3x3_conv_of_the_pixel_repeated_map():
    layer = ResizeConv2D(4, use_bias=True)
    x = np.random.default_rng(0).normal(size=(2, 3, 5, 2)).astype("float32")
    out = np.asarray(layer(x))
    assert out.shape == (2, 6, 10, 4)
    kernel, bias = (np.asarray(w) for w in layer.conv.weights)
    # Worked independently: repeat each pixel 2x2, zero-pad by one, correlate with the kernel.
    big = np.pad(x.repeat(2, axis=1).repeat(2, axis=2), ((0, 0), (1, 1), (1, 1), (0, 0)))
    want = np.zeros_like(out)
    for i in range(6):
        for j in range(10):
            want[:, i, j] = np.einsum("bhwc,hwcf->bf", big[:, i:i + 3, j:j + 3], kernel) + bias
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)


def test_config_round_trip_and_no_bias():
    layer = ResizeConv2D(6, use_bias=False, name="up0")
    layer(np.zeros((1, 4, 4, 3), "float32"))
    assert [w.path for w in layer.weights] == ["up0/conv/kernel"]
    assert_config_round_trip(layer)
    assert layer.compute_output_shape((None, 4, 4, 3)) == (None, 8, 8, 6)


def test_mocogan_generator_upsample_choice_saves_loads_and_rejects_unknown(tmp_path):
    g = MoCoGANGenerator(frames=4, size=16, content_dim=6, base_filters=4, upsample="resize")
    g.build()
    assert [type(conv).__name__ for conv, _ in g.blocks] == ["ResizeConv2D"]
    assert type(g.to_frame).__name__ == "ResizeConv2D"
    z = {"content": np.ones((2, 6), "float32"), "motion": np.ones((2, 4, 10), "float32")}
    assert tuple(g(z).shape) == (2, 4, 16, 16, 3)
    path = tmp_path / "g.keras"
    g.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.upsample == "resize"
    np.testing.assert_allclose(loaded(z), g(z), rtol=1e-6, atol=1e-6)
    # A config saved before the option existed means the paper's transposed convs.
    old = {k: v for k, v in g.get_config().items() if k != "upsample"}
    assert MoCoGANGenerator.from_config(old).upsample == "transpose"
    with pytest.raises(ValueError, match="upsample must be one of transpose, resize"):
        MoCoGANGenerator(size=16, upsample="bilinear")
