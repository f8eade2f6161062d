"""Float32 matmul throughput of this CPU through onnxruntime: the ceiling the speed sections
of the README compare against.

    python benchmarks/cpu_matmul_peak.py [--threads 2]

Prints GFLOP/s (median of 20 calls after 5 warm-up) for a square 1024^3 product and for the
shapes of the MoCoGAN paper_64 generator's transposed convolutions (input pixels x input
channels x 16 output channels per kernel tap), which are far from square.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

SHAPES = [(1024, 1024, 1024), (1024, 2048, 256),  # square; deep and narrow
          (256, 512, 4096), (1024, 256, 2048), (4096, 128, 1024)]  # paper_64 up0, up1, up2


def matmul_gflops(m: int, k: int, n: int, threads: int) -> float:
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((k, n)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])],
        [numpy_helper.from_array(weight, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    x = rng.standard_normal((m, k)).astype(np.float32)
    for _ in range(5):
        session.run(None, {"x": x})
    times = []
    for _ in range(20):
        start = time.perf_counter()
        session.run(None, {"x": x})
        times.append(time.perf_counter() - start)
    return 2 * m * k * n / statistics.median(times) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    for m, k, n in SHAPES:
        print(f"MatMul {m}x{k} @ {k}x{n}: {matmul_gflops(m, k, n, args.threads):.0f} GFLOP/s")


if __name__ == "__main__":
    main()
