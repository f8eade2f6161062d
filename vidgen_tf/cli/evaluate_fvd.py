"""`vidgen evaluate fvd`: Fréchet Video Distance with the Kinetics-400 I3D, beside a real-vs-real
reference on the same data."""

from __future__ import annotations

import argparse
import json
import time

from vidgen_tf.cli.clip_sources import (
    check_exists,
    data_batches,
    export_batches,
    model_shape,
    open_export,
    run_batches,
    source_kind,
)
from vidgen_tf.cli.progress import progress_bar
from vidgen_tf.errors import VidgenError

DEFAULT_NUM = 256


def add_parser(actions, common: argparse.ArgumentParser) -> None:
    """Add `fvd` to the subparsers `actions` of `vidgen evaluate`."""
    fvd = actions.add_parser(
        "fvd", parents=[common], help="Fréchet Video Distance between real and generated clips",
        description="Fréchet Video Distance (Unterthiner et al. 2018) as the google-research "
                    "reference computes it: frames resized to 224x224, Kinetics-400 I3D "
                    "logits averaged over time, Fréchet distance of the two Gaussians. Lower "
                    "is better. The usual setup is 2048 clips of 16 frames per side; fewer "
                    "than 256 gives a biased value (said in the output). Beside it, a "
                    "reference: real vs real on two disjoint halves of the real clips, and the "
                    "fake clips against one half at the same count (no extra I3D pass). The "
                    "first run downloads the I3D weights (47 MB, see `vidgen evaluate "
                    "fetch-i3d`).")
    fvd.add_argument("--real", required=True, metavar="DATA",
                     help="built-in dataset name (shapes, shapes_actions, moving_mnist, "
                          "stochastic_mnist), video folder, or a folder made by `vidgen data "
                          "prepare`")
    fvd.add_argument("--fake", required=True, metavar="DATA|EXPORT_DIR|RUN_DIR",
                     help="a dataset as for --real (drawn with --seed + 1, so the same name "
                          "twice compares two independent draws), an export directory "
                          "(manifest.json + model.onnx), or a training run directory "
                          "(model.keras): clips are generated on the fly")
    fvd.add_argument("--num", type=int, default=DEFAULT_NUM,
                     help=f"clips per side (default {DEFAULT_NUM})")
    fvd.add_argument("--frames", type=int, default=None,
                     help="frames per clip, at least 9 (default: the model's, else 16)")
    fvd.add_argument("--size", type=int, default=None,
                     help="frame size clips are loaded at before I3D's resize to 224 "
                          "(default: the model's, else the dataset's or 64)")
    fvd.add_argument("--seed", type=int, default=0,
                     help="seed of the clips, the noise and the reference's split (default 0)")
    fvd.add_argument("--batch-size", type=int, default=8, help="clips per I3D call (default 8)")
    fvd.add_argument("--precision", choices=("auto", "float32", "mixed_bfloat16"),
                     default="auto",
                     help="I3D compute precision: auto (default: mixed_bfloat16 on a CPU with "
                          "bfloat16 instructions, else float32), float32 or mixed_bfloat16; "
                          "bfloat16 changed FVD by <0.5%% in the README's measurements")
    fvd.add_argument("--reference", action=argparse.BooleanOptionalAction, default=True,
                     help="also report real vs real on two disjoint halves of the real clips, "
                          "and the fake clips against the second half at the same count, "
                          "from the features already computed: what a good FVD is on this "
                          "data (default: on; no extra I3D pass, under a second)")
    fvd.add_argument("--i3d-weights", metavar="FILE", default=None,
                     help="I3D weights (.ckpt or .npz) instead of the cached ones, which "
                          "are downloaded on first use (47 MB); for machines with no network")
    fvd.add_argument("--json", action="store_true",
                     help="print one JSON object with fvd, counts, reference and settings as "
                          "the last line")
    fvd.set_defaults(run=run_fvd)


def _features(batches, model, batch_size: int, total: int, desc: str):
    """I3D features of a stream of uint8 clip batches, and the (frames, size) of its clips.

    Clips are dropped as soon as they are embedded, so memory does not grow with --num.
    """
    import numpy as np

    from vidgen_tf.metrics.fvd import i3d_logits

    features, shape = [], None
    with progress_bar(total, desc, unit="clip") as update:
        for batch in batches:
            shape = shape or (int(batch.shape[1]), int(batch.shape[2]))
            features.append(i3d_logits(batch, batch_size=batch_size, model=model,
                                       progress=update))
    return (np.concatenate(features) if features else np.zeros((0, 400))), shape


