"""Video files <-> uint8 arrays with PyAV: read anything FFmpeg reads, write mp4 (H.264) or gif.

This module never imports TensorFlow: the thin runtime uses it too. Arrays are channels-last
`(frames, height, width, 3)`.

Why PyAV and not tensorflow-io: tensorflow-io's native ops do not load on TensorFlow 2.21, its
video decoder needs FFmpeg 4, and upstream declared the project abandoned. PyAV bundles its own
FFmpeg and decodes in C; the tf.data pipelines call it through `tf.numpy_function`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path

import numpy as np

from vidgen_tf.data.pixels import float_to_uint8
from vidgen_tf.data.video_metadata import insert_gif_comment as _insert_gif_comment
from vidgen_tf.data.video_metadata import metadata_json as _metadata_json
from vidgen_tf.data.video_metadata import read_video_metadata  # noqa: F401  (part of the API)
from vidgen_tf.errors import VideoReadError, VidgenError

logger = logging.getLogger(__name__)

#: Extensions that folder scans treat as video candidates (FFmpeg reads many more if named).
VIDEO_EXTENSIONS = (
    ".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".gif", ".mpg", ".mpeg", ".ogv", ".flv",
    ".wmv", ".3gp", ".ts",
)
WRITE_EXTENSIONS = (".mp4", ".gif")
#: Frames per second that `write_video` stores exactly (or, for gif, to the hundredth of a
#: second), per extension. Gif delays are whole hundredths of a second and browsers play any
#: delay under 0.02 s as 0.1 s, so 50 fps is the fastest gif; at 0.1 fps a frame shows for 10 s.
#: MP4 stores any rate as a fraction; 240 fps is the fastest that cameras and displays use.
FPS_RANGES = {".gif": (0.1, 50.0), ".mp4": (0.1, 240.0)}
_FPS_LIMITS_WHY = {
    ".gif": "gif frame delays are whole hundredths of a second, and browsers play delays under "
            "0.02 s at 0.1 s",
    ".mp4": "slower is a still image, faster is more than cameras and displays use",
}


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    """What a container header says about its first video stream.

    `num_frames` is exact when the container records it, else estimated from duration x fps,
    else None (then only decoding can tell).
    """

    path: str
    width: int
    height: int
    fps: float
    num_frames: int | None
    codec: str
    duration_s: float | None


def _import_av():
    try:
        import av
        import av.filter
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise VidgenError(
            "PyAV is not installed; install it with `pip install av` "
            "(or the vidgen_tf[train] / vidgen_tf[runtime] extra)"
        ) from exc
    av.logging.set_level(av.logging.PANIC)  # FFmpeg's own stderr chatter; errors still raise
    return av


def _open(path: str | os.PathLike):
    """Open a container for reading, turning every failure into a VideoReadError with a reason."""
    av = _import_av()
    path = str(path)
    if not os.path.exists(path):
        reason = "broken symlink" if os.path.islink(path) else "file not found"
        raise VideoReadError(path, reason)
    if os.path.isdir(path):
        raise VideoReadError(path, "is a directory, not a video file")
    try:
        size = os.path.getsize(path)
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise VideoReadError(path, f"unreadable: {exc.strerror or exc}") from exc
    if size == 0:
        raise VideoReadError(path, "empty file (0 bytes)")
    try:
        container = av.open(path, mode="r")
    except av.error.InvalidDataError as exc:
        raise VideoReadError(
            path, "not a readable video (invalid data: not a video format, or truncated)"
        ) from exc
    except av.error.FFmpegError as exc:
        raise VideoReadError(path, f"cannot be opened by FFmpeg: {exc.strerror or exc}") from exc
    except (OSError, ValueError) as exc:
        raise VideoReadError(path, f"cannot be opened: {exc}") from exc
    if not container.streams.video:
        container.close()
        raise VideoReadError(path, "contains no video stream")
    stream = container.streams.video[0]
    if stream.codec_context is None or not stream.codec_context.name:
        container.close()
        raise VideoReadError(path, "video codec is not supported by this FFmpeg build")
    return container, stream


def _stream_info(path: str, container, stream) -> VideoInfo:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = float(rate) if rate else 0.0
    duration_s = None
    if stream.duration is not None and stream.time_base is not None:
        duration_s = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration_s = container.duration / 1_000_000
    num_frames = stream.frames or None
    if num_frames is None and duration_s and fps:
        num_frames = round(duration_s * fps)
    ctx = stream.codec_context
    return VideoInfo(
        path=path,
        width=int(ctx.width),
        height=int(ctx.height),
        fps=fps,
        num_frames=num_frames,
        codec=ctx.name,
        duration_s=duration_s,
    )


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Read a container header (no decoding). Raises VideoReadError with a reason."""
    container, stream = _open(path)
    try:
        info = _stream_info(str(path), container, stream)
    finally:
        container.close()
    if info.width <= 0 or info.height <= 0:
        raise VideoReadError(path, f"invalid frame size {info.width}x{info.height}")
    return info


