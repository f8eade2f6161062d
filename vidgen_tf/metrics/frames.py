"""Per-frame SSIM, PSNR and MSE of predicted against target video, per time step and averaged.

Numpy only. Pixels are compared on the [0, 1] scale (data range 1), so MSE is in [0, 1]
and PSNR = 10 log10(1 / MSE) dB, the same number as on the [0, 255] scale with range 255.
SSIM is Wang et al. (2004) with the usual constants, matching `tf.image.ssim`: an 11x11
Gaussian window (sigma 1.5, "valid" filtering), K1 = 0.01, K2 = 0.03, averaged over the
window positions and the colour channels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidgen_tf.data.pixels import uint8_to_float

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1, SSIM_K2 = 0.01, 0.03
# Float video a little outside [-1, 1] is rounding; further out it is on another scale.
FLOAT_RANGE_TOLERANCE = 1e-3


def check_video(video, name: str = "video") -> np.ndarray:
    """`video` as an array, or an error naming `name`: uint8 [0, 255] or finite float in
    [-1, 1], with at least one pixel. Nothing else gives meaningful metrics."""
    video = np.asarray(video)
    if video.dtype != np.uint8 and video.dtype.kind != "f":
        raise TypeError(f"{name} must be uint8 in [0, 255] or float in [-1, 1]; received "
                        f"dtype={video.dtype}")
    if video.size == 0:
        raise ValueError(f"{name} holds no pixels (shape {video.shape}); it needs at least "
                         "one clip of one frame")
    if video.dtype.kind == "f":
        if not np.all(np.isfinite(video)):
            raise ValueError(f"{name} holds NaN or infinite values; pixels must be finite "
                             "floats in [-1, 1]")
        low, high = float(video.min()), float(video.max())
        if low < -1 - FLOAT_RANGE_TOLERANCE or high > 1 + FLOAT_RANGE_TOLERANCE:
            raise ValueError(f"{name} must be float in [-1, 1] (or uint8 in [0, 255]); its "
                             f"values span [{low:g}, {high:g}]")
    return video


def to_unit_range(video, name: str = "video") -> np.ndarray:
    """uint8 [0, 255] or float [-1, 1] video -> float64 in [0, 1], any channels-last shape."""
    video = check_video(video, name)
    if video.dtype == np.uint8:
        video = uint8_to_float(video)
    return (video.astype(np.float64) + 1.0) / 2.0


def _pair(pred, target) -> tuple[np.ndarray, np.ndarray]:
    pred, target = to_unit_range(pred, "pred"), to_unit_range(target, "target")
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape; received {pred.shape} "
                         f"and {target.shape}")
    if pred.ndim == 4:  # one clip
        pred, target = pred[None], target[None]
    if pred.ndim != 5:
        raise ValueError(f"videos must be channels-last (clips, frames, height, width, "
                         f"channels) or one clip (frames, height, width, channels); received "
                         f"shape {pred.shape}")
    return pred, target


def mse_per_frame(pred, target) -> np.ndarray:
    """Mean squared error of every frame on the [0, 1] scale: `(clips, frames)` float64.

    Args:
        pred, target: channels-last `(clips, frames, height, width, channels)` (or one clip
            without the clips axis), each uint8 in [0, 255] or float in [-1, 1].
    """
    return _mse(*_pair(pred, target))


def _mse(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    return np.mean((pred - target) ** 2, axis=(2, 3, 4))


def psnr_per_frame(pred, target) -> np.ndarray:
    """PSNR in dB of every frame, `(clips, frames)`; identical frames give +inf."""
    return _psnr(mse_per_frame(pred, target))


def _psnr(mse: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(1.0 / mse)


def _gaussian_window() -> np.ndarray:
    coords = np.arange(SSIM_WINDOW, dtype=np.float64) - (SSIM_WINDOW - 1) / 2.0
    window = np.exp(-(coords ** 2) / (2.0 * SSIM_SIGMA ** 2))
    return window / window.sum()


def _filter(images: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Separable "valid" filtering over the height and width axes of (..., H, W, C)."""
    rows = np.lib.stride_tricks.sliding_window_view(images, len(window), axis=-3) @ window
    return np.lib.stride_tricks.sliding_window_view(rows, len(window), axis=-2) @ window


def ssim_per_frame(pred, target) -> np.ndarray:
    """SSIM of every frame, `(clips, frames)`, in [-1, 1] (1 for identical frames).

    Frames must be at least 11x11 pixels (the Gaussian window).
    """
    return _ssim(*_pair(pred, target))


def _ssim(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    height, width = pred.shape[2:4]
    if min(height, width) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs frames of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels; "
                         f"received {height}x{width}")
    window = _gaussian_window()
    c1, c2 = SSIM_K1 ** 2, SSIM_K2 ** 2
    scores = np.empty(pred.shape[:2])
    for i, (x, y) in enumerate(zip(pred, target, strict=True)):  # one clip at a time: memory
        mu_x, mu_y = _filter(x, window), _filter(y, window)
        var_x = _filter(x * x, window) - mu_x ** 2
        var_y = _filter(y * y, window) - mu_y ** 2
        cov = _filter(x * y, window) - mu_x * mu_y
        luminance = (2 * mu_x * mu_y + c1) / (mu_x ** 2 + mu_y ** 2 + c1)
        structure = (2 * cov + c2) / (var_x + var_y + c2)
        scores[i] = np.mean(luminance * structure, axis=(1, 2, 3))
    return scores


@dataclass(frozen=True)
class FrameMetrics:
    """SSIM, PSNR (dB) and MSE ([0, 1] scale) per time step, averaged over clips.

    Each field is a float64 array `(frames,)`; `mean_*` average over the time steps too.
    """

    ssim: np.ndarray
    psnr: np.ndarray
    mse: np.ndarray
    clips: int

    @property
    def mean_ssim(self) -> float:
        return float(np.mean(self.ssim))

    @property
    def mean_psnr(self) -> float:
        return float(np.mean(self.psnr))

    @property
    def mean_mse(self) -> float:
        return float(np.mean(self.mse))

    def as_dict(self) -> dict:
        """JSON-ready: per-step lists and means (an infinite PSNR becomes None)."""
        def clean(values):
            return [float(v) if np.isfinite(v) else None for v in np.atleast_1d(values)]

        return {"clips": self.clips, "frames": len(self.ssim),
                "ssim": self.mean_ssim, "psnr": clean(self.mean_psnr)[0], "mse": self.mean_mse,
                "ssim_per_frame": clean(self.ssim), "psnr_per_frame": clean(self.psnr),
                "mse_per_frame": clean(self.mse)}


def frame_metrics(pred, target) -> FrameMetrics:
    """SSIM, PSNR and MSE of `pred` against `target`, per time step (mean over clips).

    Args:
        pred, target: channels-last `(clips, frames, height, width, channels)` (or one clip),
            uint8 in [0, 255] or float in [-1, 1]; the two may differ in dtype.

    Example:
        >>> target = np.zeros((2, 4, 16, 16, 3), np.uint8)
        >>> m = frame_metrics(target + 51, target)  # 51/255 = 0.2 off everywhere
        >>> round(m.mean_mse, 6), round(m.mean_psnr, 3)
        (0.04, 13.979)
    """
    pred, target = _pair(pred, target)
    mse = _mse(pred, target)
    return FrameMetrics(ssim=_ssim(pred, target).mean(axis=0), psnr=_psnr(mse).mean(axis=0),
                        mse=mse.mean(axis=0), clips=len(pred))
