"""`vidgen generate`: videos from an export directory with the thin runtime (no TensorFlow)."""

from __future__ import annotations

import argparse
import math
import os
import secrets
import tempfile
from pathlib import Path

import numpy as np

from vidgen_tf import __version__
from vidgen_tf.data.video_io import FPS_RANGES, check_fps
from vidgen_tf.errors import VidgenError
from vidgen_tf.runtime.video_generator import MAX_RESULT_BYTES

OUTPUT_FORMATS = (".mp4", ".gif", ".npy")
MAX_NUM = 10_000
# A 32x32 grid at scale 8 is still a small file; beyond that, nothing gains.
MAX_SCALE = 8
# --scale auto enlarges what is written (the grid, or one video) until its shorter side has
# this many pixels: a 32x32 model's 4x4 grid (138 px) is hard to see at 1x on a screen.
AUTO_SCALE_SIDE = 256
# Peak memory while writing .mp4/.gif, in units of the (scaled) grid: x264's lookahead and
# FFmpeg's palettegen hold every frame again. Measured 2.9x-3.6x (peak RSS, 16-frame 32x32
# model, --num 64/144 at --scale 4/8), rounded up.
WRITE_MEMORY_FACTOR = 4


def add_parser(subparsers, common: argparse.ArgumentParser) -> None:
    generate = subparsers.add_parser(
        "generate", parents=[common], help="generate videos from an exported model (ONNX)",
        description="Generate videos with onnxruntime from a `vidgen export` directory; "
                    "TensorFlow is never imported. .mp4 and .gif get a grid of all videos; "
                    ".npy gets the uint8 array (num, frames, height, width, channels): 3 "
                    "channels, or 1 for a grey predictor.")
    generate.add_argument("path", metavar="PATH", help="export directory (holds manifest.json)")
    generate.add_argument("--num", type=int, default=None,
                          help="videos to generate (default 16; with --context, one per "
                               "context clip)")
    generate.add_argument("--seed", type=int, default=None,
                          help="noise seed (default: a random one, printed)")
    generate.add_argument("--label", default=None,
                          help="class name (e.g. circle_left), or #INDEX for a class index "
                               "(e.g. '#0'), for a model that takes a label")
    generate.add_argument("--prompt", default=None, metavar="TEXT", action="append",
                          help='text prompt, e.g. "a red circle moves left", for a model that '
                               "takes text (its words must be in the model's vocabulary); "
                               "repeat it to give the videos different prompts, in turn")
    generate.add_argument("--first-frame", default=None, metavar="FILE",
                          help="png/jpg image, or a video whose first frame is used, for a model "
                               "that animates a given frame (resized and cropped like the data)")
    generate.add_argument("--context", default=None, metavar="FILE",
                          help="for a predictor: the frames to continue, a video file or a "
                               ".npy of uint8 (N, K, H, W, C) for N clips at once (resized and "
                               "cropped like the data; the last K the model takes are used)")
    generate.add_argument("--actions", default=None, metavar="A,B,...|FILE.npy",
                          help="for an action-conditioned export: one action per predicted "
                               'frame, as names ("right,right,up,...", the export lists its '
                               "names) or a .npy of integer ids (H,) for every video or (N, H), "
                               "one row per video; --frames defaults to their count")
    generate.add_argument("--with-context", action="store_true",
                          help="with --context: put the context frames in front of the "
                               "predicted ones")
    generate.add_argument("--frames", type=int, default=None,
                          help="clip length, or frames to predict (default: the trained "
                               "length)")
    generate.add_argument("--fps", type=float, default=None,
                          help="frames per second of the file (default: the manifest's)")
    generate.add_argument("--provider", default=None,
                          help="onnxruntime provider, e.g. CPUExecutionProvider (default: CUDA "
                               "when it loads, else CPU)")
    generate.add_argument("--scale", default="auto", metavar="SCALE",
                          help="enlarge every pixel to SCALE x SCALE in .mp4/.gif output "
                               f"(an integer from 1 to {MAX_SCALE}). Default auto: the smallest "
                               "integer that makes the grid (or the one video) at least "
                               f"{AUTO_SCALE_SIDE} px on its shorter side, at most "
                               f"{MAX_SCALE}; 1 when it already is (a 32x32 model: a 16-video "
                               "grid at 2, one video at 8). .npy is never scaled")
    generate.add_argument("--out", required=True, help="output file: .mp4, .gif or .npy")
    generate.set_defaults(run=run_generate)


