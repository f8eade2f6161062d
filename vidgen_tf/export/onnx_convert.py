"""Convert a graph to ONNX with tf2onnx, then make it fast: the GRU splice, BatchNorm folding
and the fastest of three equivalent forms of the upsampling layers on this machine; and name
its dynamic axes as the manifest does."""

from __future__ import annotations

import logging
from pathlib import Path

from vidgen_tf.errors import VidgenError

logger = logging.getLogger(__name__)

# Equivalent float32 graphs that export times on this machine, keeping the fastest
# (onnx_rewrite.rewrite_conv_transposes arguments): every upsampling layer as ConvTranspose,
# or the larger ones as phase Convs interleaved by DepthToSpace (NCHW) or in NHWC.
GRAPH_CANDIDATES = {"conv_transpose": {"min_input_size": 2**31},
                    "as_conv": {"interleave": "depth_to_space"},
                    "phase_nhwc": {"interleave": "channels_last"}}


class ExportError(VidgenError):
    """An export that failed a check; nothing was written."""


def convert_onnx(serve, signature, opset: int, path: Path) -> None:
    import tf2onnx

    try:
        tf2onnx.convert.from_function(serve, input_signature=signature, opset=opset,
                                      output_path=str(path))
    except Exception as exc:  # tf2onnx raises assorted errors for unsupported graphs
        raise ExportError(f"tf2onnx could not convert the graph: {exc}".splitlines()[0]
                          ) from exc


def rewrite_onnx(path: Path, examples: list[dict], for_int8: bool, grus: dict) -> dict:
    """Splice in the GRUs, fold inference BatchNorm into the convolutions, and pick the fastest
    of three equivalent graphs on this machine (GRAPH_CANDIDATES): upsampling layers as
    ConvTranspose, or rewritten as phase Convs interleaved by DepthToSpace or in NHWC
    (onnx_rewrite). Which wins depends on the CPU: the DepthToSpace rewrite won on a Xeon with
    AVX-512, and on AMD EPYCs, where onnxruntime's DepthToSpace is slow, the ConvTranspose graph
    or the NHWC rewrite. Returns what was chosen and the timings.

    With `for_int8`, the ConvTranspose graph only: quantize_int8 rebuilds the upsampling chain
    from it.
    """
    import onnx

    from vidgen_tf.export.onnx_gru import splice_grus
    from vidgen_tf.export.onnx_rewrite import rewrite_conv_transposes

    noise, one_video = examples
    candidates = ({"conv_transpose": GRAPH_CANDIDATES["conv_transpose"]} if for_int8
                  else GRAPH_CANDIDATES)
    try:
        base = onnx.load(str(path))
        if grus:
            splice_grus(base, grus)
        built = {}
        for graph_name, limits in candidates.items():
            model = onnx.ModelProto()
            model.CopyFrom(base)
            count = rewrite_conv_transposes(model, noise, **limits)
            seconds = (None if len(candidates) == 1
                       else _seconds_per_video(model, one_video))
            built[graph_name] = (model, count, seconds)
    except Exception as exc:  # onnxruntime refusing the converted graph lands here first
        raise ExportError(f"onnxruntime cannot load the converted model (tf2onnx wrote an "
                          f"invalid graph): {exc}".splitlines()[0]) from exc
    chosen = min(built, key=lambda k: built[k][2] or 0.0)
    model, count, _ = built[chosen]
    onnx.save(model, str(path))
    info = {"graph": chosen, "conv_transposes_rewritten_as_conv": count,
            "recurrent_ops": sorted(grus)}
    if len(built) > 1:
        info["graph_ms_per_video"] = {k: round(v[2] * 1000, 3) for k, v in built.items()}
    return info


def _seconds_per_video(model, noise: dict) -> float:
    """Median seconds of one onnxruntime call on one video (after warm-up)."""
    import statistics
    import time

    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    for _ in range(3):
        session.run(None, noise)
    times = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(3):
            session.run(None, noise)
        times.append((time.perf_counter() - start) / 3)
    return statistics.median(times)


def name_dims(model, shapes: dict[str, list]) -> int:
    """Name the dynamic axes of a graph's inputs and outputs as the manifest does ("batch",
    "frames", "tokens") in place of tf2onnx's "unk__N"; returns how many were renamed.

    Args:
        model: an onnx ModelProto, changed in place.
        shapes: {input or output name: its manifest shape, e.g. ["batch", "frames", 10]}.

    Only the names change (`dim_param`, which onnxruntime shows as the shape of
    `session.get_inputs()`): an axis with a fixed size keeps it, and the computation is the
    same. Axes that share a name must agree at run time, which the manifest's names promise.
    """
    renamed = 0
    for value in [*model.graph.input, *model.graph.output]:
        declared = shapes.get(value.name)
        if declared is None:
            continue
        dims = value.type.tensor_type.shape.dim
        if len(dims) != len(declared):
            raise ExportError(f"the ONNX graph's {value.name!r} has {len(dims)} axes but the "
                              f"manifest shape {declared} has {len(declared)}")
        for dim, name in zip(dims, declared, strict=True):
            if isinstance(name, str) and not dim.HasField("dim_value") and (
                    dim.dim_param != name):
                dim.dim_param = name
                renamed += 1
    return renamed


def name_dims_in_file(path: Path, shapes: dict[str, list]) -> int:
    """`name_dims` on an ONNX file, rewritten only when a name changed."""
    import onnx

    model = onnx.load(str(path))
    renamed = name_dims(model, shapes)
    if renamed:
        onnx.save(model, str(path))
    return renamed
