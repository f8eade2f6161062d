"""A run's configuration: `vidgen train` flags, preset values and what the data decides
(classes, tokenizer), resolved into the model's constructor arguments; checked, saved and
reloaded for --resume."""

from __future__ import annotations

import dataclasses
import logging

from vidgen_tf.errors import VidgenError
from vidgen_tf.training.run_dir import RunDir

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class TrainConfig:
    """Everything a run needs; `vidgen train` flags map onto these fields one to one."""

    model: str = "mocogan"
    data: str = "shapes"
    preset: str | None = None  # None: a new run takes the family's `default_preset`
    frames: int | None = None
    size: int | None = None
    batch_size: int | None = None
    epochs: int | None = None  # None: 10 for a new run, the saved run's for --resume
    steps_per_epoch: int = 100
    loss: str | None = None  # None: the preset's, else "bce"
    precision: str = "auto"
    strategy: str = "default"
    seed: int = 0
    sample_every: int = 1
    conditions: str | None = None  # comma-separated: label, text, first_frame
    context: int | None = None  # predictors: frames given (None: the preset's)
    horizon: int | None = None  # predictors: frames predicted (None: the preset's)
    channels: int | None = None  # predictors: 1 (grey) or 3 (RGB) (None: the preset's)
    lr_schedule: str = "constant"  # predictors: "constant" or "cosine" over the run's steps
    # Set by `--resume --lr-schedule cosine` on a constant-rate run: the epoch the cosine
    # starts from (it then runs over the remaining epochs, not the whole run).
    anneal_from_epoch: int | None = None
    model_kwargs: dict = dataclasses.field(default_factory=dict)

    def resolved(self) -> dict:
        """The model's constructor arguments and batch size: preset values, then flags."""
        from vidgen_tf.models.registry import family, get_preset, model_kwargs

        predictor = family(self.model).task == "prediction"
        preset = get_preset(self.model, self.preset)
        batch_size = self.batch_size or preset.get("batch_size") or 16
        loss = self.loss or preset.get("loss") or ("mse" if predictor else "bce")
        kwargs = model_kwargs(preset)
        kwargs.update(self.model_kwargs)
        if predictor and self.frames is not None:
            raise VidgenError(f"{self.model} predicts frames: set --context (frames given) "
                              "and --horizon (frames predicted) instead of --frames")
        if not predictor and (self.context is not None or self.horizon is not None):
            raise VidgenError(f"--context and --horizon are for the predictors (convlstm, "
                              f"predrnn, simvp); {self.model} generates clips of --frames")
        if not predictor and self.channels is not None:
            raise VidgenError(f"--channels is for the predictors (convlstm, predrnn, simvp); "
                              f"{self.model} generates RGB clips")
        if not predictor and self.lr_schedule != "constant":
            raise VidgenError(f"--lr-schedule is for the predictors (convlstm, predrnn, "
                              f"simvp); {self.model} keeps its optimizers' constant rates")
        if self.lr_schedule == "cosine" and self.anneal_from_epoch is None:
            # Over the whole run; a resumed run that grows --epochs stretches the cosine.
            # (An annealed run keeps its constant-rate optimizer: `CosineAnneal` sets it.)
            kwargs["decay_steps"] = (self.epochs or DEFAULT_EPOCHS) * self.steps_per_epoch
        if self.channels is not None:
            kwargs["channels"] = self.channels
        if self.context is not None:
            kwargs["context"] = self.context
        if self.horizon is not None:
            kwargs["horizon"] = self.horizon
        if self.frames is not None:
            kwargs["frames"] = self.frames
        if self.size is not None:
            kwargs["size"] = self.size
        kwargs["seed"] = self.seed
        return {"model_kwargs": kwargs, "batch_size": batch_size, "loss": loss}


DEFAULT_EPOCHS = 10
LR_SCHEDULES = ("constant", "cosine")
MAX_SEED = 2**31 - 1