def run_generate(args) -> int:
    from vidgen_tf.runtime import VideoGenerator

    out = Path(args.out)
    if out.suffix.lower() not in OUTPUT_FORMATS:
        raise VidgenError(f"--out must end in {', '.join(OUTPUT_FORMATS)}; received {args.out}")
    if args.with_context and args.context is None:
        raise VidgenError("--with-context needs --context FILE (the frames to continue)")
    context = _read_context(args.context) if args.context is not None else None
    if args.num is None:
        args.num = len(context) if context is not None else 16
    elif context is not None and len(context) not in (1, args.num):
        raise VidgenError(f"--context {args.context} holds {len(context)} clips but --num is "
                          f"{args.num}; drop --num to predict one video per clip")
    if not 1 <= args.num <= MAX_NUM:
        raise VidgenError(f"--num must be between 1 and {MAX_NUM}; received {args.num}")
    scale = _parse_scale(args.scale)
    if args.fps is not None and not 0 < args.fps < math.inf:
        raise VidgenError(f"--fps must be a positive number; received {args.fps:g}")
    video_out = out.suffix.lower() != ".npy"
    if video_out and args.fps is not None:
        check_fps(args.fps, out.suffix, name="--fps")
    _check_writable(out)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    providers = [args.provider] if args.provider is not None else None
    generator = VideoGenerator(args.path, providers=providers)
    if context is not None and "context" not in generator.conditions:
        raise VidgenError(f"{args.path} does not predict from context frames (it is a "
                          f"{generator.manifest.get('task', 'generation')} model); --context "
                          "is for a predictor export (convlstm, predrnn, simvp)")
    if video_out:
        if args.fps is None:
            _check_manifest_fps(generator.fps, out.suffix, args.path)
        height, width = _written_size(args.num, generator)
        if scale is None:
            scale = auto_scale(height, width)
        _check_write_memory(args, generator, scale)
    prompt = args.prompt
    if prompt is not None:  # one prompt for all, or several taken in turn
        prompt = prompt[0] if len(prompt) == 1 else [prompt[i % len(prompt)]
                                                     for i in range(args.num)]
    conditions = {"label": args.label, "prompt": prompt}
    if args.actions is not None:
        if "actions" not in generator.conditions:
            raise VidgenError(f"{args.path} takes no actions (it is not action-conditioned); "
                              "drop --actions, or use an export trained with --condition "
                              "actions")
        conditions["actions"] = _read_actions(args.actions)
        if args.frames is None:
            args.frames = np.shape(conditions["actions"])[-1]
    first_frame = None
    if args.first_frame is not None:
        first_frame = _read_first_frame(args.first_frame)
    try:
        videos = generator.generate(args.num, seed=seed, frames=args.frames,
                                    first_frame=first_frame, context=context, **conditions)
        if args.with_context:
            from vidgen_tf.data.pixels import float_to_uint8
            from vidgen_tf.runtime.contexts import prepare_context

            shown = float_to_uint8(prepare_context(
                context, args.num, generator.manifest["inputs"]["context"]["shape"]))
            videos = np.concatenate([shown, videos], axis=1)
    except ValueError as exc:  # a condition the export does not take, an unknown word...
        raise VidgenError(str(exc)) from exc
    given = {k: v for k, v in {**conditions, "prompt": args.prompt, "actions": args.actions,
                               "first_frame": args.first_frame,
                               "context": args.context}.items() if v is not None}
    if len(given.get("prompt", [])) == 1:
        given["prompt"] = given["prompt"][0]
    metadata = {"generator": f"vidgen_tf {__version__}", "export": generator.name,
                "model_sha256": {name: graph["sha256"] for name, graph in
                                 generator.manifest["graphs"].items()},
                "seed": seed, "num": args.num, "conditions": given,
                "note": "generated video (AI-generated, not a recording)"}
    try:
        if out.suffix.lower() == ".npy":
            _save_npy(out, videos)
        else:
            from vidgen_tf.data.grid import video_grid
            from vidgen_tf.data.video_io import write_video

            grid = video_grid(videos) if len(videos) > 1 else videos[0]
            if grid.shape[-1] == 1:  # grey: video files hold RGB
                grid = np.repeat(grid, 3, axis=-1)
            if scale > 1:  # nearest neighbour: (T, H, W, 3) -> (T, H*s, W*s, 3)
                grid = grid.repeat(scale, axis=1).repeat(scale, axis=2)
            write_video(out, grid, fps=args.fps if args.fps is not None else generator.fps,
                        metadata=metadata)
    except OSError as exc:  # a full disk, a folder that changed meanwhile, ...
        raise VidgenError(f"cannot write {out}: {exc.strerror or exc}") from exc
    count, frames = len(videos), videos.shape[1]
    shown = ""
    if video_out:
        size = f"{grid.shape[2]}x{grid.shape[1]}"
        shown = (f", as a {size} grid" if count > 1 else f", written {size}") + f" at scale {scale}"
        if args.scale == "auto":
            shown += " (auto; --scale 1 for the raw size)" if scale > 1 else " (auto)"
    print(f"wrote {out}: {count} video{'s' * (count != 1)} of {frames} frame{'s' * (frames != 1)} "
          f"{videos.shape[2]}x{videos.shape[3]}{shown} (seed {seed}, {generator.providers[0]})")
    return 0


