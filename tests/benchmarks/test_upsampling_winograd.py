"""benchmarks/upsampling_winograd.py: the Winograd form it times computes the same layer."""

from __future__ import annotations

import numpy as np
import pytest

from tests.benchmarks.scripts import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("upsampling_winograd")


def _conv_transpose_relu(x, weight, bias):
    """Independent NCHW reference: kernel 4, stride 2, padding 1, then Relu, by scatter-add."""
    frames, _, size, _ = x.shape
    out = np.zeros((frames, weight.shape[1], 2 * size + 2, 2 * size + 2))
    for i in range(size):
        for j in range(size):
            # Input pixel (i, j) adds W[:, :, ky, kx] at output (2i - 1 + ky, 2j - 1 + kx).
            out[:, :, 2 * i:2 * i + 4, 2 * j:2 * j + 4] += np.einsum(
                "nc,cokl->nokl", x[:, :, i, j], weight)
    out = out[:, :, 1:-1, 1:-1] + bias[None, :, None, None]
    return np.maximum(out, 0)


@pytest.mark.parametrize("size", [4, 8])
def test_winograd_layer_equals_conv_transpose(bench, size):
    rng = np.random.default_rng(size)
    cin, cout = 6, 5
    weight = rng.standard_normal((cin, cout, 4, 4)).astype(np.float32)
    bias = rng.standard_normal(cout).astype(np.float32)
    x = rng.standard_normal((bench.FRAMES, cin, size, size)).astype(np.float32)
    expected = _conv_transpose_relu(x.astype(np.float64), weight.astype(np.float64), bias)
    nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    got = bench.session(bench.winograd_model(weight, bias, size), 1).run(None, {"x": nhwc})[0]
    np.testing.assert_allclose(got, expected.transpose(0, 2, 3, 1), atol=1e-4, rtol=1e-4)
    reference = bench.session(bench.conv_transpose_model(weight, bias), 1).run(None, {"x": x})[0]
    np.testing.assert_allclose(reference, expected, atol=1e-4, rtol=1e-4)


def test_tile_matrix_pads_and_overlaps(bench):
    # Two tiles of 6 rows at stride 4 over 8 rows padded by one zero row on each side: the
    # first tile's row 0 is the padding, the second tile's row 5 is the padding too.
    matrix = bench.tile_matrix(8).reshape(2, 6, 8)
    x = np.arange(1.0, 9.0)
    padded = np.concatenate([[0.0], x, [0.0]])
    for p in range(2):
        np.testing.assert_allclose(matrix[p] @ x, bench.BT @ padded[4 * p:4 * p + 6])
