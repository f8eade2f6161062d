"""Callbacks for robust runs: kill-safe backups, stop on NaN, keep the last good checkpoint."""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import shutil
from pathlib import Path

import keras

logger = logging.getLogger(__name__)


class NaNGuard(keras.callbacks.Callback):
    """Stop training at the first batch whose logged losses are not finite.

    Unlike `TerminateOnNaN` it records where it happened (`stopped_at`), so the run can say so
    and `GoodCheckpoint` can refuse to save the broken weights.
    """

    def __init__(self):
        super().__init__()
        self.stopped_at: tuple[int, int, str] | None = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        for name, value in (logs or {}).items():
            try:
                finite = math.isfinite(float(value))
            except (TypeError, ValueError):
                continue
            if not finite:
                self.stopped_at = (self._epoch + 1, batch + 1, name)
                self.model.stop_training = True
                logger.error("%s became %s at epoch %d, step %d: stopping", name, value,
                             self._epoch + 1, batch + 1)
                return


class GoodCheckpoint(keras.callbacks.Callback):
    """Save the model atomically to `path` after every epoch whose losses stayed finite.

    Also writes `state_path` (JSON with `epochs_completed`), so a run can resume from this
    checkpoint when no BackupAndRestore state is left.
    """

    def __init__(self, path: str | os.PathLike, state_path: str | os.PathLike, guard: NaNGuard):
        super().__init__()
        self.path, self.state_path, self.guard = Path(path), Path(state_path), guard

    def on_epoch_end(self, epoch, logs=None):
        if self.guard.stopped_at is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.stem}.partial.keras")
        self.model.save(tmp)
        os.replace(tmp, self.path)
        write_json_atomic(self.state_path, {"epochs_completed": epoch + 1,
                                            "checkpoint": str(self.path)})


class CosineAnneal(keras.callbacks.Callback):
    """Anneal a constant-rate predictor (`vidgen train --resume --lr-schedule cosine`): before
    each step, set every optimizer's rate to the model's `learning_rate` times
    f + (1 - f) (1 + cos(pi p)) / 2, where p = (step - start) / (end - start), clipped to
    [0, 1], and f = 0.01 (`FINAL_RATE_FRACTION`, what the cosine schedule ends at). The step
    is the optimizer's own count, so a resumed annealing run picks up where it was.

    Args:
        start: int. The step the cosine starts from (the model's full rate).
        end: int > start. The step it reaches f times that rate, and stays at.
    """

    def __init__(self, start: int, end: int):
        super().__init__()
        if end <= start:
            raise ValueError(f"CosineAnneal needs end > start; received start={start}, "
                             f"end={end}")
        self.start, self.end = int(start), int(end)

    def rate(self, step: int, base: float) -> float:
        from vidgen_tf.training.prediction_trainer import FINAL_RATE_FRACTION as final

        progress = min(max((step - self.start) / (self.end - self.start), 0.0), 1.0)
        return base * (final + (1 - final) * 0.5 * (1 + math.cos(math.pi * progress)))

    def on_train_batch_begin(self, batch, logs=None):
        model = self.model
        for name in model.optimizer_names:
            optimizer = getattr(model, name)
            inner = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer
            step = int(inner.iterations.numpy())
            inner.learning_rate.assign(self.rate(step, float(model.learning_rate)))


