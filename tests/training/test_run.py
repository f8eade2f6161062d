"""`vidgen train` runs: run directory, kill -9 and --resume, NaN guard, and user errors."""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import run_cli
from vidgen_tf.data.video_io import read_video
from vidgen_tf.models import load_model
from vidgen_tf.models.dcgan3d import VideoDCGAN
from vidgen_tf.training.callbacks import GoodCheckpoint, NaNGuard
from vidgen_tf.training.run_dir import RunDir

TINY = ["--model", "dcgan3d", "--preset", "tiny"]


def history_epochs(run_dir):
    with open(run_dir / "history.csv") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


def test_train_writes_a_complete_run_directory(tmp_path):
    run = tmp_path / "run"
    result = run_cli("train", *TINY, "--epochs", "2", "--steps-per-epoch", "3", "--out", str(run))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    config = json.loads((run / "config.json").read_text())
    assert config["resolved"]["model_kwargs"]["frames"] == 8
    assert config["resolved"]["batch_size"] == 4
    assert history_epochs(run) == [0, 1]
    model = keras.models.load_model(run / "model.keras")
    assert int(model.generator_optimizer.iterations) == 6
    assert int(model.discriminator_optimizer.iterations) == 6
    grid = read_video(run / "samples" / "epoch_0002.gif")
    assert grid.shape[0] == 8  # 8 frames, 16 samples tiled
    assert (run / "checkpoints" / "last.keras").exists()
    assert not (run / "backup").exists()  # removed once training finished
    assert any((run / "logs").rglob("events.out.tfevents*"))


