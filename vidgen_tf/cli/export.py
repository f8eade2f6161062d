"""`vidgen export`: a trained generator to saved_models/NAME (SavedModel) and export/NAME (ONNX)."""

from __future__ import annotations

import argparse

from vidgen_tf.cli.tf_quiet import import_tensorflow


def add_parser(subparsers, common: argparse.ArgumentParser) -> None:
    export = subparsers.add_parser(
        "export", parents=[common], help="export a trained generator to SavedModel and ONNX",
        description="Export the generator of a run directory (or a .keras file) in inference "
                    "mode and float32: a SavedModel in SAVED_MODELS_DIR/NAME and model.onnx + "
                    "manifest.json in EXPORT_DIR/NAME. Keras, the reloaded SavedModel and "
                    "onnxruntime must agree to 1e-4 or nothing is written.")
    export.add_argument("source", metavar="RUN_DIR|MODEL.keras",
                        help="a `vidgen train` run directory or a .keras file")
    export.add_argument("--name", required=True, help="name of the exported model's folders")
    export.add_argument("--saved-models-dir", default="saved_models",
                        help="where the SavedModel folder goes (default ./saved_models)")
    export.add_argument("--export-dir", default="export",
                        help="where the ONNX folder goes (default ./export)")
    export.add_argument("--opset", type=int, default=17, help="ONNX opset, 13-18 (default 17)")
    export.add_argument("--fps", type=float, default=None,
                        help="frames per second recorded for players (default 8)")
    export.add_argument("--quantize", choices=["int8"], default=None,
                        help="also quantize the ONNX model (int8) for faster CPU generation")
    export.add_argument("--no-replace", dest="replace", action="store_false",
                        help="fail instead of replacing an earlier export of the same --name "
                             "(by default it is replaced, and the command says so)")
    export.set_defaults(run=run_export)


def run_export(args) -> int:
    from vidgen_tf.export.generator_export import (
        check_export_options,
        existing_exports,
        export_generator,
    )

    # Checked before TensorFlow loads and anything is loaded or converted.
    check_export_options(args.name, opset=args.opset, fps=args.fps, quantize=args.quantize)
    earlier = existing_exports(args.name, saved_models_dir=args.saved_models_dir,
                               export_dir=args.export_dir, replace=args.replace)
    import_tensorflow(getattr(args, "verbose", False))
    manifest = export_generator(args.source, args.name,
                                saved_models_dir=args.saved_models_dir,
                                export_dir=args.export_dir, opset=args.opset, fps=args.fps,
                                quantize=args.quantize, replace=args.replace)
    if earlier:
        print(f"replaced the earlier export named {args.name!r}: "
              f"{' and '.join(str(p) for p in earlier)}")
    print(f"SavedModel: {args.saved_models_dir}/{args.name}")
    for name, graph in manifest["graphs"].items():
        parity = manifest["parity"]["graphs"][name]
        print(f"ONNX:       {args.export_dir}/{args.name}/{graph['file']} "
              f"({graph['bytes'] / 1e6:.1f} MB, opset {graph['opset']}, {graph['precision']})")
        print(f"parity vs Keras (max abs): SavedModel {parity['keras_vs_savedmodel']:.2e}, "
              f"onnxruntime {parity['keras_vs_onnxruntime']:.2e}" + (
                  f" ({name} graph)" if len(manifest["graphs"]) > 1 else ""))
        if "int8_max_pixel_error" in parity:
            print(f"int8 quality cost: max pixel error {parity['int8_max_pixel_error']} / 255, "
                  f"mean {parity['int8_mean_pixel_error']:.2f}")
    print(f"sampler end to end ({manifest['sampler']['name']}): "
          f"{manifest['parity']['end_to_end']['max_abs']:.2e}")
    flags = _condition_flags(manifest)
    takes = [f"--{k.replace('_', '-')}" for k in ("label", "prompt", "first_frame", "context",
                                                   "actions") if k in flags]
    if takes:
        print(f"conditions: {', '.join(takes)}")
    example = " --context FILE" if "context" in flags else ""
    actions = [item["action_names"] for item in manifest["inputs"].values()
               if item["role"] == "actions"]
    if actions:
        example += f" --actions {','.join(actions[0][:2])},..."
    print(f"generate with: vidgen generate {args.export_dir}/{args.name}{example} "
          "--out samples.gif")
    return 0


def _condition_flags(manifest: dict) -> set[str]:
    from vidgen_tf.runtime.video_generator import KEYWORDS

    return {KEYWORDS[item["role"]] for item in manifest["inputs"].values()
            if item["role"] != "noise"}
