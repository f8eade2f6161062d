"""Would Winograd's minimal filtering speed up the generator's upsampling layers in onnxruntime?
(It did not on the AVX2 EPYC; see the README, "Generation speed".)

    python benchmarks/upsampling_winograd.py [--repeats 4] [--calls 15]

A ConvTranspose with kernel 4, stride 2 and padding 1 is a 3x3 correlation of the input (padded
by 1) with 4 x Cout output channels, one block per output phase, whose 3x3 kernels are zero
outside each phase's 2x2 taps (`vidgen_tf.export.onnx_rewrite` uses the 2x2 form). Winograd's
F(4x4, 3x3) (Lavin & Gray 2016) computes each 4x4 tile of that correlation with 36 products per
channel pair instead of 4 x 4 x 4 = 64 useful ones: 1.78x fewer multiply-adds. The script builds
one layer of the paper_64 generator (16 frames, batch 1) three ways in ONNX and times each in
onnxruntime, alternating (median of `--repeats` blocks of `--calls` calls):

- `phase_nhwc`: the export's form (four 2x2 Convs, NHWC interleave, NCHW in and out);
- `winograd`: the tile transforms as MatMuls (padding and overlapping 6-row tiles folded into
  one matrix per axis), one Transpose, 36 batched GEMMs (Cin x 4 Cout each), the output
  transform as one Gemm that also adds the bias and a fused Relu, one Transpose to NHWC. In and
  out NHWC, as a chain of such layers would run;
- `gemm only`: the 36 batched GEMMs alone, what Winograd could give with free transforms.

Each form is checked against onnxruntime's ConvTranspose on the same input first.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

# F(4, 3) over the points 0, 1, -1, 2, -2 and infinity (Lavin & Gray 2016).
BT = np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
               [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], np.float64)
G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
              [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]], np.float64)
AT = np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
               [0, 1, -1, 8, -8, 1]], np.float64)
FRAMES = 16
# (input channels, output channels, input height = width) of paper_64's three big layers.
LAYERS = [(512, 256, 4), (256, 128, 8), (128, 64, 16)]


def _model(nodes, inputs, output, inits, rank=4):
    graph = helper.make_graph(
        nodes, "layer", [helper.make_tensor_value_info("x", TensorProto.FLOAT, inputs)],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, ["d"] * rank)],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)


def conv_transpose_model(weight, bias):
    cin = weight.shape[0]
    return _model([helper.make_node("ConvTranspose", ["x", "w", "b"], ["t"], kernel_shape=[4, 4],
                                    strides=[2, 2], pads=[1, 1, 1, 1]),
                   helper.make_node("Relu", ["t"], ["y"])],
                  [FRAMES, cin, "h", "w"], "y", {"w": weight, "b": bias})


def phase_model(weight, bias, height):
    """The export's own rewrite of the ConvTranspose + Relu above."""
    from vidgen_tf.export.onnx_rewrite import rewrite_conv_transposes

    model = conv_transpose_model(weight, bias)
    x = np.zeros((FRAMES, weight.shape[0], height, height), np.float32)
    rewrite_conv_transposes(model, {"x": x}, min_input_size=1, interleave="channels_last")
    return model


def tile_matrix(size: int) -> np.ndarray:
    """(size / 4 * 6, size): pad by 1, cut overlapping 6-row tiles at stride 4, apply B^T."""
    tiles = size // 4
    out = np.zeros((tiles, 6, size))
    for p in range(tiles):
        for r in range(6):
            if 0 <= 4 * p + r - 1 < size:
                out[p, :, 4 * p + r - 1] = BT[:, r]
    return out.reshape(tiles * 6, size)


def winograd_weights(weight) -> np.ndarray:
    """(36, Cin, 4 Cout) transformed kernels of the 3x3 phase-combined correlation."""
    cin, cout = weight.shape[:2]
    kernel = np.zeros((3, 3, cin, 2, 2, cout))
    for a in range(2):
        for b in range(2):
            for dy in range(2):
                for dx in range(2):
                    kernel[a + dy, b + dx, :, a, b, :] = weight[:, :, 3 - a - 2 * dy,
                                                                3 - b - 2 * dx]
    kernel = kernel.reshape(3, 3, cin, 4 * cout)
    return np.einsum("ik,jl,klco->ijco", G, G, kernel).reshape(36, cin, 4 * cout)


