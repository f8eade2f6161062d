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
