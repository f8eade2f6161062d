"""Export a trained generator: SavedModel + ONNX graphs + assets + manifest.json (version 2),
verified, written atomically.

    saved_models/NAME/          SavedModel; its serving signature takes the named inputs
                                (noise and conditions; dynamic batch) and returns {"video"}
    export/NAME/model.onnx      the same graph for onnxruntime
    export/NAME/tokenizer.json  a text-conditioned model's vocabulary (an asset)
    export/NAME/manifest.json   what the runtime needs (`vidgen_tf.runtime.manifest`),
                                written last

Both folders are built under temporary names beside their destinations and renamed only after
every check passed (`folders`): an interrupted or failed export leaves no directory the
runtime accepts. The steps: the export spec (`spec`), conversion and graph tuning
(`onnx_convert`), parity per graph and end to end (`parity`), the manifest (`manifest_v2`).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from vidgen_tf.export.folders import (
    DEFAULT_OPSET,
    MAX_OPSET,
    check_export_options,
    commit,
    existing_exports,
    staging,
)
from vidgen_tf.export.onnx_convert import (
    GRAPH_CANDIDATES,
    ExportError,
    convert_onnx,
    name_dims_in_file,
    rewrite_onnx,
)
from vidgen_tf.export.parity import PARITY_TOLERANCE, verify_end_to_end, verify_graph
from vidgen_tf.export.sources import float32_generator, resolve_source
from vidgen_tf.export.spec import example_inputs, generator_export_spec, serving_function
from vidgen_tf.runtime.manifest import MANIFEST_NAME, ONNX_NAME, file_sha256

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_OPSET", "GRAPH_CANDIDATES", "MAX_OPSET", "PARITY_TOLERANCE", "ExportError",
           "check_export_options", "existing_exports", "export_generator"]


def export_generator(source: str | os.PathLike, name: str, *,
                     saved_models_dir: str | os.PathLike = "saved_models",
                     export_dir: str | os.PathLike = "export", opset: int = DEFAULT_OPSET,
                     fps: float | None = None, quantize: str | None = None,
                     replace: bool = True) -> dict:
    """Export the generator of a run directory or `.keras` file; returns the manifest.

    An earlier export of the same name is replaced (atomically, and only once every check
    passed) unless `replace` is False; `existing_exports` tells which folders that would be.
    A folder in the way that is not an export is never replaced.

    Raises ExportError (and writes nothing) when onnxruntime cannot load the converted file or
    Keras, the SavedModel and onnxruntime disagree by more than `PARITY_TOLERANCE`.
    """
    from vidgen_tf.export.manifest_v2 import build_manifest
    from vidgen_tf.export.onnx_gru import recurrent_inputs, render_function

    check_export_options(name, opset=opset, fps=fps, quantize=quantize)
    existing_exports(name, saved_models_dir=saved_models_dir, export_dir=export_dir,
                     replace=replace)
    model_path, provenance = resolve_source(source)
    generator, trainer = float32_generator(model_path)
    resolved = provenance.get("resolved") or {}
    if hasattr(trainer, "export_spec"):  # a trainer knows what its export holds
        spec = trainer.export_spec(generator, class_names=resolved.get("class_names"))
    else:  # a bare generator saved on its own
        spec = generator_export_spec(generator, class_names=resolved.get("class_names"))
    predictor = getattr(trainer, "task", "generation") == "prediction"
    if quantize and not predictor and len(spec.inputs) != len(generator.noise_spec()):
        raise ExportError("int8 export is available for unconditional generators and "
                          "predictors only; export this model in float32 (drop --quantize)")
    saved_final = Path(saved_models_dir) / name
    export_final = Path(export_dir) / name
    with staging(saved_final) as saved_tmp, staging(export_final) as export_tmp:
        serves = {graph: serving_function(spec, graph) for graph in spec.graphs}
        logger.info("writing SavedModel to %s", saved_final)
        _save_savedmodel([generator, *(g.network for g in spec.graphs.values())], serves,
                         saved_tmp)
        graph_info, parities, onnx_paths = {}, {}, {}
        for graph, (serve, signature) in serves.items():
            logger.info("converting %s to ONNX (opset %d)", graph, opset)
            onnx_path = export_tmp / (ONNX_NAME if graph in ("generator", "predictor")
                                      else f"{graph}.onnx")
            grus = recurrent_inputs(generator) if graph == "generator" else {}
            if grus:  # converted without its GRU, which is spliced back in as an ONNX GRU op
                convert_onnx(*render_function(generator, signature, grus), opset, onnx_path)
            else:
                convert_onnx(serve, signature, opset, onnx_path)
            examples = [example_inputs(spec, 2, seed=0), example_inputs(spec, 1, seed=0)]
            examples = [{k: v for k, v in e.items() if k in spec.graphs[graph].inputs}
                        for e in examples]
            graph_info[graph] = rewrite_onnx(onnx_path, examples,
                                             for_int8=bool(quantize) and not predictor,
                                             grus=grus)
            # "batch", "frames", "tokens" rather than tf2onnx's "unk__139" in the shapes
            io_shapes = _graph_shapes(spec, graph)
            name_dims_in_file(onnx_path, io_shapes)
            parities[graph] = verify_graph(spec, graph, saved_tmp, onnx_path)
            onnx_paths[graph] = onnx_path
        end_to_end = verify_end_to_end(spec, onnx_paths)
        precision = "float32"
        if quantize and predictor:
            from vidgen_tf.export.quantize_predictor import quantize_predictor_int8

            (graph, onnx_path), = onnx_paths.items()
            parities[graph]["float32_onnx_sha256"] = file_sha256(onnx_path)
            parities[graph].update(quantize_predictor_int8(
                trainer, onnx_paths, (provenance.get("train_config") or {}).get("data")))
            name_dims_in_file(onnx_path, _graph_shapes(spec, graph))
            precision = quantize
        elif quantize:
            from vidgen_tf.export.quantize import quantize_int8

            onnx_path, parity = onnx_paths["generator"], parities["generator"]
            parity["float32_onnx_sha256"] = file_sha256(onnx_path)
            parity.update(quantize_int8(generator, onnx_path))
            name_dims_in_file(onnx_path, _graph_shapes(spec, "generator"))  # rebuilt graph
            precision = quantize
        for asset, content in spec.assets.items():
            (export_tmp / asset).write_text(json.dumps(content, indent=1))
        for graph, path in onnx_paths.items():
            graph_info[graph].update(file=path.name, opset=opset, precision=precision)
        manifest = build_manifest(
            name, spec, generator, trainer, provenance, export_tmp, graph_info=graph_info,
            fps=fps, parity={"graphs": parities, "end_to_end": end_to_end})
        from vidgen_tf.training.callbacks import write_json_atomic

        write_json_atomic(export_tmp / MANIFEST_NAME, manifest)
        # Checked again: the destinations may have changed while the export ran.
        for path in existing_exports(name, saved_models_dir=saved_models_dir,
                                     export_dir=export_dir, replace=replace):
            logger.info("replacing the earlier export %s", path)
        commit(saved_tmp, saved_final)
        commit(export_tmp, export_final)
    return manifest


def _save_savedmodel(networks: list, serves: dict, path: Path) -> None:
    """One signature per graph: the first is "serving_default", the others their names.
    `networks` holds every network the graphs call (e.g. a VAE's decoder and its prior)."""
    import tensorflow as tf

    from vidgen_tf.export.parity import signature_name

    module = tf.Module()
    module.networks = networks  # tracks the variables
    signatures = {}
    for index, (graph, (serve, _)) in enumerate(serves.items()):
        setattr(module, f"serve_{graph}", serve)
        signatures["serving_default" if index == 0 else signature_name(graph)] = serve
    tf.saved_model.save(module, str(path), signatures=signatures)


def _graph_shapes(spec, graph: str) -> dict[str, list]:
    """{input or output name: shape with "batch" and named dimensions} of one graph, as the
    manifest's "graphs" lists them."""
    shapes = {n: ["batch", *spec.graphs[graph].input_spec(spec, n)["shape"]]
              for n in spec.graphs[graph].inputs}
    return {**shapes, **spec.graphs[graph].outputs}