def _scaled_size(width: int, height: int, size: int) -> tuple[int, int]:
    """Width, height after resizing the shorter side to `size`, keeping the aspect ratio."""
    scale = size / min(width, height)
    return max(size, round(width * scale)), max(size, round(height * scale))


def _frame_to_array(frame, size: int | None) -> np.ndarray:
    if size is None:
        return frame.to_ndarray(format="rgb24")
    width, height = _scaled_size(frame.width, frame.height, size)
    shrinking = width < frame.width
    array = frame.to_ndarray(
        format="rgb24", width=width, height=height,
        interpolation="AREA" if shrinking else "BILINEAR",
    )
    top, left = (height - size) // 2, (width - size) // 2
    return array[top:top + size, left:left + size]


def resize_frame(image: np.ndarray, size: int) -> np.ndarray:
    """One uint8 RGB image `(height, width, 3)` resized and center-cropped to `(size, size, 3)`
    exactly as `read_video(..., size=size)` treats video frames (shorter side to `size`: area
    filter when shrinking, bilinear when enlarging)."""
    image = np.ascontiguousarray(image)
    if image.shape[:2] == (size, size):
        return image
    av = _import_av()
    return _frame_to_array(av.VideoFrame.from_ndarray(image, format="rgb24"), size)


def read_video(
    path: str | os.PathLike,
    *,
    stride: int = 1,
    max_frames: int | None = None,
    start_time: float = 0.0,
    size: int | None = None,
) -> np.ndarray:
    """Decode a video file into uint8 frames `(frames, height, width, 3)`.

    Reads anything FFmpeg reads (mp4, webm, mkv, avi, mov, animated gif, ...).

    Args:
        path: the video file.
        stride: keep every `stride`-th decoded frame (1 keeps all).
        max_frames: stop after this many kept frames (None reads to the end).
        start_time: seconds from the start of the stream; decoding seeks to the keyframe
            before it and drops earlier frames.
        size: if set, resize so the shorter side is `size` (area filter when shrinking,
            bilinear when enlarging), then center-crop to `(size, size)`.

    Returns:
        uint8 array `(frames, height, width, 3)`; frames may be fewer than `max_frames` when
        the file is short (callers that need a fixed length check it).

    Raises:
        VideoReadError: the file is missing, empty, not a video, has no decodable video
            stream, or is corrupt/truncated before any requested frame could be decoded.

    Example:
        >>> video = read_video("clip.mp4", stride=2, max_frames=16, size=64)  # doctest: +SKIP
    """
    if stride < 1:
        raise ValueError(f"stride must be >= 1; received stride={stride}")
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"max_frames must be >= 1 or None; received max_frames={max_frames}")
    if start_time < 0:
        raise ValueError(f"start_time must be >= 0 seconds; received start_time={start_time}")
    if size is not None and size < 1:
        raise ValueError(f"size must be >= 1 or None; received size={size}")
    av = _import_av()
    path = str(path)
    container, stream = _open(path)
    frames: list[np.ndarray] = []
    decoded = 0
    try:
        if start_time > 0:
            _seek(container, stream, start_time)
        for frame in container.decode(stream):
            if start_time > 0 and frame.time is not None and frame.time < start_time - 1e-3:
                continue
            if decoded % stride == 0:
                frames.append(_frame_to_array(frame, size))
                if max_frames is not None and len(frames) >= max_frames:
                    break
            decoded += 1
    except av.error.FFmpegError as exc:
        # A decode error after the frames we need were collected does not matter; one before
        # that means the file is corrupt or truncated.
        if not frames:
            raise VideoReadError(path, f"corrupt or truncated: {exc.strerror or exc}") from exc
        logger.debug("%s: decoding stopped after %d frames: %s", path, decoded, exc)
        if max_frames is None or len(frames) < max_frames:
            raise VideoReadError(
                path, f"corrupt or truncated: decoding failed after {decoded} frames"
            ) from exc
    except (ValueError, RuntimeError, MemoryError) as exc:
        raise VideoReadError(path, f"cannot be decoded: {exc}") from exc
    finally:
        container.close()
    if not frames:
        if start_time > 0:
            raise VideoReadError(path, f"no frames at or after start_time={start_time:g}s")
        raise VideoReadError(path, "no decodable frames (corrupt or truncated)")
    return np.stack(frames)


