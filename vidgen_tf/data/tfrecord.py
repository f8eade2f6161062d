"""Decode a folder of videos once into TFRecord shards (`vidgen data prepare`)."""

from __future__ import annotations

import concurrent.futures
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tensorflow as tf

from vidgen_tf.data.folder import find_video_files, has_class_subfolders, scan_video_folder
from vidgen_tf.data.output_folder import check_output_folder, is_prepared_output, replace_folder
from vidgen_tf.data.pipeline import PREPARED_METADATA
from vidgen_tf.data.synth import MAX_SIZE
from vidgen_tf.data.video_io import read_video
from vidgen_tf.errors import VideoReadError, VidgenError

logger = logging.getLogger(__name__)

COMMAND = "vidgen data prepare"


def _example(video: np.ndarray, label: int, caption: str) -> bytes:
    feature = {
        "video": tf.train.Feature(bytes_list=tf.train.BytesList(value=[video.tobytes()])),
        "frames": tf.train.Feature(int64_list=tf.train.Int64List(value=[video.shape[0]])),
        "size": tf.train.Feature(int64_list=tf.train.Int64List(value=[video.shape[1]])),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
        "caption": tf.train.Feature(bytes_list=tf.train.BytesList(value=[caption.encode()])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def prepare_tfrecords(
    src: str | os.PathLike,
    out: str | os.PathLike,
    *,
    size: int = 64,
    max_frames: int | None = None,
    min_frames: int = 16,
    clips_per_shard: int = 256,
    seed: int = 0,
    workers: int = 2,
    overwrite: bool = False,
    warn: bool = True,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Decode every usable video under `src` once, resized and center-cropped to `size`.

    Each TFRecord example holds a whole video as raw uint8 `(frames, size, size, 3)` (capped at
    `max_frames`), its label (first-level subfolder, when the videos sit in class subfolders)
    and its caption (sidecar .txt). Clip windows are cut at training time, so one prepared
    folder serves any clip length up to the stored length.

    Videos shorter than `min_frames` are skipped: the default 16 is one clip of the default
    16 frames at stride 1 (`min_video_frames` gives it for other clips), so training skips no
    prepared clip. Every skipped file is listed with its reason under "skipped", and every
    stored video that the fit into `size x size` crops heavily or upscales under "warnings"
    (see `Framing`); with `warn`, each is also logged. "files" names the stored videos, in the
    order of "frames_per_clip"; all paths are relative to `src`.

    The output is written to a temporary folder next to `out` and renamed at the end: an
    interrupted run leaves no folder that `tfrecord_dataset` would accept. `overwrite` replaces
    only an earlier prepared folder (or an empty one); any other existing `out` is a
    VidgenError and is left untouched (see `output_folder`).

    Returns:
        The metadata written to `out/dataset.json`.
    """
    src, out = Path(src), Path(out)
    if not 1 <= size <= MAX_SIZE:
        raise ValueError(f"size must be between 1 and {MAX_SIZE}; received size={size}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0; received seed={seed}")
    if clips_per_shard < 1:
        raise ValueError(
            f"clips_per_shard must be >= 1; received clips_per_shard={clips_per_shard}")
    if min_frames < 1:
        raise ValueError(f"min_frames must be >= 1; received min_frames={min_frames}")
    if max_frames is not None and max_frames < min_frames:
        raise ValueError(f"max_frames must be >= min_frames ({min_frames}), else no stored "
                         f"video is long enough for a clip; received max_frames={max_frames}")
    check_output_folder(out, overwrite=overwrite, recognise=is_prepared_output, command=COMMAND)
    files = find_video_files(src) if src.is_dir() else []
    scan = scan_video_folder(src, labels=has_class_subfolders(src, files), captions=True,
                             min_frames=min_frames, warn=warn)
    scan.require_usable()
    framing = scan.framing_warnings(size)
    records = list(scan.records)
    np.random.default_rng(seed).shuffle(records)  # mix classes across shards

    def decode(record):
        try:
            return record, read_video(record.path, max_frames=max_frames, size=size), None
        except VideoReadError as exc:
            return record, None, exc.reason

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    num_shards = max(1, -(-len(records) // clips_per_shard))
    writers = [tf.io.TFRecordWriter(str(tmp / f"clips-{i:05d}-of-{num_shards:05d}.tfrecord"))
               for i in range(num_shards)]
    skipped = [{"path": scan.relative(s.path), "reason": s.reason} for s in scan.skipped]
    lengths, stored = [], []
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for record, video, reason in pool.map(decode, records):
                if video is None:
                    if warn:
                        logger.warning("skipping %s: %s", record.path, reason)
                    skipped.append({"path": scan.relative(record.path), "reason": reason})
                else:
                    label = record.label if record.label is not None else -1
                    writers[len(lengths) % num_shards].write(
                        _example(video, label, record.caption or ""))
                    lengths.append(int(video.shape[0]))
                    stored.append(record.path)
                if progress is not None:
                    progress(1)
        for writer in writers:
            writer.close()
        if not lengths:
            raise VidgenError(f"no video in {src} could be decoded")
        kept = set(stored)
        warnings = [{"path": scan.relative(path), "warning": text}
                    for path, text in framing.items() if path in kept]
        if warn:
            for item in warnings:
                logger.warning("%s: %s", item["path"], item["warning"])
        meta = {
            "format": "vidgen_tf.prepared/1",
            "source": str(src.resolve()),
            "size": size,
            "min_frames": min_frames,
            "max_frames": max_frames,
            "num_clips": len(lengths),
            "num_shards": num_shards,
            "class_names": list(scan.class_names) if scan.class_names else None,
            "files": [scan.relative(path) for path in stored],
            "frames_per_clip": lengths,
            "skipped": sorted(skipped, key=lambda item: item["path"]),
            "warnings": warnings,
        }
        (tmp / PREPARED_METADATA).write_text(json.dumps(meta, indent=1))
        replace_folder(tmp, out, overwrite=overwrite, recognise=is_prepared_output,
                       command=COMMAND)
    finally:
        for writer in writers:
            writer.close()
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return meta
