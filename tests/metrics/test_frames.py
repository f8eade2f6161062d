"""Per-frame SSIM, PSNR and MSE: values worked out by hand, and tf.image.ssim as a reference."""

import math

import numpy as np
import pytest

from vidgen_tf.metrics.frames import (
    frame_metrics,
    mse_per_frame,
    psnr_per_frame,
    ssim_per_frame,
    to_unit_range,
)


def test_mse_and_psnr_of_a_constant_offset_by_hand():
    target = np.full((2, 3, 16, 16, 3), 100, np.uint8)
    pred = target.copy()
    pred[:, 0] += 51  # 51 / 255 = 0.2 -> MSE 0.04, PSNR 10 log10(25) dB
    pred[:, 1] += 255 - 100  # 155 / 255
    mse = mse_per_frame(pred, target)
    assert mse.shape == (2, 3)
    np.testing.assert_allclose(mse[:, 0], 0.04, rtol=1e-6)
    np.testing.assert_allclose(mse[:, 1], (155 / 255) ** 2, rtol=1e-6)
    assert np.all(mse[:, 2] == 0)
    psnr = psnr_per_frame(pred, target)
    np.testing.assert_allclose(psnr[:, 0], 10 * math.log10(25), rtol=1e-6)
    assert np.all(np.isinf(psnr[:, 2]))


def test_only_one_pixel_channel_differs():
    target = np.zeros((1, 1, 20, 10, 3), np.uint8)
    pred = target.copy()
    pred[0, 0, 3, 4, 1] = 255
    # One of 20 * 10 * 3 values is off by the whole range: MSE = 1/600.
    assert mse_per_frame(pred, target)[0, 0] == pytest.approx(1 / 600, rel=1e-6)
    assert psnr_per_frame(pred, target)[0, 0] == pytest.approx(10 * math.log10(600), rel=1e-6)


def test_float_inputs_use_the_minus_one_to_one_range():
    target = np.zeros((1, 2, 12, 12, 3), np.float32)  # mid grey
    pred = np.full_like(target, 0.5)  # 0.25 above grey on the [0, 1] scale
    assert mse_per_frame(pred, target)[0, 0] == pytest.approx(0.0625, rel=1e-6)
    np.testing.assert_allclose(to_unit_range(np.array([0, 255], np.uint8)), [0.0, 1.0],
                               atol=1e-7)
    # A uint8 target and a float prediction mean the same pixels.
    grey = np.full((1, 2, 12, 12, 3), 255, np.uint8)
    assert mse_per_frame(np.ones((1, 2, 12, 12, 3), np.float32), grey).max() < 1e-12


def test_ssim_is_one_for_identical_frames_and_symmetric():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (2, 3, 24, 24, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (2, 3, 24, 24, 3), dtype=np.uint8)
    np.testing.assert_allclose(ssim_per_frame(a, a), 1.0, atol=1e-12)
    np.testing.assert_allclose(ssim_per_frame(a, b), ssim_per_frame(b, a), atol=1e-12)
    assert np.all(ssim_per_frame(a, b) < 0.1)  # independent noise is structurally unrelated


def test_ssim_of_constant_frames_by_hand():
    # Constant frames have no variance: SSIM reduces to the luminance term
    # (2 x y + C1) / (x^2 + y^2 + C1), with C1 = 0.01^2 on the [0, 1] scale.
    x, y = 0.2, 0.6
    pred = np.full((1, 1, 16, 16, 3), x * 2 - 1, np.float64)
    target = np.full((1, 1, 16, 16, 3), y * 2 - 1, np.float64)
    c1 = 0.01 ** 2
    expected = (2 * x * y + c1) / (x ** 2 + y ** 2 + c1)
    assert ssim_per_frame(pred, target)[0, 0] == pytest.approx(expected, rel=1e-9)


