"""What a new user gets: the default recipe, the presets in --help, and a run that says what
it trains on."""

import json

from tests.test_case import run_cli
from vidgen_tf.models.registry import FAMILIES
from vidgen_tf.training.config import TrainConfig, describe_run

SMALL = ["--frames", "8", "--size", "16", "--batch-size", "2", "--epochs", "1",
         "--steps-per-epoch", "1"]


def test_a_new_run_without_model_or_preset_takes_the_recommended_recipe(tmp_path):
    # It used to be dcgan3d with BCE; MoCoGAN without a preset had the paper's BCE and
    # BatchNorm discriminators, which gave smudges on real footage.
    run = tmp_path / "run"
    result = run_cli("train", *SMALL, "--out", str(run))
    assert result.returncode == 0, result.stderr[-2000:]
    config = json.loads((run / "config.json").read_text())
    assert (config["train"]["model"], config["train"]["preset"]) == ("mocogan", "recommended")
    resolved = config["resolved"]
    assert resolved["loss"] == "hinge"
    kwargs = resolved["model_kwargs"]
    assert (kwargs["spectral_norm"], kwargs["minibatch_std"], kwargs["discriminator_head"],
            kwargs["generator_ema"]) == (True, True, "global", 0.999)
    assert (kwargs["frames"], kwargs["size"]) == (8, 16)  # flags still win over the preset
    assert "model:      mocogan, preset recommended" in result.stdout
    assert "clips:      8 frames of 16x16, batch 2, hinge loss" in result.stdout
    assert "conditions: none (unconditional" in result.stdout


def test_the_run_names_its_conditions_and_classes(tmp_path):
    result = run_cli("train", "--preset", "tiny", "--condition", "label", *SMALL,
                     "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr[-2000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("conditions:"))
    # shapes: 3 shapes x 4 directions, in class-folder order
    assert line.startswith("conditions: label (12 classes: circle_left, circle_right, ")
    assert "num_classes set to" not in result.stderr  # the old warning, its only sign


def test_the_papers_category_code_is_described_as_labels_too():
    resolved = {"model_kwargs": {"frames": 16, "size": 64}, "batch_size": 3, "loss": "bce",
                "precision": "float32", "class_names": [f"c{i}" for i in range(14)]}
    text = describe_run(TrainConfig(preset="paper_64_conditional"), resolved, "start", 0)
    assert text.splitlines()[-1] == ("conditions: label as the paper's category code (14 "
                                     "classes: c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, "
                                     "c11, ... (14 in all))")
    resumed = describe_run(TrainConfig(preset="tiny"), resolved, "checkpoint", 3)
    assert resumed.splitlines()[-1] == "resuming:   after epoch 3, from the checkpoint"


def test_train_help_lists_every_preset_with_what_it_is_for():
    result = run_cli("train", "--help")
    assert result.returncode == 0 and result.stderr == ""
    for found in FAMILIES.values():
        notes = dict(found.preset_notes)
        assert list(notes) == list(found.preset_table()), found.name  # none missing or stale
        for name, note in notes.items():
            assert note and f"    {name}" in result.stdout
        assert found.default_preset in (None, *notes)
    assert "recommended           the default: the best recipe" in result.stdout
