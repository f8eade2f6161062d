"""Find the generator to export: from a run directory or a `.keras` file, rebuilt in float32."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from vidgen_tf.errors import VidgenError

logger = logging.getLogger(__name__)


def resolve_source(source: str | Path) -> tuple[Path, dict]:
    """The `.keras` file to load and the training provenance found beside it.

    A run directory gives its final `model.keras` (or, for a run that has not finished, its
    last good checkpoint, with a warning) plus its config.json and history.csv.
    """
    source = Path(source)
    provenance: dict = {"source": str(source)}
    if source.is_dir():
        from vidgen_tf.training.run_dir import RunDir

        run = RunDir(source)
        model_path = run.model_to_load()
        if run.is_run():
            config = run.read_config()
            provenance.update(train_config=config.get("train"), resolved=config.get("resolved"),
                              command=config.get("command"))
            if config.get("invocations"):  # the first start and every --resume
                provenance["invocations"] = config["invocations"]
        history = source / "history.csv"
        if history.is_file():
            with open(history, newline="") as f:
                rows = list(csv.DictReader(f))
            provenance["epochs"] = len(rows)
            if rows:
                provenance["last_epoch"] = {k: _number(v) for k, v in rows[-1].items()}
        return model_path, provenance
    if source.suffix == ".keras" and source.is_file():
        return source, provenance
    raise VidgenError(f"{source} is neither a run directory (from `vidgen train`) nor a "
                      ".keras file")


def float32_generator(model_path: Path):
    """The trained generator, rebuilt with float32 layers and the trained weights.

    The weights are the moving average when the trainer keeps one (`averaged_generator`).

    Whatever precision the model trained in, the export computes in float32: the generator is
    built again from its config under the float32 policy and takes the trained weights (which
    mixed precision keeps in float32 anyway).
    """
    import keras

    from vidgen_tf.models import load_model
    from vidgen_tf.training.gan_trainer import sampling_generator

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("float32")
    try:
        try:
            # compile=True restores the optimizers, which hold the generator's moving average.
            model = load_model(model_path)
        except Exception as exc:  # Keras raises many kinds for a bad or foreign file
            raise VidgenError(f"cannot load {model_path}: {exc}".splitlines()[0]) from exc
        with sampling_generator(model) as trained:
            if not (hasattr(trained, "noise_spec")
                    or getattr(model, "task", None) == "prediction"):
                raise VidgenError(f"{model_path} holds a {type(trained).__name__}, not a "
                                  "vidgen_tf video generator (nothing with a noise_spec to "
                                  "export)")
            weights = trained.get_weights()
        config = trained.get_config()
        config["dtype"] = "float32"
        generator = type(trained).from_config(config)
        generator.build()
        generator.set_weights(weights)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    return generator, model


def _number(text: str):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text
