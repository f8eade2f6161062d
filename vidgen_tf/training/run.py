"""A training run: resolve the config, build the model, `fit` with callbacks, and resume.

RUN_DIR holds:
    config.json        everything resolved (preset < flags), written before training; the
                       command that started the run and every start since (invocations)
    history.csv        one row per completed epoch (CSVLogger, appended across resumes)
    model.keras        the final model (written when training ends)
    checkpoints/last.keras + state.json   the last epoch whose losses stayed finite
    backup/            BackupAndRestore state while a run is in progress
    samples/           VideoSampleLogger GIF/MP4 grids
    logs/              TensorBoard
"""

from __future__ import annotations

import dataclasses
import datetime
import gc
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from vidgen_tf.errors import VidgenError

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class TrainConfig:
    """Everything a run needs; `vidgen train` flags map onto these fields one to one."""

    model: str = "dcgan3d"
    data: str = "shapes"
    preset: str | None = None
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
    model_kwargs: dict = dataclasses.field(default_factory=dict)

    def resolved(self) -> dict:
        """The model's constructor arguments and batch size: preset values, then flags."""
        from vidgen_tf.models.registry import get_preset, model_kwargs

        preset = get_preset(self.model, self.preset)
        batch_size = self.batch_size or preset.get("batch_size") or 16
        loss = self.loss or preset.get("loss") or "bce"
        kwargs = model_kwargs(preset)
        kwargs.update(self.model_kwargs)
        if self.frames is not None:
            kwargs["frames"] = self.frames
        if self.size is not None:
            kwargs["size"] = self.size
        kwargs["seed"] = self.seed
        return {"model_kwargs": kwargs, "batch_size": batch_size, "loss": loss}


DEFAULT_EPOCHS = 10
MAX_SEED = 2**31 - 1


def _check(config: TrainConfig) -> None:
    for name in ("epochs", "steps_per_epoch", "sample_every"):
        if getattr(config, name) < 1:
            raise VidgenError(f"{name.replace('_', '-')} must be >= 1; received "
                              f"{getattr(config, name)}")
    if config.batch_size is not None and config.batch_size < 1:
        raise VidgenError(f"batch-size must be >= 1; received {config.batch_size}")
    if not 0 <= config.seed <= MAX_SEED:  # TensorFlow's seeds are int32 in places
        raise VidgenError(f"seed must be between 0 and {MAX_SEED}; received {config.seed}")


def read_run_config(run_dir: str | os.PathLike) -> dict:
    """A run directory's config.json, checked: a dict with a "train" dict in it."""
    path = Path(run_dir) / "config.json"
    try:
        saved = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise VidgenError(f"{run_dir} has no config.json: it is not a run directory of "
                          "`vidgen train`") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VidgenError(f"{path} is damaged ({exc}); restore it, or start a new run "
                          "elsewhere") from exc
    if not isinstance(saved, dict) or not isinstance(saved.get("train"), dict):
        raise VidgenError(f"{path} is not a vidgen_tf run config (no \"train\" section); "
                          "restore it, or start a new run elsewhere")
    return saved


_FIELD_TYPES = {"int": (int,), "str": (str,), "dict": (dict,), "int | None": (int, type(None)),
                "str | None": (str, type(None))}


def _load_saved_config(run_dir: Path) -> TrainConfig:
    saved = read_run_config(run_dir)["train"]
    values = {}
    for field in dataclasses.fields(TrainConfig):
        if field.name not in saved:
            continue
        value = saved[field.name]
        if isinstance(value, bool) or not isinstance(value, _FIELD_TYPES[field.type]):
            raise VidgenError(f"{run_dir / 'config.json'} is damaged: train.{field.name} should "
                              f"be {field.type}, not {value!r}; restore it, or start a new run "
                              "elsewhere")
        values[field.name] = value
    return TrainConfig(**values)


