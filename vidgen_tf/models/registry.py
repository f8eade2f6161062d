"""The model families `vidgen train --model` knows: one `Family` record each, by name."""

from __future__ import annotations

import dataclasses
import importlib

from vidgen_tf.errors import VidgenError


@dataclasses.dataclass(frozen=True)
class Family:
    """One model family: where its trainer and presets live and what it can do.

    Attributes:
        name: the `--model` name.
        module: the package that defines (and registers) the trainer class.
        trainer: the trainer class's name in `module`.
        presets_module, presets: the module and dict of its named presets.
        task: "generation" (noise -> video) or "prediction" (context -> future frames).
        conditions: the conditions (`--condition`) it can be trained on.
        summary: one line for help texts.
        default_preset: the preset of a new run that names none: the best recipe known for
            the family (None: the constructor's defaults, which follow the paper).
        preset_notes: one line per preset, what it is for (`vidgen train --help`; kept here
            so that help needs no TensorFlow; a test checks they match the preset table).
    """

    name: str
    module: str
    trainer: str
    presets_module: str
    presets: str
    task: str = "generation"
    conditions: tuple[str, ...] = ()
    summary: str = ""
    default_preset: str | None = None
    preset_notes: tuple[tuple[str, str], ...] = ()

    def trainer_class(self):
        return getattr(importlib.import_module(self.module), self.trainer)

    def preset_table(self) -> dict:
        return getattr(importlib.import_module(self.presets_module), self.presets)