def check_config(config: TrainConfig) -> None:
    """Flags out of range: a VidgenError naming the flag."""
    for name in ("epochs", "steps_per_epoch", "sample_every"):
        if getattr(config, name) < 1:
            raise VidgenError(f"{name.replace('_', '-')} must be >= 1; received "
                              f"{getattr(config, name)}")
    for name in ("context", "horizon"):
        if getattr(config, name) is not None and getattr(config, name) < 1:
            raise VidgenError(f"{name.replace('_', '-')} must be >= 1; received "
                              f"{getattr(config, name)}")
    if config.lr_schedule not in LR_SCHEDULES:
        raise VidgenError(f"lr-schedule must be one of {', '.join(LR_SCHEDULES)}; received "
                          f"{config.lr_schedule!r}")
    if config.channels not in (None, 1, 3):
        raise VidgenError(f"channels must be 1 (grey) or 3 (RGB); received {config.channels}")
    if config.batch_size is not None and config.batch_size < 1:
        raise VidgenError(f"batch-size must be >= 1; received {config.batch_size}")
    if not 0 <= config.seed <= MAX_SEED:  # TensorFlow's seeds are int32 in places
        raise VidgenError(f"seed must be between 0 and {MAX_SEED}; received {config.seed}")


_FIELD_TYPES = {"int": (int,), "str": (str,), "dict": (dict,), "int | None": (int, type(None)),
                "str | None": (str, type(None))}


def load_saved_config(run_dir: RunDir) -> TrainConfig:
    """The TrainConfig saved in a run's config.json, each field's type checked."""
    saved = run_dir.read_config()["train"]
    values = {}
    for field in dataclasses.fields(TrainConfig):
        if field.name not in saved:
            continue
        value = saved[field.name]
        if isinstance(value, bool) or not isinstance(value, _FIELD_TYPES[field.type]):
            raise VidgenError(f"{run_dir.config} is damaged: train.{field.name} should "
                              f"be {field.type}, not {value!r}; restore it, or start a new run "
                              "elsewhere")
        values[field.name] = value
    return TrainConfig(**values)


def check_resume_flags(requested: TrainConfig, saved: TrainConfig, run_dir) -> None:
    """--resume continues the saved run: refuse flags that would silently be ignored."""
    defaults = TrainConfig()
    differ = []
    for field in dataclasses.fields(TrainConfig):
        if field.name in ("epochs", "model_kwargs", "anneal_from_epoch"):
            continue  # --epochs may grow the run; the others have no flag
        if field.name == "lr_schedule" and starts_anneal(requested, saved):
            continue
        value = getattr(requested, field.name)
        if value != getattr(defaults, field.name) and value != getattr(saved, field.name):
            differ.append(f"--{field.name.replace('_', '-')} {value} (saved: "
                          f"{getattr(saved, field.name)})")
    if differ:
        raise VidgenError(f"--resume continues {run_dir} with its saved config, and these flags "
                          f"differ from it: {', '.join(differ)}. Drop them (only --epochs may "
                          "change, and --lr-schedule cosine may anneal a constant-rate run), "
                          "or start a new run with another --out")


def starts_anneal(requested: TrainConfig, saved: TrainConfig) -> bool:
    """Whether `--resume --lr-schedule cosine` asks a constant-rate run to anneal: its rate
    then falls along a cosine from the preset's to 1% over the epochs still to train."""
    return requested.lr_schedule == "cosine" and saved.lr_schedule == "constant"


