"""The family contract: every family in the registry, and each condition it takes, gets the same
checks at tiny sizes (8 frames, 16x16): config, `.keras` round trip, one `fit` step, export
parity and TensorFlow-free runtime generation.

A new family gets these checks by being registered (with a "tiny" preset). One trainer per
case is trained one step, saved and exported once (module-scoped fixtures), because export is
the slow part.
"""

from __future__ import annotations

import dataclasses
import inspect

import keras
import numpy as np
import pytest

from tests.test_case import assert_config_round_trip, assert_fit_changes_every_network, run_python
from vidgen_tf.models import load_model
from vidgen_tf.models.registry import FAMILIES, model_kwargs
from vidgen_tf.noise import sample_noise
from vidgen_tf.runtime.tokenizer import WordTokenizer

FRAMES, SIZE = 8, 16
# The model arguments of a family that has no "tiny" preset.
FALLBACK_TINY = {"frames": FRAMES, "size": SIZE}
# Keras' own config keys, which no constructor of ours names.
KERAS_BASE_KEYS = frozenset(keras.layers.Layer().get_config())

PROMPT = "a red circle moves left"
VOCABULARY = ["a", "blue", "circle", "left", "moves", "red", "right", "square"]
MAX_TOKENS = 6
NUM_CLASSES = 5
# What a condition adds to the trainer's arguments.
CONDITION_KWARGS = {
    "label": {"num_classes": NUM_CLASSES},
    "text": {"vocabulary": VOCABULARY, "max_tokens": MAX_TOKENS},
    "first_frame": {},
    # An action-conditioned predictor starts from one frame.
    "actions": {"action_names": ["left", "right", "up", "down"], "context": 1},
}
# The runtime keyword (and value) of each condition, as an app passes it to `generate`.
RUNTIME_CONDITIONS = {
    "label": {"label": 3},
    "text": {"prompt": PROMPT},
    "first_frame": {"first_frame": np.random.default_rng(5).integers(0, 256, (SIZE, SIZE, 3),
                                                                      dtype=np.uint8)},
}


# Model options that change the exported graphs, each checked as a case of its own.
VARIANTS = {"tdvae": {"content": {"content": True}},
            "mocogan": {"resize": {"upsample": "resize"}}}


@dataclasses.dataclass(frozen=True)
class Case:
    """One family, unconditional (condition None) or trained on one of its conditions, at
    its tiny preset or with one of its `VARIANTS`."""

    family: str
    condition: str | None = None
    variant: str | None = None

    @property
    def name(self) -> str:
        return "_".join(part for part in (self.family, self.condition, self.variant) if part)


CASES = [case for name, family in FAMILIES.items()
         for case in [Case(name), *(Case(name, c) for c in family.conditions),
                      *(Case(name, variant=v) for v in VARIANTS.get(name, {}))]]


def build_trainer(case: Case):
    """The case's trainer at the family's tiny preset (untrained, not compiled), and the preset."""
    family = FAMILIES[case.family]
    preset = family.preset_table().get("tiny", FALLBACK_TINY)
    kwargs = model_kwargs(preset)
    if case.variant:
        kwargs.update(VARIANTS[case.family][case.variant])
    if case.condition:
        kwargs.update(conditions=(case.condition,), **CONDITION_KWARGS[case.condition])
    return family.trainer_class()(**kwargs), preset


def trained_networks(trainer) -> list[str]:
    """The networks `fit` trains: "<net>_optimizer" trains `trainer.<net>`."""
    return [name.removesuffix("_optimizer") for name in trainer.optimizer_names]


