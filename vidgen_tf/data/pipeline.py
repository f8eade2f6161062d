"""tf.data pipelines: a folder of videos, prepared TFRecord shards, or a built-in dataset.

Every pipeline yields dicts of float32 clips in [-1, 1], channels-last:
    {"video": (frames, size, size, 3), "first_frame": (size, size, 3),
     "label": int32 () [if labelled], "caption": string () [if captioned]}
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

import numpy as np
import tensorflow as tf

from vidgen_tf.data.builtin import BUILTIN_DATASETS, make_builtin
from vidgen_tf.data.folder import FolderScan, clip_span, list_some, scan_video_folder
from vidgen_tf.data.video_io import read_video
from vidgen_tf.errors import VideoReadError, VidgenError

logger = logging.getLogger(__name__)

AUTOTUNE = tf.data.AUTOTUNE
PREPARED_METADATA = "dataset.json"


def to_model_range(video: tf.Tensor) -> tf.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1]; the graph twin of `pixels.uint8_to_float`."""
    return tf.cast(video, tf.float32) / 127.5 - 1.0


def _add_first_frame(element: dict) -> dict:
    element["first_frame"] = element["video"][0]
    return element


# --------------------------------------------------------------------------- folder of videos


class _DecodeFailures:
    """Files that failed while decoding inside the pipeline: one warning each, and a count."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reasons: dict[str, str] = {}

    def report(self, path: str, reason: str) -> None:
        with self._lock:
            if path in self.reasons:
                return
            self.reasons[path] = reason
            count = len(self.reasons)
        logger.warning("skipping %s: %s (%d file(s) skipped while decoding so far)",
                       path, reason, count)


DECODE_FAILURES = _DecodeFailures()

# VidgenErrors raised inside tf.data functions reach the caller wrapped in a TensorFlow error;
# `pipeline_error` gives back the clear one.
_RAISED: list[VidgenError] = []


def _raise_in_pipeline(error: VidgenError):
    _RAISED.append(error)
    raise error


def pipeline_error(exc: BaseException) -> VidgenError | None:
    """The VidgenError that a tf.data function raised and TensorFlow wrapped into `exc`."""
    for error in reversed(_RAISED):
        if str(error) in str(exc):
            return error
    return None


def _decode_clip(path: str, num_frames: int, fps: float, frames: int, stride: int, size: int,
                 random_start: bool, draw: int) -> np.ndarray | None:
    """A (frames, size, size, 3) uint8 clip, or None (after one warning) if the file fails."""
    span = clip_span(frames, stride)
    start = int(draw % (num_frames - span + 1)) if random_start and num_frames > span else 0
    try:
        video = read_video(path, stride=stride, max_frames=frames, start_time=start / fps,
                           size=size)
        if len(video) < frames:
            # The header over-estimated the length: fall back to the last full window.
            video = read_video(path, size=size)[::stride][-frames:]
        if len(video) < frames:
            raise VideoReadError(path, f"too short: {len(video) * stride} frames decoded, "
                                       f"a clip needs {span}")
        return video
    except VideoReadError as exc:
        DECODE_FAILURES.report(exc.path, exc.reason)
        return None


def video_folder_dataset(
    root: str | os.PathLike,
    *,
    frames: int = 16,
    size: int = 64,
    stride: int = 1,
    random_start: bool = True,
    labels: bool = False,
    captions: bool = False,
    shuffle: bool = True,
    repeat: bool = True,
    seed: int | None = None,
    batch_size: int | None = None,
    drop_remainder: bool = True,
    num_parallel_calls: int = AUTOTUNE,
    scan: FolderScan | None = None,
) -> tf.data.Dataset:
    """Clips decoded on the fly from a folder of videos (searched recursively).

    Args:
        root: the folder. Class labels come from first-level subfolders (sorted names).
        frames: frames per clip. size: clips are resized (shorter side) and center-cropped
            to `size x size`. stride: keep every `stride`-th source frame.
        random_start: a random window per visit (deterministic for a seed); else the first
            frames.
        labels / captions: add "label" (int32, index into the sorted class names) and
            "caption" (from a sidecar .txt) to each element.
        shuffle / repeat / seed: file order is reshuffled every epoch; repeat forever.
        batch_size: batch the elements (None leaves them unbatched).
        scan: a previous `scan_video_folder` result to reuse.

    Bad files never stop an epoch: the scan skips unreadable, empty, non-video and too-short
    files with one warning each and a summary, and a file that fails later while decoding is
    dropped from the stream with one warning. Videos that fitting into `size x size` crops
    heavily or upscales (see `Framing`) are named in one more warning. A folder with no
    usable video raises VidgenError: at the scan, or in the stream once every file has failed
    while decoding (`pipeline_error` turns the TensorFlow error that carries it back into the
    VidgenError).

    Returns:
        A tf.data.Dataset of dicts, channels-last float32 in [-1, 1]:
        {"video": (frames, size, size, 3), "first_frame": (size, size, 3), ...}.

    Example:
        >>> ds = video_folder_dataset("clips/", frames=16, size=64, batch_size=8)  # doctest: +SKIP
    """
    span = clip_span(frames, stride)
    if size < 1:
        raise ValueError(f"size must be >= 1; received size={size}")
    if scan is None:
        scan = scan_video_folder(root, labels=labels, captions=captions, min_frames=span)
    scan.require_usable()
    misfits = scan.framing_warnings(size)
    if misfits:
        logger.warning(
            "%d of %d videos in %s are cropped heavily or upscaled to %dx%d: %s; "
            "`vidgen data inspect %s --size %d` lists them all", len(misfits),
            len(scan.records), root, size, size,
            list_some([f"{scan.relative(path)} ({text})" for path, text in misfits.items()], 5),
            root, size)
    records = scan.records
    paths = tf.constant([r.path for r in records])
    table = tf.data.Dataset.from_tensor_slices({
        "path": paths,
        "num_frames": tf.constant([r.num_frames for r in records], tf.int64),
        "fps": tf.constant([r.fps for r in records], tf.float64),
        "label": tf.constant([r.label if r.label is not None else -1 for r in records],
                             tf.int32),
        "caption": tf.constant([r.caption or "" for r in records]),
    })
    ds = table
    if shuffle:
        ds = ds.shuffle(len(records), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    draws = tf.data.Dataset.random(seed=seed)
    ds = tf.data.Dataset.zip(ds, draws)

    dropped, lock = set(), threading.Lock()

    def decode(path, num_frames, fps, draw):
        path = path.decode()
        if path not in dropped:
            video = _decode_clip(path, int(num_frames), float(fps), frames, stride, size,
                                 random_start, int(draw))
            if video is not None:
                return video, True
            with lock:
                dropped.add(path)
        if len(dropped) == len(records):  # else a repeated stream looks for a clip forever
            _raise_in_pipeline(VidgenError(
                f"no video in {root} could be decoded: all {len(records)} file(s) that "
                "looked usable failed while decoding (see the warnings above); check "
                f"them with `vidgen data inspect {root}`"))
        return np.zeros((frames, size, size, 3), np.uint8), False

    def load(item, draw):
        video, ok = tf.numpy_function(
            decode, [item["path"], item["num_frames"], item["fps"], draw],
            [tf.uint8, tf.bool], stateful=False,
        )
        video.set_shape((frames, size, size, 3))
        ok.set_shape(())
        element = {"video": to_model_range(video)}
        if labels:
            element["label"] = item["label"]
        if captions:
            element["caption"] = item["caption"]
        return element, ok

    def decoded_ok(element, ok):
        return ok

    def finish(element, ok):
        return _add_first_frame(element)

    ds = ds.map(load, num_parallel_calls=num_parallel_calls, deterministic=True)
    ds = ds.filter(decoded_ok).map(finish)
    if batch_size:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return ds.prefetch(AUTOTUNE)


# --------------------------------------------------------------------------- prepared TFRecords


def _parse_spec():
    return {
        "video": tf.io.FixedLenFeature([], tf.string),
        "frames": tf.io.FixedLenFeature([], tf.int64),
        "size": tf.io.FixedLenFeature([], tf.int64),
        "label": tf.io.FixedLenFeature([], tf.int64, default_value=-1),
        "caption": tf.io.FixedLenFeature([], tf.string, default_value=""),
    }


def read_prepared_metadata(folder: str | os.PathLike) -> dict:
    """The `dataset.json` written by `prepare_tfrecords`, or VidgenError if it is not there."""
    meta_path = Path(folder) / PREPARED_METADATA
    try:
        return json.loads(meta_path.read_text())
    except FileNotFoundError as exc:
        raise VidgenError(f"{folder} is not a prepared dataset (no {PREPARED_METADATA})") from exc
    except (OSError, ValueError) as exc:
        raise VidgenError(f"{meta_path} is unreadable or not JSON: {exc}") from exc


def _name_clips(indices: list[int], lengths: list[int], files: list[str] | None) -> str:
    """The prepared clips at `indices`, as "walk/a.mp4 (4 frames), ..."."""
    if not files:  # prepared by an older vidgen_tf, which did not record them
        return ("their file names are not recorded in this folder's dataset.json; prepare it "
                "again to have them named")
    return list_some([f"{files[i]} ({lengths[i]} frames)" for i in indices])


def tfrecord_dataset(
    folder: str | os.PathLike,
    *,
    frames: int = 16,
    size: int | None = None,
    stride: int = 1,
    random_start: bool = True,
    labels: bool = False,
    captions: bool = False,
    shuffle: bool = True,
    repeat: bool = True,
    seed: int | None = None,
    batch_size: int | None = None,
    drop_remainder: bool = True,
    shuffle_buffer: int = 256,
) -> tf.data.Dataset:
    """Clips from TFRecord shards written by `vidgen data prepare` (decode once, train fast).

    Same arguments and element structure as `video_folder_dataset`. `size` defaults to the
    prepared size; another size is resized in the graph. Prepared videos shorter than the
    clip span (a longer clip than `vidgen data prepare --frames` was told) are filtered out
    here, with one warning that counts and names them.
    """
    meta = read_prepared_metadata(folder)
    span = clip_span(frames, stride)
    stored_size = int(meta["size"])
    size = stored_size if size is None else size
    if labels and not meta.get("class_names"):
        raise VidgenError(f"{folder} was prepared without class subfolders, so it has no labels")
    lengths = meta.get("frames_per_clip", [])
    too_short = [i for i, n in enumerate(lengths) if n < span]
    if len(too_short) == len(lengths):
        raise VidgenError(
            f"no clip in {folder} has the {span} frames a clip needs (frames={frames}, "
            f"stride={stride}); the longest has {max(lengths, default=0)}. Train with fewer "
            f"frames, or prepare longer videos"
        )
    if too_short:
        logger.warning("%d of %d prepared clips in %s are shorter than the %d frames a clip "
                       "needs (frames=%d, stride=%d) and are skipped: %s", len(too_short),
                       len(lengths), folder, span, frames, stride,
                       _name_clips(too_short, lengths, meta.get("files")))
    shards = sorted(str(p) for p in Path(folder).glob("*.tfrecord"))
    if not shards:
        raise VidgenError(f"{folder} has {PREPARED_METADATA} but no .tfrecord shards")
    files = tf.data.Dataset.from_tensor_slices(shards)
    if shuffle:
        files = files.shuffle(len(shards), seed=seed, reshuffle_each_iteration=True)
    ds = files.interleave(tf.data.TFRecordDataset, cycle_length=min(4, len(shards)),
                          num_parallel_calls=AUTOTUNE, deterministic=True)
    def parse(record):
        return tf.io.parse_single_example(record, _parse_spec())

    def long_enough(example):
        return example["frames"] >= span

    ds = ds.map(parse, num_parallel_calls=AUTOTUNE).filter(long_enough)
    if shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = tf.data.Dataset.zip(ds, tf.data.Dataset.random(seed=seed))

    def load(ex, draw):
        video = tf.io.decode_raw(ex["video"], tf.uint8)
        video = tf.reshape(video, tf.stack([ex["frames"], stored_size, stored_size, 3]))
        starts = ex["frames"] - span + 1
        start = draw % starts if random_start else tf.constant(0, tf.int64)
        video = video[start:start + span:stride]
        video.set_shape((frames, stored_size, stored_size, 3))
        video = to_model_range(video)
        if size != stored_size:
            video = tf.image.resize(video, (size, size), antialias=True)
        element = {"video": video}
        if labels:
            element["label"] = tf.cast(ex["label"], tf.int32)
        if captions:
            element["caption"] = ex["caption"]
        return _add_first_frame(element)

    ds = ds.map(load, num_parallel_calls=AUTOTUNE, deterministic=True)
    if batch_size:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return ds.prefetch(AUTOTUNE)


# --------------------------------------------------------------------------- built-in datasets


def builtin_dataset(
    name: str,
    *,
    frames: int | None = None,
    size: int | None = None,
    seed: int = 0,
    num: int | None = None,
    split: str = "train",
    mnist_path: str | None = None,
    shuffle: bool = True,
    repeat: bool = True,
    batch_size: int | None = None,
    drop_remainder: bool = True,
) -> tf.data.Dataset:
    """A built-in procedural dataset (a name of `BUILTIN_DATASETS`) as a tf.data pipeline.

    With `num=None` every element is a fresh clip (index 0, 1, 2, ...; an endless stream, so
    `repeat` and `shuffle` do not apply). With `num` set, the same `num` clips are visited
    in a new order every epoch. Elements carry "video", "first_frame", "label" and "caption",
    and "actions" (int32 per frame) from a dataset with actions (`shapes_actions`).
    """
    source = make_builtin(name, frames=frames, size=size, seed=seed, num=num, split=split,
                          mnist_path=mnist_path)
    if num is None:
        indices = tf.data.Dataset.counter()
    else:
        indices = tf.data.Dataset.range(num)
        if shuffle:
            indices = indices.shuffle(num, seed=seed, reshuffle_each_iteration=True)
        if repeat:
            indices = indices.repeat()
    t, s = source.frames, source.size

    with_actions = getattr(source, "action_names", None) is not None

    def make(index):
        clip = source.clip(int(index))
        made = [clip["video"], np.int32(clip["label"]), clip["caption"]]
        return [*made, clip["actions"].astype(np.int32)] if with_actions else made

    def load(index):
        types = [tf.uint8, tf.int32, tf.string] + [tf.int32] * with_actions
        video, label, caption, *actions = tf.numpy_function(make, [index], types,
                                                            stateful=False)
        video.set_shape((t, s, s, 3))
        label.set_shape(())
        caption.set_shape(())
        element = {"video": to_model_range(video), "label": label, "caption": caption}
        if with_actions:
            actions[0].set_shape((t,))
            element["actions"] = actions[0]
        return _add_first_frame(element)

    ds = indices.map(load, num_parallel_calls=AUTOTUNE, deterministic=True)
    if batch_size:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return ds.prefetch(AUTOTUNE)


def match_channels(video: tf.Tensor, channels: int) -> tf.Tensor:
    """RGB video `(..., 3)` as a model with `channels` takes it: unchanged for 3, the mean of
    R, G and B for 1 (exact for grey data stored as three equal channels, e.g. Moving MNIST).
    """
    if channels == 3:
        return video
    if channels == 1:
        return tf.reduce_mean(video, axis=-1, keepdims=True)
    raise VidgenError(f"a model takes 1 (grey) or 3 (RGB) channels; received channels={channels}")


# --------------------------------------------------------------------------- one entry point


def load_dataset(data: str, *, frames: int | None = None, size: int | None = None,
                 stride: int = 1, **kwargs) -> tf.data.Dataset:
    """The pipeline for `--data`: a built-in name, a prepared TFRecord folder, or a video folder.

    Keyword arguments go to `builtin_dataset`, `tfrecord_dataset` or `video_folder_dataset`;
    ones that do not apply to the chosen source (e.g. `split` for a folder, `labels` for a
    built-in dataset, which always has labels) are ignored.
    """
    if data in BUILTIN_DATASETS:
        if stride != 1:
            raise VidgenError(f"stride applies to video files; built-in dataset {data!r} "
                              f"generates every frame (received stride={stride})")
        for key in ("random_start", "labels", "captions"):
            kwargs.pop(key, None)
        return builtin_dataset(data, frames=frames, size=size, **kwargs)
    path = Path(data)
    if not path.exists():
        raise VidgenError(
            f"data {data!r} is neither a built-in dataset ({', '.join(sorted(BUILTIN_DATASETS))})"
            " nor an existing folder"
        )
    for key in ("num", "split", "mnist_path"):
        kwargs.pop(key, None)
    frames = frames or 16
    if (path / PREPARED_METADATA).exists():
        return tfrecord_dataset(path, frames=frames, size=size, stride=stride, **kwargs)
    return video_folder_dataset(path, frames=frames, size=size or 64, stride=stride, **kwargs)


def dataset_class_names(data: str) -> tuple[str, ...]:
    """Class names of a `--data` source (built-in, prepared folder, or class subfolders)."""
    if data in BUILTIN_DATASETS:
        return tuple(make_builtin(data).class_names)
    path = Path(data)
    if (path / PREPARED_METADATA).exists():
        return tuple(read_prepared_metadata(path).get("class_names") or ())
    if path.is_dir():
        return tuple(sorted(p.name for p in path.iterdir()
                            if p.is_dir() and not p.name.startswith(".")))
    return ()



def dataset_action_names(data: str) -> tuple[str, ...]:
    """Action names of a `--data` source: those of a built-in dataset with an action per frame
    (`shapes_actions`), else () (folders carry no actions)."""
    if data in BUILTIN_DATASETS:
        return tuple(getattr(make_builtin(data), "action_names", None) or ())
    return ()