def test_ssim_matches_tf_image_ssim():
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(1)
    target = rng.integers(0, 256, (2, 4, 32, 40, 3), dtype=np.uint8)
    noise = rng.integers(-40, 41, target.shape)
    pred = np.clip(target.astype(int) + noise, 0, 255).astype(np.uint8)
    pred[1, 2] = target[1, 2] // 2  # a darker frame: the luminance term matters too
    mine = ssim_per_frame(pred, target)
    reference = tf.image.ssim(tf.constant(pred.reshape(-1, 32, 40, 3)),
                              tf.constant(target.reshape(-1, 32, 40, 3)), max_val=255,
                              filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03)
    np.testing.assert_allclose(mine, reference.numpy().reshape(2, 4), atol=2e-6)


def test_psnr_matches_tf_image_psnr():
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(2)
    target = rng.integers(0, 256, (3, 2, 16, 16, 3), dtype=np.uint8)
    pred = rng.integers(0, 256, (3, 2, 16, 16, 3), dtype=np.uint8)
    reference = tf.image.psnr(tf.constant(pred), tf.constant(target), max_val=255).numpy()
    np.testing.assert_allclose(psnr_per_frame(pred, target), reference, rtol=1e-5)


def test_frame_metrics_report_per_time_step_and_averages():
    rng = np.random.default_rng(3)
    target = rng.integers(0, 256, (4, 5, 16, 16, 3), dtype=np.uint8)
    pred = target.copy()
    pred[:, 3:] = 255 - pred[:, 3:]  # the prediction degrades from frame 3 on
    metrics = frame_metrics(pred, target)
    assert metrics.clips == 4 and metrics.ssim.shape == metrics.psnr.shape == (5,)
    np.testing.assert_allclose(metrics.ssim[:3], 1.0)
    assert np.all(metrics.ssim[3:] < 0.5) and np.all(metrics.mse[:3] == 0)
    np.testing.assert_allclose(metrics.mse, mse_per_frame(pred, target).mean(axis=0))
    assert metrics.mean_mse == pytest.approx(metrics.mse.mean())
    report = metrics.as_dict()
    assert report["psnr"] is None  # the mean of an infinite PSNR is not JSON
    assert report["psnr_per_frame"][:3] == [None] * 3 and report["frames"] == 5
    # One clip without the clips axis is accepted.
    single = frame_metrics(pred[0], target[0])
    assert single.clips == 1


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="same shape"):
        mse_per_frame(np.zeros((1, 2, 16, 16, 3), np.uint8), np.zeros((1, 3, 16, 16, 3), np.uint8))
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim_per_frame(np.zeros((1, 1, 8, 8, 3), np.uint8), np.zeros((1, 1, 8, 8, 3), np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        mse_per_frame(np.zeros((1, 1, 8, 8, 3), np.int32), np.zeros((1, 1, 8, 8, 3), np.int32))


@pytest.mark.parametrize("bad, fragment", [
    (np.full((1, 2, 16, 16, 3), np.nan, np.float32), "pred holds NaN or infinite values"),
    (np.full((1, 2, 16, 16, 3), np.inf, np.float64), "pred holds NaN or infinite values"),
    (np.zeros((0, 2, 16, 16, 3), np.float32), "pred holds no pixels (shape (0, 2, 16, 16, 3))"),
    (np.full((1, 2, 16, 16, 3), 5.0, np.float32), "pred must be float in [-1, 1]"),
    (np.full((1, 2, 16, 16, 3), -1.5, np.float32), "values span [-1.5, -1.5]"),
])
def test_unusable_float_video_is_refused_not_turned_into_nan_metrics(bad, fragment):
    target = np.zeros(bad.shape, np.float32)
    with pytest.raises(ValueError) as info:
        frame_metrics(bad, target)
    assert fragment in str(info.value)


def test_float_video_at_the_ends_of_the_range_is_accepted():
    # -1 and 1 (and float32 rounding just past them) are black and white, not an error.
    pred = np.full((1, 2, 16, 16, 3), 1.0 + 1e-6, np.float32)
    target = np.full((1, 2, 16, 16, 3), -1.0, np.float32)
    assert frame_metrics(pred, target).mean_mse == pytest.approx(1.0, rel=1e-5)
