"""`vidgen evaluate predict`: a predictor's MSE, MAE, SSIM and PSNR per frame on held-out
clips (the MMNIST-synthetic test set for Moving MNIST), beside the copy-last-frame and
all-black baselines."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from vidgen_tf.errors import VidgenError
from vidgen_tf.runtime.samplers import predicts_any_length

MAX_NUM = 10_000
FOLDER_NUM = 500
# Not the MMNIST seed: the shapes clips scored are not the training stream's first clips; a
# folder's windows start at random frames drawn with it.
HELD_OUT_SEED = 20221


def add_parser(actions, common: argparse.ArgumentParser) -> None:
    predict = actions.add_parser(
        "predict", parents=[common], help="score a frame predictor (MSE, MAE, SSIM, PSNR)",
        description="Score a predictor on held-out clips: MSE and MAE per frame (pixels in "
                    "[0, 1], summed over the frame, averaged over frames and clips, as the "
                    "OpenSTL and PredRNN tables), SSIM (scikit-image, data_range 1) and "
                    "PSNR, with their per-step curves, beside two baselines: copying the last "
                    "context frame and predicting black. --data moving_mnist uses the fixed "
                    "MMNIST-synthetic test set (Moving MNIST from MNIST test digits).")
    predict.add_argument("source", metavar="EXPORT_OR_RUN",
                         help="an export directory (run by onnxruntime), a run directory or a "
                              ".keras file (run by Keras)")
    predict.add_argument("--data", default="moving_mnist",
                         help="moving_mnist (default: the MMNIST-synthetic test set), shapes, "
                              "or a folder of held-out videos (or one made by `vidgen data "
                              "prepare`): --num windows of context + horizon frames, at seeded "
                              "random starts, resized and cropped as in training")
    predict.add_argument("--context", type=int, default=10, help="frames given (default 10)")
    predict.add_argument("--horizon", type=int, default=10,
                         help="frames predicted and scored (default 10)")
    predict.add_argument("--num", type=int, default=None,
                         help=f"test clips (at most {MAX_NUM}; default {MAX_NUM}, or "
                              f"{FOLDER_NUM} windows of a folder)")
    predict.add_argument("--batch-size", type=int, default=50, help="clips per call (default 50)")
    predict.add_argument("--json", action="store_true",
                         help="end with one JSON line: mse, mae, ssim, psnr and the baselines")
    predict.set_defaults(run=run_predict)


def run_predict(args) -> int:
    from vidgen_tf.data.builtin import BUILTIN_DATASETS
    from vidgen_tf.metrics.prediction import (
        PredictionScores,
        all_black,
        copy_last_frame,
        format_report,
        iter_test_batches,
        mmnist_test_source,
    )

    folder = args.data not in BUILTIN_DATASETS
    if args.num is None:
        args.num = FOLDER_NUM if folder else MAX_NUM
    if not 1 <= args.num <= MAX_NUM:
        raise VidgenError(f"--num must be between 1 and {MAX_NUM}; received {args.num}")
    for name in ("context", "horizon", "batch_size"):
        if getattr(args, name) < 1:
            raise VidgenError(f"--{name.replace('_', '-')} must be >= 1; received "
                              f"{getattr(args, name)}")
    if folder and not Path(args.data).is_dir():
        raise VidgenError(f"--data must be moving_mnist, shapes or a folder of videos; "
                          f"{args.data!r} is none of these")
    predict, described, (size, channels) = _predictor(args)
    if args.data == "moving_mnist":
        source = mmnist_test_source(args.context, args.horizon, args.num)
        data_name = f"MMNIST-synthetic test set ({args.num} clips)"
        batches = iter_test_batches(source, args.context, args.batch_size, channels=channels)
    elif args.data == "shapes":
        from vidgen_tf.data.builtin import make_builtin

        source = make_builtin("shapes", frames=args.context + args.horizon, size=64,
                              seed=HELD_OUT_SEED, num=args.num)
        data_name = f"shapes, {args.num} clips of seed {HELD_OUT_SEED}"
        batches = iter_test_batches(source, args.context, args.batch_size, channels=channels)
    else:
        data_name = (f"{args.data}, {args.num} windows at {size}x{size} (seed "
                     f"{HELD_OUT_SEED})")
        batches = _folder_batches(args, size, channels)
    scores = {"model": PredictionScores(), "copy last frame": PredictionScores(),
              "all black": PredictionScores()}
    start, done = time.perf_counter(), 0
    for context, target in batches:
        scores["model"].update(predict(context, args.horizon), target)
        scores["copy last frame"].update(copy_last_frame(context, args.horizon), target)
        scores["all black"].update(all_black(context, args.horizon), target)
        done += len(context)
        print(f"\r{done}/{args.num} clips", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    results = {name: s.result() for name, s in scores.items()}
    print(f"{described} on {data_name}, {args.context} -> {args.horizon} frames "
          f"({time.perf_counter() - start:.0f} s)")
    print(format_report(results))
    if args.json:
        model = results["model"]
        print(json.dumps({"mse": model["mse"], "mae": model["mae"], "ssim": model["ssim"],
                          "psnr": model["psnr"], "clips": done,
                          "baselines": {name: {k: results[name][k] for k in
                                               ("mse", "mae", "ssim", "psnr")}
                                        for name in ("copy last frame", "all black")}}))
    return 0


def _folder_batches(args, size: int, channels: int):
    """(context, target) uint8 batches of `args.num` windows of a video folder, each video's
    window starting at a seeded random frame, framed and (for a grey model) averaged to grey
    as training frames them."""
    from vidgen_tf.cli.tf_quiet import import_tensorflow

    import_tensorflow(getattr(args, "verbose", False))
    from vidgen_tf.data.pipeline import load_dataset, match_channels, pipeline_error
    from vidgen_tf.data.pixels import float_to_uint8

    ds = load_dataset(args.data, frames=args.context + args.horizon, size=size,
                      seed=HELD_OUT_SEED, batch_size=args.batch_size, drop_remainder=False)
    left, error = args.num, None
    try:
        for batch in ds:
            clips = float_to_uint8(match_channels(batch["video"], channels).numpy())[:left]
            left -= len(clips)
            yield clips[:, :args.context], clips[:, args.context:]
            if not left:
                return
    except Exception as exc:  # the pipeline's own VidgenError, carried through TensorFlow
        error = pipeline_error(exc)
        if error is None:
            raise
    # Raised out here, with the dataset released: a live iterator's decoding threads would
    # hold the interpreter at exit (as in training).
    del ds
    if error is not None:
        raise error


def _predictor(args):
    """(predict(uint8 context) -> float predictions in [0, 1], description, (size,
    channels))."""
    path = Path(args.source)
    if (path / "manifest.json").is_file():
        from vidgen_tf.runtime import VideoGenerator

        generator = VideoGenerator(path)
        if "context" not in generator.conditions:
            raise VidgenError(f"{path} is not a predictor export (it takes no context); "
                              "evaluate generators with `vidgen evaluate fvd`")
        shape = generator.manifest["inputs"]["context"]["shape"]
        _check_lengths(args, shape[0], generator.max_frames, path)

        def predict(context, horizon):
            feeds = generator.inputs(len(context), context=context)
            params = {"frames": horizon} if predicts_any_length(
                generator.manifest["sampler"]["name"]) else {}
            return _unit(generator.run(feeds, **params))

        return predict, f"{generator.name} (onnxruntime)", (shape[1], shape[3])
    from vidgen_tf.cli.tf_quiet import import_tensorflow

    import_tensorflow(getattr(args, "verbose", False))
    from vidgen_tf.data.pixels import uint8_to_float
    from vidgen_tf.export.sources import resolve_source
    from vidgen_tf.models import load_model

    model_path, _ = resolve_source(path)
    model = load_model(model_path)
    if getattr(model, "task", None) != "prediction":
        raise VidgenError(f"{path} holds a {type(model).__name__}, not a frame predictor")
    limit = 16 * model.horizon if model.recurrent else model.horizon
    _check_lengths(args, model.context, limit, path)

    def predict(context, horizon):
        return _unit(model.predict(uint8_to_float(context), horizon))

    return predict, f"{path} (Keras)", (model.size, model.channels)


def _check_lengths(args, context: int, max_horizon: int, path) -> None:
    if args.context < context:
        raise VidgenError(f"--context {args.context} is shorter than the {context} frames "
                          f"{path} predicts from")
    if args.horizon > max_horizon:
        raise VidgenError(f"--horizon {args.horizon} is beyond what {path} predicts (at most "
                          f"{max_horizon} frames)")


def _unit(video) -> np.ndarray:
    """Model output in [-1, 1] -> [0, 1], clipped (the range the metrics are defined on)."""
    return np.clip((np.asarray(video, np.float32) + 1.0) / 2.0, 0.0, 1.0)
