"""`vidgen data synth | inspect | prepare`: write, check and pre-decode video datasets."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from vidgen_tf.cli.progress import progress_bar


def add_parser(subparsers, common: argparse.ArgumentParser) -> None:
    data = subparsers.add_parser("data", parents=[common], help="write, check and prepare datasets",
                                 description="Write, check and pre-decode video datasets.")
    actions = data.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    synth = actions.add_parser(
        "synth", parents=[common], help="write a built-in dataset as video files",
        description="Write a built-in dataset as video files: one subfolder per class, and "
                    "a .txt caption next to each video. Deterministic for a seed.")
    synth.add_argument("--dataset", default="shapes", metavar="NAME",
                       help="built-in dataset: shapes (default) or moving_mnist")
    synth.add_argument("--num", type=int, default=64, help="number of clips (default 64)")
    synth.add_argument("--frames", type=int, default=None,
                       help="frames per clip (default: 16 for shapes, 20 for moving_mnist)")
    synth.add_argument("--size", type=int, default=None, help="frame height and width (default 64)")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    synth.add_argument("--out", required=True, help="output folder")
    synth.add_argument("--format", dest="fmt", choices=("mp4", "gif"), default="mp4",
                       help="video file format (default mp4, H.264)")
    synth.add_argument("--fps", type=float, default=8.0, help="frames per second (default 8)")
    synth.add_argument("--split", choices=("train", "test"), default="train",
                       help="moving_mnist: which MNIST digits to use (default train)")
    synth.add_argument("--mnist", default=None, metavar="NPZ",
                       help="moving_mnist: a Keras-format mnist.npz instead of the bundled digits")
    synth.add_argument("--overwrite", action="store_true",
                       help="replace an earlier `vidgen data synth` output in --out (never "
                            "anything else)")
    synth.set_defaults(run=run_synth)

    inspect = actions.add_parser(
        "inspect", parents=[common], help="report usable clips per class and skipped files",
        description="Decode every video under DIR and report the usable clips per class and "
                    "the skipped files with their reasons. Exits non-zero only when no video "
                    "is usable.")
    inspect.add_argument("dir", metavar="DIR", help="folder of videos (searched recursively)")
    inspect.add_argument("--frames", type=int, default=16,
                         help="clip length a usable video must cover (default 16)")
    inspect.add_argument("--stride", type=int, default=1, help="frame stride of a clip (default 1)")
    inspect.add_argument("--quick", action="store_true",
                         help="trust container headers instead of decoding every frame")
    inspect.add_argument("--workers", type=int, default=2, help="parallel decoders (default 2)")
    inspect.add_argument("--json", action="store_true", help="print the report as JSON")
    inspect.set_defaults(run=run_inspect)

    prepare = actions.add_parser(
        "prepare", parents=[common], help="decode a video folder once into TFRecord shards",
        description="Decode every usable video under SRC once, resized and center-cropped to "
                    "--size, into TFRecord shards that train much faster than decoding on "
                    "the fly. Pass the output folder as --data to training.")
    prepare.add_argument("src", metavar="SRC", help="folder of videos (searched recursively)")
    prepare.add_argument("--out", required=True, help="output folder for the shards")
    prepare.add_argument("--size", type=int, default=64, help="frame size to store (default 64)")
    prepare.add_argument("--max-frames", type=int, default=None,
                         help="store at most this many frames per video (default all)")
    prepare.add_argument("--min-frames", type=int, default=1,
                         help="skip videos shorter than this (default 1)")
    prepare.add_argument("--clips-per-shard", type=int, default=256,
                         help="videos per TFRecord shard (default 256)")
    prepare.add_argument("--workers", type=int, default=2, help="parallel decoders (default 2)")
    prepare.add_argument("--seed", type=int, default=0, help="seed of the shard shuffle")
    prepare.add_argument("--overwrite", action="store_true",
                         help="replace an earlier `vidgen data prepare` output in --out (never "
                              "anything else)")
    prepare.set_defaults(run=run_prepare)


def _check_at_least_one(args, *names: str) -> None:
    """Counts that must be >= 1 (None stands for a flag left at its "all" default)."""
    from vidgen_tf.errors import VidgenError

    for name in names:
        value = getattr(args, name)
        if value is not None and value < 1:
            raise VidgenError(f"--{name.replace('_', '-')} must be an integer >= 1; "
                              f"received {value}")


def run_synth(args) -> int:
    from vidgen_tf.data.synth import synthesize_dataset
    from vidgen_tf.errors import VidgenError

    if args.mnist is not None and args.dataset != "moving_mnist":
        raise VidgenError(f"--mnist applies to --dataset moving_mnist only; drop it for "
                          f"{args.dataset}")

    start = time.perf_counter()
    with progress_bar(args.num, f"synth {args.dataset}", unit="clip") as update:
        counts = synthesize_dataset(
            args.dataset, args.out, num=args.num, frames=args.frames, size=args.size,
            seed=args.seed, split=args.split, fmt=args.fmt, fps=args.fps,
            mnist_path=args.mnist, overwrite=args.overwrite, progress=update)
    elapsed = time.perf_counter() - start
    print(f"wrote {sum(counts.values())} {args.dataset} clips in {len(counts)} classes "
          f"to {args.out} ({elapsed:.1f} s)")
    return 0


def run_inspect(args) -> int:
    from vidgen_tf.data.folder import clip_span, find_video_files, scan_video_folder
    from vidgen_tf.errors import VidgenError

    root = Path(args.dir)
    if not root.is_dir():
        raise VidgenError(f"not a folder: {args.dir}")
    _check_at_least_one(args, "workers", "frames", "stride")
    files = find_video_files(root)
    labelled = bool(files) and any(len(f.relative_to(root).parts) > 1 for f in files)
    with progress_bar(len(files), "inspect") as update:
        scan = scan_video_folder(root, labels=labelled, min_frames=clip_span(args.frames,
                                 args.stride), deep=not args.quick, workers=args.workers,
                                 warn=False, progress=update)
    counts = scan.per_class_counts()
    if args.json:
        print(json.dumps({
            "folder": str(root), "usable": len(scan.records), "skipped": len(scan.skipped),
            "min_frames": scan.min_frames, "per_class": counts,
            "skipped_files": [{"path": s.path, "reason": s.reason} for s in scan.skipped],
        }))
    else:
        _print_inspect(scan, counts, labelled)
    return 0 if scan.records else 1


def _print_inspect(scan, counts: dict[str, int], labelled: bool) -> None:
    print(scan.summary())
    print(f"clip length checked: {scan.min_frames} frames")
    if labelled:
        width = max(len("class"), *(len(name) for name in counts))
        print(f"{'class':<{width}}  clips")
        for name, count in counts.items():
            print(f"{name:<{width}}  {count:5d}")
    if scan.skipped:
        print("skipped files:")
        for item in scan.skipped:
            print(f"  {item.path}: {item.reason}")
    if not scan.records:
        print(f"no usable video in {scan.root}")


def run_prepare(args) -> int:
    from vidgen_tf.cli.tf_quiet import import_tensorflow
    from vidgen_tf.data.folder import find_video_files
    from vidgen_tf.data.output_folder import check_output_folder, is_prepared_output
    from vidgen_tf.data.synth import MAX_SIZE
    from vidgen_tf.errors import VidgenError

    if not Path(args.src).is_dir():
        raise VidgenError(f"source folder not found: {args.src}")
    if not 1 <= args.size <= MAX_SIZE:
        raise VidgenError(f"--size must be between 1 and {MAX_SIZE}; received {args.size}")
    if args.seed < 0:
        raise VidgenError(f"--seed must be an integer >= 0; received {args.seed}")
    _check_at_least_one(args, "workers", "min_frames", "max_frames", "clips_per_shard")
    # Before TensorFlow loads and anything is decoded (prepare_tfrecords checks again).
    check_output_folder(args.out, overwrite=args.overwrite, recognise=is_prepared_output,
                        command="vidgen data prepare")
    import_tensorflow(getattr(args, "verbose", False))
    from vidgen_tf.data.tfrecord import prepare_tfrecords

    start = time.perf_counter()
    total = len(find_video_files(args.src)) if Path(args.src).is_dir() else 0
    with progress_bar(total, "prepare") as update:
        meta = prepare_tfrecords(
            args.src, args.out, size=args.size, max_frames=args.max_frames,
            min_frames=args.min_frames, clips_per_shard=args.clips_per_shard, seed=args.seed,
            workers=args.workers, overwrite=args.overwrite, progress=update)
    elapsed = time.perf_counter() - start
    classes = len(meta["class_names"] or [])
    print(f"prepared {meta['num_clips']} clips ({classes} classes, {len(meta['skipped'])} "
          f"skipped) into {meta['num_shards']} shards in {args.out} ({elapsed:.1f} s)")
    return 0