def resolve_conditions(config: TrainConfig, resolved: dict) -> None:
    """Fill in what `--condition` needs from the data: the classes of "label", the tokenizer
    of "text" (built from the training captions; the shapes data holds its
    `HELD_OUT_CAPTIONS` out of text training), and record them in `resolved`."""
    from vidgen_tf.models.registry import parse_conditions

    conditions = parse_conditions(config.conditions, config.model)
    kwargs = resolved["model_kwargs"]
    if not conditions:
        return
    kwargs["conditions"] = list(conditions)
    resolved["conditions"] = list(conditions)
    if "actions" in conditions:
        from vidgen_tf.data.pipeline import dataset_action_names

        names = dataset_action_names(config.data)
        if not names:
            raise VidgenError(f"--condition actions needs data with an action per frame, such "
                              f"as shapes_actions; {config.data} has none")
        kwargs["action_names"] = list(names)
        resolved["action_names"] = list(names)
    if "label" in conditions:
        kwargs["num_classes"] = max(int(kwargs.get("num_classes") or 0), 1)  # set from the data
    if "text" in conditions:
        from vidgen_tf.data.captions import dataset_captions
        from vidgen_tf.data.shapes import HELD_OUT_CAPTIONS
        from vidgen_tf.runtime.tokenizer import WordTokenizer

        captions = dataset_captions(config.data)
        held_out = [c for c in HELD_OUT_CAPTIONS if c in captions] if config.data == "shapes" \
            else []
        trained = [c for c in captions if c not in held_out]
        if not any(c.strip() for c in trained):
            raise VidgenError(f"--condition text needs captions; {config.data} has none (give "
                              "each video a .txt sidecar with its caption)")
        try:
            tokenizer = WordTokenizer.from_captions(trained)
        except ValueError as exc:
            raise VidgenError(f"cannot build a tokenizer from the captions of {config.data}: "
                              f"{exc}") from exc
        kwargs["vocabulary"] = tokenizer.vocabulary
        kwargs["max_tokens"] = tokenizer.max_tokens
        resolved["captions"] = sorted(set(trained))
        resolved["held_out_captions"] = held_out


def describe_run(config: TrainConfig, resolved: dict, source: str, initial_epoch: int) -> str:
    """What a run trains, on what and how, in a few lines for the user (`vidgen train`)."""
    from vidgen_tf.models.registry import family

    kwargs = resolved["model_kwargs"]
    preset = config.preset or "none (the constructor's settings, the paper's)"
    if kwargs.get("context"):
        clip = (f"{kwargs['context']} frames in, {kwargs['horizon']} predicted, "
                f"{kwargs.get('size')}x{kwargs.get('size')}x{kwargs.get('channels')}")
    else:
        clip = f"{kwargs.get('frames')} frames of {kwargs.get('size')}x{kwargs.get('size')}"
    lines = [f"model:      {config.model}, preset {preset}",
             f"clips:      {clip}"
             f", batch {resolved['batch_size']}, {resolved['loss']} loss, "
             f"{resolved.get('precision', config.precision)}",
             f"data:       {config.data}"]
    conditions = list(resolved.get("conditions") or [])
    names = resolved.get("class_names") or []
    if names and "label" not in conditions:
        conditions.insert(0, "category")  # the paper's category code (num_classes, no label)
    described = []
    for condition in conditions:
        if condition in ("label", "category"):
            shown = ", ".join(names[:12]) + (f", ... ({len(names)} in all)"
                                             if len(names) > 12 else "")
            code = " as the paper's category code" if condition == "category" else ""
            described.append(f"label{code} ({len(names)} classes: {shown})")
        elif condition == "text":
            captions = resolved.get("captions") or []
            held_out = resolved.get("held_out_captions") or []
            described.append(f"text ({len(captions)} distinct captions, "
                             f"{len(kwargs.get('vocabulary') or [])} words"
                             + (f"; {len(held_out)} held out" if held_out else "") + ")")
        else:
            described.append("first_frame (the clip's own first frame)")
    takes = family(config.model).conditions
    if not kwargs.get("context") and (described or takes):
        lines.append("conditions: " + ("; ".join(described) if described else
                                       f"none (unconditional; --condition {'|'.join(takes)} "
                                       "to condition)"))
    if initial_epoch:
        lines.append(f"resuming:   after epoch {initial_epoch}, from the {source}")
    if config.anneal_from_epoch is not None:
        lines.append(f"annealing:  the learning rate falls along a cosine to 1% from epoch "
                     f"{config.anneal_from_epoch + 1} to epoch {config.epochs}")
    return "\n".join(lines)
