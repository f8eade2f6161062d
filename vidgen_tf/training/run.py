"""A training run: resolve the config, build the model, `fit` with callbacks, and resume.

The configuration lives in `training/config.py`, the run directory's layout in
`training/run_dir.py` (RunDir); this module makes the dataset and calls `fit`.

"""

from __future__ import annotations

import dataclasses
import datetime
import gc
import logging
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from vidgen_tf.errors import VidgenError
from vidgen_tf.training.config import (
    DEFAULT_EPOCHS,
    TrainConfig,
    check_config,
    check_resume_flags,
    describe_run,
    load_saved_config,
    resolve_conditions,
    starts_anneal,
)
from vidgen_tf.training.run_dir import RunDir

logger = logging.getLogger(__name__)


def read_run_config(run_dir: str | os.PathLike) -> dict:
    """A run directory's config.json, checked (`RunDir.read_config`)."""
    return RunDir(run_dir).read_config()


def _run_record(run_dir: RunDir, config: TrainConfig, resolved: dict, replicas: int,
                resume: bool) -> dict:
    """config.json's content. "command" stays the command that started the run; every start
    (the first and each --resume) is listed in "invocations" with the epoch it began at and
    the precision and replicas it ran with, so a resumed run still says how to reproduce it."""
    run_dir = run_dir if isinstance(run_dir, RunDir) else RunDir(run_dir)
    command = " ".join(sys.argv)
    started = {"command": command,
               "started": datetime.datetime.now(datetime.UTC).isoformat(
                   timespec="seconds"),
               "first_epoch": 1, "precision": resolved["precision"], "replicas": replicas}
    invocations = []
    if resume:
        previous = run_dir.read_config()
        invocations = previous.get("invocations")
        if not isinstance(invocations, list):  # a run from vidgen_tf 0.1.5 or older
            invocations = [{"command": previous.get("command"), "first_epoch": 1,
                            "precision": (previous.get("resolved") or {}).get("precision"),
                            "replicas": previous.get("replicas")}]
        command = previous.get("command") or command
        # The backup, when there is one, decides the epoch training continues at.
        started["first_epoch"] = 1 + (run_dir.backup_epoch() if run_dir.backup.is_dir()
                                      else run_dir.epochs_completed())
    return {"train": dataclasses.asdict(config), "resolved": resolved, "command": command,
            "replicas": replicas, "invocations": [*invocations, started]}


def _dataset(config: TrainConfig, clip: dict, batch_size: int, keys: tuple,
             held_out: list[str], model_kwargs: dict):
    """Batches of the data keys the trainer reads: "video" (with the model's `clip` frames,
    size and channels), and "label", "prompt_tokens" (captions tokenized with the model's
    vocabulary) and "first_frame" as it is conditioned. Clips whose caption is in `held_out`
    are never seen."""
    import tensorflow as tf

    from vidgen_tf.data.captions import tokenize_captions
    from vidgen_tf.data.pipeline import load_dataset, match_channels

    captions = "prompt_tokens" in keys or bool(held_out)
    kwargs = dict(frames=clip["frames"], size=clip["size"], seed=config.seed)
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

    channels = clip["channels"]

    def select(element):
        element = {key: element[key] for key in keys}
        if "video" in element:
            element["video"] = match_channels(element["video"], channels)
        return element

    ds = ds.map(select, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


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
              verbose: int | str = "auto", announce=None) -> dict:
    """Train (or resume) a run in `run_dir`; returns a summary dict.

    Without `resume`, `run_dir` must not hold a run yet. With it, the saved config is used and
    training continues from the BackupAndRestore state (an interrupted epoch restarts; no
    completed epoch is trained twice) or, failing that, from the last good checkpoint.
    A new run without a preset takes its family's default (the best recipe known; the run's
    config.json records its name). `announce`, if given, receives one paragraph saying what
    trains on what, before the first step (the CLI prints it).
    """
    import keras

    previous = keras.mixed_precision.global_policy()
    try:
        return _train_run(config, run_dir, resume, verbose, announce)
    finally:
        keras.mixed_precision.set_global_policy(previous)  # the run's policy stays with the run


def _train_run(config: TrainConfig, run_dir: str | os.PathLike, resume: bool,
               verbose: int | str, announce) -> dict:
    run_dir = Path(run_dir)
    if config.strategy == "multiworker":
        from vidgen_tf.training.setup import worker_run_dir

        run_dir = worker_run_dir(run_dir)  # the chief keeps --out; the others a subfolder
    run = RunDir(run_dir)
    epochs_requested = config.epochs
    if run_dir.exists() and not run_dir.is_dir():
        raise VidgenError(f"--out {run_dir} is a file; give a folder for the run")
    if resume:
        saved = load_saved_config(run)
        check_resume_flags(config, saved, run_dir)
        if starts_anneal(config, saved):
            from vidgen_tf.models.registry import family

            if family(saved.model).task != "prediction":
                raise VidgenError(f"--lr-schedule is for the predictors; {run_dir} trains "
                                  f"{saved.model}, which keeps its optimizers' rates")
            saved.lr_schedule = "cosine"
            saved.anneal_from_epoch = run.epochs_completed()
        config = saved
        config.epochs = config.epochs or DEFAULT_EPOCHS
        if epochs_requested is not None:
            config.epochs = max(config.epochs, epochs_requested)
    elif run.config.exists():
        raise VidgenError(f"{run_dir} already holds a run; pass --resume to continue it or "
                          f"choose another --out")
    elif clashes := run.entries_in_the_way():
        raise VidgenError(f"{run_dir} is not a run but holds {', '.join(clashes)}, which a new "
                          "run would write over or mix with its own; choose another --out "
                          "(a new or empty folder, or one without these names)")
    if not resume:
        from vidgen_tf.models.registry import family

        config = dataclasses.replace(
            config, epochs=DEFAULT_EPOCHS if config.epochs is None else config.epochs,
            preset=config.preset or family(config.model).default_preset)
    if resume:  # values of the right type that still make no run: say where they came from
        try:
            check_config(config)
            config.resolved()
        except VidgenError as exc:
            raise VidgenError(f"{run.config} is damaged: {exc}; restore it, or "
                              "start a new run elsewhere") from exc
    check_config(config)
    # A fresh run that fails before its first epoch completes leaves nothing behind, so the
    # corrected command can use the same --out. (Ctrl-C keeps it: --resume restarts it.)
    existing = None if resume else (set(run_dir.iterdir()) if run_dir.exists() else set())
    try:
        return _fit(config, run, resume, verbose, announce)
    except Exception:
        if existing is not None and not run.state.exists():
            run.remove_new_entries(existing)
        raise