FAMILIES: dict[str, Family] = {family.name: family for family in (
    Family("dcgan3d", "vidgen_tf.models.dcgan3d", "VideoDCGAN",
           "vidgen_tf.models.dcgan3d.presets", "DCGAN3D_PRESETS",
           summary="3D-convolutional DCGAN (Vondrick et al. 2016 without the two streams)",
           preset_notes=(("default_64", "DCGAN's filter widths at 64x64x16"),
                         ("small_32", "small and fast: 32x32x16"),
                         ("tiny", "tests and smoke runs"))),
    Family("vgan", "vidgen_tf.models.vgan", "VGAN", "vidgen_tf.models.vgan.presets",
           "VGAN_PRESETS", summary="two-stream VGAN: moving foreground over a still background",
           preset_notes=(("paper_64", "Vondrick et al. 2016 as published: 64x64x32, batch 64"),
                         ("small_32", "small and fast: 32x32x16"),
                         ("tiny", "tests and smoke runs"))),
    Family("mocogan", "vidgen_tf.models.mocogan", "MoCoGAN",
           "vidgen_tf.models.mocogan.presets", "MOCOGAN_PRESETS",
           conditions=("label", "text", "first_frame"),
           summary="MoCoGAN: content and motion codes, image and video discriminators",
           default_preset="recommended", preset_notes=(
               ("recommended", "the default: the best recipe found here (hinge loss, "
                               "spectral norm, global heads, generator EMA); 64x64x16 at 16 "
                               "filters, set --size and --frames"),
               ("paper_64", "Tulyakov et al. 2018 as published: BCE, BatchNorm "
                            "discriminators, 64x64x16 (for fidelity to the paper)"),
               ("paper_64_conditional", "paper_64 with the category code (6 classes; "
                                        "the data's class count replaces it)"),
               ("shapes_64", "an earlier shapes recipe: quarter width, spectral norm, "
                             "patch heads"),
               ("shapes_64_ttur", "shapes_64 with discriminators learning 3x faster"),
               ("shapes_32", "the shipped export/mocogan_shapes, _label and _image: "
                             "the recommended recipe at 32x32"),
               ("shapes_32_text", "the shipped export/mocogan_shapes_text: shapes_32 for "
                                  "--condition text, word losses 4x heavier, no word "
                                  "classifiers on single frames"),
               ("demo_32", "`vidgen demo`: recognisable shapes in about 1000 steps"),
               ("tiny", "tests and smoke runs (8 frames of 16x16)"))),
    Family("video_vae", "vidgen_tf.models.video_vae", "VideoVAE",
           "vidgen_tf.models.video_vae.presets", "VIDEO_VAE_PRESETS",
           summary="video VAE: 3D-convolutional encoder and decoder, generates from its prior "
                   "(Kingma & Welling 2014, in 3D)",
           default_preset="shapes_32", preset_notes=(
               ("shapes_32", "the default: 32x32x16, 64-d latent, KL warmed up over 2000 "
                             "steps; export/vae_shapes, FVD 148.55 after 41 epochs of 500 steps"),
               ("tiny", "tests and smoke runs (8 frames of 16x16)"))),
    Family("convlstm", "vidgen_tf.models.convlstm", "ConvLSTM",
           "vidgen_tf.models.convlstm.presets", "CONVLSTM_PRESETS", task="prediction",
           summary="frame predictor: stacked ConvLSTM (Shi et al. 2015)",
           default_preset="cpu_mmnist", preset_notes=(
               ("cpu_mmnist", "the default: 3 layers of 64 at 64x64x1, 10 -> 10 frames, "
                              "scheduled sampling over 10,000 steps, for a CPU"),
               ("openstl_mmnist", "OpenSTL's Moving MNIST setting: 4 layers of 128, patches "
                                  "of 4, 10 -> 10 frames"),
               ("tiny", "tests and smoke runs (4 -> 4 frames of 16x16)"))),
    Family("predrnn", "vidgen_tf.models.predrnn", "PredRNN",
           "vidgen_tf.models.predrnn.presets", "PREDRNN_PRESETS", task="prediction",
           summary="frame predictor: stacked spatiotemporal LSTMs (Wang et al. 2017, 2022)",
           default_preset="cpu_mmnist", preset_notes=(
               ("cpu_mmnist", "the default: 3 layers of 64 at 64x64x1, 10 -> 10 frames, "
                              "scheduled sampling over 10,000 steps, for a CPU"),
               ("openstl_mmnist", "OpenSTL's Moving MNIST PredRNN: 4 layers of 128"),
               ("openstl_mmnist_v2", "OpenSTL's PredRNN-V2: reverse scheduled sampling and "
                                     "memory decoupling"),
               ("tiny", "tests and smoke runs (4 -> 4 frames of 16x16)"))),
    Family("svg", "vidgen_tf.models.svg", "SVG", "vidgen_tf.models.svg.presets", "SVG_PRESETS",
           task="prediction", conditions=("actions",),
           summary="stochastic frame predictor: SVG-LP, per-frame encoder and decoder, LSTM "
                   "predictor, learned prior (Denton & Fergus 2018)",
           default_preset="cpu_smmnist", preset_notes=(
               ("cpu_smmnist", "the default: the paper's SM-MNIST networks, 5 -> 10 frames "
                               "of 64x64x1, batch 16"),
               ("paper_smmnist", "the official SVG-LP on SM-MNIST, batch 100"),
               ("cpu_smmnist_half", "cpu_smmnist at half the convolution widths (what 3 CPU "
                                    "hours train)"),
               ("shapes_actions", "first frame + actions -> 15 frames of 32x32x3, with "
                                  "--condition actions on shapes_actions"),
               ("tiny", "tests and smoke runs (2 -> 3 frames of 16x16)"))),
    Family("tdvae", "vidgen_tf.models.tdvae", "TDVAE", "vidgen_tf.models.tdvae.presets",
           "TDVAE_PRESETS", task="prediction",
           summary="stochastic frame predictor: TD-VAE, belief LSTM, jumpy latent transitions "
                   "trained on pairs of time points (Gregor et al. 2019)",
           default_preset="cpu_mmnist", preset_notes=(
               ("cpu_mmnist", "the default: 5 -> 15 frames of 64x64x1, jumps of 1..4, "
                              "batch 16, for a CPU (2 digits: the latent keeps places, not "
                              "shapes)"),
               ("cpu_mmnist1", "one digit (--data moving_mnist_1, the paper's setting), the "
                               "KL terms at beta 0.25"),
               ("content_mmnist1", "one digit, the decoder also given the last frame's "
                                   "encoding: keeps the digit given in 81% of predicted "
                                   "frames after 76 epochs (27% without, at 40)"),
               ("tiny", "tests and smoke runs (2 -> 3 frames of 16x16)"))),
    Family("simvp", "vidgen_tf.models.simvp", "SimVP", "vidgen_tf.models.simvp.presets",
           "SIMVP_PRESETS", task="prediction",
           summary="frame predictor: convolutional encoder, gSTA translator, decoder; all "
                   "frames in one pass (Gao et al. 2022)",
           default_preset="cpu_mmnist", preset_notes=(
               ("cpu_mmnist", "the default: hid_s 32, hid_t 256, 4 gSTA blocks (6.5 M "
                              "parameters) at 64x64x1, 10 -> 10 frames, for a CPU"),
               ("openstl_mmnist", "OpenSTL's Moving MNIST SimVP gSTA: hid_s 64, hid_t 512, "
                                  "8 blocks (46.8 M parameters)"),
               ("cpu_real", "your own colour videos: 64x64x3, 10 -> 10 frames, small, "
                            "predicting the change from the last frame"),
               ("tiny", "tests and smoke runs (4 -> 4 frames of 16x16)"))),
)}
# Keys of a preset that configure training rather than the model.
TRAINING_KEYS = ("batch_size", "loss")


