"""Scores of frame prediction as the field reports them (OpenSTL, PredRNN): MSE and MAE per
frame, SSIM and PSNR, with per-step curves; the copy-last-frame and all-black baselines; and
the MMNIST-synthetic test set. Numpy (and scikit-image for SSIM) only."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

# The standard Moving MNIST test file cannot be downloaded here: the test set is generated
# from MNIST *test* digits with this seed, never used in training (training draws train
# digits with the run's seed). Called MMNIST-synthetic wherever a number comes from it.
MMNIST_TEST_SEED = 10_000_019
MMNIST_TEST_CLIPS = 10_000


def mmnist_test_source(context: int = 10, horizon: int = 10, num: int = MMNIST_TEST_CLIPS):
    """The MMNIST-synthetic test set: `num` Moving MNIST clips of context + horizon frames,
    64x64, 2 digits from the MNIST test split, seed `MMNIST_TEST_SEED`. Clip i is the same
    whatever `num` is (`MovingMNIST` draws clip i from (seed, i))."""
    from vidgen_tf.data.moving_mnist import MovingMNIST

    return MovingMNIST(frames=context + horizon, size=64, num_digits=2, split="test",
                       seed=MMNIST_TEST_SEED, num=num)


def iter_test_batches(source, context: int, batch: int, channels: int = 1
                      ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(context uint8 `(n, context, h, w, channels)`, target uint8 `(n, rest, h, w,
    channels)`) for consecutive batches of a clip source, one batch in memory at a time.
    With `channels` 1 the clips' first channel is kept (Moving MNIST stores grey as three
    equal channels)."""
    for start in range(0, len(source), batch):
        clips = np.stack([source.clip(i)["video"]
                          for i in range(start, min(start + batch, len(source)))])
        clips = clips[..., :1] if channels == 1 else clips
        yield clips[:, :context], clips[:, context:]


def copy_last_frame(context: np.ndarray, horizon: int) -> np.ndarray:
    """The baseline that repeats the last context frame `horizon` times."""
    return np.repeat(np.asarray(context)[:, -1:], horizon, axis=1)


def all_black(context: np.ndarray, horizon: int) -> np.ndarray:
    """The baseline that predicts black frames."""
    context = np.asarray(context)
    return np.zeros((len(context), horizon, *context.shape[2:]), context.dtype)


def _unit(video) -> np.ndarray:
    video = np.asarray(video)
    if video.dtype == np.uint8:
        return video.astype(np.float64) / 255.0
    return video.astype(np.float64)


class PredictionScores:
    """Accumulates per-step scores of predictions against targets, batch by batch.

    Definitions (those of the OpenSTL and PredRNN tables), on pixels in [0, 1]:
    - MSE per frame: the squared errors of one frame summed over its pixels (and channels),
      averaged over frames and clips; MAE likewise with absolute errors. Grey data counts
      one channel, so give 1-channel frames (as `iter_test_batches` does).
    - SSIM: `skimage.metrics.structural_similarity` (Wang et al. 2004, 7x7 uniform window,
      data_range 1, `channel_axis` for colour) of each frame, averaged.
    - PSNR: 10 log10(1 / mean squared error) of each frame (in dB), averaged; a perfect
      frame counts as 100 dB.

    Example:
        >>> scores = PredictionScores()
        >>> target = np.zeros((1, 2, 8, 8, 1))
        >>> predicted = target.copy(); predicted[0, :, 0, 0] = 0.5
        >>> round(scores.update(predicted, target).result()["mse"], 4)
        0.25
    """

    def __init__(self):
        self._sums: dict[str, np.ndarray] | None = None
        self.clips = 0

    def update(self, predicted, target) -> PredictionScores:
        """Add a batch: `predicted` and `target` `(n, horizon, height, width, channels)`, uint8
        in [0, 255] or float in [0, 1] (predictions are clipped to [0, 1])."""
        from skimage.metrics import structural_similarity

        predicted, target = np.clip(_unit(predicted), 0, 1), _unit(target)
        if predicted.shape != target.shape or predicted.ndim != 5:
            raise ValueError(f"predictions {predicted.shape} and targets {target.shape} must "
                             "share one shape (n, horizon, height, width, channels)")
        error = predicted - target
        per_frame_mse = np.square(error).sum(axis=(2, 3, 4))  # (n, horizon)
        per_pixel_mse = np.square(error).mean(axis=(2, 3, 4))
        psnr = np.where(per_pixel_mse > 0, 10 * np.log10(1.0 / np.maximum(per_pixel_mse, 1e-20)),
                        100.0)
        colour = target.shape[-1] > 1
        ssim = np.array([[structural_similarity(
            target[i, t] if colour else target[i, t, ..., 0],
            predicted[i, t] if colour else predicted[i, t, ..., 0], data_range=1.0,
            channel_axis=-1 if colour else None) for t in range(target.shape[1])]
            for i in range(len(target))])
        batch = {"mse": per_frame_mse, "mae": np.abs(error).sum(axis=(2, 3, 4)),
                 "ssim": ssim, "psnr": psnr}
        sums = {name: values.sum(axis=0) for name, values in batch.items()}
        if self._sums is None:
            self._sums = sums
        else:
            if sums["mse"].shape != self._sums["mse"].shape:
                raise ValueError(f"every batch must predict {len(self._sums['mse'])} frames; "
                                 f"received {len(sums['mse'])}")
            self._sums = {name: self._sums[name] + sums[name] for name in sums}
        self.clips += len(target)
        return self

    def result(self) -> dict:
        """{"mse", "mae", "ssim", "psnr"} averaged over frames and clips, the per-step curves
        "<name>_per_step", and "clips"."""
        if self._sums is None:
            raise ValueError("no prediction was scored")
        out: dict = {"clips": self.clips}
        for name, total in self._sums.items():
            curve = total / self.clips
            out[name] = float(curve.mean())
            out[f"{name}_per_step"] = [float(v) for v in curve]
        return out


def format_report(results: dict[str, dict]) -> str:
    """A table of each result's MSE, MAE, SSIM and PSNR, then the per-step MSE curves."""
    width = max(len(name) for name in results)
    lines = [f"{'':<{width}}  {'MSE':>8}  {'MAE':>8}  {'SSIM':>6}  {'PSNR':>6}"]
    for name, r in results.items():
        lines.append(f"{name:<{width}}  {r['mse']:8.2f}  {r['mae']:8.2f}  {r['ssim']:6.4f}  "
                     f"{r['psnr']:6.2f}")
    lines.append("MSE per step (frame 1, 2, ...):")
    for name, r in results.items():
        lines.append(f"  {name:<{width}}  " + " ".join(f"{v:.1f}" for v in r["mse_per_step"]))
    return "\n".join(lines)
