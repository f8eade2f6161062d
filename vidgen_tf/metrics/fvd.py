"""Fréchet Video Distance: I3D logits of two sets of clips, and their Fréchet distance.

Follows the google-research `frechet_video_distance` reference: frames are resized bilinearly
to 224x224 (TF1 `resize_bilinear` semantics), scaled to [-1, 1], embedded with the I3D
logits averaged over time (400-d), and the two sets are compared as Gaussians,
`|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))`, in float64.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from vidgen_tf.data.pixels import uint8_to_float
from vidgen_tf.errors import VidgenError

logger = logging.getLogger(__name__)

# Below this many clips per side the FVD estimate is noticeably biased upwards (the
# covariance of 400-d features is poorly estimated); the usual setup is 2048 clips.
FVD_MIN_UNBIASED_CLIPS = 256
PRECISIONS = ("float32", "mixed_bfloat16")


class FVDSampleSizeWarning(UserWarning):
    """FVD computed from fewer than 256 clips per side: biased, compare only like with like."""


# --------------------------------------------------------------------------- Fréchet distance


def _moments(features, name: str) -> tuple[np.ndarray, np.ndarray]:
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise ValueError(f"{name} must be features of shape (clips, dims); received shape "
                         f"{features.shape}")
    if len(features) < 2:
        raise VidgenError(f"FVD needs at least 2 clips per side to estimate a covariance; "
                          f"received {len(features)} for {name}")
    if not np.all(np.isfinite(features)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return features.mean(axis=0), np.atleast_2d(np.cov(features, rowvar=False))


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix by eigendecomposition."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def trace_sqrt_product(sigma_a: np.ndarray, sigma_b: np.ndarray) -> float:
    """tr((S_a S_b)^(1/2)) for covariance matrices, real by construction.

    S_a S_b is similar to S_a^(1/2) S_b S_a^(1/2), which is symmetric PSD, so its square
    root's trace is the sum of the square roots of that matrix's (clipped) eigenvalues.
    """
    root_a = _sqrt_psd(sigma_a)
    middle = root_a @ sigma_b @ root_a
    values = np.linalg.eigvalsh((middle + middle.T) / 2)
    return float(np.sqrt(np.clip(values, 0.0, None)).sum())


def frechet_distance(features_a, features_b) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets, in float64.

    Args:
        features_a, features_b: arrays `(clips, dims)`, at least 2 clips each. The means
            and the unbiased (n - 1) covariances are fitted as in TF-GAN's
            `frechet_classifier_distance_from_activations`, which the FVD reference calls.

    Returns:
        `|mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a S_b)^(1/2))`, clipped at 0 against
        round-off.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a = rng.normal(size=(500, 3))
        >>> round(frechet_distance(a, a + 2.0), 6)  # a pure shift: |2 * ones(3)|^2
        12.0
    """
    mu_a, sigma_a = _moments(features_a, "features_a")
    mu_b, sigma_b = _moments(features_b, "features_b")
    if mu_a.shape != mu_b.shape:
        raise ValueError(f"both feature sets need the same dims; received {mu_a.shape[0]} "
                         f"and {mu_b.shape[0]}")
    distance = (np.sum((mu_a - mu_b) ** 2) + np.trace(sigma_a) + np.trace(sigma_b)
                - 2.0 * trace_sqrt_product(sigma_a, sigma_b))
    return max(float(distance), 0.0)


# --------------------------------------------------------------------------- I3D features


def default_precision() -> str:
    """The I3D precision that None or "auto" stands for: as training's `--precision auto`.

    That is mixed_bfloat16 on a CPU-only machine whose CPU has bfloat16 instructions
    (AVX512-BF16 or AMX), float32 otherwise (GPUs included: not measured there).

    On the README's example bfloat16 changed FVD by under 0.5% and ran I3D 1.7x faster on a
    Xeon with AMX; without such instructions bfloat16 is emulated, much slower and less exact
    (15% off in logits on an AVX2 EPYC), and asking for it logs a warning.
    """
    from vidgen_tf.training.setup import default_precision as training_default

    return training_default()


@functools.lru_cache(maxsize=2)
def _cached_i3d(path: str, mtime: float, precision: str):
    from vidgen_tf.metrics.i3d import InceptionI3D
    from vidgen_tf.metrics.i3d_weights import load_i3d_weights, read_weights

    model = InceptionI3D(dtype=precision)  # explicit: a global mixed policy must not leak in
    model.trainable = False  # BatchNorm always uses its moving statistics
    load_i3d_weights(model, read_weights(path))
    return model


