"""`import vidgen_tf.models` registers every class, so plain `keras.models.load_model` reads a
vidgen_tf `.keras` file in a fresh interpreter (it failed with "Could not locate class
'MoCoGAN'")."""

import keras
import numpy as np
import pytest

from tests.test_case import run_python
from vidgen_tf.models.mocogan import MOCOGAN_PRESETS, MoCoGAN
from vidgen_tf.runtime.tokenizer import WordTokenizer

TINY = {k: v for k, v in MOCOGAN_PRESETS["tiny"].items() if k != "batch_size"}

LOAD = """
import json, sys
import numpy as np
{imports}
import keras
model = keras.models.load_model({path!r})
feeds = dict(np.load({feeds!r}))
video = np.asarray(model.generator(feeds))
print(json.dumps({{"class": type(model).__name__, "loss": model.loss,
                   "max_diff": float(np.abs(video - np.load({video!r})).max())}}))
"""


@pytest.fixture(scope="module")
def saved_tiny(tmp_path_factory):
    """A tiny text-conditioned MoCoGAN (so the ConditionEncoder is in the file too), compiled and
    saved, with a generator input and its output."""
    folder = tmp_path_factory.mktemp("registration")
    tokenizer = WordTokenizer.from_captions(["a red circle moves left", "a blue square"])
    keras.utils.set_random_seed(0)
    gan = MoCoGAN(**TINY, discriminator_head="global", spectral_norm=True, conditions=["text"],
                  vocabulary=tokenizer.vocabulary, max_tokens=tokenizer.max_tokens)
    gan.compile(loss="hinge")
    gan.save(folder / "tiny.keras")
    rng = np.random.default_rng(0)
    feeds = {"content": rng.normal(size=(2, 8)).astype("float32"),
             "motion": rng.normal(size=(2, 8, 4)).astype("float32"),
             "prompt_tokens": tokenizer.encode(["a red circle", "a blue square moves left"])}
    np.savez(folder / "feeds.npz", **feeds)
    np.save(folder / "video.npy", np.asarray(gan.generator(feeds)))
    return {"path": str(folder / "tiny.keras"), "feeds": str(folder / "feeds.npz"),
            "video": str(folder / "video.npy")}


def test_plain_keras_load_model_works_after_importing_vidgen_tf_models(saved_tiny):
    # Guards the registration on import: no vidgen_tf.models.load_model wrapper needed.
    result = run_python(LOAD.format(imports="import vidgen_tf.models", **saved_tiny),
                        timeout=300)
    assert result["class"] == "MoCoGAN" and result["loss"] == "hinge"
    assert result["max_diff"] == 0.0  # the same weights, the same generator


def test_without_the_import_keras_cannot_find_the_class(saved_tiny):
    # The control: what the import above fixes (so the test above really tests it).
    code = f"""
import json
import keras
try:
    keras.models.load_model({saved_tiny["path"]!r})
    print(json.dumps({{"error": None}}))
except Exception as exc:
    print(json.dumps({{"error": str(exc)}}))
"""
    error = run_python(code, timeout=300)["error"]
    assert error is not None and "Could not locate class 'MoCoGAN'" in error