def available_families() -> list[str]:
    """Families whose code is installed (a family arriving later is simply absent)."""
    return [name for name, family in FAMILIES.items()
            if importlib.util.find_spec(family.module) is not None]


def family(name: str) -> Family:
    """The `Family` called `name`; VidgenError listing the valid names if unknown."""
    valid = available_families()
    if name not in valid:
        raise VidgenError(f"unknown model {name!r}; choose one of: {', '.join(valid)}")
    return FAMILIES[name]


def get_family(name: str):
    """(trainer class, presets dict) of a family; VidgenError listing valid names if unknown."""
    found = family(name)
    return found.trainer_class(), found.preset_table()


def parse_conditions(text: str | None, name: str) -> tuple[str, ...]:
    """`--condition label,text` -> ("label", "text") for family `name`, checked: an unknown
    condition, or one the family cannot take, is a VidgenError saying what is allowed."""
    from vidgen_tf.layers.condition_encoder import CONDITIONS as ENCODED

    known = (*ENCODED, "actions")  # actions steer predictors step by step, not by a code
    if text is None:
        return ()
    requested = [part.strip() for part in text.split(",")]
    if not all(requested):
        raise VidgenError(f"--condition takes comma-separated names ({', '.join(known)}); "
                          f"received {text!r}")
    unknown = [c for c in requested if c not in known]
    if unknown:
        raise VidgenError(f"unknown condition {unknown[0]!r}; --condition takes "
                          f"{', '.join(known)} (comma-separated for several)")
    allowed = family(name).conditions
    refused = [c for c in requested if c not in allowed]
    if refused:
        takers = [f.name for f in FAMILIES.values() if refused[0] in f.conditions]
        can = f"it takes {', '.join(allowed)}" if allowed else "it takes no condition"
        raise VidgenError(f"{name} cannot be trained on the condition {refused[0]!r} ({can}); "
                          f"families that can: {', '.join(takers) or 'none'}")
    if len(set(requested)) != len(requested):
        raise VidgenError(f"--condition names a condition twice: {text!r}")
    return tuple(c for c in known if c in requested)


def model_kwargs(preset: dict) -> dict:
    """A preset's model constructor arguments: everything but the training keys."""
    return {k: v for k, v in preset.items() if k not in TRAINING_KEYS}


def build_untrained(name: str, preset: str | None):
    """A freshly initialised trainer of family `name` with `preset` (for benchmarks)."""
    return family(name).trainer_class()(**model_kwargs(get_preset(name, preset)))


def get_preset(name: str, preset: str | None) -> dict:
    """A copy of a family's preset; VidgenError listing the valid preset names if unknown."""
    presets = family(name).preset_table()
    if preset is None:
        return {}
    if preset not in presets:
        raise VidgenError(f"unknown preset {preset!r} for {name}; choose one of: "
                          f"{', '.join(presets)}")
    return dict(presets[preset])


def presets_help() -> str:
    """Every family's presets with their one-line notes, for `vidgen train --help`."""
    lines = ["presets (--preset; without one, a new run takes the family's default):"]
    for found in FAMILIES.values():
        default = f", default {found.default_preset}" if found.default_preset else (
            ", default: the paper's constructor settings")
        lines.append(f"  {found.name} ({found.summary}{default}):")
        width = max((len(name) for name, _ in found.preset_notes), default=0)
        lines.extend(f"    {name:<{width}}  {note}" for name, note in found.preset_notes)
    return "\n".join(lines)
