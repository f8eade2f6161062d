"""The variational loss pieces against closed forms worked by hand and a Monte Carlo estimate."""

import math

import numpy as np
import pytest

from vidgen_tf.losses.variational import gaussian_kl, kl_weight, reparameterize


def test_the_kl_matches_hand_worked_closed_forms():
    # N(1, 1) against N(0, 1): 0.5 * (0 + (1 + 1) - 1) = 0.5.
    assert float(gaussian_kl(1.0, 0.0)) == pytest.approx(0.5)
    # N(0, 4) against N(0, 1): 0.5 * (-ln 4 + 4 - 1) = 0.8068528.
    assert float(gaussian_kl(0.0, math.log(4.0))) == pytest.approx(0.5 * (3 - math.log(4)))
    # N(2, 1) against N(0, 4): 0.5 * (ln 4 + (1 + 4) / 4 - 1) = 0.8181472.
    assert float(gaussian_kl(2.0, 0.0, 0.0, math.log(4.0))) == pytest.approx(
        0.5 * (math.log(4) + 1.25 - 1))
    # A distribution against itself, and elementwise on arrays.
    mean = np.array([[-1.5, 0.3], [2.0, 0.0]], np.float32)
    logvar = np.array([[0.2, -1.0], [1.5, 0.0]], np.float32)
    np.testing.assert_allclose(gaussian_kl(mean, logvar, mean, logvar), 0.0, atol=1e-6)
    assert gaussian_kl(mean, logvar).shape == (2, 2)


def test_the_kl_equals_a_monte_carlo_estimate():
    rng = np.random.default_rng(0)
    mq, sq, mp, sp = 0.7, 0.5, -0.4, 1.3
    x = rng.normal(mq, sq, 2_000_000)
    log_q = -0.5 * ((x - mq) / sq) ** 2 - math.log(sq)
    log_p = -0.5 * ((x - mp) / sp) ** 2 - math.log(sp)
    estimate = float(np.mean(log_q - log_p))
    exact = float(gaussian_kl(mq, 2 * math.log(sq), mp, 2 * math.log(sp)))
    assert exact == pytest.approx(estimate, abs=3e-3)


def test_a_reparameterised_draw_has_the_asked_mean_and_variance():
    noise = np.random.default_rng(1).standard_normal(200_000).astype(np.float32)
    draws = np.asarray(reparameterize(np.float32(3.0), np.float32(math.log(0.25)), noise))
    assert draws.mean() == pytest.approx(3.0, abs=5e-3)
    assert draws.std() == pytest.approx(0.5, abs=5e-3)


def test_the_kl_weight_warms_up_linearly_then_holds():
    assert [float(kl_weight(s, beta=1e-4, warmup_steps=10)) for s in (0, 5, 10, 50)] == \
        pytest.approx([0.0, 5e-5, 1e-4, 1e-4])
    assert float(kl_weight(0, beta=0.5)) == 0.5
    with pytest.raises(ValueError, match="warmup_steps must be >= 0"):
        kl_weight(0, warmup_steps=-1)
