"""`vidgen evaluate actions`: the three scores of a tiny action-conditioned SVG export, a model
that moves the shape exactly as told scoring 1 (and 0 when told the rotated actions), and
one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vidgen_tf.cli.main import main
from vidgen_tf.data.shapes import DIRECTION_VECTORS
from vidgen_tf.models.registry import model_kwargs
from vidgen_tf.models.svg import SVG
from vidgen_tf.models.svg.presets import SVG_PRESETS

HORIZON, SIZE = 6, 16
NAMES = ["left", "right", "up", "down"]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    """An untrained tiny SVG, first frame + 6 actions -> 6 frames of 16x16x3, exported."""
    from vidgen_tf.export.generator_export import export_generator

    model = SVG(**{**model_kwargs(SVG_PRESETS["tiny"]), "context": 1, "horizon": HORIZON,
                   "size": SIZE, "channels": 3, "conditions": ["actions"],
                   "action_names": NAMES})
    model.compile()
    model.build()
    root = tmp_path_factory.mktemp("svg_actions_eval")
    model.save(root / "svg.keras")
    export_generator(root / "svg.keras", "svga", saved_models_dir=root / "sm",
                     export_dir=root / "ex")
    return root / "ex" / "svga"


def last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_a_tiny_export_gets_three_scores_and_the_real_clips_all_follow(export, capsys):
    assert main(["evaluate", "actions", str(export), "--num", "10", "--seed", "3",
                 "--json"]) == 0
    line = last_json(capsys)
    for key in ("model", "real", "rotated"):
        assert 0.0 <= line[key] <= 1.0
        assert line[key] == line["followed"][key] / line["segments"]
    assert line["clips"] == 10 and line["segments"] == 20  # 7-frame clips: 2 runs each
    assert line["real"] == 1.0
    assert set(line["per_action"]) == set(NAMES)


def shifted(frame: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """`frame` moved dx pixels right and dy down, black coming in."""
    h, w = frame.shape[:2]
    out = np.zeros_like(frame)
    src = frame[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
    out[max(0, dy):max(0, dy) + src.shape[0], max(0, dx):max(0, dx) + src.shape[1]] = src
    return out


def test_a_model_that_moves_as_told_scores_1_and_0_when_told_the_rotated_actions(
        export, capsys, monkeypatch):
    from vidgen_tf.runtime import VideoGenerator

    def obedient(self, num, seed=None, label=None, frames=None, *, context, actions):
        """Predicted frame k: the first frame moved 1 px per action up to actions[k]."""
        assert context.shape == (num, 1, SIZE, SIZE, 3) and actions.shape == (num, frames)
        videos = []
        for first, row in zip(context[:, 0], actions, strict=True):
            steps = np.cumsum([DIRECTION_VECTORS[NAMES[a]] for a in row], axis=0)
            videos.append([shifted(first, dx, dy) for dx, dy in steps])
        videos = np.asarray(videos, np.uint8)
        yield from (videos[i:i + 4] for i in range(0, num, 4))  # batches, as the runtime

    monkeypatch.setattr(VideoGenerator, "iter_generate", obedient)
    # 0.8 px per move: its runs of 3 moves travel 3 px (real clips of 7 frames at 16x16 at
    # least 0.93 px per move), while actions off by one frame would let the second run
    # travel 2 px (0.67 per move) and score 0.5.
    assert main(["evaluate", "actions", str(export), "--num", "10", "--min-move", "0.8",
                 "--json"]) == 0
    line = last_json(capsys)
    assert (line["model"], line["real"], line["rotated"]) == (1.0, 1.0, 0.0)


def test_the_report_names_the_three_scores(export, capsys):
    assert main(["evaluate", "actions", str(export), "--num", "2"]) == 0
    out = capsys.readouterr().out
    for label in ("model, given the clip's actions", "real clips (evaluator's check)",
                  "model, given the actions rotated", "left (", "down ("):
        assert label in out


@pytest.mark.parametrize("case, message", [
    ("num", "--num must be >= 1; received 0"),
    ("file", "is not a directory"),
    ("empty", "is not an export (it has no manifest.json)"),
    ("no_actions", "takes no actions (it is not action-conditioned)"),
])
def test_errors_are_one_line(export, tmp_path, capsys, case, message):
    (tmp_path / "file.txt").write_text("not an export")
    source = {"num": export, "file": tmp_path / "file.txt", "empty": tmp_path,
              "no_actions": REPO / "export" / "vae_shapes"}[case]
    num = "0" if case == "num" else "2"
    code = main(["evaluate", "actions", str(source), "--num", num])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1
