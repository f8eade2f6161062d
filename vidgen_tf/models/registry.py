"""The model families `vidgen train --model` knows, their trainer classes and presets."""

from __future__ import annotations

import importlib

from vidgen_tf.errors import VidgenError

# name -> (module, trainer class, presets module, presets dict)
FAMILIES = {
    "dcgan3d": ("vidgen_tf.models.dcgan3d", "VideoDCGAN",
                "vidgen_tf.models.dcgan3d.presets", "DCGAN3D_PRESETS"),
    "vgan": ("vidgen_tf.models.vgan", "VGAN", "vidgen_tf.models.vgan.presets", "VGAN_PRESETS"),
    "mocogan": ("vidgen_tf.models.mocogan", "MoCoGAN",
                "vidgen_tf.models.mocogan.presets", "MOCOGAN_PRESETS"),
}
# Keys of a preset that configure training rather than the model.
TRAINING_KEYS = ("batch_size",)


def available_families() -> list[str]:
    """Families whose code is installed (a family arriving later is simply absent)."""
    names = []
    for name, (module, *_rest) in FAMILIES.items():
        if importlib.util.find_spec(module) is not None:
            names.append(name)
    return names


def get_family(name: str):
    """(trainer class, presets dict) of a family; VidgenError listing valid names if unknown."""
    valid = available_families()
    if name not in valid:
        raise VidgenError(f"unknown model {name!r}; choose one of: {', '.join(valid)}")
    module, cls_name, presets_module, presets_name = FAMILIES[name]
    trainer_cls = getattr(importlib.import_module(module), cls_name)
    presets = getattr(importlib.import_module(presets_module), presets_name)
    return trainer_cls, presets


def model_kwargs(preset: dict) -> dict:
    """A preset's model constructor arguments: everything but the training keys."""
    return {k: v for k, v in preset.items() if k not in TRAINING_KEYS}


def build_untrained(name: str, preset: str | None):
    """A freshly initialised trainer of family `name` with `preset` (for benchmarks)."""
    trainer_cls, _ = get_family(name)
    return trainer_cls(**model_kwargs(get_preset(name, preset)))


def get_preset(name: str, preset: str | None) -> dict:
    """A copy of a family's preset; VidgenError listing the valid preset names if unknown."""
    _, presets = get_family(name)
    if preset is None:
        return {}
    if preset not in presets:
        raise VidgenError(f"unknown preset {preset!r} for {name}; choose one of: "
                          f"{', '.join(presets)}")
    return dict(presets[preset])