def load_i3d(weights: str | os.PathLike | None = None, precision: str | None = None):
    """The Kinetics-400 `InceptionI3D` with its weights loaded (cached per file and precision).

    Args:
        weights: a `.ckpt` or `.npz` file; None uses the cache made by `vidgen evaluate
            fetch-i3d` (`vidgen_tf.metrics.i3d_weights.fetch_i3d_weights`).
        precision: "float32" or "mixed_bfloat16" (bfloat16 compute, float32 logits); None
            or "auto" (default) picks `default_precision()`. The model's `precision`
            attribute says which it got.
    """
    from vidgen_tf.metrics.i3d_weights import resolve_weights_path

    if precision in (None, "auto"):
        precision = default_precision()
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; received "
                         f"precision={precision!r}")
    if precision == "mixed_bfloat16":
        from vidgen_tf.training.setup import warn_if_bfloat16_is_emulated

        warn_if_bfloat16_is_emulated("I3D")
    path = resolve_weights_path(weights).resolve()
    model = _cached_i3d(str(path), path.stat().st_mtime, precision)
    model.precision = precision
    return model


def _check_videos(videos) -> np.ndarray:
    from vidgen_tf.metrics.i3d import I3D_MIN_FRAMES

    videos = np.asarray(videos)
    if videos.ndim != 5 or videos.shape[-1] != 3:
        raise ValueError(f"videos must be channels-last RGB (clips, frames, height, width, 3); "
                         f"received shape {videos.shape}")
    if videos.shape[1] < I3D_MIN_FRAMES:
        raise ValueError(f"I3D needs clips of at least {I3D_MIN_FRAMES} frames (its final "
                         f"2x7x7 pool needs 2 time steps); received frames={videos.shape[1]}")
    if videos.dtype != np.uint8:
        if videos.dtype.kind != "f":
            raise TypeError(f"videos must be uint8 in [0, 255] or float in [-1, 1]; received "
                            f"dtype={videos.dtype}")
        low, high = float(np.min(videos)), float(np.max(videos))
        # The reference asserts the same tolerance before embedding.
        if not (low >= -1.001 and high <= 1.001):
            raise ValueError(f"float videos must be in [-1, 1]; received values in "
                             f"[{low:.3g}, {high:.3g}] (pass uint8 for [0, 255] pixels)")
    return videos


def _resize_fn():
    import tensorflow as tf

    from vidgen_tf.metrics.i3d import I3D_SIZE

    @tf.function(reduce_retracing=True)
    def resize(clips):
        shape = tf.shape(clips)
        frames = tf.reshape(clips, tf.concat([[-1], shape[2:]], axis=0))
        # TF1 tf.image.resize_bilinear (align_corners=False, half_pixel_centers=False), the
        # resize the FVD reference uses; TF2's tf.image.resize would shift by half a pixel.
        frames = tf.raw_ops.ResizeBilinear(images=frames, size=[I3D_SIZE, I3D_SIZE],
                                           align_corners=False, half_pixel_centers=False)
        return tf.reshape(frames, tf.concat([shape[:2], [I3D_SIZE, I3D_SIZE, 3]], axis=0))

    return resize


@functools.cache
def _logits_fn(model):
    import tensorflow as tf

    resize = _resize_fn()

    @tf.function(reduce_retracing=True)
    def logits(clips):
        return model(resize(clips), training=False)

    return logits


def _progress(total: int, progress) -> tuple[Callable[[int], None], Callable[[], None]]:
    """(update, close) for `progress`: a callable, True/False, or None (auto: a tqdm bar on
    an interactive stderr when there are several batches)."""
    if callable(progress):
        return progress, lambda: None
    if progress is None:
        progress = total > 1 and sys.stderr.isatty()
    if not progress:
        return lambda n=1: None, lambda: None
    try:
        from tqdm import tqdm
    except ImportError:
        return lambda n=1: None, lambda: None
    bar = tqdm(total=total, desc="I3D", unit="clip", dynamic_ncols=True, leave=False)
    return bar.update, bar.close