def _parse_scale(value: str) -> int | None:
    """--scale: an integer in [1, MAX_SCALE], or None for auto."""
    if value == "auto":
        return None
    try:
        scale = int(value)
    except ValueError:
        scale = None
    if scale is None or not 1 <= scale <= MAX_SCALE:
        raise VidgenError(f"--scale must be between 1 and {MAX_SCALE}, or auto; received "
                          f"{value}")
    return scale


def auto_scale(height: int, width: int) -> int:
    """The smallest integer scale that makes a height x width picture at least
    AUTO_SCALE_SIDE pixels on its shorter side, capped at MAX_SCALE (1 when it already is)."""
    return max(1, min(MAX_SCALE, math.ceil(AUTO_SCALE_SIDE / min(height, width))))


def _written_size(num: int, generator) -> tuple[int, int]:
    """(height, width) of what an .mp4/.gif holds before scaling: the grid of `num` videos,
    or one video as it is."""
    video = generator.manifest["video"]
    height, width = video["height"], video["width"]
    if num > 1:
        from vidgen_tf.data.grid import grid_size

        _, height, width = grid_size(num, height, width)
    return height, width


def _check_manifest_fps(fps: float, ext: str, export: str) -> None:
    """The export's fps is the default; say so when this format cannot store it."""
    low, high = FPS_RANGES[ext.lower()]
    if not low <= fps <= high:
        raise VidgenError(f"{export} plays at {fps:g} fps (its manifest), but {ext.lower()} files "
                          f"hold {low:g} to {high:g} fps: pass --fps within that range, or "
                          "write another format")


def _check_write_memory(args, generator, scale: int) -> None:
    """Refuse an .mp4/.gif whose grid, enlarged by `scale`, would not fit in memory: check it
    before any video is generated."""
    frames = args.frames or generator.frames
    if frames > generator.max_frames:
        return  # generate() refuses this --frames with its own message
    video = generator.manifest["video"]
    height, width = _written_size(args.num, generator)
    height, width = height * scale, width * scale
    grid_bytes = frames * height * width * 3
    videos_bytes = args.num * frames * video["height"] * video["width"] * video["channels"]
    needed = videos_bytes + WRITE_MEMORY_FACTOR * grid_bytes
    if needed > MAX_RESULT_BYTES:
        raise VidgenError(f"--num {args.num} --scale {scale} makes a {width}x{height} grid "
                          f"of {frames} frames, which needs about {needed / 2**30:.1f} GiB of "
                          f"memory to write as {args.out}; the limit is "
                          f"{MAX_RESULT_BYTES / 2**30:.0f} GiB: lower --num, --scale or "
                          "--frames, or write .npy (never scaled)")


