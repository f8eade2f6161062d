"""`vidgen evaluate predict`: a predictor's MSE, MAE, SSIM and PSNR per frame on held-out
clips (the MMNIST-synthetic test set for Moving MNIST, a fixed SM-MNIST test set), beside the
copy-last-frame and all-black baselines; for a stochastic predictor, the best and the mean of
N samples per clip and their diversity."""

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
SMMNIST_NUM = 1_000
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
                    "MMNIST-synthetic test set (Moving MNIST from MNIST test digits), "
                    "--data stochastic_mnist a fixed SM-MNIST test set (the same, with "
                    "digits that leave each wall in a random direction). A stochastic "
                    "predictor (one that draws noise, e.g. svg) can be scored on --samples N "
                    "predictions of every clip (seeds 0..N-1), as SVG and SRVP report it: "
                    "the best of N per clip, chosen for each metric by its score over the "
                    "horizon, the mean of N, and their diversity.")
    predict.add_argument("source", metavar="EXPORT_OR_RUN",
                         help="an export directory (run by onnxruntime), a run directory or a "
                              ".keras file (run by Keras)")
    predict.add_argument("--data", default="moving_mnist",
                         help="moving_mnist (default: the MMNIST-synthetic test set, 64x64), "
                              "stochastic_mnist (a fixed SM-MNIST test set of MNIST test "
                              "digits, 64x64), shapes (at the model's size), or a folder of "
                              "held-out videos (or one made by `vidgen data prepare`): --num "
                              "windows of context + horizon frames, at seeded random starts, "
                              "resized and cropped as in training")
    predict.add_argument("--context", type=int, default=10, help="frames given (default 10)")
    predict.add_argument("--horizon", type=int, default=10,
                         help="frames predicted and scored (default 10)")
    predict.add_argument("--num", type=int, default=None,
                         help=f"test clips (at most {MAX_NUM}; default {MAX_NUM}, "
                              f"{SMMNIST_NUM} of stochastic_mnist (scoring many samples of "
                              f"each is slow), or {FOLDER_NUM} windows of a folder)")
    predict.add_argument("--batch-size", type=int, default=50, help="clips per call (default 50)")
    predict.add_argument("--samples", type=int, default=1, metavar="N",
                         help="predictions per clip, with seeds 0..N-1 (default 1); N > 1 "
                              "needs a stochastic predictor and reports the best of N (per "
                              "clip, the sample with the lowest MSE, lowest MAE, highest SSIM, "
                              "highest PSNR over the horizon, each metric its own), the mean "
                              "of N, and the diversity, per step and overall: the mean over "
                              "clips of the mean over the pairs of samples i < j of "
                              "mean((x_i - x_j)^2) over pixels and channels, pixels in [0, 1] "
                              "(0 when the samples are equal)")
    predict.add_argument("--json", action="store_true",
                         help="end with one JSON line: mse, mae, ssim, psnr, clips and the "
                              "baselines; with --samples N > 1, mse, mae, ssim, psnr are the "
                              "best of N, and it adds \"mean\" (the mean of N: mse, mae, "
                              "ssim, psnr), \"diversity\", \"diversity_per_step\" and "
                              "\"samples\"")
    predict.set_defaults(run=run_predict)


