"""`vidgen train` with a predictor: flags, the run directory, the sample grids and resume."""

import json

import numpy as np

from tests.test_case import one_line_error, run_cli
from vidgen_tf.training.prediction_samples import truth_beside_prediction


def test_generator_and_predictor_flags_do_not_mix(tmp_path):
    out = tmp_path / "run"
    one_line_error(run_cli("train", "--model", "simvp", "--frames", "8", "--out", str(out)),
                   "set --context (frames given) and --horizon")
    one_line_error(run_cli("train", "--model", "mocogan", "--context", "4", "--out", str(out)),
                   "--context and --horizon are for the predictors")
    one_line_error(run_cli("train", "--model", "convlstm", "--preset", "tiny", "--loss",
                           "hinge", "--out", str(out)), "loss is one of mse, l1")
    one_line_error(run_cli("train", "--model", "convlstm", "--horizon", "0", "--out",
                           str(out)), "horizon must be >= 1")
    one_line_error(run_cli("train", "--model", "simvp", "--channels", "2", "--out", str(out)),
                   "channels must be 1 (grey) or 3 (RGB); received 2")
    one_line_error(run_cli("train", "--model", "mocogan", "--channels", "1", "--out",
                           str(out)), "--channels is for the predictors")
    one_line_error(run_cli("train", "--model", "simvp", "--lr-schedule", "step", "--out",
                           str(out)), "lr-schedule must be one of constant, cosine; received")
    one_line_error(run_cli("train", "--model", "dcgan3d", "--lr-schedule", "cosine", "--out",
                           str(out)), "--lr-schedule is for the predictors")
    assert not out.exists()


def test_a_predictor_run_trains_writes_its_grids_and_resumes(tmp_path):
    out = tmp_path / "run"
    first = run_cli("train", "--model", "convlstm", "--preset", "tiny", "--data", "shapes",
                    "--context", "3", "--horizon", "2", "--channels", "3", "--epochs", "1",
                    "--steps-per-epoch", "2", "--lr-schedule", "cosine", "--out", str(out))
    assert first.returncode == 0, first.stderr
    assert "3 frames in, 2 predicted, 16x16x3" in first.stdout
    config = json.loads((out / "config.json").read_text())
    assert config["resolved"]["model_kwargs"]["context"] == 3
    assert config["resolved"]["model_kwargs"]["horizon"] == 2
    assert config["resolved"]["model_kwargs"]["channels"] == 3
    assert config["resolved"]["model_kwargs"]["decay_steps"] == 2  # 1 epoch of 2 steps
    from vidgen_tf.data.video_io import read_video

    grid = read_video(out / "samples" / "latest.gif")
    assert len(grid) == 5  # context + horizon frames
    again = run_cli("train", "--out", str(out), "--resume", "--epochs", "2")
    assert again.returncode == 0, again.stderr
    assert "resuming:   after epoch 1" in again.stdout
    assert len((out / "history.csv").read_text().strip().splitlines()) == 3


def test_the_grid_pairs_each_truth_with_its_red_framed_prediction():
    context = np.full((2, 3, 6, 6, 1), -1.0, np.float32)
    future = np.ones((2, 2, 6, 6, 1), np.float32)
    predicted = np.zeros((2, 2, 6, 6, 1), np.float32)
    cells = truth_beside_prediction(context, future, predicted)
    assert cells.shape == (4, 5, 6, 6, 3) and cells.dtype == np.uint8
    np.testing.assert_array_equal(cells[0, 3:], 255)  # the real future, unmarked
    assert (cells[:, :3] == 0).all()  # the context, black in both cells
    framed = cells[1, 3:]
    assert (framed[:, 0, :] == (220, 30, 30)).all() and (framed[:, :, -1] == (220, 30, 30)).all()
    assert (framed[:, 1:-1, 1:-1] == 128).all()  # the prediction, 0.0 -> 128 inside


def test_resume_with_cosine_anneals_a_constant_rate_run_over_the_added_epochs(tmp_path):
    from vidgen_tf.models import load_model
    from vidgen_tf.training.callbacks import CosineAnneal

    out = tmp_path / "run"
    common = ("--model", "simvp", "--preset", "tiny", "--data", "shapes", "--channels", "3",
              "--steps-per-epoch", "2", "--out", str(out))
    assert run_cli("train", *common, "--epochs", "1").returncode == 0
    again = run_cli("train", "--out", str(out), "--resume", "--epochs", "3",
                    "--lr-schedule", "cosine")
    assert again.returncode == 0, again.stderr
    assert "annealing:  the learning rate falls along a cosine to 1% from epoch 2 to epoch 3" \
        in again.stdout
    train = json.loads((out / "config.json").read_text())["train"]
    assert train["lr_schedule"] == "cosine" and train["anneal_from_epoch"] == 1
    model = load_model(out / "model.keras")
    base = model.learning_rate
    # The last step (step 5 of steps 2..6) ran at (0.01 + 0.99 (1 + cos(3 pi / 4)) / 2) base.
    expected = base * (0.01 + 0.99 * (1 + np.cos(0.75 * np.pi)) / 2)
    np.testing.assert_allclose(float(model.predictor_optimizer.learning_rate), expected,
                               rtol=1e-5)
    anneal = CosineAnneal(2, 6)
    assert anneal.rate(2, 1.0) == 1.0 and anneal.rate(0, 1.0) == 1.0
    np.testing.assert_allclose(anneal.rate(4, 1.0), 0.505)
    np.testing.assert_allclose(anneal.rate(9, 1.0), 0.01)
