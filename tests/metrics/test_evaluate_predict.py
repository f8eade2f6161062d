"""`vidgen evaluate predict`: its JSON line is the library's scores of the model and the
baselines, from Keras and from the export alike; bad requests are one-line errors."""

import json

import numpy as np
import pytest

from tests.test_case import one_line_error, run_cli
from vidgen_tf.data.pixels import uint8_to_float
from vidgen_tf.metrics.prediction import (
    PredictionScores,
    copy_last_frame,
    iter_test_batches,
    mmnist_test_source,
)
from vidgen_tf.models.convlstm import ConvLSTM


@pytest.fixture(scope="module")
def small_predictor(tmp_path_factory):
    folder = tmp_path_factory.mktemp("predictor")
    model = ConvLSTM(size=64, patch_size=8, hidden=(4,), kernel_size=3, context=10, horizon=10)
    model.compile()
    model.save(folder / "model.keras")
    from vidgen_tf.export.generator_export import export_generator

    export_generator(folder / "model.keras", "small", saved_models_dir=folder / "saved",
                     export_dir=folder / "export")
    return model, folder


def test_the_json_holds_the_library_scores_from_keras_and_from_the_export(small_predictor):
    model, folder = small_predictor
    context, target = next(iter_test_batches(mmnist_test_source(num=4), 10, 4))
    predicted = np.clip((np.asarray(model.predict(uint8_to_float(context))) + 1) / 2, 0, 1)
    expected = PredictionScores().update(predicted, target).result()
    copy = PredictionScores().update(copy_last_frame(context, 10), target).result()
    for source in (folder / "model.keras", folder / "export" / "small"):
        result = run_cli("evaluate", "predict", str(source), "--num", "4", "--json")
        assert result.returncode == 0, result.stderr
        scores = json.loads(result.stdout.strip().splitlines()[-1])
        assert scores["clips"] == 4
        assert scores["mse"] == pytest.approx(expected["mse"], rel=1e-3)
        assert scores["ssim"] == pytest.approx(expected["ssim"], abs=1e-3)
        assert scores["baselines"]["copy last frame"]["mse"] == pytest.approx(copy["mse"])
        assert "copy last frame" in result.stdout and "MSE per step" in result.stdout


def test_requests_the_model_cannot_answer_are_one_line_errors(small_predictor):
    _, folder = small_predictor
    export = str(folder / "export" / "small")
    cases = [
        (("--context", "5"), "--context 5 is shorter than the 10 frames"),
        (("--horizon", "500"), "--horizon 500 is beyond"),
        (("--num", "0"), "--num must be between 1 and 10000"),
        (("--data", "nowhere"), "--data must be moving_mnist, shapes or a folder of videos"),
    ]
    for flags, message in cases:
        one_line_error(run_cli("evaluate", "predict", export, *flags), message)
    one_line_error(run_cli("evaluate", "predict", "export/mocogan_shapes", "--num", "2"),
                   "is not a predictor export")


def test_a_folder_of_held_out_videos_is_scored_in_windows(small_predictor, tmp_path):
    from vidgen_tf.data.video_io import write_video

    # Flat grey frames brightening by 8 levels a frame: whatever window is drawn, step k of
    # the horizon is 8k levels above the last context frame, so copying it scores
    # 4096 * mean over k = 1..10 of (8k / 255)^2 = 155.19 per frame.
    for i in range(3):
        frames = np.repeat(np.arange(24, dtype=np.uint8)[:, None, None, None] * 8 + 10 * i,
                           64, axis=1)
        write_video(tmp_path / f"clip{i}.mp4", np.repeat(np.repeat(frames, 64, 2), 3, 3),
                    crf=0)
    _, folder = small_predictor
    result = run_cli("evaluate", "predict", str(folder / "export" / "small"), "--data",
                     str(tmp_path), "--num", "6", "--batch-size", "4", "--json")
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout.strip().splitlines()[-1])
    assert scores["clips"] == 6
    expected = 4096 * np.mean((8 * np.arange(1, 11) / 255) ** 2)
    assert scores["baselines"]["copy last frame"]["mse"] == pytest.approx(expected, rel=0.02)
    assert f"{tmp_path}, 6 windows at 64x64" in result.stdout
