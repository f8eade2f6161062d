"""Fréchet distance: closed forms, symmetry, identity, order invariance, sample-count rules."""

import warnings

import numpy as np
import pytest

from vidgen_tf.errors import VidgenError
from vidgen_tf.metrics.fvd import (
    FVDSampleSizeWarning,
    frechet_distance,
    frechet_video_distance,
    trace_sqrt_product,
)


def gaussian_samples(mean, cov, n, seed):
    """Samples whose sample mean and (n - 1) covariance are exactly `mean` and `cov`."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, len(mean)))
    x -= x.mean(axis=0)
    # Whiten the sample covariance to I, then colour it to `cov`.
    white = np.linalg.cholesky(np.linalg.inv(np.cov(x, rowvar=False)))
    return x @ white @ np.linalg.cholesky(cov).T + mean


def test_closed_form_of_two_known_gaussians():
    # Diagonal covariances commute: tr((S_a S_b)^(1/2)) = sum(sqrt(a_i b_i)), so
    # d = |mu_a - mu_b|^2 + sum((sqrt(a_i) - sqrt(b_i))^2).
    var_a, var_b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    mu_a, mu_b = np.array([0.0, 1.0, 2.0]), np.array([3.0, 1.0, -2.0])
    a = gaussian_samples(mu_a, np.diag(var_a), 50, seed=0)
    b = gaussian_samples(mu_b, np.diag(var_b), 70, seed=1)
    expected = 9.0 + 16.0 + 1.0 + 1.0 + 0.0  # means: 9 + 0 + 16; variances: 1 + 1 + 0
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_closed_form_with_correlated_covariances():
    # A rotated covariance does not commute with a diagonal one; check against the
    # definition through an independent matrix square root (scipy's sqrtm).
    scipy_linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(2)
    q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    cov_a = q @ np.diag([5.0, 2.0, 1.0, 0.5]) @ q.T
    cov_b = np.diag([1.0, 3.0, 0.2, 2.0])
    a = gaussian_samples(np.zeros(4), cov_a, 40, seed=3)
    b = gaussian_samples(np.ones(4), cov_b, 40, seed=4)
    root = scipy_linalg.sqrtm(cov_a @ cov_b)
    expected = 4.0 + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root).real
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)
    assert trace_sqrt_product(cov_a, cov_b) == pytest.approx(np.trace(root).real, rel=1e-10)


def test_one_dimensional_case_by_hand():
    # 1-d: d = (m_a - m_b)^2 + (s_a - s_b)^2 with (n - 1) variances.
    a = np.array([[1.0], [3.0]])  # mean 2, variance (1 + 1) / 1 = 2
    b = np.array([[-1.0], [1.0]]) * np.sqrt(2.0)  # mean 0, variance (2 + 2) / 1 = 4
    expected = 4.0 + (np.sqrt(2.0) - 2.0) ** 2
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-12)


def test_symmetric():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(30, 8))
    b = rng.normal(size=(45, 8)) * 1.5 + 0.3
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-10)


def test_zero_for_identical_sets_even_when_rank_deficient():
    rng = np.random.default_rng(6)
    features = rng.normal(size=(20, 400)).astype(np.float32)  # fewer clips than dims, like FVD
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(features, features.copy()) < 1e-6


def test_invariant_to_sample_order():
    rng = np.random.default_rng(7)
    a = rng.normal(size=(40, 16))
    b = rng.normal(size=(40, 16)) + 0.5
    reference = frechet_distance(a, b)
    assert frechet_distance(a[rng.permutation(40)], b[rng.permutation(40)]) == \
        pytest.approx(reference, rel=1e-10)


def test_float32_features_are_computed_in_float64():
    # A large common offset cancels in the mean difference only with enough precision.
    rng = np.random.default_rng(8)
    a = rng.normal(size=(64, 4)).astype(np.float32) + np.float32(1000.0)
    assert frechet_distance(a, a.copy()) < 1e-6


def test_fewer_than_two_clips_is_an_error():
    rng = np.random.default_rng(9)
    with pytest.raises(VidgenError, match="at least 2"):
        frechet_distance(rng.normal(size=(1, 4)), rng.normal(size=(5, 4)))
    with pytest.raises(VidgenError, match="at least 2"):
        frechet_video_distance(rng.normal(size=(5, 400)), rng.normal(size=(1, 400)))


def test_fewer_than_256_clips_warns_that_fvd_is_biased():
    rng = np.random.default_rng(10)
    small = rng.normal(size=(40, 400))
    with pytest.warns(FVDSampleSizeWarning, match="biased"):
        frechet_video_distance(small, small + 1.0)
    large = rng.normal(size=(256, 400))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert frechet_video_distance(large, large) == pytest.approx(0.0, abs=1e-6)


def test_precomputed_features_give_the_frechet_distance():
    rng = np.random.default_rng(11)
    a, b = rng.normal(size=(300, 400)), rng.normal(size=(300, 400)) + 0.1
    assert frechet_video_distance(a, b) == pytest.approx(frechet_distance(a, b), rel=1e-12)


def test_bad_feature_shapes_are_refused():
    with pytest.raises(ValueError, match="same dims"):
        frechet_distance(np.zeros((4, 3)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"videos .* or I3D features"):
        frechet_video_distance(np.zeros((4, 3, 2)), np.zeros((4, 3, 2)))
