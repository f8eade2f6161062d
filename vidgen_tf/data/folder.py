"""Scan a folder of videos: class labels from subfolders, sidecar captions, and bad files skipped.

TensorFlow-free: `vidgen data inspect` and the tf.data pipelines share this scan.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import os
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from vidgen_tf.data.framing import Framing
from vidgen_tf.data.video_io import VIDEO_EXTENSIONS, VideoInfo, count_frames, probe_video
from vidgen_tf.errors import VideoReadError, VidgenError

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class VideoRecord:
    """One usable video: where it is, its frame count, fps and frame size, and its optional
    label/caption."""

    path: str
    num_frames: int
    fps: float
    width: int
    height: int
    label: int | None = None
    class_name: str | None = None
    caption: str | None = None


@dataclasses.dataclass(frozen=True)
class SkippedFile:
    """A file that was left out, and why; with what is known of it (None where unknown)."""

    path: str
    reason: str
    class_name: str | None = None
    num_frames: int | None = None
    fps: float | None = None
    width: int | None = None
    height: int | None = None


@dataclasses.dataclass
class FolderScan:
    """The result of `scan_video_folder`."""

    root: str
    records: list[VideoRecord]
    skipped: list[SkippedFile]
    class_names: tuple[str, ...] | None
    min_frames: int

    def per_class_counts(self) -> dict[str, int]:
        """Usable clips per class name (one "(no class)" entry when not labelled)."""
        counts = Counter(record.class_name or "(no class)" for record in self.records)
        names = self.class_names or ("(no class)",)
        return {name: counts.get(name, 0) for name in names}

    def relative(self, path: str) -> str:
        """`path` relative to the scanned folder, as reports name files."""
        return os.path.relpath(path, self.root)

    def framing_warnings(self, size: int) -> dict[str, str]:
        """Path -> warning for each usable video that fitting into `size x size` crops heavily
        or upscales (see `Framing.warnings`), in path order."""
        warnings = {}
        for record in sorted(self.records, key=lambda r: r.path):
            notes = Framing(record.width, record.height, size).warnings()
            if notes:
                warnings[record.path] = "; ".join(notes)
        return warnings

    def skip_reasons(self) -> Counter:
        """How many files were skipped for each kind of reason (the text before any detail)."""
        return Counter(item.reason.split(":")[0].split(" (")[0] for item in self.skipped)

    def summary(self) -> str:
        total = len(self.records) + len(self.skipped)
        text = f"{len(self.records)} of {total} video files usable in {self.root}"
        if self.skipped:
            reasons = ", ".join(f"{n} {r}" for r, n in self.skip_reasons().most_common())
            text += f"; {len(self.skipped)} skipped ({reasons})"
        return text

    def require_usable(self) -> None:
        """Raise a VidgenError naming the folder when no file is usable."""
        if self.records:
            return
        if not self.skipped:
            raise VidgenError(
                f"no video files found in {self.root} (looked recursively for "
                f"{', '.join(VIDEO_EXTENSIONS)})"
            )
        first = "; ".join(f"{Path(s.path).name}: {s.reason}" for s in self.skipped[:3])
        raise VidgenError(
            f"no usable video in {self.root}: all {len(self.skipped)} video files were "
            f"skipped (e.g. {first}). Run `vidgen data inspect {self.root}` for the full list"
        )


def clip_span(frames: int, stride: int) -> int:
    """How many consecutive source frames a clip of `frames` frames at `stride` covers."""
    if frames < 1:
        raise ValueError(f"frames must be >= 1; received frames={frames}")
    if stride < 1:
        raise ValueError(f"stride must be >= 1; received stride={stride}")
    return (frames - 1) * stride + 1


def min_video_frames(frames: int = 16, stride: int = 1, min_frames: int | None = None) -> int:
    """The shortest video kept: `min_frames` when given, else the span of one clip.

    `vidgen data inspect`, `vidgen data prepare` and training on a folder apply this one rule,
    so they agree on which videos are usable for clips of `frames` frames at `stride`.
    """
    if min_frames is None:
        return clip_span(frames, stride)
    if min_frames < 1:
        raise ValueError(f"min_frames must be >= 1 or None; received min_frames={min_frames}")
    return min_frames


def list_some(names: Sequence[str], limit: int = 10) -> str:
    """"a, b, c" for a log line: the first `limit` names, then "and N more"."""
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def has_class_subfolders(root: str | os.PathLike, files: Sequence[Path]) -> bool:
    """Whether the videos under `root` are labelled by class subfolders: true as soon as one
    sits below a first-level subfolder (videos directly in `root` are then skipped as "not
    inside a class subfolder"). `inspect` and `prepare` decide with this one rule."""
    return any(len(Path(f).relative_to(root).parts) > 1 for f in files)


def find_video_files(root: str | os.PathLike) -> list[Path]:
    """Every file under `root` (recursively, symlinks included) with a video extension, sorted.

    Hidden files and folders (starting with ".") are ignored; they include partial writes.
    """
    root = Path(root)
    found = []
    for folder, dirs, files in os.walk(root, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if not name.startswith(".") and name.lower().endswith(VIDEO_EXTENSIONS):
                found.append(Path(folder) / name)
    return sorted(found)


def _read_caption(path: Path) -> str | None:
    sidecar = path.with_suffix(".txt")
    try:
        return sidecar.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _measure(path: Path, deep: bool) -> tuple[VideoInfo, int]:
    """The header of a readable video and its frame count; raises VideoReadError otherwise."""
    info = probe_video(path)
    num_frames = info.num_frames
    if deep or num_frames is None:
        # Decoding every frame is the only way to catch truncation in the middle of a stream.
        num_frames = count_frames(path)
    return info, num_frames


def scan_video_folder(
    root: str | os.PathLike,
    *,
    labels: bool = False,
    captions: bool = False,
    min_frames: int = 1,
    deep: bool = False,
    class_names: Sequence[str] | None = None,
    workers: int = 4,
    warn: bool = True,
    progress: Callable[[int], None] | None = None,
) -> FolderScan:
    """Find the usable videos under `root` and the reasons the others are skipped.

    Args:
        root: folder searched recursively.
        labels: label each clip by its first-level subfolder. Class names are the sorted
            subfolder names that hold at least one video file (or `class_names` if given,
            which fixes the order); files directly in `root` are skipped.
        captions: read the caption from a sidecar `.txt` with the same stem ("" if missing).
        min_frames: files with fewer frames are skipped as too short.
        deep: decode every frame to count them (catches truncation anywhere; slower). Without
            it the container header is trusted, and decoding errors surface while training
            (where the file is skipped then).
        workers: threads probing files in parallel.
        warn: log one warning per skipped file and a summary.
        progress: called with 1 after each file (e.g. a tqdm `update`).

    Returns:
        A FolderScan. It may hold no records; call `require_usable()` to make that an error.
    """
    root_path = Path(root)
    if not root_path.exists():
        raise VidgenError(f"data folder not found: {root}")
    if not root_path.is_dir():
        raise VidgenError(f"data path is not a folder: {root}")
    files = find_video_files(root_path)

    def class_of(path: Path) -> str | None:
        parts = path.relative_to(root_path).parts
        return parts[0] if len(parts) > 1 else None

    if labels:
        names = tuple(class_names) if class_names else tuple(
            sorted({c for c in map(class_of, files) if c is not None})
        )
        index = {name: i for i, name in enumerate(names)}
    else:
        names, index = None, {}

    def examine(path: Path) -> VideoRecord | SkippedFile:
        try:
            class_name = class_of(path) if labels else None
            if labels and class_name not in index:
                why = "not inside a class subfolder" if class_name is None else (
                    f"subfolder {class_name!r} is not one of the given class names"
                )
                return SkippedFile(str(path), why, class_name=class_name)
            info, num_frames = _measure(path, deep)
            fps = info.fps or 25.0
            if num_frames < min_frames:
                return SkippedFile(
                    str(path), f"too short: {num_frames} frames, a clip needs {min_frames}",
                    class_name=class_name, num_frames=num_frames, fps=fps, width=info.width,
                    height=info.height)
            return VideoRecord(
                path=str(path),
                num_frames=num_frames,
                fps=fps,
                width=info.width,
                height=info.height,
                label=index.get(class_name) if labels else None,
                class_name=class_name,
                caption=(_read_caption(path) or "") if captions else None,
            )
        except VideoReadError as exc:
            return SkippedFile(str(path), exc.reason,
                               class_name=class_of(path) if labels else None)
        finally:
            if progress is not None:
                progress(1)

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(examine, files))
    records = [r for r in results if isinstance(r, VideoRecord)]
    skipped = [r for r in results if isinstance(r, SkippedFile)]
    scan = FolderScan(str(root_path), records, skipped, names, min_frames)
    if warn:
        for item in skipped:
            logger.warning("skipping %s: %s", item.path, item.reason)
        if skipped:
            logger.warning("%s", scan.summary())
        if captions:
            missing = sum(1 for r in records if not r.caption)
            if missing:
                logger.warning("%d of %d clips have no caption (.txt sidecar); using \"\"",
                               missing, len(records))
    return scan