def i3d_logits(videos, *, batch_size: int = 8, weights: str | os.PathLike | None = None,
               precision: str | None = None, model=None, progress=None) -> np.ndarray:
    """Kinetics-400 I3D logits, averaged over time, as the FVD reference embeds clips.

    Args:
        videos: channels-last `(clips, frames, height, width, 3)`, uint8 in [0, 255] or
            float in [-1, 1], with frames >= 9. Frames are resized bilinearly to 224x224.
        batch_size: clips per I3D call (default 8). Results do not depend on it.
        weights: I3D weights file (.ckpt or .npz); None uses the cached weights.
        precision: "float32", "mixed_bfloat16", or None for `default_precision()`.
        model: an already loaded I3D (from `load_i3d`) instead of `weights`/`precision`.
        progress: a callable `update(clips)`, True/False for a tqdm bar, or None to draw one
            only for several batches on an interactive terminal.

    Returns:
        float32 array `(clips, 400)`.

    Example:
        >>> feats = i3d_logits(np.zeros((2, 16, 64, 64, 3), np.uint8))  # doctest: +SKIP
        >>> feats.shape  # doctest: +SKIP
        (2, 400)
    """
    videos = _check_videos(videos)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; received batch_size={batch_size}")
    if model is None:
        model = load_i3d(weights, precision)
    compute = _logits_fn(model)
    update, close = _progress(len(videos), progress)
    features = []
    try:
        for start in range(0, len(videos), batch_size):
            batch = videos[start:start + batch_size]
            batch = uint8_to_float(batch) if batch.dtype == np.uint8 else batch.astype("float32")
            features.append(np.asarray(compute(batch), dtype=np.float32))
            update(len(batch))
    finally:
        close()
    return np.concatenate(features) if features else np.zeros((0, 400), np.float32)


# --------------------------------------------------------------------------- FVD


def load_features(path: str | os.PathLike) -> np.ndarray:
    """I3D features saved with `save_features` (an .npz with a "features" array)."""
    try:
        with np.load(Path(path), allow_pickle=False) as data:
            return np.asarray(data["features"])
    except (OSError, KeyError, ValueError) as exc:
        raise VidgenError(f"not an I3D features file (.npz with 'features'): {path}") from exc


def save_features(path: str | os.PathLike, features, **settings) -> Path:
    """Save I3D features `(clips, 400)` and the settings they were made with, for reuse."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, features=np.asarray(features, np.float32),
             **{k: np.asarray(v) for k, v in settings.items()})
    return path


def _as_features(data, name: str, **kwargs) -> np.ndarray:
    array = np.asarray(data)
    return array if array.ndim == 2 else i3d_logits(array, **kwargs)


def _check_side(data, name: str) -> None:
    ndim = np.ndim(data)
    if ndim not in (2, 5):
        raise ValueError(f"{name} must be videos (clips, frames, height, width, 3) or I3D "
                         f"features (clips, 400); received shape {np.shape(data)}")
    if len(data) < 2:
        raise VidgenError(f"FVD needs at least 2 clips per side; received {len(data)} "
                          f"{name} clip(s)")


def bias_note(num_real: int, num_fake: int) -> str | None:
    """Why an FVD from fewer than 256 clips on either side is biased, or None.

    The note names each side's count. The bias grows with 1/num_real + 1/num_fake (the mean
    term alone is off by tr(S_real)/num_real + tr(S_fake)/num_fake), so the smaller side
    dominates it, and only FVDs from the same counts on each side compare.
    """
    if min(num_real, num_fake) >= FVD_MIN_UNBIASED_CLIPS:
        return None
    usual = f"the usual setup is 2048 clips per side, at least {FVD_MIN_UNBIASED_CLIPS}"
    if num_real == num_fake:
        return (f"FVD from {num_real} clips per side is biased upwards ({usual}); compare it "
                f"only with FVDs computed from the same number of clips")
    return (f"FVD from {num_fake} fake and {num_real} real clips is biased upwards, mostly by "
            f"the smaller side ({usual}); compare it only with FVDs computed from the same "
            f"counts on each side")


def warn_if_biased(num_real: int, num_fake: int) -> str | None:
    """Warn (`FVDSampleSizeWarning`) when either side has fewer than 256 clips."""
    message = bias_note(num_real, num_fake)
    if message:
        warnings.warn(message, FVDSampleSizeWarning, stacklevel=3)
    return message


def frechet_video_distance(real, fake, *, batch_size: int = 8,
                           weights: str | os.PathLike | None = None,
                           precision: str | None = None, progress=None) -> float:
    """FVD between two sets of clips (or of precomputed I3D features).

    Args:
        real, fake: each either videos, channels-last `(clips, frames, height, width, 3)`
            uint8 or float in [-1, 1] (see `i3d_logits`), or features `(clips, 400)` from
            `i3d_logits`, e.g. cached statistics of a dataset. At least 2 clips per side;
            fewer than 256 warns (`FVDSampleSizeWarning`) that the value is biased.
        batch_size, weights, precision, progress: as for `i3d_logits`.

    Returns:
        The FVD (float, >= 0; lower is closer).
    """
    kwargs = dict(batch_size=batch_size, weights=weights, precision=precision,
                  progress=progress)
    _check_side(real, "real")
    _check_side(fake, "fake")
    warn_if_biased(len(real), len(fake))
    return frechet_distance(_as_features(real, "real", **kwargs),
                            _as_features(fake, "fake", **kwargs))
