"""FVD of a label-conditioned export: its labels follow the --real data's class frequencies
(issue 21: drawn uniformly, an imbalanced folder's rare classes were generated as often as its
common ones, and the FVD measured that mismatch as well as the videos)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from tests.test_case import moving_bar_video
from vidgen_tf.cli.clip_sources import data_labels, export_batches

NAMES = ["blue_square", "green_disc", "red_circle"]


@pytest.fixture()
def imbalanced_folder(tmp_path):
    """Class subfolders: 3 videos of blue_square, 1 of red_circle, none of green_disc."""
    from vidgen_tf.data.video_io import write_video

    root = tmp_path / "videos"
    for name, count in (("blue_square", 3), ("red_circle", 1)):
        (root / name).mkdir(parents=True)
        for i in range(count):
            write_video(root / name / f"v{i}.mp4", moving_bar_video(12), fps=10)
    return root


@pytest.mark.parametrize("num, expected", [(4, {"blue_square": 3, "red_circle": 1}),
                                           (8, {"blue_square": 6, "red_circle": 2})])
def test_labels_are_the_classes_of_the_data_clips_in_turn(imbalanced_folder, num, expected):
    notes: list[str] = []
    labels = data_labels(str(imbalanced_folder), num, NAMES, 8, 32, seed=5, notes=notes)
    assert len(labels) == num
    assert Counter(labels.tolist()) == expected
    assert notes == [f"labels: the classes of 4 clips of {imbalanced_folder} (seed 5, not the "
                     f"real side's clips): "
                     + ", ".join(f"{k} {v}" for k, v in sorted(expected.items()))]


def test_data_whose_classes_the_export_lacks_falls_back_to_uniform_labels(imbalanced_folder):
    notes: list[str] = []
    labels = data_labels(str(imbalanced_folder), 4, ["blue_square", "other"], 8, 32, seed=5,
                         notes=notes)
    assert labels is None
    assert notes == [f"labels: drawn uniformly over the export's 2 classes, not by "
                     f"{imbalanced_folder}'s class frequencies (its classes red_circle are "
                     "not the export's)"]


class _LabelExport:
    """Stands in for the runtime's VideoGenerator of a label-conditioned export: records the
    labels each `generate` call receives."""

    conditions = ("label",)

    def __init__(self):
        self.class_names = NAMES
        self.manifest = {"video": {"frames": 8, "height": 32}}
        self.calls = []

    def generate(self, num, seed=None, frames=None, label=None):
        self.calls.append((num, seed, list(label)))
        return np.zeros((num, 8, 32, 32, 3), np.uint8)


def test_export_batches_pass_the_data_labels_to_the_export(imbalanced_folder):
    export = _LabelExport()
    notes: list[str] = []
    batches = list(export_batches(export, 12, None, 7, str(imbalanced_folder), notes))
    assert [len(b) for b in batches] == [8, 4]
    assert [(n, s) for n, s, _ in export.calls] == [(8, 7), (4, 15)]
    labels = [name for _, _, part in export.calls for name in part]
    assert Counter(labels) == {"blue_square": 9, "red_circle": 3}
    assert notes[0].startswith(f"labels: the classes of 4 clips of {imbalanced_folder} (seed 10")