def winograd_model(weight, bias, size, gemm_only=False):
    cin, cout = weight.shape[:2]
    tiles = size // 4
    count = FRAMES * tiles * tiles
    f32 = np.float32
    inits = {"U": winograd_weights(weight.astype(np.float64)).astype(f32)}
    if gemm_only:
        return _model([helper.make_node("MatMul", ["x", "U"], ["y"])], [36, count, cin], "y",
                      inits, rank=3)
    inits.update({
        "B": tile_matrix(size).astype(f32),
        "A": np.kron(AT, AT).astype(f32),                                       # (16, 36)
        "bias": np.tile(np.tile(bias, 4), count)[None].astype(f32),             # (1, T 4 Cout)
        "rows": np.array([FRAMES, size, size * cin]), "cols": np.array([-1, size, cin]),
        "tiles": np.array([FRAMES, tiles, 6, tiles, 6, cin]),
        "batch": np.array([36, count, cin]), "flat": np.array([36, -1]),
        "out": np.array([4, 4, FRAMES, tiles, tiles, 2, 2, cout]),
        "nhwc": np.array([FRAMES, 2 * size, 2 * size, cout]),
    })
    node = helper.make_node
    nodes = [
        node("Reshape", ["x", "rows"], ["x2"]),                       # (N, H, W C)
        node("MatMul", ["B", "x2"], ["t1"]),                          # (N, 6 th, W C)
        node("Reshape", ["t1", "cols"], ["t2"]),                      # (N 6 th, W, C)
        node("MatMul", ["B", "t2"], ["t3"]),                          # (N 6 th, 6 tw, C)
        node("Reshape", ["t3", "tiles"], ["t4"]),
        node("Transpose", ["t4"], ["t5"], perm=[2, 4, 0, 1, 3, 5]),   # (6, 6, N, th, tw, C)
        node("Reshape", ["t5", "batch"], ["t6"]),
        node("MatMul", ["t6", "U"], ["m"]),                           # (36, T, 4 Cout)
        node("Reshape", ["m", "flat"], ["m2"]),
        node("Gemm", ["A", "m2", "bias"], ["o1"]),                    # (16, T 4 Cout) + bias
        node("Relu", ["o1"], ["o2"]),
        node("Reshape", ["o2", "out"], ["o3"]),                       # (4, 4, N, th, tw, 2, 2, C)
        node("Transpose", ["o3"], ["o4"], perm=[2, 3, 0, 5, 4, 1, 6, 7]),
        node("Reshape", ["o4", "nhwc"], ["y"]),
    ]
    return _model(nodes, [FRAMES, size, size, cin], "y", inits)


def session(model, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    return ort.InferenceSession(model.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


def block_ms(sess, feeds, calls):
    start = time.perf_counter()
    for _ in range(calls):
        sess.run(None, feeds)
    return (time.perf_counter() - start) / calls * 1000


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--calls", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    for cin, cout, size in LAYERS:
        weight = (rng.standard_normal((cin, cout, 4, 4)) * (2 / (16 * cin)) ** 0.5).astype(
            np.float32)
        bias = (rng.standard_normal(cout) * 0.1).astype(np.float32)
        x = rng.standard_normal((FRAMES, cin, size, size)).astype(np.float32)
        x_nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        reference = session(conv_transpose_model(weight, bias), args.threads).run(
            None, {"x": x})[0]
        forms = {
            "phase_nhwc": (session(phase_model(weight, bias, size), args.threads), {"x": x}),
            "winograd": (session(winograd_model(weight, bias, size), args.threads),
                         {"x": x_nhwc}),
            "gemm only": (session(winograd_model(weight, bias, size, gemm_only=True),
                                  args.threads),
                          {"x": rng.standard_normal((36, FRAMES * (size // 4) ** 2, cin))
                           .astype(np.float32)}),
        }
        scale = np.abs(reference).max()
        errors = {
            "phase_nhwc": np.abs(forms["phase_nhwc"][0].run(None, {"x": x})[0] - reference).max(),
            "winograd": np.abs(forms["winograd"][0].run(None, {"x": x_nhwc})[0]
                               - reference.transpose(0, 2, 3, 1)).max(),
        }
        for name, error in errors.items():
            if error > 1e-4 * scale:
                raise SystemExit(f"{name} differs from ConvTranspose by {error:.3g}")
        times = {name: [] for name in forms}
        for sess, feeds in forms.values():
            block_ms(sess, feeds, 3)
        for _ in range(args.repeats):
            for name, (sess, feeds) in forms.items():
                times[name].append(block_ms(sess, feeds, args.calls))
        figures = ", ".join(f"{name} {statistics.median(t):.2f} ms" for name, t in times.items())
        worst = max(errors.values()) / scale
        print(f"{cin}->{cout} channels, {size}x{size} -> {2 * size}x{2 * size}, {FRAMES} frames: "
              f"{figures} (largest error {worst:.1e} of the output's largest value)", flush=True)


if __name__ == "__main__":
    main()
