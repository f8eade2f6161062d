"""Best of N, mean of N and diversity of a stochastic predictor's samples against values worked
out by hand and a pairwise loop; the SM-MNIST test set."""

import numpy as np
import pytest

from vidgen_tf.metrics.prediction import (
    MMNIST_TEST_SEED,
    SMMNIST_TEST_SEED,
    SampledPredictionScores,
    format_sampled_report,
    smmnist_test_source,
)

# Errors of 3 samples of 2 clips over 2 steps: every pixel of a frame is off by the same v
# from a black target, so a frame of 8x8 scores MSE 64 v^2, MAE 64 v, PSNR -20 log10 v
# (100 for v = 0) and SSIM C1 / (v^2 + C1), C1 = 1e-4 (constant frames: no variance).
ERRORS = np.array([
    [[0.0, 0.5], [0.1, 0.1]],    # sample 0: clip 0, clip 1 (step 1, step 2)
    [[0.05, 0.3], [0.3, 0.3]],   # sample 1
    [[0.2, 0.2], [0.2, 0.2]],    # sample 2
])


def constant_frames(errors: np.ndarray) -> np.ndarray:
    """(..., steps) -> (..., steps, 8, 8, 1) frames of those values."""
    return np.broadcast_to(errors[..., None, None, None], (*errors.shape, 8, 8, 1)).copy()


def test_best_and_mean_of_n_by_hand_and_each_metric_picks_its_own_sample():
    # Clip 0 over the horizon, samples 0 / 1 / 2:
    #   MSE  64 (0 + .25) / 2 = 8,    64 (.0025 + .09) / 2 = 2.96,  64 .04 = 2.56  -> sample 2
    #   MAE  64 .5 / 2 = 16,          64 .35 / 2 = 11.2,            64 .2 = 12.8   -> sample 1
    #   SSIM (1 + .0004) / 2 = .5002, (.0385 + .0011) / 2 = .0198,  .0025          -> sample 0
    #   PSNR (100 + 6.02) / 2 = 53.0, (26.02 + 10.46) / 2 = 18.24,  13.98          -> sample 0
    # Clip 1: sample 0 (v = 0.1 throughout) is best by every metric.
    target = np.zeros((2, 2, 8, 8, 1))
    r = SampledPredictionScores().update(constant_frames(ERRORS), target).result()
    best, mean = r["best"], r["mean"]
    assert (r["samples"], r["clips"], r["horizon"]) == (3, 2, 2)
    # MSE: clip 0 sample 2 [2.56, 2.56], clip 1 sample 0 [0.64, 0.64]
    assert best["mse_per_step"] == pytest.approx([1.6, 1.6])
    # MAE: clip 0 sample 1 [3.2, 19.2], clip 1 sample 0 [6.4, 6.4]
    assert best["mae_per_step"] == pytest.approx([4.8, 12.8])
    assert best["mae"] == pytest.approx(8.8)
    # SSIM: clip 0 sample 0 [1, 1e-4 / .2501], clip 1 sample 0 [1e-4 / .0101] * 2
    assert best["ssim_per_step"] == pytest.approx(
        [(1 + 1e-4 / 0.0101) / 2, (1e-4 / 0.2501 + 1e-4 / 0.0101) / 2], rel=1e-6)
    # PSNR: clip 0 sample 0 [100, 20 log10 2], clip 1 sample 0 [20, 20]
    assert best["psnr_per_step"] == pytest.approx([60.0, (20 * np.log10(2) + 20) / 2])
    # The mean of N: all 12 MSEs, 64 v^2, averaged: (27.04 + 17.92) / 12
    assert mean["mse"] == pytest.approx(44.96 / 12)
    assert mean["mse_per_step"] == pytest.approx([(0.16 + 2.56 + 0.64 + 5.76 + 2.56) / 6,
                                                  (16 + 5.76 + 2.56 + 0.64 + 5.76 + 2.56) / 6])
    assert mean["mae"] == pytest.approx(64 * ERRORS.mean())
    # Pairwise (v_i - v_j)^2 over the 3 pairs: clip 0 step 1 (.0025 + .04 + .0225) / 3,
    # step 2 (.04 + .09 + .01) / 3; clip 1 (.04 + .01 + .01) / 3 = .02 at both steps.
    assert r["diversity_per_step"] == pytest.approx([(0.065 / 3 + 0.02) / 2,
                                                     (0.14 / 3 + 0.02) / 2])
    assert r["diversity"] == pytest.approx((0.065 / 3 + 0.14 / 3 + 0.04) / 4)


def pairwise_diversity(samples: np.ndarray) -> np.ndarray:
    """(N, n, horizon, h, w, c) in [0, 1] -> (horizon,): the pairs written out one by one."""
    n = len(samples)
    pairs = [np.mean((samples[i] - samples[j]) ** 2, axis=(2, 3, 4))
             for i in range(n) for j in range(i + 1, n)]
    return np.mean(pairs, axis=0).mean(axis=0)