def run_predict(args) -> int:
    from vidgen_tf.data.builtin import BUILTIN_DATASETS
    from vidgen_tf.metrics.prediction import (
        MMNIST_SIZE,
        PredictionScores,
        SampledPredictionScores,
        all_black,
        copy_last_frame,
        format_report,
        format_sampled_report,
        iter_test_batches,
        mmnist_test_source,
        smmnist_test_source,
    )

    folder = args.data not in BUILTIN_DATASETS
    if args.num is None:
        args.num = (FOLDER_NUM if folder else SMMNIST_NUM if args.data == "stochastic_mnist"
                    else MAX_NUM)
    if not 1 <= args.num <= MAX_NUM:
        raise VidgenError(f"--num must be between 1 and {MAX_NUM}; received {args.num}")
    for name in ("context", "horizon", "batch_size", "samples"):
        if getattr(args, name) < 1:
            raise VidgenError(f"--{name.replace('_', '-')} must be >= 1; received "
                              f"{getattr(args, name)}")
    if folder and not Path(args.data).is_dir():
        raise VidgenError(f"--data must be moving_mnist, shapes or a folder of videos (or "
                          f"stochastic_mnist); {args.data!r} is none of these")
    predict, described, (size, channels), stochastic = _predictor(args)
    if args.samples > 1 and not stochastic:
        raise VidgenError(f"{args.source} is a deterministic predictor (it draws no noise): "
                          f"every one of the --samples {args.samples} would be the same "
                          "prediction; use --samples 1")
    mnist = {"moving_mnist": (mmnist_test_source, "MMNIST-synthetic test set"),
             "stochastic_mnist": (smmnist_test_source, "SM-MNIST test set")}
    if args.data in mnist:
        if size != MMNIST_SIZE:
            raise VidgenError(f"--data {args.data} is {MMNIST_SIZE}x{MMNIST_SIZE} clips but "
                              f"{args.source} predicts {size}x{size} frames; score it on shapes "
                              "or a folder of videos")
        test_source, name = mnist[args.data]
        source = test_source(args.context, args.horizon, args.num)
        data_name = f"{name} ({args.num} clips)"
        batches = iter_test_batches(source, args.context, args.batch_size, channels=channels)
    elif args.data == "shapes":
        from vidgen_tf.data.builtin import make_builtin

        source = make_builtin("shapes", frames=args.context + args.horizon, size=size,
                              seed=HELD_OUT_SEED, num=args.num)
        data_name = f"shapes, {args.num} clips at {size}x{size} of seed {HELD_OUT_SEED}"
        batches = iter_test_batches(source, args.context, args.batch_size, channels=channels)
    else:
        data_name = (f"{args.data}, {args.num} windows at {size}x{size} (seed "
                     f"{HELD_OUT_SEED})")
        batches = _folder_batches(args, size, channels)
    model = PredictionScores() if args.samples == 1 else SampledPredictionScores()
    baselines = {"copy last frame": PredictionScores(), "all black": PredictionScores()}
    start, done = time.perf_counter(), 0
    for context, target in batches:
        if args.samples == 1:
            model.update(predict(context, args.horizon, 0), target)
        else:  # one sample of the batch in memory at a time
            model.update((predict(context, args.horizon, seed)
                          for seed in range(args.samples)), target)
        baselines["copy last frame"].update(copy_last_frame(context, args.horizon), target)
        baselines["all black"].update(all_black(context, args.horizon), target)
        done += len(context)
        print(f"\r{done}/{args.num} clips", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    results = {name: s.result() for name, s in baselines.items()}
    scored = model.result()
    samples = f", {args.samples} samples per clip (seeds 0..{args.samples - 1})" * (
        args.samples > 1)
    print(f"{described} on {data_name}, {args.context} -> {args.horizon} frames{samples} "
          f"({time.perf_counter() - start:.0f} s)")
    print(format_report({"model": scored, **results}) if args.samples == 1
          else format_sampled_report(scored, results))
    if args.json:
        metrics = ("mse", "mae", "ssim", "psnr")
        best = scored if args.samples == 1 else scored["best"]
        line = {**{k: best[k] for k in metrics}, "clips": done,
                "baselines": {name: {k: r[k] for k in metrics} for name, r in results.items()}}
        if args.samples > 1:
            line.update(mean={k: scored["mean"][k] for k in metrics},
                        diversity=scored["diversity"],
                        diversity_per_step=scored["diversity_per_step"], samples=args.samples)
        print(json.dumps(line))
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
    """(predict(uint8 context, horizon, seed) -> float predictions in [0, 1], description,
    (size, channels), stochastic: whether it draws noise, so that seeds change its
    predictions)."""
    path = Path(args.source)
    if (path / "manifest.json").is_file():
        from vidgen_tf.runtime import VideoGenerator

        generator = VideoGenerator(path)
        if "context" not in generator.conditions:
            raise VidgenError(f"{path} is not a predictor export (it takes no context); "
                              "evaluate generators with `vidgen evaluate fvd`")
        shape = generator.manifest["inputs"]["context"]["shape"]
        _check_lengths(args, shape[0], generator.max_frames, path)
        any_length = predicts_any_length(generator.manifest["sampler"]["name"])

        def predict(context, horizon, seed):
            frames = horizon if any_length else None
            feeds = generator.inputs(len(context), seed, frames=frames, context=context)
            params = {"frames": horizon} if any_length else {}
            return _unit(generator.run(feeds, **params)[:, :horizon])

        stochastic = any(item.get("role") == "noise"
                         for item in generator.manifest["inputs"].values())
        return predict, f"{generator.name} (onnxruntime)", (shape[1], shape[3]), stochastic
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
    stochastic = getattr(model, "stochastic", False) or any(
        item.get("role") == "noise" for item in model.export_spec().inputs.values())

    def predict(context, horizon, seed):
        seeded = {"seed": seed} if stochastic else {}
        return _unit(np.asarray(model.predict(uint8_to_float(context), horizon,
                                              **seeded))[:, :horizon])

    return predict, f"{path} (Keras)", (model.size, model.channels), stochastic


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