def real_batch(trainer, num: int, seed: int = 0) -> dict[str, np.ndarray]:
    """A batch of `num` clips with every entry the trainer reads (`data_keys`): video
    `(num, frames, height, width, 3)`, channels-last, in [-1, 1], and its conditions."""
    rng = np.random.default_rng(seed)
    captions = [PROMPT, "a blue square moves right"]
    clip = (trainer.frames, SIZE, SIZE, trainer.channels)  # a predictor's context + horizon
    makers = {
        "video": lambda: rng.uniform(-1, 1, (num, *clip)).astype("float32"),
        "label": lambda: rng.integers(0, NUM_CLASSES, num).astype("int32"),
        "prompt_tokens": lambda: WordTokenizer(VOCABULARY, MAX_TOKENS).encode(
            [captions[i % len(captions)] for i in range(num)]),
        "first_frame": lambda: rng.uniform(-1, 1, (num, SIZE, SIZE, 3)).astype("float32"),
        "actions": lambda: rng.integers(0, 4, (num, trainer.frames)).astype("int32"),
    }
    keys = getattr(trainer, "data_keys", ("video",))
    unknown = [key for key in keys if key not in makers]
    if unknown:
        pytest.fail(f"{type(trainer).__name__} reads data keys {unknown} that this suite cannot "
                    "make yet: add them to real_batch")
    return {key: makers[key]() for key in keys}


def predictor_conditions(trainer, batch: dict) -> dict:
    """What a predictor takes besides the context: the actions of the predicted frames
    (`actions[t]` moves frame t to t + 1)."""
    if "actions" not in batch:
        return {}
    return {"actions": batch["actions"][:, trainer.context - 1:trainer.frames - 1]}


def generator_inputs(trainer, num: int, seed: int) -> dict[str, np.ndarray]:
    """The generator's noise (from its `noise_spec`) plus the condition inputs it takes."""
    conditions = {k: v for k, v in real_batch(trainer, num, seed).items() if k != "video"}
    return {**sample_noise(trainer.generator.noise_spec(), num, seed), **conditions}


