"""Does a temporal Winograd transform speed up the MoCoGAN video discriminator's Conv3D layers
in TensorFlow? (It did not on the AVX2 EPYC; see the README, "Training speed".)

    python benchmarks/conv3d_temporal_winograd.py [--layers L2 L3] [--clips 6]

Each Conv3D of the paper_64 video discriminator (kernel 4 in time, stride 1 in time, stride 2 in
space) is a sum of 4 spatial convolutions over consecutive frames. Winograd's minimal filtering
F(m, 4) (Lavin & Gray 2016, in one dimension, over time) computes m outputs from m + 3 frames
with m + 3 spatial convolutions of transformed frames and kernels instead of 4m: 2.5x fewer
multiply-adds for F(5, 4) at 10 output frames. The script times forward + both gradients
(median of 5 after 2 warm-up) of the direct Conv3D and of F(m, 4) built from tf.nn.conv2d, and
prints each one's error relative to the direct output's largest value. The transforms are
derived exactly (Toom-Cook over the points 0, +-1, +-2, +-1/2 and infinity) with fractions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from fractions import Fraction

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as vidgen_tf sets it
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

KERNEL = 4
POINTS = [0, 1, -1, 2, -2, Fraction(1, 2), Fraction(-1, 2)]
# name: (input frames, padded height = width, input channels, output channels) at paper_64.
LAYERS = {"L1": (16, 66, 3, 64), "L2": (13, 34, 64, 128), "L3": (10, 18, 128, 256),
          "L4": (7, 10, 256, 1)}


def _polymul(a: list, b: list) -> list:
    out = [Fraction(0)] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] += x * y
    return out


def winograd_matrices(m: int, r: int = KERNEL):
    """(A^T (m, n), G (n, r), B^T (n, n)) with y = A^T [(G g) * (B^T d)] equal to the
    correlation y[t] = sum_k g[k] d[t + k] for t < m; n = m + r - 1 points, the last infinity.

    Transposed Toom-Cook: linear convolution is c = C [(V_m a) * (V_r g)] with Vandermonde
    matrices V at the points and C the interpolation back to coefficients, so the correlation,
    its transpose in a and c, is V_m^T [(V_r g) * (C^T d)].
    """
    n = m + r - 1
    points = [Fraction(p) for p in POINTS[:n - 1]]

    def vandermonde(cols):
        return [[p**k for k in range(cols)] for p in points] + [[0] * (cols - 1) + [1]]

    interp = [[Fraction(0)] * n for _ in range(n)]  # column i: Lagrange basis i; last: prod
    for i, p_i in enumerate(points):
        poly, denominator = [Fraction(1)], Fraction(1)
        for j, p_j in enumerate(points):
            if j != i:
                poly, denominator = _polymul(poly, [-p_j, 1]), denominator * (p_i - p_j)
        for k, c in enumerate(poly):
            interp[k][i] = c / denominator
    poly = [Fraction(1)]
    for p_j in points:
        poly = _polymul(poly, [-p_j, 1])
    for k, c in enumerate(poly):
        interp[k][n - 1] = c
    a_t = np.array(vandermonde(m), dtype=np.float64).T
    g = np.array(vandermonde(r), dtype=np.float64)
    b_t = np.array(interp, dtype=np.float64).T
    return a_t, g, b_t


def conv3d_direct(x, kernel):
    return tf.nn.conv3d(x, kernel, strides=[1, 1, 2, 2, 1], padding="VALID")


def conv3d_winograd(x, kernel, m: int):
    """conv3d_direct(x, kernel) through F(m, 4) over time and tf.nn.conv2d over space."""
    a_t, g, b_t = (tf.constant(v, tf.float32) for v in winograd_matrices(m))
    n = m + KERNEL - 1
    batch, frames, height, width, channels = x.shape
    out_frames = frames - KERNEL + 1
    tiles = -(-out_frames // m)
    x = tf.pad(x, [[0, 0], [0, tiles * m + KERNEL - 1 - frames], [0, 0], [0, 0], [0, 0]])
    index = (np.arange(tiles)[:, None] * m + np.arange(n)[None, :]).reshape(-1)
    d = tf.reshape(tf.gather(x, index, axis=1), [batch, tiles, n, height, width, channels])
    u = tf.einsum("jl,btlhwc->jbthwc", b_t, d)
    v = tf.einsum("jk,k...->j...", g, kernel)
    products = [tf.nn.conv2d(tf.reshape(u[j], [batch * tiles, height, width, channels]), v[j],
                             strides=2, padding="VALID") for j in range(n)]
    _, out_h, out_w, filters = products[0].shape
    products = tf.reshape(tf.stack(products), [n, batch, tiles, out_h, out_w, filters])
    y = tf.einsum("tj,jbshwo->bsthwo", a_t, products)
    return tf.reshape(y, [batch, tiles * m, out_h, out_w, filters])[:, :out_frames]


def forward_backward_ms(fn, x, kernel) -> float:
    @tf.function
    def step(x, kernel):
        with tf.GradientTape() as tape:
            tape.watch([x, kernel])
            loss = tf.reduce_sum(tf.square(fn(x, kernel)))
        return tape.gradient(loss, [x, kernel])

    for _ in range(2):
        step(x, kernel)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        step(x, kernel)[0].numpy()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", nargs="+", default=list(LAYERS), choices=list(LAYERS))
    parser.add_argument("--clips", type=int, default=6, help="3 real + 3 fake in a D step")
    parser.add_argument("--tiles", type=int, nargs="+", default=[2, 3, 4, 5],
                        help="Winograd output frames per tile (m of F(m, 4))")
    args = parser.parse_args()
    for m in args.tiles:  # the transforms must be exact before anything is timed
        a_t, g, b_t = winograd_matrices(m)
        rng = np.random.default_rng(m)
        taps, frames = rng.standard_normal(KERNEL), rng.standard_normal(m + KERNEL - 1)
        exact = np.correlate(frames, taps, mode="valid")
        assert np.allclose(a_t @ ((g @ taps) * (b_t @ frames)), exact, atol=1e-12), m
    for name in args.layers:
        frames, size, cin, cout = LAYERS[name]
        x = tf.random.normal([args.clips, frames, size, size, cin], seed=1)
        kernel = tf.random.normal([KERNEL, KERNEL, KERNEL, cin, cout], seed=2) * 0.05
        reference = conv3d_direct(x, kernel)
        direct_ms = forward_backward_ms(conv3d_direct, x, kernel)
        line = [f"{name} {cin}->{cout}: direct {direct_ms:.0f} ms"]
        for m in args.tiles:
            error = float(tf.reduce_max(tf.abs(conv3d_winograd(x, kernel, m) - reference))
                          / tf.reduce_max(tf.abs(reference)))
            ms = forward_backward_ms(lambda a, b, m=m: conv3d_winograd(a, b, m), x, kernel)
            line.append(f"F({m},4) {ms:.0f} ms (rel. error {error:.1e})")
        print("; ".join(line), flush=True)


if __name__ == "__main__":
    main()
