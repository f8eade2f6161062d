"""Model families, one folder each: generator, discriminator(s), trainer and presets."""

from __future__ import annotations

import importlib
import importlib.util
import os
import zipfile

from vidgen_tf.errors import VidgenError


def load_model(path: str | os.PathLike, **kwargs):
    """`keras.models.load_model` with every vidgen_tf class registered first.

    Keras finds custom classes only once their modules are imported; this imports every
    model family, so any vidgen_tf `.keras` file (a run's model.keras or checkpoint) loads,
    compiled and ready to `fit` again.
    """
    import keras

    if str(path).endswith(".keras") and os.path.isfile(path) and not zipfile.is_zipfile(path):
        # Keras would report such a file as "File not found".
        raise VidgenError(f"{path} is not a valid .keras file (damaged or truncated, e.g. by "
                          "a full disk or an interrupted copy); use another copy or checkpoint")
    _register_families()
    return keras.models.load_model(path, **kwargs)


def _register_families() -> None:
    """Import every installed family, which registers its Keras classes (as keras-hub does on
    import), so that plain `keras.models.load_model` finds them."""
    from vidgen_tf.models.registry import FAMILIES, available_families

    for name in available_families():
        importlib.import_module(FAMILIES[name].module)
    importlib.import_module("vidgen_tf.layers.condition_encoder")


# A runtime-only install has no Keras and nothing to register.
if importlib.util.find_spec("keras") is not None:
    _register_families()
