"""`vidgen bench`: medians after warm-up for data loading (training and generation follow)."""

from __future__ import annotations

import argparse
import json
import statistics
import time

from vidgen_tf.errors import VidgenError


def add_parser(subparsers, common: argparse.ArgumentParser) -> None:
    bench = subparsers.add_parser("bench", parents=[common], help="time data loading",
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
    for name, issue in (("train", 3), ("generate", 4)):
        planned = kinds.add_parser(name, parents=[common], help=f"planned in issue #{issue}")
        planned.set_defaults(run=_planned(name, issue))


def _planned(name: str, issue: int):
    def run(args) -> int:
        raise VidgenError(f"`vidgen bench {name}` is not available yet (planned in issue "
                          f"#{issue})")

    return run


def run_data(args) -> int:
    for flag in ("batch_size", "batches", "repeats"):
        if getattr(args, flag) < 1:
            raise VidgenError(f"--{flag.replace('_', '-')} must be >= 1; received "
                              f"{getattr(args, flag)}")
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
