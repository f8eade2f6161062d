"""Session fixtures: tiny trained runs exported once, for the export, runtime and CLI tests."""

from __future__ import annotations

import pytest


def _train_and_export(root, name: str, **model_kwargs) -> dict:
    from vidgen_tf.export.generator_export import export_generator
    from vidgen_tf.training.run import TrainConfig, train_run

    run_dir = root / f"run_{name}"
    config = TrainConfig(model="mocogan", preset="tiny", data="shapes", epochs=1,
                         steps_per_epoch=2, sample_every=1, model_kwargs=model_kwargs)
    train_run(config, run_dir, verbose=0)
    manifest = export_generator(run_dir, name, saved_models_dir=root / "saved_models",
                                export_dir=root / "export")
    return {"run_dir": run_dir, "saved_model": root / "saved_models" / name,
            "export": root / "export" / name, "manifest": manifest}


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory):
    """An unconditional tiny MoCoGAN trained 2 steps on shapes and exported."""
    return _train_and_export(tmp_path_factory.mktemp("tiny_export"), "tiny")


@pytest.fixture(scope="session")
def tiny_conditional_export(tmp_path_factory):
    """A conditional tiny MoCoGAN (the 12 shapes classes) trained 2 steps and exported."""
    return _train_and_export(tmp_path_factory.mktemp("tiny_cond_export"), "tiny_cond",
                             num_classes=12)


def _cli_train_and_export(root, name: str, condition: str) -> dict:
    """`vidgen train --model mocogan --preset tiny --condition CONDITION` for 2 steps, then
    `vidgen export`, each as a user types it (in a subprocess)."""
    import json

    from tests.test_case import run_cli

    run_dir = root / f"run_{name}"
    commands = [
        ("train", "--model", "mocogan", "--preset", "tiny", "--condition", condition,
         "--epochs", "1", "--steps-per-epoch", "2", "--out", str(run_dir)),
        ("export", str(run_dir), "--name", name, "--saved-models-dir",
         str(root / "saved_models"), "--export-dir", str(root / "export")),
    ]
    for command in commands:
        result = run_cli(*command)
        if result.returncode != 0:
            raise RuntimeError(f"vidgen {command[0]} failed ({result.returncode}):\n"
                               f"{result.stderr}")
    export = root / "export" / name
    return {"run_dir": run_dir, "saved_model": root / "saved_models" / name, "export": export,
            "manifest": json.loads((export / "manifest.json").read_text())}


@pytest.fixture(scope="session")
def tiny_text_export(tmp_path_factory):
    """A tiny MoCoGAN trained 2 steps with `--condition text` on shapes, and exported."""
    return _cli_train_and_export(tmp_path_factory.mktemp("tiny_text"), "tiny_text", "text")


@pytest.fixture(scope="session")
def tiny_first_frame_export(tmp_path_factory):
    """A tiny MoCoGAN trained 2 steps with `--condition first_frame` on shapes, and exported."""
    return _cli_train_and_export(tmp_path_factory.mktemp("tiny_first_frame"), "tiny_first_frame",
                                 "first_frame")


@pytest.fixture(scope="session")
def tiny_label_export(tmp_path_factory):
    """A tiny MoCoGAN trained 2 steps with `--condition label` (the 12 shapes classes), and
    exported."""
    return _cli_train_and_export(tmp_path_factory.mktemp("tiny_label"), "tiny_label", "label")
