"""Context frames for a predictor export: uint8 clips in, the model's input out, prepared as
the datasets prepare training clips."""

from __future__ import annotations

import numpy as np


def prepare_context(context, num: int | None, shape: list) -> np.ndarray:
    """Float32 contexts `(n, frames, size, size, channels)` in [-1, 1] for a model whose
    context input has per-clip `shape` `[frames, size, size, channels]`.

    Args:
        context: uint8 frames of one clip `(frames, height, width, channels)`, or of n clips
            `(n, frames, height, width, channels)`, channels 1 (grey) or 3 (RGB). Each frame
            is resized and center-cropped to the model's size (`resize_frame`, as the
            datasets do); a 3-channel context becomes grey (the mean of R, G and B, after
            scaling) for a 1-channel model, and a grey one is repeated for a 3-channel
            model. Only the last `frames` frames are used.
        num: the number of predictions asked for: None or n (or any number when one clip is
            given, which is then repeated).

    Raises ValueError naming the problem: not uint8, the wrong rank, an empty clip, fewer
    frames than the model needs, channels other than 1 or 3, or a count that is not num.
    """
    from vidgen_tf.data.pixels import uint8_to_float
    from vidgen_tf.data.video_io import resize_frame

    need, size, channels = shape[0], shape[1], shape[3]
    array = np.asarray(context)
    if array.dtype != np.uint8 or array.ndim not in (4, 5):
        raise ValueError("context must be uint8 frames (frames, height, width, channels) or "
                         "clips (num, frames, height, width, channels); received "
                         f"{array.dtype} {array.shape}")
    clips = array[None] if array.ndim == 4 else array
    if 0 in clips.shape:
        raise ValueError(f"context is empty: shape {array.shape}")
    if clips.shape[-1] not in (1, 3):
        raise ValueError(f"context frames must have 1 (grey) or 3 (RGB) channels; received "
                         f"{clips.shape[-1]} channels (shape {array.shape})")
    if clips.shape[1] < need:
        raise ValueError(f"context has {clips.shape[1]} frames; this model needs at least "
                         f"{need} (it predicts from the last {need})")
    if num is not None and len(clips) not in (1, num):
        raise ValueError(f"context holds {len(clips)} clips, but {num} predictions were asked "
                         "for; give one clip or one per prediction")
    clips = clips[:, -need:]
    if clips.shape[-1] == 1:
        clips = np.repeat(clips, 3, axis=-1)  # resize_frame takes RGB
    frames = np.stack([[resize_frame(frame, size) for frame in clip] for clip in clips])
    frames = uint8_to_float(frames)
    if channels == 1:
        frames = frames.mean(axis=-1, keepdims=True, dtype=np.float32)
    if num is not None and len(frames) == 1 and num > 1:
        frames = np.repeat(frames, num, axis=0)
    return frames.astype(np.float32)


def parse_actions(actions, names, frames: int, num: int | None = None) -> np.ndarray:
    """int32 actions `(n, frames)` for an action-conditioned export whose actions are
    `names` (their order gives the ids).

    Args:
        actions: "right,right,up,..." (one name per frame, comma-separated), a sequence of
            names or ids, or an integer array `(frames,)` for every clip or `(n, frames)`,
            one row per clip.
        names: the export's action names.
        frames: actions needed per clip.
        num: the number of clips asked for, or None.

    Raises ValueError naming the problem: an unknown name (listing the valid ones), an id out
    of range, the wrong count per clip, or a number of rows that is not num.
    """
    names = list(names)
    if isinstance(actions, str):
        actions = [part.strip() for part in actions.split(",")]
    array = np.asarray(actions)
    if array.dtype.kind in "US":
        unknown = sorted({str(a) for a in array.ravel()} - set(names))
        if unknown:
            raise ValueError(f"unknown action(s) {', '.join(map(repr, unknown))}; this model "
                             f"takes {', '.join(names)}")
        array = np.vectorize(names.index, otypes=[np.int32])(array)
    elif array.dtype.kind not in "iu":
        raise ValueError(f"actions must be names or integer ids; received {array.dtype}")
    if array.ndim not in (1, 2) or 0 in array.shape:
        raise ValueError(f"actions must be one sequence (frames,) or one per clip "
                         f"(num, frames); received shape {array.shape}")
    rows = array[None] if array.ndim == 1 else array
    if rows.shape[1] != frames:
        raise ValueError(f"{rows.shape[1]} action(s) given, {frames} needed: one per frame")
    if rows.min() < 0 or rows.max() >= len(names):
        raise ValueError(f"action ids must be in 0..{len(names) - 1} ({', '.join(names)}); "
                         f"received {int(rows.min())}..{int(rows.max())}")
    if num is not None and len(rows) not in (1, num):
        raise ValueError(f"actions hold {len(rows)} rows, but {num} clips were asked for; give "
                         "one row or one per clip")
    if num is not None and len(rows) == 1:
        rows = np.repeat(rows, num, axis=0)
    return rows.astype(np.int32)