def _run_record(run_dir: Path, config: TrainConfig, resolved: dict, replicas: int,
                resume: bool) -> dict:
    """config.json's content. "command" stays the command that started the run; every start
    (the first and each --resume) is listed in "invocations" with the epoch it began at and
    the precision and replicas it ran with, so a resumed run still says how to reproduce it."""
    command = " ".join(sys.argv)
    started = {"command": command,
               "started": datetime.datetime.now(datetime.UTC).isoformat(
                   timespec="seconds"),
               "first_epoch": 1, "precision": resolved["precision"], "replicas": replicas}
    invocations = []
    if resume:
        previous = read_run_config(run_dir)
        invocations = previous.get("invocations")
        if not isinstance(invocations, list):  # a run from vidgen_tf 0.1.5 or older
            invocations = [{"command": previous.get("command"), "first_epoch": 1,
                            "precision": (previous.get("resolved") or {}).get("precision"),
                            "replicas": previous.get("replicas")}]
        command = previous.get("command") or command
        started["first_epoch"] = _epochs_completed(run_dir) + 1
    return {"train": dataclasses.asdict(config), "resolved": resolved, "command": command,
            "replicas": replicas, "invocations": [*invocations, started]}


def _epochs_completed(run_dir: Path) -> int:
    """Epochs in history.csv (CSVLogger writes each completed epoch once, across resumes)."""
    history = run_dir / "history.csv"
    if not history.is_file():
        return 0
    try:
        text = history.read_text()
    except (UnicodeDecodeError, OSError) as exc:
        raise VidgenError(f"{history} is damaged ({exc}); restore it, or delete it to resume "
                          "with a new history (the training state is in backup/ and "
                          "checkpoints/)") from exc
    return max(len(text.splitlines()) - 1, 0)


def _resume_source(run_dir: Path) -> tuple[str, int]:
    """Where --resume continues `run_dir` from: ("backup", 0) for the BackupAndRestore state
    (it knows its epoch), ("checkpoint", epochs) for the last good checkpoint, or ("start", 0)
    for a run killed before its first epoch completed. A run that completed epochs but lost
    both is an error: starting it over would overwrite its history, samples and model."""
    checkpoints = run_dir / "checkpoints"
    completed = _epochs_completed(run_dir)
    if (run_dir / "backup").is_dir():
        return "backup", 0
    checkpoint, state_path = checkpoints / "last.keras", checkpoints / "state.json"
    if checkpoint.is_file():
        try:
            epochs = json.loads(state_path.read_text())["epochs_completed"]
        except FileNotFoundError as exc:
            raise VidgenError(f"{state_path} is missing, so the epoch of {checkpoint} is "
                              "unknown; restore it, or start a new run elsewhere") from exc
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise VidgenError(f"{state_path} is damaged ({exc}); restore it, or start a new "
                              "run elsewhere") from exc
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise VidgenError(f"{state_path} is damaged (epochs_completed {epochs!r}); "
                              "restore it, or start a new run elsewhere")
        return "checkpoint", epochs
    if completed or (run_dir / "model.keras").exists():
        raise VidgenError(
            f"cannot resume {run_dir}: it completed {completed} epoch(s), but neither its "
            f"backup/ nor {checkpoint} is there to continue from. Restore "
            f"{checkpoint} (and state.json), or start a new run with another --out; resuming "
            "from scratch would overwrite its history, samples and model")
    return "start", 0


def _check_resume_flags(requested: TrainConfig, saved: TrainConfig, run_dir: Path) -> None:
    """--resume continues the saved run: refuse flags that would silently be ignored."""
    defaults = TrainConfig()
    differ = []
    for field in dataclasses.fields(TrainConfig):
        if field.name in ("epochs", "model_kwargs"):
            continue  # --epochs may grow the run; model_kwargs has no flag
        value = getattr(requested, field.name)
        if value != getattr(defaults, field.name) and value != getattr(saved, field.name):
            differ.append(f"--{field.name.replace('_', '-')} {value} (saved: "
                          f"{getattr(saved, field.name)})")
    if differ:
        raise VidgenError(f"--resume continues {run_dir} with its saved config, and these flags "
                          f"differ from it: {', '.join(differ)}. Drop them (only --epochs may "
                          "change), or start a new run with another --out")


