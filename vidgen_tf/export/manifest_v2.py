"""Write an export's manifest, version 2 (the schema and its checks live in
`vidgen_tf.runtime.manifest`, which the runtime reads it with)."""

from __future__ import annotations

import datetime
from pathlib import Path

from vidgen_tf import __version__
from vidgen_tf.export.spec import ExportSpec
from vidgen_tf.runtime.manifest import (
    FORMAT,
    FORMAT_VERSION,
    OUTPUT_LAYOUT,
    check_manifest,
    file_sha256,
)
from vidgen_tf.runtime.sampling import sampling_spec

DEFAULT_FPS = 8.0


def build_manifest(name: str, spec: ExportSpec, generator, trainer, provenance: dict,
                   export_dir: Path, graph_info: dict, fps: float | None,
                   parity: dict) -> dict:
    """The manifest of an export whose graphs and assets are already in `export_dir`.

    Args:
        graph_info: {graph name: {"file", "opset", "precision", ...tuning notes}}.
        parity: {"graphs": {graph name: figures}, "end_to_end": figures}.
    """
    import keras
    import tensorflow as tf
    import tf2onnx

    graphs = {}
    for graph_name, graph in spec.graphs.items():
        info = dict(graph_info[graph_name])
        path = export_dir / info["file"]
        info.update(sha256=file_sha256(path), bytes=path.stat().st_size,
                    inputs={n: ["batch", *graph.input_spec(spec, n)["shape"]]
                            for n in graph.inputs},
                    outputs=graph.outputs)
        graphs[graph_name] = info
    assets = {asset: {"sha256": file_sha256(export_dir / asset)} for asset in spec.assets}
    resolved = provenance.get("resolved") or {}
    conditioning = {}
    if resolved.get("conditions"):
        conditioning = {"conditions": resolved["conditions"],
                        "dataset": (provenance.get("train_config") or {}).get("data")}
        if "captions" in resolved:
            conditioning.update(captions=resolved["captions"],
                                held_out_captions=resolved.get("held_out_captions", []))
    params = spec.sampler["params"]
    output = params.get("output", "video")
    task = getattr(trainer, "task", "generation")
    frames = trainer.horizon if task == "prediction" else generator.frames
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "family": (getattr(generator, "family", None) or type(trainer).__name__).lower(),
        "task": task,
        "video": {"frames": frames, "height": generator.size,
                  "width": generator.size, "channels": generator.channels,
                  "fps": DEFAULT_FPS if fps is None else float(fps)},
        "dims": spec.dims,
        "inputs": spec.inputs,
        "graphs": graphs,
        "sampler": spec.sampler,
        "sampling": sampling_spec(spec.inputs, spec.dims),
        "assets": assets,
        "conditioning": conditioning,
        "output": {"name": output, "graph": spec.sampler["params"].get("graph", "generator"),
                   "layout": OUTPUT_LAYOUT, "dtype": "float32", "range": [-1.0, 1.0],
                   "to_uint8": "round((x + 1) * 127.5), clipped"},
        "generator": type(generator).__name__,
        "generator_config": generator.get_config(),
        "parity": parity,
        "provenance": {**provenance, "vidgen_tf": __version__, "tensorflow": tf.__version__,
                       "keras": keras.__version__, "tf2onnx": tf2onnx.__version__,
                       "exported_at": datetime.datetime.now(datetime.UTC).isoformat(
                           timespec="seconds")},
    }
    check_manifest(manifest, export_dir / "manifest.json")  # what the runtime will accept
    return manifest
