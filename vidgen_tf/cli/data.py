"""`vidgen data synth | inspect | prepare`: write, check and pre-decode video datasets."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from vidgen_tf.cli.progress import progress_bar
from vidgen_tf.data.framing import HEAVY_CROP


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
                       help="built-in dataset: shapes (default), shapes_actions (direction "
                            "changes), moving_mnist or stochastic_mnist (digits leave a wall "
                            "in a random direction)")
    synth.add_argument("--num", type=int, default=64, help="number of clips (default 64)")
    synth.add_argument("--frames", type=int, default=None,
                       help="frames per clip (default: 16 for shapes, 20 for the MNIST ones)")
    synth.add_argument("--size", type=int, default=None, help="frame height and width (default 64)")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    synth.add_argument("--out", required=True, help="output folder")
    synth.add_argument("--format", dest="fmt", choices=("mp4", "gif"), default="mp4",
                       help="video file format (default mp4, H.264)")
    synth.add_argument("--fps", type=float, default=8.0, help="frames per second (default 8)")
    synth.add_argument("--split", choices=("train", "test"), default="train",
                       help="moving_mnist, stochastic_mnist: which MNIST digits to use "
                            "(default train)")
    synth.add_argument("--mnist", default=None, metavar="NPZ",
                       help="moving_mnist, stochastic_mnist: a Keras-format mnist.npz instead "
                            "of the bundled digits")
    synth.add_argument("--overwrite", action="store_true",
                       help="replace an earlier `vidgen data synth` output in --out (never "
                            "anything else)")
    synth.set_defaults(run=run_synth)

    inspect = actions.add_parser(
        "inspect", parents=[common], help="list every video: usable or why not, per class",
        description="Decode every video under DIR and list each one (class, size, frames, "
                    "fps, and usable or why not, with a warning when fitting it into "
                    "--size x --size crops heavily or upscales), then the usable clips per "
                    "class. Takes the flags of `vidgen data prepare`, which keeps the same "
                    "videos. Exits non-zero only when no video is usable.")
    inspect.add_argument("dir", metavar="DIR", help="folder of videos (searched recursively)")
    _add_clip_flags(inspect)
    inspect.add_argument("--quick", action="store_true",
                         help="trust container headers instead of decoding every frame")
    inspect.add_argument("--workers", type=int, default=2, help="parallel decoders (default 2)")
    inspect.add_argument("--json", action="store_true", help="print the report as JSON")
    inspect.set_defaults(run=run_inspect)

    prepare = actions.add_parser(
        "prepare", parents=[common], help="decode a video folder once into TFRecord shards",
        description="Decode every usable video under SRC once, resized and center-cropped to "
                    "--size, into TFRecord shards that train much faster than decoding on "
                    "the fly. Names every skipped video and every one cropped heavily or "
                    "upscaled; `vidgen data inspect` with the same flags lists the same "
                    "videos. Pass the output folder as --data to training.")
    prepare.add_argument("src", metavar="SRC", help="folder of videos (searched recursively)")
    prepare.add_argument("--out", required=True, help="output folder for the shards")
    _add_clip_flags(prepare)
    prepare.add_argument("--max-frames", type=int, default=None,
                         help="store at most this many frames per video (default all)")
    prepare.add_argument("--clips-per-shard", type=int, default=256,
                         help="videos per TFRecord shard (default 256)")
    prepare.add_argument("--workers", type=int, default=2, help="parallel decoders (default 2)")
    prepare.add_argument("--seed", type=int, default=0, help="seed of the shard shuffle")
    prepare.add_argument("--overwrite", action="store_true",
                         help="replace an earlier `vidgen data prepare` output in --out (never "
                              "anything else)")
    prepare.set_defaults(run=run_prepare)


def _add_clip_flags(parser: argparse.ArgumentParser) -> None:
    """The flags by which `inspect` and `prepare` judge a video, alike."""
    parser.add_argument("--frames", type=int, default=None,
                        help="frames per training clip; shorter videos are skipped (default 16)")
    parser.add_argument("--stride", type=int, default=None,
                        help="frame stride of a training clip (default 1); a clip covers "
                             "(frames - 1) * stride + 1 source frames")
    parser.add_argument("--min-frames", type=int, default=None,
                        help="skip only videos shorter than this, instead of one clip's span "
                             "(e.g. to keep videos for training with fewer --frames later)")
    parser.add_argument("--size", type=int, default=64,
                        help="frames are resized and center-cropped to SIZE x SIZE; videos "
                             f"cropped by more than {HEAVY_CROP:.0%}% of a side or upscaled are "
                             "flagged (default 64)")


def _min_frames(args) -> tuple[int, str]:
    """The shortest video kept (the rule `min_video_frames` shared with training), and the
    flags it comes from."""
    from vidgen_tf.data.folder import min_video_frames
    from vidgen_tf.data.synth import MAX_SIZE
    from vidgen_tf.errors import VidgenError

    _check_at_least_one(args, "frames", "stride", "min_frames")
    if not 1 <= args.size <= MAX_SIZE:
        raise VidgenError(f"--size must be between 1 and {MAX_SIZE}; received {args.size}")
    if args.min_frames is not None:
        if args.frames is not None or args.stride is not None:
            raise VidgenError("--min-frames replaces the clip length of --frames and --stride; "
                              "pass either --min-frames or --frames/--stride, not both")
        return args.min_frames, f"--min-frames {args.min_frames}"
    frames, stride = args.frames or 16, args.stride or 1
    return (min_video_frames(frames, stride),
            f"one clip of --frames {frames} at --stride {stride}")


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

    if args.mnist is not None and args.dataset not in ("moving_mnist", "moving_mnist_1",
                                                       "stochastic_mnist"):
        raise VidgenError(f"--mnist applies to --dataset moving_mnist or stochastic_mnist "
                          f"only; drop it for "
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
    from vidgen_tf.data.folder import find_video_files, has_class_subfolders, scan_video_folder
    from vidgen_tf.errors import VidgenError

    root = Path(args.dir)
    if not root.is_dir():
        raise VidgenError(f"not a folder: {args.dir}")
    _check_at_least_one(args, "workers")
    min_frames, rule = _min_frames(args)
    files = find_video_files(root)
    labelled = has_class_subfolders(root, files)
    with progress_bar(len(files), "inspect") as update:
        scan = scan_video_folder(root, labels=labelled, min_frames=min_frames,
                                 deep=not args.quick, workers=args.workers, warn=False,
                                 progress=update)
    rows = _file_rows(scan, args.size)
    counts = scan.per_class_counts()
    if args.json:
        print(json.dumps({
            "folder": str(root), "usable": len(scan.records), "skipped": len(scan.skipped),
            "min_frames": scan.min_frames, "size": args.size, "per_class": counts,
            "warned": sum(1 for row in rows if row["warning"]),
            "files": rows,
            "skipped_files": [{"path": row["path"], "reason": row["reason"]}
                              for row in rows if not row["usable"]],
        }))
    else:
        _print_inspect(scan, rows, counts, labelled, rule, args.size)
    return 0 if scan.records else 1


def _file_rows(scan, size: int) -> list[dict]:
    """One dict per video file, usable or not, in path order (the --json "files")."""
    from vidgen_tf.data.folder import VideoRecord

    warnings = scan.framing_warnings(size)
    rows = []
    for item in sorted([*scan.records, *scan.skipped], key=lambda item: item.path):
        usable = isinstance(item, VideoRecord)
        rows.append({
            "path": scan.relative(item.path), "class": item.class_name,
            "width": item.width, "height": item.height, "frames": item.num_frames,
            "fps": item.fps, "usable": usable, "reason": None if usable else item.reason,
            "warning": warnings.get(item.path),
        })
    return rows


def _print_inspect(scan, rows: list[dict], counts: dict[str, int], labelled: bool, rule: str,
                   size: int) -> None:
    def cell(value, template="{}"):
        return "-" if value is None else template.format(value)

    table = [("file", *(("class",) if labelled else ()), "size", "frames", "fps", "status")]
    for row in rows:
        dims = f"{row['width']}x{row['height']}" if row["width"] else None
        status = (f"usable{'; ' + row['warning'] if row['warning'] else ''}" if row["usable"]
                  else f"skipped: {row['reason']}")
        table.append((row["path"], *((cell(row["class"]),) if labelled else ()), cell(dims),
                      cell(row["frames"]), cell(row["fps"], "{:.4g}"), status))
    widths = [min(60, max(len(line[i]) for line in table)) for i in range(len(table[0]) - 1)]
    numeric = {len(widths) - 2, len(widths) - 1}  # frames and fps, right-aligned
    for line in table:
        cells = [text.rjust(w) if i in numeric else text.ljust(w)
                 for i, (text, w) in enumerate(zip(line, widths, strict=False))]
        print("  ".join([*cells, line[-1]]))
    print()
    print(scan.summary())
    print(f"videos need {scan.min_frames} frames ({rule}); frames are fitted into "
          f"{size}x{size}")
    if labelled:
        width = max(len("class"), *(len(name) for name in counts))
        print(f"{'class':<{width}}  clips")
        for name, count in counts.items():
            print(f"{name:<{width}}  {count:5d}")
    warned = sum(1 for row in rows if row["warning"])
    if warned:
        print(f"{warned} usable video(s) cropped by more than {HEAVY_CROP:.0%} of a side or "
              f"upscaled to {size}x{size}: see their status above")
    if not scan.records:
        print(f"no usable video in {scan.root}")


def run_prepare(args) -> int:
    from vidgen_tf.cli.tf_quiet import import_tensorflow
    from vidgen_tf.data.folder import find_video_files
    from vidgen_tf.data.output_folder import check_output_folder, is_prepared_output
    from vidgen_tf.errors import VidgenError

    if not Path(args.src).is_dir():
        raise VidgenError(f"source folder not found: {args.src}")
    if args.seed < 0:
        raise VidgenError(f"--seed must be an integer >= 0; received {args.seed}")
    _check_at_least_one(args, "workers", "max_frames", "clips_per_shard")
    min_frames, rule = _min_frames(args)
    if args.max_frames is not None and args.max_frames < min_frames:
        raise VidgenError(f"--max-frames {args.max_frames} stores fewer frames than the "
                          f"{min_frames} a video needs ({rule}); raise --max-frames, or "
                          f"lower --frames or --min-frames")
    # Before TensorFlow loads and anything is decoded (prepare_tfrecords checks again).
    check_output_folder(args.out, overwrite=args.overwrite, recognise=is_prepared_output,
                        command="vidgen data prepare")
    import_tensorflow(getattr(args, "verbose", False))
    from vidgen_tf.data.tfrecord import prepare_tfrecords

    start = time.perf_counter()
    total = len(find_video_files(args.src))
    with progress_bar(total, "prepare") as update:
        meta = prepare_tfrecords(
            args.src, args.out, size=args.size, max_frames=args.max_frames,
            min_frames=min_frames, clips_per_shard=args.clips_per_shard, seed=args.seed,
            workers=args.workers, overwrite=args.overwrite, warn=False, progress=update)
    elapsed = time.perf_counter() - start
    for item in meta["skipped"]:
        print(f"skipped {item['path']}: {item['reason']}")
    for item in meta["warnings"]:
        print(f"warning: {item['path']}: {item['warning']}")
    classes = len(meta["class_names"] or [])
    print(f"prepared {meta['num_clips']} clips ({classes} classes) into {meta['num_shards']} "
          f"shards in {args.out} ({elapsed:.1f} s)")
    named = " (named above)" if meta["skipped"] or meta["warnings"] else ""
    print(f"videos need {min_frames} frames ({rule}), fitted into {args.size}x{args.size}: "
          f"{len(meta['skipped'])} skipped, {len(meta['warnings'])} cropped heavily or "
          f"upscaled{named}")
    return 0