def test_batches_accumulate_and_diversity_is_the_mean_over_pairs():
    rng = np.random.default_rng(0)
    samples = rng.integers(0, 256, (4, 5, 3, 8, 8, 2), dtype=np.uint8)
    target = rng.integers(0, 256, (5, 3, 8, 8, 2), dtype=np.uint8)
    scores = SampledPredictionScores()
    scores.update(samples[:, :2], target[:2])
    scores.update((s for s in samples[:, 2:]), target[2:])  # a generator works too
    r = scores.result()
    whole = SampledPredictionScores().update(samples, target).result()
    np.testing.assert_allclose(r["diversity_per_step"], pairwise_diversity(samples / 255.0),
                               rtol=1e-10)
    for name in ("mse", "ssim"):
        assert r["best"][name] == pytest.approx(whole["best"][name], rel=1e-12)
        assert r["mean"][name] == pytest.approx(whole["mean"][name], rel=1e-12)
        assert r["best"][name] != pytest.approx(r["mean"][name])
    assert r["best"]["mse"] < r["mean"]["mse"] and r["best"]["ssim"] > r["mean"]["ssim"]


def test_equal_samples_have_no_diversity_and_best_equals_mean():
    target = np.zeros((2, 2, 8, 8, 1))
    predicted = np.random.default_rng(1).uniform(0, 1, target.shape)
    r = SampledPredictionScores().update([predicted] * 3, target).result()
    assert r["diversity"] == 0.0 and r["diversity_per_step"] == [0.0, 0.0]
    for name in ("mse", "mae", "ssim", "psnr"):
        assert r["best"][name] == pytest.approx(r["mean"][name], rel=1e-12)


def test_samples_are_checked():
    target = np.zeros((1, 2, 8, 8, 1))
    with pytest.raises(ValueError, match="at least 2 predictions"):
        SampledPredictionScores().update([target], target)
    scores = SampledPredictionScores().update([target, target], target)
    with pytest.raises(ValueError, match="every batch must hold 2 samples; received 3"):
        scores.update([target] * 3, target)
    with pytest.raises(ValueError, match="every batch must hold frames"):
        scores.update([target[:, :1]] * 2, target[:, :1])
    with pytest.raises(ValueError, match="no prediction was scored"):
        SampledPredictionScores().result()


def test_the_report_says_what_best_and_mean_are():
    target = np.zeros((2, 2, 8, 8, 1))
    r = SampledPredictionScores().update(constant_frames(ERRORS), target).result()
    report = format_sampled_report(r, {"all black": r["mean"]})
    assert "best of 3 (per clip, by each metric over the horizon)" in report
    assert "mean of 3: each metric averaged over the 3 samples" in report
    assert f"{r['best']['mse']:8.2f}" in report and "all black" in report
    assert f"Diversity (mean pairwise per-pixel MSE between the 3 samples, pixels in [0, 1]): " \
           f"{r['diversity']:.4g}" in report


def test_the_smmnist_test_set_is_fixed_and_apart_from_training():
    from vidgen_tf.data.moving_mnist import StochasticMovingMNIST

    source = smmnist_test_source(context=5, horizon=10, num=3)
    assert isinstance(source, StochasticMovingMNIST)
    assert (source.split, source.seed, len(source)) == ("test", SMMNIST_TEST_SEED, 3)
    assert (source.frames, source.size, source.num_digits) == (15, 64, 2)
    assert SMMNIST_TEST_SEED not in (0, MMNIST_TEST_SEED)
    again = smmnist_test_source(context=5, horizon=10, num=50)  # clip i whatever num is
    for i in range(3):
        np.testing.assert_array_equal(source.clip(i)["video"], again.clip(i)["video"])
    assert len(smmnist_test_source()) == 1000
    # The same (seed, index) with train digits draws another clip.
    train = StochasticMovingMNIST(frames=15, split="train", seed=SMMNIST_TEST_SEED, num=1)
    assert not np.array_equal(train.clip(0)["video"], source.clip(0)["video"])
    with pytest.raises(ValueError, match="horizon must be an integer >= 1"):
        smmnist_test_source(horizon=0)


def test_the_smmnist_test_set_draws_mnist_test_digits_only(tmp_path, monkeypatch):
    # Train digits all 255, test digits all 100: any 255 pixel would be a train digit.
    fake = tmp_path / "mnist.npz"
    np.savez(fake, x_train=np.full((50, 28, 28), 255, np.uint8), y_train=np.zeros(50, int),
             x_test=np.full((30, 28, 28), 100, np.uint8), y_test=np.ones(30, int))
    monkeypatch.setenv("VIDGEN_MNIST", str(fake))
    source = smmnist_test_source(context=2, horizon=3, num=4)
    videos = np.stack([source.clip(i)["video"] for i in range(4)])
    assert set(np.unique(videos)) == {0, 100}
    assert source.clip(0)["label"] == 11  # both digits "1", the fake test labels