def _seek(container, stream, start_time: float) -> None:
    """Seek to the keyframe at or before `start_time`; formats that cannot seek decode from 0."""
    av = _import_av()
    if stream.time_base is None:
        return
    offset = int(start_time / stream.time_base)
    if stream.start_time is not None:
        offset += stream.start_time
    try:
        container.seek(offset, stream=stream, backward=True, any_frame=False)
    except av.error.FFmpegError:
        container.seek(0, stream=stream)


def count_frames(path: str | os.PathLike) -> int:
    """Decode every frame (without converting it) and return how many there are."""
    av = _import_av()
    container, stream = _open(path)
    count = 0
    try:
        for _ in container.decode(stream):
            count += 1
    except av.error.FFmpegError as exc:
        raise VideoReadError(
            path, f"corrupt or truncated: decoding failed after {count} frames"
        ) from exc
    finally:
        container.close()
    return count


def _as_uint8_video(frames) -> np.ndarray:
    """Validate and convert a video array (uint8, or float in [-1, 1]) to uint8 RGB."""
    video = np.asarray(frames)
    if video.ndim == 3:
        video = video[..., None]
    if video.ndim != 4 or video.shape[-1] not in (1, 3):
        raise ValueError(
            "frames must have shape (frames, height, width, 3) or (frames, height, width, 1); "
            f"received shape={video.shape}"
        )
    if video.shape[0] < 1 or video.shape[1] < 1 or video.shape[2] < 1:
        raise ValueError(f"frames must be a non-empty video; received shape={video.shape}")
    if video.dtype == np.uint8:
        pass
    elif np.issubdtype(video.dtype, np.floating):
        video = float_to_uint8(video)
    else:
        raise TypeError(
            f"frames must be uint8 in [0, 255] or float in [-1, 1]; received dtype={video.dtype}"
        )
    if video.shape[-1] == 1:
        video = np.repeat(video, 3, axis=-1)
    return np.ascontiguousarray(video)