def _fit(config: TrainConfig, run_dir: RunDir, resume: bool, verbose: int | str,
         announce) -> dict:
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
    resolve_conditions(config, resolved)
    if resolved["model_kwargs"].get("num_classes"):
        # A conditional model learns the classes of its data, whatever the preset says.
        from vidgen_tf.data.pipeline import dataset_class_names

        names = dataset_class_names(config.data)
        if not names:
            raise VidgenError(f"a conditional {config.model} needs labelled data; {config.data} "
                              "has no classes (use class subfolders)")
        if len(names) != resolved["model_kwargs"]["num_classes"]:
            logger.info("num_classes set to %d to match the classes of %s", len(names),
                        config.data)
        resolved["model_kwargs"]["num_classes"] = len(names)
        resolved["class_names"] = list(names)
    source, initial_epoch = run_dir.resume_source() if resume else ("start", 0)
    if initial_epoch >= config.epochs:
        raise VidgenError(f"{run_dir} already completed {initial_epoch} epoch"
                          f"{'s' * (initial_epoch != 1)}; pass a larger "
                          f"--epochs to train further")
    precision = set_precision(config.precision)
    resolved["precision"] = precision
    strategy = make_strategy(config.strategy)

    checkpoint, state_path, backup_dir = run_dir.checkpoint, run_dir.state, run_dir.backup
    with strategy.scope():
        if source == "checkpoint":
            # No interrupted epoch to restore: continue after the last good checkpoint.
            model = load_model(checkpoint)
        else:
            model = trainer_cls(**resolved["model_kwargs"])
            model.compile(loss=resolved["loss"])
    if announce is not None:
        clip = {k: getattr(model, k, None) for k in ("frames", "size", "channels")}
        announce(describe_run(config, {**resolved, "model_kwargs": {
            **resolved["model_kwargs"], **clip}}, source, initial_epoch))
    # Only now that the run can really start does config.json record this start.
    run_dir.path.mkdir(parents=True, exist_ok=True)
    write_json_atomic(run_dir.config, _run_record(
        run_dir, config, resolved, strategy.num_replicas_in_sync, resume))
    keys = tuple(getattr(model, "data_keys", ("video",)))
    if bool(getattr(getattr(model, "generator", None), "num_classes", 0)) and (
            "label" not in keys):
        keys = (*keys, "label")  # the paper's category code trains on real labels
    clip = {"frames": model.frames, "size": model.size, "channels": model.channels}
    data = _dataset(config, clip, resolved["batch_size"], keys,
                    resolved.get("held_out_captions") or [], resolved["model_kwargs"])

    guard = NaNGuard()
    if getattr(model, "task", "generation") == "prediction":
        from vidgen_tf.training.prediction_samples import PredictionSampleLogger

        samples = PredictionSampleLogger(run_dir.samples, config.data, clip,
                                         every=config.sample_every, seed=config.seed,
                                         tensorboard_dir=run_dir.logs)
    else:
        samples = VideoSampleLogger(run_dir.samples, every=config.sample_every, num=16,
                                    seed=config.seed, tensorboard_dir=run_dir.logs,
                                    conditions=_sample_conditions(config, resolved, 16))
    callbacks = [
        guard,
        # Before the backup: an epoch's row is written before the epoch counts as done.
        ResumableCSVLogger(run_dir.history),
        AtomicBackupAndRestore(str(backup_dir)),
        GoodCheckpoint(checkpoint, state_path, guard),
        keras.callbacks.TensorBoard(str(run_dir.logs), write_graph=False),
        samples,
    ]
    if config.anneal_from_epoch is not None:
        from vidgen_tf.training.callbacks import CosineAnneal

        callbacks.append(CosineAnneal(config.anneal_from_epoch * config.steps_per_epoch,
                                      config.epochs * config.steps_per_epoch))
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
    if hasattr(model, "finish_training"):  # e.g. the VAE fits its sampling prior
        (announce or logger.info)(model.finish_training(data))
    final = run_dir.model
    tmp = run_dir / ".model.partial.keras"
    model.save(tmp)
    os.replace(tmp, final)
    last = {k: float(v[-1]) for k, v in history.history.items()} if history.history else {}
    return {"run_dir": str(run_dir), "model": str(final), "epochs": config.epochs,
            "epochs_this_run": len(history.epoch), "seconds": round(elapsed, 1),
            "last_epoch": last,
            "samples": str(run_dir.samples / "latest.gif")}
