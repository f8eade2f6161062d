"""Parity checks of an export: each graph against its Keras network, and the sampler end to end.

Each graph is run by Keras, by the reloaded SavedModel and by onnxruntime on the same example
inputs, at the trained clip length and (when the length may change) at 1.5 times it. Then the
export's sampler runs once with the Keras networks and once with the onnxruntime sessions as
its graphs: the two videos must agree too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vidgen_tf.export.onnx_convert import ExportError
from vidgen_tf.export.spec import ExportSpec, example_inputs

# Keras, the reloaded SavedModel and onnxruntime must agree to this (max abs, float32) on
# outputs within [-1, 1]. Larger outputs (a predictor's linear frames, a step's memories)
# carry rounding in proportion: the limit is this times the largest |output| Keras gives.
PARITY_TOLERANCE = 1e-4
PARITY_BATCH = 4


def check_lengths(spec: ExportSpec) -> list[int | None]:
    bounds = spec.dims["frames"]
    if bounds["min"] == bounds["max"]:
        return [None]
    return [None, min(bounds["default"] + bounds["default"] // 2, bounds["max"])]


def load_session(path: Path):
    import onnxruntime as ort

    try:
        return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ExportError(f"onnxruntime cannot load the converted model (tf2onnx wrote an "
                          f"invalid graph): {exc}".splitlines()[0]) from exc


def verify_graph(spec: ExportSpec, graph: str, saved_model_dir: Path, onnx_path: Path) -> dict:
    """Max abs differences of the SavedModel and onnxruntime against Keras for one graph.

    onnxruntime must load the file (tf2onnx writes an invalid graph when an op is not
    supported, and only logs an error).
    """
    import tensorflow as tf

    session = load_session(onnx_path)
    serving = tf.saved_model.load(str(saved_model_dir)).signatures[signature_name(graph)]
    graph_spec = spec.graphs[graph]
    outputs = list(graph_spec.outputs)
    lengths = check_lengths(spec)
    worst = {"savedmodel": 0.0, "onnxruntime": 0.0}
    scale = 1.0
    for seed, frames in enumerate(lengths):
        feeds = example_inputs(spec, PARITY_BATCH, seed=seed, frames=frames)
        feeds = {k: feeds[k] for k in graph_spec.inputs}
        expected = graph_spec.keras_call(feeds)
        scale = max([scale] + [float(np.max(np.abs(expected[name]))) for name in outputs])
        saved = serving(**{k: tf.constant(v) for k, v in feeds.items()})
        got = {"savedmodel": {name: saved[name] for name in outputs},
               "onnxruntime": dict(zip(outputs, session.run(outputs, feeds), strict=True))}
        for key, values in got.items():
            for output in outputs:
                value = np.asarray(values[output])
                if value.shape != expected[output].shape:
                    raise ExportError(f"{key} returned shape {value.shape} for output "
                                      f"{output!r} of graph {graph!r}, Keras "
                                      f"{expected[output].shape}")
                worst[key] = max(worst[key], float(np.max(np.abs(value - expected[output]))))
    limit = parity_limit(scale)
    for key, diff in worst.items():
        if not diff <= limit:
            raise ExportError(f"{key} differs from Keras by {diff:.3g} (max abs) on graph "
                              f"{graph!r} with fixed inputs; the limit is {limit:.3g} "
                              f"({PARITY_TOLERANCE:g} x the largest |output|, {scale:.3g}, "
                              "or 1). Nothing was written")
    default = spec.dims["frames"]["default"]
    return {"keras_vs_savedmodel": worst["savedmodel"],
            "keras_vs_onnxruntime": worst["onnxruntime"], "tolerance": limit,
            "output_scale": scale,
            "checked_on": f"{PARITY_BATCH} clips of seeded inputs, frames "
                          f"{[f or default for f in lengths]}"}


def verify_end_to_end(spec: ExportSpec, onnx_paths: dict[str, Path]) -> dict:
    """The export's sampler driven by the Keras networks and by onnxruntime, on the same
    inputs: max abs difference of the two videos."""
    from vidgen_tf.runtime.samplers import get_sampler, session_graph

    manifest_like = {"sampler": spec.sampler}
    keras_sampler = get_sampler(manifest_like, {name: g.keras_call
                                                for name, g in spec.graphs.items()})
    onnx_sampler = get_sampler(manifest_like, {
        name: session_graph(load_session(path)) for name, path in onnx_paths.items()})
    feeds = example_inputs(spec, PARITY_BATCH, seed=99)
    expected = keras_sampler(feeds)
    diff = float(np.max(np.abs(expected - onnx_sampler(feeds))))
    limit = parity_limit(float(np.max(np.abs(expected))))
    if not diff <= limit:
        raise ExportError(f"the {spec.sampler['name']} sampler gives videos that differ by "
                          f"{diff:.3g} (max abs) between Keras and onnxruntime; the limit is "
                          f"{limit:.3g}. Nothing was written")
    return {"sampler": spec.sampler["name"], "max_abs": diff, "clips": PARITY_BATCH,
            "tolerance": limit}


def parity_limit(scale: float) -> float:
    """The largest max-abs difference allowed on outputs whose largest magnitude is
    `scale`: `PARITY_TOLERANCE`, or that much per unit of a larger output."""
    return PARITY_TOLERANCE * max(1.0, scale)


def signature_name(graph: str) -> str:
    """The SavedModel signature of a graph: "serving_default" for an export's main graph."""
    return "serving_default" if graph in ("generator", "predictor", "step") else graph