def constructor_arguments(cls) -> set[str]:
    parameters = inspect.signature(cls.__init__).parameters.values()
    return {p.name for p in parameters if p.name != "self"
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", params=CASES, ids=lambda case: case.name)
def case(request) -> Case:
    return request.param


@pytest.fixture(scope="module")
def trained(case, tmp_path_factory) -> dict:
    """The case's trainer after one `fit` step, saved as `.keras`.

    The step is checked here by the shared `assert_fit_changes_every_network`, so that one
    `fit` serves every test; its failure is kept for `test_one_fit_step_changes_every_network`
    to report rather than erroring every test of the case.
    """
    keras.utils.set_random_seed(0)
    trainer, preset = build_trainer(case)
    trainer.compile(**({"loss": preset["loss"]} if "loss" in preset else {}))
    data = real_batch(trainer, preset.get("batch_size", 2))
    try:
        assert_fit_changes_every_network(trainer, data, trained_networks(trainer),
                                         batch_size=len(data["video"]))
        fit_failure = None
    except AssertionError as failure:
        fit_failure = failure
    path = tmp_path_factory.mktemp(case.name) / "model.keras"
    trainer.save(path)
    return {"trainer": trainer, "path": path, "fit_failure": fit_failure}


@pytest.fixture(scope="module")
def exported(case, trained, tmp_path_factory) -> dict:
    """The trained generator exported (SavedModel + ONNX + manifest, parity-gated)."""
    from vidgen_tf.export.generator_export import export_generator

    root = tmp_path_factory.mktemp(f"{case.name}_export")
    manifest = export_generator(trained["path"], case.name, export_dir=root / "export",
                                saved_models_dir=root / "saved_models")
    return {"manifest": manifest, "export": root / "export" / case.name}


# --------------------------------------------------------------------------- the checks


def test_get_config_holds_exactly_the_constructor_arguments(case):
    trainer, _ = build_trainer(case)
    for model in [trainer, *(getattr(trainer, name) for name in trained_networks(trainer))]:
        keys = set(model.get_config()) - KERAS_BASE_KEYS
        arguments = constructor_arguments(type(model))
        assert keys == arguments, (
            f"{type(model).__name__}.get_config() misses {sorted(arguments - keys)} and has "
            f"extra {sorted(keys - arguments)}")


def test_config_round_trip(case):
    trainer, _ = build_trainer(case)
    for model in [trainer, *(getattr(trainer, name) for name in trained_networks(trainer))]:
        assert_config_round_trip(model)


def test_keras_round_trip_gives_equal_generator_outputs(trained):
    trainer = trained["trainer"]
    loaded = load_model(trained["path"])
    assert type(loaded) is type(trainer)
    if trainer.task == "prediction":
        batch = real_batch(trainer, 2, seed=1)
        context = batch["video"][:, :trainer.context]
        steer = predictor_conditions(trainer, batch)
        expected = np.asarray(trainer.predict_frames(context, trainer.horizon, **steer))
        assert expected.shape == (2, trainer.horizon, SIZE, SIZE, trainer.channels)
        np.testing.assert_array_equal(np.asarray(loaded.predict_frames(
            context, trainer.horizon, **steer)), expected)
        return
    inputs = generator_inputs(trainer, num=2, seed=1)
    expected = np.asarray(trainer.generator(inputs))
    assert expected.shape == (2, FRAMES, SIZE, SIZE, 3)
    np.testing.assert_array_equal(np.asarray(loaded.generator(inputs)), expected)


def test_one_fit_step_changes_every_network(trained):
    if trained["fit_failure"] is not None:
        raise trained["fit_failure"]
    trainer = trained["trainer"]
    for name in trainer.optimizer_names:
        assert int(getattr(trainer, name).iterations) == 1, name


def test_export_parity_per_graph_and_end_to_end(exported):
    parity = exported["manifest"]["parity"]
    assert parity["graphs"]
    for graph in parity["graphs"].values():
        assert 0 <= graph["keras_vs_onnxruntime"] <= 1e-4
    assert 0 <= parity["end_to_end"]["max_abs"] <= 1e-4


def test_runtime_generates_without_tensorflow(case, trained, exported, tmp_path):
    from vidgen_tf.data.pixels import float_to_uint8
    from vidgen_tf.export.sources import float32_generator
    from vidgen_tf.runtime import VideoGenerator

    trainer = trained["trainer"]
    predictor = trainer.task == "prediction"
    conditions = RUNTIME_CONDITIONS[case.condition] if case.condition and not predictor else {}
    if predictor:  # two uint8 context clips of another size, resized as the data are
        conditions = {"context": np.random.default_rng(5).integers(
            0, 256, (2, trainer.context, 2 * SIZE, 2 * SIZE, 3), dtype=np.uint8),
            **predictor_conditions(trainer, real_batch(trainer, 2, seed=5))}
    np.savez(tmp_path / "conditions.npz", **conditions)
    out = tmp_path / "video.npy"
    code = f"""
import json, sys
import numpy as np
from vidgen_tf.runtime import VideoGenerator
given = np.load({str(tmp_path / "conditions.npz")!r})
conditions = {{k: v.item() if v.ndim == 0 else v for k, v in given.items()}}
video = VideoGenerator({str(exported["export"])!r}).generate(2, seed=0, **conditions)
np.save({str(out)!r}, video)
print(json.dumps({{"shape": list(video.shape), "dtype": str(video.dtype),
                   "heavy": sorted(m for m in ("tensorflow", "keras") if m in sys.modules)}}))
"""
    frames, channels = ((trainer.horizon, trainer.channels) if predictor else (FRAMES, 3))
    assert run_python(code) == {"shape": [2, frames, SIZE, SIZE, channels], "dtype": "uint8",
                                "heavy": []}
    if predictor:  # the runtime's rollout is the Keras model's prediction
        feeds = VideoGenerator(exported["export"]).inputs(2, **conditions)
        steer = {k: v for k, v in conditions.items() if k != "context"}
        expected = float_to_uint8(np.asarray(trainer.predict_frames(feeds["context"],
                                                                    trainer.horizon, **steer)))
        assert np.abs(np.load(out).astype(int) - expected).max() <= 1
        return
    # The runtime's videos are the Keras generator's on the same inputs (up to uint8 rounding).
    feeds = VideoGenerator(exported["export"]).inputs(2, seed=0, **conditions)
    generator, model = float32_generator(trained["path"])
    if hasattr(model, "latent_prior"):  # a VAE's export draws z through its sampling prior
        model.export_spec()  # sets that prior as the export did
        feeds = {**feeds, "z": np.asarray(model.latent_prior(feeds["z"]))}
    expected = float_to_uint8(np.asarray(generator(feeds)))
    assert np.abs(np.load(out).astype(int) - expected).max() <= 1