def _check_writable(out: Path) -> None:
    """Fail before generating if `out` cannot be written: try a file in its folder."""
    if out.is_dir():
        raise VidgenError(f"cannot write {out}: it is a folder; give a file name such as "
                          f"{out / ('videos' + out.suffix)}")
    if out.parent.exists() and not out.parent.is_dir():
        raise VidgenError(f"cannot write {out}: {out.parent} is a file, not a folder")
    if not out.parent.is_dir():
        raise VidgenError(f"cannot write {out}: folder {out.parent} does not exist")
    try:
        with tempfile.NamedTemporaryFile(dir=out.parent, prefix=f".{out.name}.",
                                         suffix=".probe"):
            pass
    except OSError as exc:
        raise VidgenError(f"cannot write {out}: folder {out.parent} does not take new files "
                          f"({exc.strerror or exc})") from exc


def _save_npy(path: Path, array: np.ndarray) -> None:
    """np.save through a temporary file, so an interrupted write leaves nothing."""
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}.npy")
    try:
        np.save(tmp, array)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _read_actions(text: str):
    """--actions: comma-separated names as a list, or the integer ids of a .npy file."""
    if not text.lower().endswith(".npy"):
        names = [part.strip() for part in text.split(",")]
        if not all(names):
            raise VidgenError(f"--actions takes comma-separated action names (e.g. "
                              f"right,right,up) or a .npy file; received {text!r}")
        return names
    try:
        ids = np.load(text, allow_pickle=False)
    except FileNotFoundError as exc:
        raise VidgenError(f"--actions {text}: no such file") from exc
    except (OSError, ValueError) as exc:
        raise VidgenError(f"--actions {text} is not a readable .npy file ({exc})") from exc
    if ids.dtype.kind not in "iu" or ids.ndim not in (1, 2) or 0 in ids.shape:
        raise VidgenError(f"--actions {text} must hold integer action ids (H,) or (N, H); "
                          f"found {ids.dtype} of shape {ids.shape}")
    return ids


def _read_context(path: str) -> np.ndarray:
    """--context: uint8 clips `(n, frames, height, width, channels)` from a .npy file (one clip
    or n) or the frames of a video file (one clip)."""
    from vidgen_tf.data.video_io import read_video
    from vidgen_tf.errors import VideoReadError

    if not Path(path).is_file():
        raise VidgenError(f"--context {path}: no such file")
    if path.lower().endswith(".npy"):
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise VidgenError(f"--context {path} is not a readable .npy file ({exc})") from exc
        if array.dtype != np.uint8 or array.ndim not in (4, 5):
            raise VidgenError(f"--context {path} must hold uint8 frames (K, H, W, C) or clips "
                              f"(N, K, H, W, C); it holds {array.dtype} {array.shape}")
        return array[None] if array.ndim == 4 else array
    try:
        frames = read_video(path)
    except VideoReadError as exc:
        raise VidgenError(f"--context {path} is not a readable video ({exc}); give a video "
                          "file or a .npy of uint8 clips") from exc
    if len(frames) == 0:
        raise VidgenError(f"--context {path} holds no frame")
    return frames[None]


def _read_first_frame(path: str) -> np.ndarray:
    """The first frame of an image (png, jpg) or video file, uint8 `(height, width, 3)`."""
    from vidgen_tf.data.video_io import read_video
    from vidgen_tf.errors import VideoReadError

    if not Path(path).is_file():
        raise VidgenError(f"--first-frame {path}: no such file")
    try:
        frames = read_video(path, max_frames=1)
    except VideoReadError as exc:
        raise VidgenError(f"--first-frame {path} is not a readable image or video ({exc}); "
                          "give a png/jpg image or a video file") from exc
    if len(frames) == 0 or min(frames.shape[1:3]) < 1:
        raise VidgenError(f"--first-frame {path} holds no frame; give a png/jpg image or a "
                          "video file")
    return frames[0]
