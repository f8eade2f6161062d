"""Write a built-in dataset to disk as video files: class subfolders and `.txt` captions."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from vidgen_tf.data.builtin import make_builtin
from vidgen_tf.data.output_folder import check_output_folder, is_synth_output, replace_folder
from vidgen_tf.data.video_io import WRITE_EXTENSIONS, check_fps, write_video

logger = logging.getLogger(__name__)

COMMAND = "vidgen data synth"
#: Largest frame size `vidgen data synth` and `prepare` write: 16x the largest model preset
#: (64), and 3 MiB per frame. Far larger sizes run out of memory (synth) or past FFmpeg's
#: scaler limit of about 16000 pixels (prepare).
MAX_SIZE = 1024
#: Largest clip `vidgen data synth` makes, in bytes of uint8 video (frames x size^2 x 3):
#: each clip is drawn whole in memory and the MP4/GIF writer holds about as much again.
MAX_CLIP_BYTES = 1 << 30


def synthesize_dataset(
    name: str,
    out: str | os.PathLike,
    *,
    num: int,
    frames: int | None = None,
    size: int | None = None,
    seed: int = 0,
    split: str = "train",
    fmt: str = "mp4",
    fps: float = 8.0,
    mnist_path: str | None = None,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Write `num` clips of a built-in dataset as `out/<class name>/<index>.<fmt>` + `.txt`.

    Clip `i` is `make_builtin(name, ...).clip(i)`, so the files are deterministic for a seed.
    Files are written into a temporary folder that is renamed to `out` when complete.
    `overwrite` replaces only an earlier output of this function (or an empty folder); any
    other existing `out` is a VidgenError and is left untouched (see `output_folder`).

    Returns:
        The number of clips written per class name.
    """
    if num < 1:
        raise ValueError(f"num must be >= 1; received num={num}")
    if f".{fmt}" not in WRITE_EXTENSIONS:
        raise ValueError(f"fmt must be 'mp4' or 'gif'; received fmt={fmt!r}")
    check_fps(fps, f".{fmt}")
    if isinstance(size, int) and size > MAX_SIZE:
        raise ValueError(f"size must be at most {MAX_SIZE}; received size={size}")
    source = make_builtin(name, frames=frames, size=size, seed=seed, num=num, split=split,
                          mnist_path=mnist_path)
    clip_bytes = source.frames * source.size * source.size * 3
    if clip_bytes > MAX_CLIP_BYTES:
        raise ValueError(
            f"a clip of {source.frames} frames at {source.size}x{source.size} is "
            f"{clip_bytes / 2**30:.1f} GiB; vidgen data synth makes clips of at most "
            f"{MAX_CLIP_BYTES >> 30} GiB: lower frames or size (--frames, --size)")
    out = Path(out)
    check_output_folder(out, overwrite=overwrite, recognise=is_synth_output, command=COMMAND)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    counts: dict[str, int] = {}
    width = max(6, len(str(num - 1)))
    try:
        for index in range(num):
            clip = source.clip(index)
            class_name = source.class_names[clip["label"]]
            folder = tmp / class_name
            folder.mkdir(exist_ok=True)
            stem = f"{index:0{width}d}"
            write_video(folder / f"{stem}.{fmt}", clip["video"], fps=fps)
            (folder / f"{stem}.txt").write_text(clip["caption"] + "\n", encoding="utf-8")
            counts[class_name] = counts.get(class_name, 0) + 1
            if progress is not None:
                progress(1)
        replace_folder(tmp, out, overwrite=overwrite, recognise=is_synth_output,
                       command=COMMAND)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    logger.info("wrote %d clips in %d classes to %s", num, len(counts), out)
    return dict(sorted(counts.items()))
