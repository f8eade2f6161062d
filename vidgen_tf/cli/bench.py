"""`vidgen bench`: medians after warm-up for data loading, training and generation."""

from __future__ import annotations

import argparse
import json
import statistics
import time

from vidgen_tf.cli.bench_generate import add_arguments as add_generate_arguments
from vidgen_tf.errors import VidgenError


def add_parser(subparsers, common: argparse.ArgumentParser) -> None:
    bench = subparsers.add_parser("bench", parents=[common],
                                  help="time data loading, training and generation",
                                  description="Benchmarks: medians after warm-up.")
    kinds = bench.add_subparsers(dest="kind", metavar="KIND")
    kinds.required = True
    data = kinds.add_parser(
        "data", parents=[common], help="clips/s of a data pipeline",
        description="Time a --data pipeline (built-in name, video folder, or a folder made by "
                    "`vidgen data prepare`): clips per second, median over repeats after "
                    "warm-up.")
    data.add_argument("data", metavar="DATA", help="built-in dataset name or folder")
    data.add_argument("--frames", type=int, default=16, help="frames per clip (default 16)")
    data.add_argument("--size", type=int, default=64, help="frame size (default 64)")
    data.add_argument("--stride", type=int, default=1, help="frame stride (default 1)")
    data.add_argument("--batch-size", type=int, default=16, help="clips per batch (default 16)")
    data.add_argument("--batches", type=int, default=8,
                      help="batches per timed repeat (default 8)")
    data.add_argument("--repeats", type=int, default=5, help="timed repeats (default 5)")
    data.add_argument("--warmup", type=int, default=4, help="untimed batches first (default 4)")
    data.add_argument("--json", action="store_true",
                      help="print one JSON object with clips_per_s as the last line")
    data.set_defaults(run=run_data)
    train = kinds.add_parser(
        "train", parents=[common], help="seconds per training iteration of a model",
        description="Time training iterations (every network's step) of a model preset on "
                    "an in-memory batch, so data loading is not timed: median after warm-up.")
    train.add_argument("--model", default="dcgan3d",
                       help="dcgan3d (default), vgan, mocogan, convlstm, predrnn or simvp")
    train.add_argument("--preset", default=None, help="named configuration of the model")
    train.add_argument("--batch-size", type=int, default=None,
                       help="batch size (default: the preset's)")
    train.add_argument("--precision", default="float32",
                       help="float32 (default), mixed_bfloat16 or mixed_float16")
    train.add_argument("--steps", type=int, default=10, help="timed steps (default 10)")
    train.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    train.add_argument("--json", action="store_true",
                       help="print one JSON object with median_step_s as the last line")
    train.set_defaults(run=run_train)
    generate = kinds.add_parser(
        "generate", parents=[common], help="videos/s of an exported generator (onnxruntime)",
        description="Time the runtime's onnxruntime call on an export directory, or on a "
                    "freshly initialised --model/--preset exported to a temporary folder: "
                    "videos per second, median over repeats after warm-up. Noise sampling "
                    "and the uint8 conversion are timed separately.")
    add_generate_arguments(generate)


def run_data(args) -> int:
    for flag in ("batch_size", "batches", "repeats"):
        if getattr(args, flag) < 1:
            raise VidgenError(f"--{flag.replace('_', '-')} must be >= 1; received "
                              f"{getattr(args, flag)}")
    if args.warmup < 0:
        raise VidgenError(f"--warmup must be >= 0; received {args.warmup}")
    from vidgen_tf.cli.tf_quiet import import_tensorflow

    import_tensorflow(getattr(args, "verbose", False))
    from vidgen_tf.data.pipeline import load_dataset

    ds = load_dataset(args.data, frames=args.frames, size=args.size, stride=args.stride,
                      batch_size=args.batch_size, seed=0)
    batches = iter(ds)
    for _ in range(args.warmup):
        next(batches)
    rates = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for _ in range(args.batches):
            next(batches)["video"].numpy()
        rates.append(args.batches * args.batch_size / (time.perf_counter() - start))
    median = statistics.median(rates)
    result = {"data": args.data, "frames": args.frames, "size": args.size,
              "batch_size": args.batch_size, "clips_per_s": round(median, 2),
              "repeats": [round(r, 2) for r in rates]}
    print(f"{args.data}: {median:.1f} clips/s (median of {args.repeats} x {args.batches} "
          f"batches of {args.batch_size}, {args.frames}x{args.size}x{args.size}, after "
          f"{args.warmup} warm-up batches)")
    if args.json:
        print(json.dumps(result))
    return 0


def run_train(args) -> int:
    if args.steps < 1 or args.warmup < 0:
        raise VidgenError(f"--steps must be >= 1 and --warmup >= 0; received steps={args.steps}"
                          f", warmup={args.warmup}")
    if args.batch_size is not None and args.batch_size < 1:
        raise VidgenError(f"--batch-size must be >= 1 (or left out for the preset's); received "
                          f"{args.batch_size}")
    from vidgen_tf.cli.tf_quiet import import_tensorflow

    tf = import_tensorflow(getattr(args, "verbose", False))
    import keras
    import numpy as np

    from vidgen_tf.models.registry import build_untrained, get_preset
    from vidgen_tf.training.setup import set_precision

    preset = get_preset(args.model, args.preset)
    batch_size = args.batch_size if args.batch_size is not None else (
        preset.get("batch_size") or 16)
    set_precision(args.precision)
    model = build_untrained(args.model, args.preset)
    model.compile()
    # A predictor trains on clips of context + horizon frames at its own channels; a
    # generator's discriminators see RGB clips of the generator's length.
    shaped = model if getattr(model, "task", "") == "prediction" else model.generator
    frames, size = shaped.frames, shaped.size
    channels = getattr(shaped, "channels", 3)
    rng = np.random.default_rng(0)
    element = {"video": rng.uniform(-1, 1, (batch_size, frames, size, size, channels))
               .astype("float32")}
    if getattr(shaped, "num_classes", 0):
        element["label"] = rng.integers(shaped.num_classes, size=batch_size)
        element["label"] = element["label"].astype("int32")
    data = tf.data.Dataset.from_tensors(element).repeat()

    class StepTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times, self._start = [], 0.0

        def on_train_batch_begin(self, batch, logs=None):
            self._start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            float(next(iter(logs.values())))  # wait for the step's results
            self.times.append(time.perf_counter() - self._start)

    timer = StepTimer()
    model.fit(data, epochs=1, steps_per_epoch=args.warmup + args.steps, callbacks=[timer],
              verbose=0, shuffle=False)
    timed = timer.times[args.warmup:]
    median = statistics.median(timed)
    result = {"model": args.model, "preset": args.preset, "batch_size": batch_size,
              "frames": frames, "size": size, "precision": args.precision,
              "median_step_s": round(median, 4), "steps": [round(t, 4) for t in timed]}
    print(f"{args.model} {args.preset or 'default'} ({frames}x{size}x{size}, batch {batch_size}, "
          f"{args.precision}): {median:.3f} s per training iteration (median of {args.steps} "
          f"after {args.warmup} warm-up)")
    if args.json:
        print(json.dumps(result))
    return 0
