"""What a good FVD is on given data: real vs real on two disjoint halves of the real clips.

An FVD alone says little: its floor depends on the data, the clip length and size, and the
number of clips. The real clips' I3D features, split into two disjoint halves, give the FVD of
"a perfect model" on the same data; the fake clips compared with one of those halves at the
same count give the model's FVD like for like. No extra I3D pass is needed.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from vidgen_tf.metrics.fvd import frechet_distance


@dataclasses.dataclass(frozen=True)
class FVDReference:
    """Real-vs-real and fake-vs-real FVDs at the same number of clips per side.

    Args:
        clips_per_side: int. Clips on each side of both distances.
        real_vs_real: float. FVD between the halves `real_a` and `real_b` of the real clips.
        fake_vs_real: float. FVD between the fake clips `fake` and the real half `real_b`.
        real_a, real_b: int arrays. Indices of two disjoint sets of real clips.
        fake: int array. Indices of the fake clips used.
    """

    clips_per_side: int
    real_vs_real: float
    fake_vs_real: float
    real_a: np.ndarray
    real_b: np.ndarray
    fake: np.ndarray

    def as_dict(self) -> dict:
        """The numbers (not the indices), rounded for a JSON report."""
        return {"clips_per_side": self.clips_per_side,
                "real_vs_real": round(self.real_vs_real, 4),
                "fake_vs_real": round(self.fake_vs_real, 4)}


def reference_indices(num_real: int, num_fake: int, seed: int = 0
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(real_a, real_b, fake): two disjoint halves of `num_real` clips and as many fake clips.

    Each part has `min(num_real // 2, num_fake)` clips, chosen by random permutations
    (`np.random.default_rng(seed)`, real first), so the halves do not depend on the order the
    clips were read in (a folder's files may be sorted by class or source). Indices are sorted.
    """
    size = min(num_real // 2, num_fake)
    if size < 2:
        raise ValueError(f"a real-vs-real reference needs at least 4 real clips and 2 fake "
                         f"clips; received num_real={num_real}, num_fake={num_fake}")
    rng = np.random.default_rng(seed)
    real = rng.permutation(num_real)
    fake = rng.permutation(num_fake)[:size]
    return np.sort(real[:size]), np.sort(real[size:2 * size]), np.sort(fake)


def fvd_reference(real_features, fake_features, seed: int = 0) -> FVDReference:
    """Real-vs-real FVD on two disjoint halves of the real clips, and the fake clips' FVD
    against the second half at the same count, from I3D features already computed.

    Both use `n = min(len(real) // 2, len(fake))` clips per side, fewer than the full FVD, and
    FVD reads higher with fewer clips: compare the two values with each other. Only the
    compared side differs between them, since both use the same real half.

    Args:
        real_features, fake_features: arrays `(clips, dims)` (e.g. from `i3d_logits`), at
            least 4 real clips and 2 fake clips.
        seed: int, default 0. Seed of the split (see `reference_indices`).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> real = rng.normal(size=(200, 3))
        >>> ref = fvd_reference(real, real + 2.0)
        >>> ref.clips_per_side, ref.real_vs_real < 0.2, 11.0 < ref.fake_vs_real < 13.0
        (100, True, True)
    """
    real = np.asarray(real_features)
    fake = np.asarray(fake_features)
    real_a, real_b, fake_part = reference_indices(len(real), len(fake), seed)
    return FVDReference(
        clips_per_side=len(real_a),
        real_vs_real=frechet_distance(real[real_a], real[real_b]),
        fake_vs_real=frechet_distance(fake[fake_part], real[real_b]),
        real_a=real_a, real_b=real_b, fake=fake_part)