def write_json_atomic(path: str | os.PathLike, data: dict) -> None:
    """Write JSON to a temporary file next to `path`, then rename it over `path`."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """BackupAndRestore whose state survives `kill -9` at any moment.

    Keras writes `latest.weights.h5` in place and the epoch metadata after it, so a kill while
    saving leaves an unreadable file, and a kill between the two writes pairs new weights
    with the old epoch number (that epoch would then be trained twice). Here every save goes
    to a fresh folder `state-<n>/` (weights + metadata), and one `os.replace` of the small
    pointer file `CURRENT` commits it; older folders are removed afterwards. A resume loads
    whatever `CURRENT` names, which is always complete. The weights include every optimizer
    the model tracks (the GAN trainers build theirs in `compile`).
    """

    POINTER = "CURRENT"

    def _state_dir(self) -> Path | None:
        pointer = Path(self.backup_dir) / self.POINTER
        if not pointer.exists():
            return None
        return Path(self.backup_dir) / json.loads(pointer.read_text())["state"]

    def on_train_begin(self, logs=None):
        self._load_model()

    def _load_model(self):
        state = self._state_dir()
        if state is None:
            return
        if not self.model.built:
            raise ValueError("the model must be built before fit() to restore a backup")
        self.model.load_weights(state / "model.weights.h5")
        metadata = json.loads((state / "metadata.json").read_text())
        self.model._initial_epoch = metadata["epoch"]
        logger.info("restored %s: resuming at epoch %d", state, metadata["epoch"] + 1)

    def _save_model(self):
        backup = Path(self.backup_dir)
        backup.mkdir(parents=True, exist_ok=True)
        previous = self._state_dir()
        number = int(previous.name.split("-")[1]) + 1 if previous is not None else 0
        state = backup / f"state-{number}"
        if state.exists():
            shutil.rmtree(state)
        state.mkdir()
        self.model.save_weights(state / "model.weights.h5")
        (state / "metadata.json").write_text(json.dumps(
            {"epoch": self._current_epoch, "batch": self._last_batch_seen}))
        write_json_atomic(backup / self.POINTER, {"state": state.name})
        for old in backup.glob("state-*"):
            if old != state:
                shutil.rmtree(old, ignore_errors=True)


class ResumableCSVLogger(keras.callbacks.CSVLogger):
    """CSVLogger (appending) whose file keeps exactly one row per epoch across kills and resumes.

    Put it before the backup callback: an epoch's row is then on disk before the backup that
    marks the epoch done, so a kill between the two never loses the row. The resumed run
    replays that epoch; before writing its first row this logger drops the file's rows for that
    epoch and later ones (atomically), so no epoch appears twice either.
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ","):
        super().__init__(str(filename), separator=separator, append=True)
        self._opened = False

    def on_train_begin(self, logs=None):
        self._opened = False  # opened at the first epoch end, once the replayed rows are gone

    def on_epoch_end(self, epoch, logs=None):
        if not self._opened:
            drop_rows_from_epoch(Path(self.filename), epoch, self.sep)
            # Keras' CSVLogger adds an empty val_ column per metric when there is no
            # validation; the columns are the logs' own instead, or, when appending, those of
            # the file's header (a run from 0.1.8 or older keeps its val_ columns aligned).
            keys = _header_keys(Path(self.filename), self.sep) or sorted(logs or {})
            super().on_train_begin()  # resets the keys
            self.keys = keys
            self._opened = True
        super().on_epoch_end(epoch, logs)

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            super().on_train_end(logs)


def _header_keys(path: Path, separator: str) -> list[str] | None:
    """The columns of the CSV history `path` after "epoch", or None without a header."""
    if not path.exists():
        return None
    with open(path, newline="") as f:
        header = next(csv.reader(f, delimiter=separator), None)
    return header[1:] if header and header[0] == "epoch" else None


def drop_rows_from_epoch(path: Path, epoch: int, separator: str = ",") -> None:
    """Rewrite the CSV history `path` without the rows of `epoch` and later ones."""
    if not path.exists():
        return
    lines = path.read_text().splitlines(keepends=True)
    if not lines:
        return

    def kept(line: str) -> bool:
        first = line.split(separator, 1)[0].strip()
        return not first.isdigit() or int(first) < epoch

    rows = [lines[0]] + [line for line in lines[1:] if kept(line)]
    if len(rows) == len(lines):
        return
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    tmp.write_text("".join(rows))
    os.replace(tmp, path)