def _check_args(args) -> None:
    if args.num < 2:
        raise VidgenError(f"FVD needs at least 2 clips per side; received --num {args.num}")
    if args.batch_size < 1:
        raise VidgenError(f"--batch-size must be >= 1; received {args.batch_size}")
    if args.size is not None and args.size < 1:  # 0 must not mean "the default size"
        raise VidgenError(f"--size must be >= 1 (or left out for the model's size); received "
                          f"{args.size}")
    if args.frames is not None and args.frames < 9:
        raise VidgenError(f"--frames must be at least 9 (I3D's final pool needs 2 time steps "
                          f"after three stride-2 reductions); received {args.frames}")
    if source_kind(args.real) != "data":
        raise VidgenError(f"--real must be a dataset (built-in name or folder); {args.real} is "
                          "a model directory")
    for flag, spec in (("--real", args.real), ("--fake", args.fake)):
        check_exists(flag, spec)


def _reference_lines(reference, num_real: int, num_fake: int) -> tuple[str, str]:
    """The reference line, and the note on how to read it."""
    n = reference.clips_per_side
    full = (f"{num_real} per side" if num_real == num_fake
            else f"{num_fake} fake and {num_real} real clips")
    return (f"reference at {n} clips per side: real vs real {reference.real_vs_real:.2f} (two "
            f"disjoint halves of the {num_real} real clips), fake vs real "
            f"{reference.fake_vs_real:.2f} ({n} fake clips vs the second half)",
            f"FVD reads higher from {n} clips per side than from {full}: compare the "
            f"reference values with each other, not with the FVD above")


def run_fvd(args) -> int:
    _check_args(args)
    kind = source_kind(args.fake)
    # A damaged export fails here, in a second, rather than after TensorFlow and I3D load.
    exported = open_export(args.fake) if kind == "export" else None
    from vidgen_tf.cli.tf_quiet import import_tensorflow
    from vidgen_tf.metrics.i3d_weights import cached_weights_path, resolve_weights_path

    if args.i3d_weights is None and not cached_weights_path().is_file():
        import_tensorflow(getattr(args, "verbose", False))  # the first-use fetch checks with I3D
    weights = resolve_weights_path(args.i3d_weights)  # fail (or fetch) before any slow work
    import_tensorflow(getattr(args, "verbose", False))
    from vidgen_tf.metrics.fvd import bias_note, frechet_distance, load_i3d
    from vidgen_tf.metrics.fvd_reference import fvd_reference

    model_frames, model_size = (model_shape(args.fake, kind, exported) if kind != "data"
                                else (None, None))
    frames = args.frames or model_frames or 16
    size = args.size or model_size
    start = time.perf_counter()
    model = load_i3d(weights, args.precision)
    notes: list[str] = []
    # A fixed-length model refuses an explicit clip length, even its own.
    model_frames_arg = None if args.frames in (None, model_frames) else args.frames
    if kind == "export":
        fake_batches = export_batches(exported, args.num, model_frames_arg, args.seed,
                                      args.real, notes)
    elif kind == "run":
        fake_batches = run_batches(args.fake, args.num, model_frames_arg, args.seed, notes)
    else:
        fake_batches = data_batches(args.fake, args.num, frames, size, args.seed + 1, notes)
    fake, shape = _features(fake_batches, model, args.batch_size, args.num, "fake clips")
    if len(fake) < 2:
        raise VidgenError(f"FVD needs at least 2 clips per side; {args.fake} gave {len(fake)}")
    # The real clips take the fake clips' length and size.
    frames, size = shape[0], size or shape[1]
    real, _ = _features(data_batches(args.real, args.num, frames, size, args.seed, notes),
                        model, args.batch_size, args.num, "real clips")
    if len(real) < 2:
        raise VidgenError(f"FVD needs at least 2 clips per side; {args.real} gave {len(real)}")
    fvd = frechet_distance(real, fake)
    reference = None
    if args.reference and len(real) >= 4:
        reference = fvd_reference(real, fake, seed=args.seed)
    elif args.reference:
        notes.append(f"no real-vs-real reference: it needs at least 4 real clips (two halves "
                     f"of 2); received {len(real)}")
    bias = bias_note(len(real), len(fake))
    if bias is None and len(real) != len(fake):
        notes.append(f"the sides differ ({len(fake)} fake and {len(real)} real clips): compare "
                     f"this FVD only with FVDs computed from the same counts on each side")
    elapsed = time.perf_counter() - start
    print(f"FVD {fvd:.2f}  ({args.fake} vs {args.real}: {len(fake)} fake and {len(real)} real "
          f"clips of {frames} frames at {size}x{size}, I3D {model.precision}, {elapsed:.0f} s)")
    if bias:
        notes.append(bias)
    if reference is not None:
        line, note = _reference_lines(reference, len(real), len(fake))
        print(line)
        notes.append(note)
    for note in notes:
        print(f"note: {note}")
    if args.json:
        print(json.dumps({
            "fvd": round(fvd, 4), "num_real": len(real), "num_fake": len(fake),
            "reference": reference.as_dict() if reference is not None else None,
            "real": args.real, "fake": args.fake, "fake_kind": kind, "frames": frames,
            "size": size, "seed": args.seed, "precision": model.precision,
            "i3d_weights": str(weights), "biased": bias is not None,
            "seconds": round(elapsed, 1)}))
    return 0