def test_kill_9_then_resume_trains_each_epoch_and_step_once(tmp_path):
    run, steps, epochs = tmp_path / "run", 30, 4
    argv = [sys.executable, "-m", "vidgen_tf.cli.main", "train", *TINY, "--epochs", str(epochs),
            "--steps-per-epoch", str(steps), "--sample-every", "100", "--out", str(run)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if (run / "history.csv").exists() and len(history_epochs(run)) >= 1:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "training finished before it could be killed"
    time.sleep(0.3)  # into the second epoch
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = history_epochs(run)
    assert len(killed_at) < epochs and (run / "backup").exists()
    # The kill may land between the history row and the backup of the same epoch; the backup
    # decides where training continues, and that epoch is trained again, its row replaced.
    done = RunDir(run).backup_epoch()
    assert done in (len(killed_at), len(killed_at) - 1)

    resumed = run_cli("train", *TINY, "--epochs", str(epochs), "--out", str(run), "--resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert history_epochs(run) == list(range(epochs))  # no epoch twice, none missing
    left = epochs - done
    assert f"trained {left} epoch{'s' if left > 1 else ''} (epoch" in resumed.stdout
    assert f"{epochs} of {epochs})" in resumed.stdout
    model = keras.models.load_model(run / "model.keras")
    for name in model.optimizer_names:
        assert int(getattr(model, name).iterations) == epochs * steps, name
    # config.json still holds the command that started the run, and lists both starts.
    config = json.loads((run / "config.json").read_text())
    assert "--steps-per-epoch 30" in config["command"] and "--resume" not in config["command"]
    first, second = config["invocations"]
    assert first["command"] == config["command"] and first["first_epoch"] == 1
    assert "--resume" in second["command"] and second["first_epoch"] == done + 1
    assert second["precision"] == config["resolved"]["precision"]
    from vidgen_tf.export.sources import resolve_source

    assert resolve_source(run)[1]["invocations"] == config["invocations"]  # into the manifest


def test_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    good = np.random.default_rng(0).uniform(-1, 1, (4, 8, 16, 16, 3)).astype("float32")
    bad = np.full_like(good, np.nan)
    # Epoch 1: finite batches; epoch 2: NaN videos.
    data = tf.data.Dataset.from_tensor_slices(np.concatenate([good, good, bad, bad])).batch(4)
    gan = VideoDCGAN(frames=8, size=16, z_dim=8, base_filters=8)
    gan.compile()
    guard = NaNGuard()
    checkpoint = GoodCheckpoint(tmp_path / "last.keras", tmp_path / "state.json", guard)
    gan.fit(data, epochs=2, steps_per_epoch=2, callbacks=[guard, checkpoint], verbose=0)
    assert guard.stopped_at[:2] == (2, 1)
    assert json.loads((tmp_path / "state.json").read_text())["epochs_completed"] == 1
    kept = keras.models.load_model(tmp_path / "last.keras")
    assert all(np.isfinite(w).all() for w in kept.get_weights())
    assert int(kept.generator_optimizer.iterations) == 2


@pytest.mark.parametrize("argv, message", [
    (["--model", "stylegan"], "unknown model 'stylegan'; choose one of: dcgan3d"),
    (["--model", "dcgan3d", "--preset", "huge"], "unknown preset 'huge' for dcgan3d"),
    (["--model", "dcgan3d", "--size", "48"], "size must be 4 x a power of two"),
    (["--model", "dcgan3d", "--precision", "fp8"], "unknown precision 'fp8'"),
    (["--model", "dcgan3d", "--data", "nowhere"], "neither a built-in dataset"),
    (["--model", "dcgan3d", "--epochs", "0"], "epochs must be >= 1"),
    (["--model", "dcgan3d", "--loss", "l2"], "unknown GAN loss 'l2'"),
    (["--model", "dcgan3d", "--seed", str(2**64)], "seed must be between 0 and 2147483647"),
])
def test_bad_training_input_is_one_clear_line(tmp_path, argv, message):
    result = run_cli("train", *argv, "--out", str(tmp_path / "run"))
    assert result.returncode == 2, result.stderr[-2000:]
    assert message in result.stderr and "Traceback" not in result.stderr
    # Nothing left behind: the corrected command can use the same --out.
    assert not (tmp_path / "run").exists()


def test_a_run_that_fails_before_its_first_epoch_leaves_only_what_was_there(tmp_path,
                                                                            monkeypatch):
    from vidgen_tf.errors import VidgenError
    from vidgen_tf.training.run import TrainConfig, train_run

    def out_of_memory(*args, **kwargs):
        raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")

    monkeypatch.setattr(keras.Model, "fit", out_of_memory)
    run = tmp_path / "run"
    run.mkdir()
    (run / "notes.txt").write_text("mine")
    config = TrainConfig(model="dcgan3d", preset="tiny", epochs=1, steps_per_epoch=1)
    with pytest.raises(VidgenError, match=r"out of memory training dcgan3d at batch size 4 .*"
                                          "smaller --batch-size"):
        train_run(config, run)
    assert sorted(p.name for p in run.iterdir()) == ["notes.txt"]
    with pytest.raises(VidgenError, match="out of memory"):
        train_run(config, tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_resume_refuses_flags_that_differ_from_the_saved_run(tmp_path):
    from vidgen_tf.errors import VidgenError
    from vidgen_tf.training.run import TrainConfig, train_run

    run = tmp_path / "run"
    run.mkdir()
    saved = TrainConfig(model="mocogan", preset="tiny", steps_per_epoch=2)
    (run / "config.json").write_text(json.dumps({"train": saved.__dict__}))
    requested = TrainConfig(model="vgan", size=64, steps_per_epoch=2, epochs=5)
    with pytest.raises(VidgenError, match=r"--model vgan \(saved: mocogan\), --size 64 "
                                          r"\(saved: None\)\. Drop them"):
        train_run(requested, run, resume=True)


@pytest.mark.parametrize("text, message", [
    ("{bad", "is damaged"), ("[1, 2]", "not a vidgen_tf run config"),
    ('{"train": {"epochs": "x", "bogus": 1}, "resolved": {}}', "train.epochs should be int"),
    ('{"train": {"model": "foo"}}', "config.json is damaged: unknown model 'foo'"),
    ('{"train": {"steps_per_epoch": -5}}', "config.json is damaged: steps-per-epoch must be"),
])
def test_a_damaged_run_config_is_named(tmp_path, text, message):
    from vidgen_tf.errors import VidgenError
    from vidgen_tf.training.run import TrainConfig, train_run

    (tmp_path / "config.json").write_text(text)
    with pytest.raises(VidgenError, match=message):
        train_run(TrainConfig(), tmp_path, resume=True)


def test_a_truncated_keras_file_is_not_reported_as_missing(tmp_path):
    from vidgen_tf.errors import VidgenError

    path = tmp_path / "model.keras"
    path.write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(VidgenError, match=r"not a valid \.keras file"):
        load_model(path)


def test_existing_run_needs_resume_and_resume_needs_a_run(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text("{}")
    existing = run_cli("train", *TINY, "--out", str(tmp_path / "run"))
    assert existing.returncode == 2 and "pass --resume" in existing.stderr
    missing = run_cli("train", *TINY, "--out", str(tmp_path / "none"), "--resume")
    assert missing.returncode == 2 and "no config.json" in missing.stderr
    os.remove(tmp_path / "run" / "config.json")


def test_a_new_run_refuses_a_folder_holding_what_it_would_write(tmp_path):
    from vidgen_tf.errors import VidgenError
    from vidgen_tf.training.run import TrainConfig, train_run

    run = tmp_path / "mine"
    (run / "samples").mkdir(parents=True)
    (run / "samples" / "latest.gif").write_bytes(b"the user's")
    (run / "history.csv").write_text("the user's")
    (run / "notes.txt").write_text("the user's")
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    config = TrainConfig(model="dcgan3d", preset="tiny", epochs=1, steps_per_epoch=1)
    with pytest.raises(VidgenError, match=r"mine is not a run but holds history\.csv, "
                                          r"samples/, which a new run would write over"):
        train_run(config, run)
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    # Unrelated files alone are no clash: the run goes ahead beside them.
    os.remove(run / "history.csv")
    shutil.rmtree(run / "samples")
    train_run(config, run, verbose=0)
    assert (run / "notes.txt").read_text() == "the user's" and (run / "model.keras").exists()


def test_conditional_model_takes_the_class_count_of_its_data(tmp_path):
    run = tmp_path / "run"
    result = run_cli("train", "--model", "mocogan", "--preset", "paper_64_conditional",
                     "--frames", "8", "--size", "16", "--batch-size", "2", "--epochs", "1",
                     "--steps-per-epoch", "1", "--out", str(run))
    assert result.returncode == 0, result.stderr[-2000:]
    resolved = json.loads((run / "config.json").read_text())["resolved"]
    assert resolved["model_kwargs"]["num_classes"] == 12  # shapes: 3 shapes x 4 directions
    assert resolved["class_names"][0] == "circle_left"
    model = load_model(run / "model.keras")  # imports the mocogan family for Keras
    assert model.generator.num_classes == 12


def test_history_has_no_empty_val_columns_and_keeps_an_old_header(tmp_path):
    # Guards history.csv's columns: the logs' metrics only (Keras' CSVLogger adds an all-NA
    # val_ column per metric without validation data); resuming a history written with such
    # columns keeps its header, and each value under its own column.
    from vidgen_tf.training.callbacks import ResumableCSVLogger

    path = tmp_path / "history.csv"
    logger = ResumableCSVLogger(path)
    logger.on_train_begin()
    logger.on_epoch_end(0, {"g_loss": 1.5, "d_loss": 0.5})
    logger.on_train_end()
    assert path.read_text().splitlines() == ["epoch,d_loss,g_loss", "0,0.5,1.5"]
    old = tmp_path / "old.csv"
    old.write_text("epoch,d_loss,g_loss,val_d_loss,val_g_loss\n0,0.5,1.5,NA,NA\n")
    resumed = ResumableCSVLogger(old)
    resumed.on_train_begin()
    resumed.on_epoch_end(1, {"g_loss": 2.5, "d_loss": 0.25})
    resumed.on_train_end()
    with open(old) as f:
        rows = list(csv.DictReader(f))
    assert (rows[1]["d_loss"], rows[1]["g_loss"], rows[1]["val_g_loss"]) == ("0.25", "2.5", "NA")


def test_history_keeps_one_row_per_epoch_when_a_resume_replays_epochs(tmp_path):
    from vidgen_tf.training.callbacks import ResumableCSVLogger

    path = tmp_path / "history.csv"
    first = ResumableCSVLogger(path)
    first.on_train_begin()
    for epoch in range(3):  # rows 0, 1, 2; then the kill: the backup only marked epoch 0 done
        first.on_epoch_end(epoch, {"loss": float(epoch)})
    first.on_train_end()
    resumed = ResumableCSVLogger(path)
    resumed.on_train_begin()
    for epoch in (1, 2, 3):
        resumed.on_epoch_end(epoch, {"loss": 10.0 + epoch})
    resumed.on_train_end()
    with open(path) as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2, 3]
    assert [float(r["loss"]) for r in rows] == [0.0, 11.0, 12.0, 13.0]
    # A run that stops before its first epoch end leaves the file as it was.
    idle = ResumableCSVLogger(path)
    idle.on_train_begin()
    idle.on_train_end()
    assert path.read_text().count("\n") == 5


def test_resuming_a_run_from_before_invocations_keeps_its_command(tmp_path, monkeypatch):
    from vidgen_tf.training.run import TrainConfig, _run_record

    old = {"train": {"model": "dcgan3d"}, "resolved": {"precision": "mixed_bfloat16"},
           "command": "vidgen train --model dcgan3d --out run", "replicas": 1}
    (tmp_path / "config.json").write_text(json.dumps(old))
    (tmp_path / "history.csv").write_text("epoch,loss\n0,1.0\n1,0.9\n2,0.8\n")
    monkeypatch.setattr(sys, "argv", ["vidgen", "train", "--out", "run", "--resume"])
    record = _run_record(tmp_path, TrainConfig(model="dcgan3d"), {"precision": "float32"}, 1,
                         resume=True)
    assert record["command"] == old["command"]
    first, second = record["invocations"]
    assert first == {"command": old["command"], "first_epoch": 1,
                     "precision": "mixed_bfloat16", "replicas": 1}
    assert second["command"] == "vidgen train --out run --resume"
    assert (second["first_epoch"], second["precision"]) == (4, "float32")


@pytest.fixture(scope="module")
def one_epoch_run(tmp_path_factory):
    """A finished 1-epoch tiny run (no backup left; checkpoint, history, model, samples)."""
    from vidgen_tf.training.run import TrainConfig, train_run

    run = tmp_path_factory.mktemp("finished") / "run"
    train_run(TrainConfig(model="dcgan3d", preset="tiny", epochs=1, steps_per_epoch=2), run,
              verbose=0)
    return run


def copy_run(run, tmp_path):
    import shutil

    return shutil.copytree(run, tmp_path / "run")


def run_files(run):
    return {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}


@pytest.mark.parametrize("damage, message", [
    (lambda run: os.remove(run / "checkpoints" / "last.keras"),
     r"cannot resume .*completed 1 epoch\(s\), but neither its backup/ nor .*last.keras"),
    (lambda run: (run / "checkpoints" / "state.json").write_text("{"),
     r"state.json is damaged"),
    (lambda run: os.remove(run / "checkpoints" / "state.json"), r"state.json is missing"),
    (lambda run: (run / "history.csv").write_bytes(b"epoch,loss\n\xff\xfe\n"),
     r"history.csv is damaged"),
])
def test_resume_that_cannot_continue_refuses_and_changes_nothing(one_epoch_run, tmp_path,
                                                                 damage, message):
    # Starting over instead would overwrite the run's history, samples and model.keras.
    from vidgen_tf.errors import VidgenError
    from vidgen_tf.training.run import TrainConfig, train_run

    run = copy_run(one_epoch_run, tmp_path)
    damage(run)
    before = run_files(run)
    with pytest.raises(VidgenError, match=message):
        train_run(TrainConfig(epochs=2), run, resume=True, verbose=0)
    assert run_files(run) == before  # config.json gained no invocation either


def test_resume_without_epochs_keeps_the_saved_count(one_epoch_run, tmp_path):
    from vidgen_tf.errors import VidgenError
    from vidgen_tf.training.run import TrainConfig, train_run

    run = copy_run(one_epoch_run, tmp_path)
    with pytest.raises(VidgenError, match="already completed 1 epoch;"):  # not 10 by default
        train_run(TrainConfig(), run, resume=True, verbose=0)
    summary = train_run(TrainConfig(epochs=2), run, resume=True, verbose=0)
    assert (summary["epochs"], summary["epochs_this_run"]) == (2, 1)
    assert history_epochs(run) == [0, 1]
    with pytest.raises(VidgenError, match="already completed 2 epochs"):
        train_run(TrainConfig(), run, resume=True, verbose=0)
