"""The real-vs-real FVD reference and the clip counts of the bias note, checked by hand."""

import numpy as np
import pytest

from vidgen_tf.metrics.fvd import bias_note
from vidgen_tf.metrics.fvd_reference import fvd_reference, reference_indices


def frechet_by_hand(a, b) -> float:
    """The Fréchet distance from its definition, with scipy's general matrix square root
    (the library uses symmetric eigendecompositions instead)."""
    scipy_linalg = pytest.importorskip("scipy.linalg")
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    diff = a.mean(axis=0) - b.mean(axis=0)
    root = scipy_linalg.sqrtm(cov_a @ cov_b)
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root).real)


@pytest.mark.parametrize("num_real, num_fake, size", [
    (256, 256, 128), (257, 256, 128), (12, 24, 6), (300, 40, 40), (4, 2, 2)])
def test_reference_halves_are_disjoint_real_clips_and_as_many_fake_clips(num_real, num_fake,
                                                                        size):
    real_a, real_b, fake = reference_indices(num_real, num_fake, seed=0)
    assert len(real_a) == len(real_b) == len(fake) == size
    assert not set(real_a) & set(real_b)
    for part, num in ((real_a, num_real), (real_b, num_real), (fake, num_fake)):
        assert len(set(part)) == len(part) and 0 <= part.min() and part.max() < num
    if num_real == 2 * size:  # an even count is split completely
        assert sorted(np.concatenate([real_a, real_b])) == list(range(num_real))


def test_reference_split_is_random_but_fixed_by_the_seed():
    # Random, not first half vs second half: a folder read in order may be sorted by class.
    real_a, real_b, _ = reference_indices(100, 100, seed=0)
    assert not np.array_equal(real_a, np.arange(50))
    again = reference_indices(100, 100, seed=0)
    assert np.array_equal(again[0], real_a) and np.array_equal(again[1], real_b)
    assert not np.array_equal(reference_indices(100, 100, seed=1)[0], real_a)


def test_reference_refuses_too_few_clips():
    with pytest.raises(ValueError, match="at least 4 real clips"):
        reference_indices(3, 10)
    with pytest.raises(ValueError, match="received num_real=10, num_fake=1"):
        reference_indices(10, 1)


def test_reference_values_match_the_definition_on_the_halves():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(60, 3)) @ np.array([[2.0, 0, 0], [0.5, 1.0, 0], [0, 0, 0.5]])
    fake = rng.normal(size=(45, 3)) * 1.5 + 2.0
    reference = fvd_reference(real, fake, seed=4)
    real_a, real_b, part = reference_indices(60, 45, seed=4)
    assert reference.clips_per_side == 30
    assert np.array_equal(reference.real_a, real_a) and np.array_equal(reference.real_b, real_b)
    assert np.array_equal(reference.fake, part)
    assert reference.real_vs_real == pytest.approx(
        frechet_by_hand(real[real_a], real[real_b]), rel=1e-9)
    # The fake clips are compared with the same real half, at the same count.
    assert reference.fake_vs_real == pytest.approx(
        frechet_by_hand(fake[part], real[real_b]), rel=1e-9)
    assert reference.fake_vs_real > 5 * reference.real_vs_real
    assert reference.as_dict() == {"clips_per_side": 30,
                                   "real_vs_real": round(reference.real_vs_real, 4),
                                   "fake_vs_real": round(reference.fake_vs_real, 4)}


def test_bias_note_states_each_sides_count():
    # Issue 21: 256 fake clips against a folder of 72 real clips was reported as "72 clips per
    # side".
    note = bias_note(num_real=72, num_fake=256)
    assert "FVD from 256 fake and 72 real clips is biased upwards" in note
    assert "72 clips per side" not in note and "smaller side" in note
    assert "FVD from 72 clips per side is biased" in bias_note(72, 72)
    assert "FVD from 300 fake and 100 real clips" in bias_note(num_real=100, num_fake=300)
    assert bias_note(256, 2048) is None and bias_note(256, 256) is None
