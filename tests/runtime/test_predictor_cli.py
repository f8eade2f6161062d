"""`vidgen generate` with a predictor export: the context flags, and requests the export cannot
answer as one-line errors that write nothing."""

import numpy as np
import pytest

from tests.test_case import one_line_error, run_cli

CONTEXT, HORIZON, SIZE = 4, 4, 16


@pytest.fixture(scope="module")
def predictor_export(tmp_path_factory):
    from vidgen_tf.export.generator_export import export_generator
    from vidgen_tf.models.convlstm import ConvLSTM

    folder = tmp_path_factory.mktemp("predictor")
    model = ConvLSTM(size=SIZE, patch_size=4, hidden=(4,), kernel_size=3, context=CONTEXT,
                     horizon=HORIZON)
    model.compile()
    model.save(folder / "model.keras")
    export_generator(folder / "model.keras", "tiny_predict", saved_models_dir=folder / "saved",
                     export_dir=folder / "export")
    return folder / "export" / "tiny_predict"


def clips(path, shape, dtype=np.uint8):
    np.save(path, np.random.default_rng(0).integers(0, 256, shape).astype(dtype))
    return str(path)


def test_generate_continues_every_context_clip(predictor_export, tmp_path):
    context = clips(tmp_path / "ctx.npy", (3, CONTEXT + 2, SIZE, SIZE, 1))
    for flags, frames in (([], HORIZON), (["--frames", "7"], 7),
                          (["--frames", "7", "--with-context"], CONTEXT + 7)):
        out = tmp_path / "out.npy"
        result = run_cli("generate", str(predictor_export), "--context", context, *flags,
                         "--out", str(out))
        assert result.returncode == 0, result.stderr
        video = np.load(out)
        # .npy keeps the model's channels (grey here); video files are RGB.
        assert video.shape == (3, frames, SIZE, SIZE, 1) and video.dtype == np.uint8
        if "--with-context" in flags:  # the last K frames of the given clips, then the rest
            given = np.load(context)[:, -CONTEXT:]
            np.testing.assert_array_equal(video[:, :CONTEXT], given)


@pytest.mark.parametrize("shape, dtype, flags, message", [
    ((2, CONTEXT - 1, SIZE, SIZE, 1), np.uint8, [],
     f"context has {CONTEXT - 1} frames; this model needs at least {CONTEXT}"),
    ((2, CONTEXT, SIZE, SIZE, 2), np.uint8, [], "must have 1 (grey) or 3 (RGB) channels"),
    ((2, CONTEXT, SIZE, SIZE, 1), np.float32, [], "must hold uint8 frames"),
    ((2, CONTEXT, SIZE, SIZE, 1), np.uint8, ["--frames", "1000"],
     f"frames must be at most {16 * HORIZON} (16 x the trained {HORIZON})"),
    ((2, CONTEXT, SIZE, SIZE, 1), np.uint8, ["--frames", "0"], "frames must be an integer >= 1"),
    (None, None, [], "predicts frames: give it the frames to continue, context= (--context"),
], ids=["short", "channels", "float", "horizon", "zero", "no-context"])
def test_requests_the_export_cannot_answer_write_nothing(predictor_export, tmp_path, shape,
                                                         dtype, flags, message):
    context = ["--context", clips(tmp_path / "ctx.npy", shape, dtype)] if shape else []
    out = tmp_path / "out.gif"
    one_line_error(run_cli("generate", str(predictor_export), *context, *flags, "--out",
                           str(out)), message)
    assert not out.exists()


def test_context_on_a_generator_export_is_refused(tmp_path):
    context = clips(tmp_path / "ctx.npy", (1, CONTEXT, SIZE, SIZE, 3))
    out = tmp_path / "out.gif"
    one_line_error(run_cli("generate", "export/mocogan_shapes", "--context", context, "--out",
                           str(out)), "does not predict from context frames")
    assert not out.exists()