def _pad_even(video: np.ndarray) -> np.ndarray:
    """H.264 in yuv420p needs even sizes: repeat the last row/column once when odd."""
    pad_h, pad_w = video.shape[1] % 2, video.shape[2] % 2
    if pad_h or pad_w:
        video = np.pad(video, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    return video


def check_fps(fps, ext: str, *, name: str = "fps") -> float:
    """Return `fps` as a float if `write_video` can write it to an `ext` file (see FPS_RANGES);
    otherwise raise VidgenError naming `name` (e.g. "--fps"), the valid range and `fps`."""
    try:
        value = float(fps)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(fps, bool) or not 0 < value < math.inf:
        raise VidgenError(f"{name} must be a positive number; received {name}={fps!r}")
    low, high = FPS_RANGES[ext.lower()]
    if not low <= value <= high:
        raise VidgenError(f"{name} must be between {low:g} and {high:g} frames per second for "
                          f"{ext.lower()} files ({_FPS_LIMITS_WHY[ext.lower()]}); received "
                          f"{name}={value:g}")
    return value


def write_video(
    path: str | os.PathLike,
    frames,
    fps: float = 8.0,
    *,
    crf: int = 17,
    metadata: Mapping[str, object] | None = None,
) -> Path:
    """Write a video as mp4 (H.264, yuv420p) or animated gif, chosen by the file extension.

    Args:
        path: destination ending in `.mp4` or `.gif`. Written to a temporary name in the
            same folder and renamed at the end, so an interrupted write never leaves a file
            that looks valid.
        frames: channels-last `(frames, height, width, 3)` (or `(..., 1)`, or `(frames, H, W)`
            greyscale) as uint8 in [0, 255] or float in [-1, 1].
        fps: frames per second, within `FPS_RANGES` for the extension (0.1 to 50 for gif,
            0.1 to 240 for mp4); anything else is a VidgenError.
        crf: H.264 quality for mp4 (0 = lossless, 17 = visually lossless, 23 = x264 default).
        metadata: what made the video (e.g. `{"generator": "vidgen_tf 0.1.8", "seed": 3}`),
            stored in the container as one JSON object (see below; `read_video_metadata`
            reads it back). Values may be strings, numbers, booleans, None, lists and nested
            dicts; numpy scalars and arrays become numbers and lists, paths become strings.
            None or `{}` writes nothing.

    Where `metadata` goes: its JSON text is the container's "comment". In mp4 that is the
    `©cmt` item of the `moov/udta/meta/ilst` atom, in UTF-8 (the mp4 muxer keeps
    "comment", "title", "description", ... but always overwrites "encoder" with its own
    name, so only "comment" is written). FFmpeg's gif muxer writes no comments, so a GIF
    Comment Extension (`0x21 0xFE`, 255-byte sub-blocks) holding the JSON with non-ASCII
    characters escaped (GIF comments should be 7-bit ASCII) is inserted after the global
    colour table, before the looping extension and the first frame; the frames are
    byte-for-byte those of the same write without metadata.

    H.264 with 4:2:0 chroma needs even width and height: an odd-sized video is padded by
    repeating its last row and/or column once, so reading it back gives a size rounded up
    to even. GIFs keep the exact size; their colours go through a 256-colour palette made
    for the whole clip (FFmpeg palettegen/paletteuse), and gif frame delays are whole
    hundredths of a second.

    Returns:
        The written path.

    Example:
        >>> import numpy as np
        >>> black = np.zeros((8, 32, 32, 3), np.uint8)
        >>> write_video("/tmp/black.mp4", black, fps=8)  # doctest: +SKIP
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in WRITE_EXTENSIONS:
        raise ValueError(
            f"path must end in one of {', '.join(WRITE_EXTENSIONS)}; received path={str(path)!r}"
        )
    fps = check_fps(fps, ext)
    video = _as_uint8_video(frames)
    comment = None if metadata is None else _metadata_json(metadata, ascii_only=ext == ".gif")
    if not path.parent.exists():
        raise VidgenError(f"output folder does not exist: {path.parent}")
    tmp = path.with_name(f".{path.stem}.partial{ext}")
    try:
        if ext == ".mp4":
            _write_mp4(tmp, _pad_even(video), fps, crf, comment)
        else:
            _write_gif(tmp, video, fps)
            if comment is not None:
                _insert_gif_comment(tmp, comment)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _rate(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001)


def _write_mp4(path: Path, video: np.ndarray, fps: float, crf: int,
               comment: str | None = None) -> None:
    av = _import_av()
    with av.open(str(path), mode="w", format="mp4") as container:
        if comment is not None:
            container.metadata["comment"] = comment
        stream = container.add_stream("libx264", rate=_rate(fps))
        stream.width, stream.height = video.shape[2], video.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(int(crf)), "preset": "medium"}
        for image in video:
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _write_gif(path: Path, video: np.ndarray, fps: float) -> None:
    av = _import_av()

    height, width = video.shape[1:3]
    time_base = Fraction(1, 100)  # gif delays are in hundredths of a second
    with av.open(str(path), mode="w", format="gif") as container:
        stream = container.add_stream("gif", rate=_rate(fps))
        stream.width, stream.height = width, height
        stream.pix_fmt = "pal8"
        # One palette for the whole clip: palettegen sees every frame, paletteuse maps them.
        graph = av.filter.Graph()
        source = graph.add_buffer(width=width, height=height, format="rgb24", time_base=time_base)
        split = graph.add("split")
        palettegen = graph.add("palettegen", "stats_mode=full")
        paletteuse = graph.add("paletteuse", "dither=bayer:bayer_scale=3")
        sink = graph.add("buffersink")
        source.link_to(split)
        split.link_to(palettegen, 0, 0)
        split.link_to(paletteuse, 1, 0)
        palettegen.link_to(paletteuse, 0, 1)
        paletteuse.link_to(sink)
        graph.configure()
        ticks = 100.0 / fps
        for index, image in enumerate(video):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = round(index * ticks)
            frame.time_base = time_base
            graph.push(frame)
        graph.push(None)
        while True:
            try:
                frame = graph.pull()
            except (av.error.EOFError, av.error.BlockingIOError):
                break
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