def _dataset(config: TrainConfig, model_kwargs: dict, batch_size: int, keys: tuple,
             held_out: list[str]):
    """Batches of the data keys the trainer reads: "video", and "label", "prompt_tokens"
    (captions tokenized with the model's vocabulary) and "first_frame" as it is conditioned.
    Clips whose caption is in `held_out` are never seen."""
    import tensorflow as tf

    from vidgen_tf.data.pipeline import load_dataset, tokenize_captions

    captions = "prompt_tokens" in keys or bool(held_out)
    kwargs = dict(frames=model_kwargs.get("frames"), size=model_kwargs.get("size"),
                  seed=config.seed)
    if "label" in keys:
        kwargs["labels"] = True
    if captions:
        kwargs["captions"] = True
    ds = load_dataset(config.data, **kwargs)
    if held_out:
        excluded = tf.constant(held_out)

        def seen(element):
            return tf.logical_not(tf.reduce_any(tf.equal(element["caption"], excluded)))

        ds = ds.filter(seen)
    if "prompt_tokens" in keys:
        ds = tokenize_captions(ds, model_kwargs["vocabulary"], model_kwargs["max_tokens"])

    def select(element):
        return {key: element[key] for key in keys}

    ds = ds.map(select, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def _resolve_conditions(config: TrainConfig, resolved: dict) -> None:
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
    if "label" in conditions:
        kwargs["num_classes"] = max(int(kwargs.get("num_classes") or 0), 1)  # set from the data
    if "text" in conditions:
        from vidgen_tf.data.pipeline import dataset_captions
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


def _sample_conditions(config: TrainConfig, resolved: dict, num: int) -> dict | None:
    """Fixed conditions for the sample grids: labels 0, 1, 2...; captions cycling over the
    trained ones then the held-out ones; first frames of clips the run never trains on."""
    conditions = resolved.get("conditions") or []
    if not conditions:
        return None
    kwargs = resolved["model_kwargs"]
    values: dict = {}
    if "label" in conditions:
        values["label"] = (np.arange(num) % kwargs["num_classes"]).astype(np.int32)
    if "text" in conditions:
        from vidgen_tf.runtime.tokenizer import WordTokenizer

        captions = resolved["held_out_captions"] + resolved["captions"]
        picks = [captions[i * len(captions) // num] for i in range(num)]
        values["prompt_tokens"] = WordTokenizer(kwargs["vocabulary"],
                                                kwargs["max_tokens"]).encode(picks)
        values["captions"] = picks
    if "first_frame" in conditions:
        from vidgen_tf.data.pipeline import load_dataset

        ds = load_dataset(config.data, frames=kwargs.get("frames"), size=kwargs.get("size"),
                          seed=config.seed + 1, batch_size=num)
        batch = next(iter(ds))
        values["first_frame"] = np.asarray(batch["first_frame"], np.float32)
    return values


def train_run(config: TrainConfig, run_dir: str | os.PathLike, resume: bool = False,
              verbose: int | str = "auto") -> dict:
    """Train (or resume) a run in `run_dir`; returns a summary dict.

    Without `resume`, `run_dir` must not hold a run yet. With it, the saved config is used and
    training continues from the BackupAndRestore state (an interrupted epoch restarts; no
    completed epoch is trained twice) or, failing that, from the last good checkpoint.
    """
    import keras

    previous = keras.mixed_precision.global_policy()
    try:
        return _train_run(config, run_dir, resume, verbose)
    finally:
        keras.mixed_precision.set_global_policy(previous)  # the run's policy stays with the run


def _train_run(config: TrainConfig, run_dir: str | os.PathLike, resume: bool,
               verbose: int | str) -> dict:
    run_dir = Path(run_dir)
    if config.strategy == "multiworker":
        from vidgen_tf.training.setup import worker_run_dir

        run_dir = worker_run_dir(run_dir)  # the chief keeps --out; the others a subfolder
    epochs_requested = config.epochs
    if run_dir.exists() and not run_dir.is_dir():
        raise VidgenError(f"--out {run_dir} is a file; give a folder for the run")
    if resume:
        saved = _load_saved_config(run_dir)
        _check_resume_flags(config, saved, run_dir)
        config = saved
        config.epochs = config.epochs or DEFAULT_EPOCHS
        if epochs_requested is not None:
            config.epochs = max(config.epochs, epochs_requested)
    elif (run_dir / "config.json").exists():
        raise VidgenError(f"{run_dir} already holds a run; pass --resume to continue it or "
                          f"choose another --out")
    elif clashes := _run_entries(run_dir):
        raise VidgenError(f"{run_dir} is not a run but holds {', '.join(clashes)}, which a new "
                          "run would write over or mix with its own; choose another --out "
                          "(a new or empty folder, or one without these names)")
    elif config.epochs is None:
        config = dataclasses.replace(config, epochs=DEFAULT_EPOCHS)
    if resume:  # values of the right type that still make no run: say where they came from
        try:
            _check(config)
            config.resolved()
        except VidgenError as exc:
            raise VidgenError(f"{run_dir / 'config.json'} is damaged: {exc}; restore it, or "
                              "start a new run elsewhere") from exc
    _check(config)
    # A fresh run that fails before its first epoch completes leaves nothing behind, so the
    # corrected command can use the same --out. (Ctrl-C keeps it: --resume restarts it.)
    existing = None if resume else (set(run_dir.iterdir()) if run_dir.exists() else set())
    try:
        return _fit(config, run_dir, resume, verbose)
    except Exception:
        if existing is not None and not (run_dir / "checkpoints" / "state.json").exists():
            _remove_new_entries(run_dir, existing)
        raise


# What a run writes in its folder (config.json aside, which marks a run).
_RUN_ENTRIES = ("history.csv", "model.keras", "checkpoints", "backup", "samples", "logs")


def _run_entries(run_dir: Path) -> list[str]:
    """The entries of `run_dir` that a new run would write over, e.g. `["samples/"]`."""
    return [name + ("/" if (run_dir / name).is_dir() else "")
            for name in _RUN_ENTRIES if os.path.lexists(run_dir / name)]


def _remove_new_entries(run_dir: Path, existing: set) -> None:
    if not run_dir.exists():
        return
    for entry in set(run_dir.iterdir()) - existing:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    if not existing:
        try:
            run_dir.rmdir()
        except OSError:
            pass


def _fit(config: TrainConfig, run_dir: Path, resume: bool, verbose: int | str) -> dict:
    import keras
    import tensorflow as tf

    from vidgen_tf.models import load_model
    from vidgen_tf.models.registry import get_family
    from vidgen_tf.training.callbacks import (
        AtomicBackupAndRestore,
        GoodCheckpoint,
        NaNGuard,
        ResumableCSVLogger,
        write_json_atomic,
    )
    from vidgen_tf.training.setup import make_strategy, set_precision
    from vidgen_tf.training.video_sample_logger import VideoSampleLogger

    trainer_cls, _ = get_family(config.model)
    resolved = config.resolved()
    _resolve_conditions(config, resolved)
    if resolved["model_kwargs"].get("num_classes"):
        # A conditional model learns the classes of its data, whatever the preset says.
        from vidgen_tf.data.pipeline import dataset_class_names

        names = dataset_class_names(config.data)
        if not names:
            raise VidgenError(f"a conditional {config.model} needs labelled data; {config.data} "
                              "has no classes (use class subfolders)")
        if len(names) != resolved["model_kwargs"]["num_classes"]:
            logger.warning("num_classes set to %d to match the classes of %s", len(names),
                           config.data)
        resolved["model_kwargs"]["num_classes"] = len(names)
        resolved["class_names"] = list(names)
    source, initial_epoch = _resume_source(run_dir) if resume else ("start", 0)
    if initial_epoch >= config.epochs:
        raise VidgenError(f"{run_dir} already completed {initial_epoch} epoch"
                          f"{'s' * (initial_epoch != 1)}; pass a larger "
                          f"--epochs to train further")
    precision = set_precision(config.precision)
    resolved["precision"] = precision
    strategy = make_strategy(config.strategy)

    checkpoint = run_dir / "checkpoints" / "last.keras"
    state_path = run_dir / "checkpoints" / "state.json"
    backup_dir = run_dir / "backup"
    with strategy.scope():
        if source == "checkpoint":
            # No interrupted epoch to restore: continue after the last good checkpoint.
            model = load_model(checkpoint)
        else:
            model = trainer_cls(**resolved["model_kwargs"])
            model.compile(loss=resolved["loss"])
    # Only now that the run can really start does config.json record this start.
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(run_dir / "config.json", _run_record(
        run_dir, config, resolved, strategy.num_replicas_in_sync, resume))
    keys = tuple(getattr(model, "data_keys", ("video",)))
    if bool(getattr(model.generator, "num_classes", 0)) and "label" not in keys:
        keys = (*keys, "label")  # the paper's category code trains on real labels
    data = _dataset(config, resolved["model_kwargs"], resolved["batch_size"], keys,
                    resolved.get("held_out_captions") or [])

    guard = NaNGuard()
    samples = VideoSampleLogger(run_dir / "samples", every=config.sample_every, num=16,
                                seed=config.seed, tensorboard_dir=run_dir / "logs",
                                conditions=_sample_conditions(config, resolved, 16))
    callbacks = [
        guard,
        # Before the backup: an epoch's row is written before the epoch counts as done.
        ResumableCSVLogger(run_dir / "history.csv"),
        AtomicBackupAndRestore(str(backup_dir)),
        GoodCheckpoint(checkpoint, state_path, guard),
        keras.callbacks.TensorBoard(str(run_dir / "logs"), write_graph=False),
        samples,
    ]
    start = time.perf_counter()
    data_error = None
    try:
        history = model.fit(data, epochs=config.epochs, steps_per_epoch=config.steps_per_epoch,
                            initial_epoch=initial_epoch, callbacks=callbacks, verbose=verbose,
                            shuffle=False)  # the tf.data pipeline shuffles
    except tf.errors.UnavailableError as exc:
        if config.strategy != "multiworker":
            raise
        reason = " ".join(str(getattr(exc, "message", exc)).split())
        reason = reason.split("aborted by:", 1)[-1].strip()[:300]
        raise VidgenError(f"lost contact with another worker ({reason}); stop every task, then "
                          "start each one again with --resume") from exc
    except tf.errors.ResourceExhaustedError as exc:
        kwargs = resolved["model_kwargs"]
        raise VidgenError(
            f"out of memory training {config.model} at batch size {resolved['batch_size']} "
            f"({kwargs.get('frames')} frames of {kwargs.get('size')}x{kwargs.get('size')}); "
            "start again with a smaller --batch-size, --frames or --size") from exc
    except tf.errors.OpError as exc:
        from vidgen_tf.data.pipeline import pipeline_error

        data_error = pipeline_error(exc)  # e.g. every video of the folder failed to decode
        if data_error is None:
            raise
    if data_error is not None:
        # Out of the except block, so that no traceback keeps fit's input iterator alive:
        # its decoding threads must stop now, or they block the interpreter's exit.
        del data
        gc.collect()
        raise data_error
    elapsed = time.perf_counter() - start
    if guard.stopped_at is not None:
        shutil.rmtree(backup_dir, ignore_errors=True)  # holds the broken state
        epoch, step, name = guard.stopped_at
        kept = f"the last good checkpoint is {checkpoint}" if checkpoint.exists() else (
            "no epoch completed, so there is no checkpoint")
        raise VidgenError(f"training stopped: {name} became NaN/inf at epoch {epoch}, step "
                          f"{step}; {kept}. Try a lower learning rate or --precision float32")
    final = run_dir / "model.keras"
    tmp = run_dir / ".model.partial.keras"
    model.save(tmp)
    os.replace(tmp, final)
    last = {k: float(v[-1]) for k, v in history.history.items()} if history.history else {}
    return {"run_dir": str(run_dir), "model": str(final), "epochs": config.epochs,
            "epochs_this_run": len(history.epoch), "seconds": round(elapsed, 1),
            "last_epoch": last,
            "samples": str(run_dir / "samples" / "latest.gif")}
