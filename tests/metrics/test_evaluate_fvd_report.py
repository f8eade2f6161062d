"""What `vidgen evaluate fvd` reports: each side's clip count, and the real-vs-real reference.

I3D is replaced by a stand-in whose features are a fixed projection of the pixels, so these
tests run the real data pipeline and report in seconds, and know every clip's features.
"""

import json

import numpy as np
import pytest

from vidgen_tf.cli.main import main


class FakeI3D:
    """Stands in for `load_i3d` and `i3d_logits`; records the features of every call, in the
    order the CLI embeds clips (all fake clips first, then the real ones)."""

    precision = "float32"
    dims = 4

    def __init__(self):
        self.features = []

    def load(self, *args, **kwargs):
        return self

    def logits(self, videos, *, progress=None, **kwargs):
        pixels = np.asarray(videos, np.float64).reshape(len(videos), -1) / 255.0
        projection = np.random.default_rng(0).normal(size=(pixels.shape[1], self.dims))
        features = (pixels @ projection).astype(np.float32)
        self.features.append(features)
        if callable(progress):
            progress(len(videos))
        return features


@pytest.fixture
def fake_i3d(tmp_path, monkeypatch):
    stand_in = FakeI3D()
    monkeypatch.setattr("vidgen_tf.metrics.fvd.load_i3d", stand_in.load)
    monkeypatch.setattr("vidgen_tf.metrics.fvd.i3d_logits", stand_in.logits)
    weights = tmp_path / "i3d.npz"  # passes the cheap checks; never read
    np.savez(weights, unused=np.zeros(1))
    stand_in.weights = str(weights)
    return stand_in


def run_fvd(capsys, fake_i3d, *argv):
    """(stdout lines, JSON report) of an in-process `vidgen evaluate fvd ... --json`."""
    assert main(["evaluate", "fvd", *argv, "--json", "--i3d-weights", fake_i3d.weights]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    return lines[:-1], json.loads(lines[-1])


def test_sides_of_different_sizes_are_reported_with_their_own_counts(tmp_path, fake_i3d,
                                                                     capsys):
    from vidgen_tf.data.shapes import ShapesDataset
    from vidgen_tf.data.video_io import write_video

    folder = tmp_path / "real"
    folder.mkdir()
    clips = ShapesDataset(frames=10, size=16, seed=3, num=6)
    for i in range(6):
        write_video(folder / f"clip{i}.mp4", clips[i]["video"])
    lines, report = run_fvd(capsys, fake_i3d, "--real", str(folder), "--fake", "shapes",
                            "--num", "10", "--frames", "10", "--size", "16")
    text = "\n".join(lines)
    assert report["num_fake"] == 10 and report["num_real"] == 6, report
    assert "10 fake and 6 real clips of 10 frames at 16x16" in lines[0]
    # Issue 21: the bias note said "6 clips per side".
    assert ("note: FVD from 10 fake and 6 real clips is biased upwards, mostly by the smaller "
            "side") in text
    assert "clips per side is biased" not in text
    assert f"note: {folder} holds only 6 clips of 10 frames, fewer than --num 10" in lines
    assert report["biased"] is True
    assert report["reference"]["clips_per_side"] == 3  # half of the 6 real clips
    assert "from 3 clips per side than from 10 fake and 6 real clips" in text


def test_reference_is_real_vs_real_on_disjoint_halves_of_the_same_features(fake_i3d, capsys):
    from vidgen_tf.metrics.fvd import frechet_distance
    from vidgen_tf.metrics.fvd_reference import reference_indices

    scipy_linalg = pytest.importorskip("scipy.linalg")
    lines, report = run_fvd(capsys, fake_i3d, "--real", "shapes", "--fake", "shapes",
                            "--num", "16", "--frames", "10", "--size", "16", "--seed", "2")
    embedded = np.concatenate(fake_i3d.features)
    assert len(embedded) == 32  # one I3D pass per clip: the reference reuses the features
    fake, real = embedded[:16], embedded[16:]
    assert report["fvd"] == pytest.approx(frechet_distance(real, fake), abs=1e-4)

    real_a, real_b, part = reference_indices(16, 16, seed=2)
    assert not set(real_a) & set(real_b) and len(real_a) == len(real_b) == 8

    def by_hand(a, b):
        cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
        diff = a.mean(axis=0) - b.mean(axis=0)
        root = np.trace(scipy_linalg.sqrtm(cov_a @ cov_b)).real
        return diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2 * root

    reference = report["reference"]
    assert reference["clips_per_side"] == 8
    assert reference["real_vs_real"] == pytest.approx(by_hand(real[real_a], real[real_b]),
                                                      abs=1e-3)
    assert reference["fake_vs_real"] == pytest.approx(by_hand(fake[part], real[real_b]),
                                                      abs=1e-3)
    assert lines[1] == (f"reference at 8 clips per side: real vs real "
                        f"{reference['real_vs_real']:.2f} (two disjoint halves of the 16 real "
                        f"clips), fake vs real {reference['fake_vs_real']:.2f} (8 fake clips vs "
                        f"the second half)")
    assert lines[-1] == ("note: FVD reads higher from 8 clips per side than from 16 per side: "
                         "compare the reference values with each other, not with the FVD above")


def test_no_reference_leaves_it_out(fake_i3d, capsys):
    lines, report = run_fvd(capsys, fake_i3d, "--real", "shapes", "--fake", "shapes",
                            "--num", "4", "--frames", "10", "--size", "16", "--no-reference")
    assert report["reference"] is None and not any("reference" in line for line in lines)
    # Too few real clips for two halves of 2: said, not an error.
    lines, report = run_fvd(capsys, fake_i3d, "--real", "shapes", "--fake", "shapes",
                            "--num", "3", "--frames", "10", "--size", "16")
    assert report["reference"] is None
    assert "note: no real-vs-real reference: it needs at least 4 real clips (two halves of 2); "\
           "received 3" in lines
