"""`vidgen evaluate predict --samples N`: a tiny SVG export scored on N seeded samples per clip,
checked against the export run here sample by sample; the Keras model agrees; deterministic
predictors and --samples 0 are one-line errors."""

import json

import keras
import numpy as np
import pytest

from vidgen_tf.cli.evaluate_predict import HELD_OUT_SEED
from vidgen_tf.cli.main import main
from vidgen_tf.data.builtin import make_builtin
from vidgen_tf.models.registry import model_kwargs
from vidgen_tf.models.svg import SVG
from vidgen_tf.models.svg.presets import SVG_PRESETS

CONTEXT, HORIZON, SIZE, NUM = 2, 3, 16, 4  # the tiny preset's 2 -> 3 frames of 16x16


def export(model, folder, name: str):
    from vidgen_tf.export.generator_export import export_generator

    model.save(folder / f"{name}.keras")
    export_generator(folder / f"{name}.keras", name, saved_models_dir=folder / "saved",
                     export_dir=folder / "export")
    return folder / f"{name}.keras", folder / "export" / name


@pytest.fixture(scope="module")
def svg(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = SVG(**model_kwargs(SVG_PRESETS["tiny"]))
    model.compile()
    model.build()
    return export(model, tmp_path_factory.mktemp("svg"), "svg")


def evaluate(capsys, source, *flags) -> tuple[int, str, str]:
    code = main(["evaluate", "predict", str(source), "--data", "shapes", "--context",
                 str(CONTEXT), "--horizon", str(HORIZON), "--num", str(NUM), *flags])
    out, err = capsys.readouterr()
    return code, out, err


def scored_json(capsys, source, *flags) -> tuple[dict, str]:
    code, out, err = evaluate(capsys, source, *flags, "--json")
    assert code == 0, err
    return json.loads(out.strip().splitlines()[-1]), out


def samples_by_hand(export_dir, samples: int, batch: int):
    """The held-out shapes clips (first channel) and the export's predictions of them in
    [0, 1], `(samples, clips, horizon, h, w, 1)`: seed s for sample s of every batch."""
    from vidgen_tf.runtime import VideoGenerator

    source = make_builtin("shapes", frames=CONTEXT + HORIZON, size=SIZE, seed=HELD_OUT_SEED,
                          num=NUM)
    clips = np.stack([source.clip(i)["video"][..., :1] for i in range(NUM)])
    generator = VideoGenerator(export_dir)
    predicted = np.stack([np.concatenate([
        generator.run(generator.inputs(len(part), s, frames=HORIZON, context=part),
                      frames=HORIZON)
        for part in np.split(clips[:, :CONTEXT], range(batch, NUM, batch))]) for s in
        range(samples)])
    return clips[:, CONTEXT:] / 255.0, np.clip((predicted + 1) / 2, 0, 1)


def test_best_mean_and_diversity_of_three_samples_match_the_export_run_here(svg, capsys):
    keras_path, export_dir = svg
    scores, out = scored_json(capsys, export_dir, "--samples", "3", "--batch-size", "3")
    target, predicted = samples_by_hand(export_dir, 3, batch=3)
    mse = np.square(predicted - target).sum(axis=(3, 4, 5))  # (samples, clips, horizon)
    assert (scores["samples"], scores["clips"]) == (3, NUM)
    assert scores["mse"] == pytest.approx(mse.mean(axis=2).min(axis=0).mean(), rel=1e-5)
    assert scores["mean"]["mse"] == pytest.approx(mse.mean(), rel=1e-5)
    assert scores["mse"] < scores["mean"]["mse"]
    assert scores["ssim"] >= scores["mean"]["ssim"] and scores["psnr"] >= scores["mean"]["psnr"]
    pairs = [np.square(predicted[i] - predicted[j]).mean(axis=(2, 3, 4)).mean(axis=0)
             for i, j in ((0, 1), (0, 2), (1, 2))]
    assert scores["diversity_per_step"] == pytest.approx(np.mean(pairs, axis=0), rel=1e-4)
    assert scores["diversity"] == pytest.approx(np.mean(pairs), rel=1e-4)
    assert scores["diversity"] > 0
    assert "best of 3 (per clip, by each metric over the horizon)" in out
    assert "mean of 3" in out and "Diversity per step" in out
    assert "3 samples per clip (seeds 0..2)" in out
    # Keras draws the same noise from the same seeds: the same scores.
    from_keras, _ = scored_json(capsys, keras_path, "--samples", "3", "--batch-size", "3")
    for name in ("mse", "mae", "psnr", "diversity"):
        assert from_keras[name] == pytest.approx(scores[name], rel=1e-3)
    assert from_keras["mean"]["mse"] == pytest.approx(scores["mean"]["mse"], rel=1e-3)


def test_one_sample_is_seed_0_and_reports_as_before(svg, capsys):
    _, export_dir = svg
    scores, out = scored_json(capsys, export_dir)
    assert not {"diversity", "mean", "samples"} & set(scores)
    target, predicted = samples_by_hand(export_dir, 1, batch=50)
    assert scores["mse"] == pytest.approx(np.square(predicted[0] - target).sum(
        axis=(2, 3, 4)).mean(), rel=1e-5)
    assert "Diversity" not in out and "best of" not in out
    assert out.splitlines()[1].split()[0] == "MSE" and "\nmodel " in out


def test_samples_below_one_is_a_one_line_error(svg, capsys):
    _, export_dir = svg
    for value in ("0", "-2"):
        code, out, err = evaluate(capsys, export_dir, "--samples", value, "--json")
        assert code == 2 and out == ""
        assert err.strip().splitlines() == [
            f"vidgen: error: --samples must be >= 1; received {value}"]


def test_several_samples_of_a_deterministic_predictor_are_refused(tmp_path, capsys):
    from vidgen_tf.models.convlstm import ConvLSTM

    model = ConvLSTM(size=SIZE, patch_size=4, hidden=(4,), kernel_size=3, context=CONTEXT,
                     horizon=HORIZON)
    model.compile()
    for source in export(model, tmp_path, "convlstm"):
        code, out, err = evaluate(capsys, source, "--samples", "3")
        assert code == 2 and out == ""
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("vidgen: error: "), err
        assert "is a deterministic predictor" in lines[0]
        assert "every one of the --samples 3 would be the same" in lines[0]
        assert lines[0].endswith("use --samples 1")
    code, out, err = evaluate(capsys, source, "--samples", "1", "--json")
    assert code == 0, err


def test_the_64x64_test_sets_refuse_a_model_of_another_size(svg, capsys):
    _, export_dir = svg
    code = main(["evaluate", "predict", str(export_dir), "--data", "stochastic_mnist",
                 "--context", str(CONTEXT), "--horizon", str(HORIZON), "--samples", "2"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.strip() == (f"vidgen: error: --data stochastic_mnist is 64x64 clips but "
                           f"{export_dir} predicts 16x16 frames; score it on shapes or a "
                           "folder of videos")
