"""RunDir: the one place that knows the layout of a run directory of `vidgen train`.

    config.json        everything resolved (preset < flags), written before training; the
                       command that started the run and every start since (invocations)
    history.csv        one row per completed epoch (CSVLogger, appended across resumes)
    model.keras        the final model (written when training ends)
    checkpoints/last.keras + state.json   the last epoch whose losses stayed finite
    backup/            BackupAndRestore state while a run is in progress
    samples/           VideoSampleLogger GIF/MP4 grids
    logs/              TensorBoard

Training writes it (training/run.py), export and evaluate read the model from it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from vidgen_tf.errors import VidgenError

logger = logging.getLogger(__name__)


class RunDir:
    """The paths of a run directory and the questions asked of it (is it a run, how far did it
    get, where does --resume continue from, which model to export)."""

    # What a run writes in its folder (config.json aside, which marks a run).
    ENTRIES = ("history.csv", "model.keras", "checkpoints", "backup", "samples", "logs")

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.config = self.path / "config.json"
        self.history = self.path / "history.csv"
        self.model = self.path / "model.keras"
        self.checkpoint = self.path / "checkpoints" / "last.keras"
        self.state = self.path / "checkpoints" / "state.json"
        self.backup = self.path / "backup"
        self.samples = self.path / "samples"
        self.logs = self.path / "logs"

    def __str__(self) -> str:
        return str(self.path)

    def __truediv__(self, other):
        return self.path / other

    def is_run(self) -> bool:
        return self.config.is_file()

    def read_config(self) -> dict:
        """config.json, checked: a dict with a "train" dict in it."""
        try:
            saved = json.loads(self.config.read_text())
        except FileNotFoundError as exc:
            raise VidgenError(f"{self.path} has no config.json: it is not a run directory of "
                              "`vidgen train`") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise VidgenError(f"{self.config} is damaged ({exc}); restore it, or start a new "
                              "run elsewhere") from exc
        if not isinstance(saved, dict) or not isinstance(saved.get("train"), dict):
            raise VidgenError(f"{self.config} is not a vidgen_tf run config (no \"train\" "
                              "section); restore it, or start a new run elsewhere")
        return saved

    def epochs_completed(self) -> int:
        """Epochs in history.csv (CSVLogger writes each completed epoch once, across resumes)."""
        history = self.history
        if not history.is_file():
            return 0
        try:
            text = history.read_text()
        except (UnicodeDecodeError, OSError) as exc:
            raise VidgenError(f"{history} is damaged ({exc}); restore it, or delete it to resume "
                              "with a new history (the training state is in backup/ and "
                              "checkpoints/)") from exc
        return max(len(text.splitlines()) - 1, 0)

    def backup_epoch(self) -> int:
        """Epochs the backup/ state has completed (0 without one). It, not history.csv, says
        where a resume continues: a kill between an epoch's history row and its backup makes
        the resumed run train that epoch again (and replace its row)."""
        pointer = self.backup / "CURRENT"  # AtomicBackupAndRestore's commit pointer
        try:
            state = json.loads(pointer.read_text())["state"]
            return int(json.loads((self.backup / state / "metadata.json").read_text())["epoch"])
        except FileNotFoundError:
            return 0
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise VidgenError(f"{self.backup} is damaged ({exc}); delete it to resume from "
                              f"{self.checkpoint} instead") from exc

    def resume_source(self) -> tuple[str, int]:
        """Where --resume continues `run_dir` from: ("backup", 0) for the BackupAndRestore state
        (it knows its epoch), ("checkpoint", epochs) for the last good checkpoint, or ("start", 0)
        for a run killed before its first epoch completed. A run that completed epochs but lost
        both is an error: starting it over would overwrite its history, samples and model."""
        completed = self.epochs_completed()
        if self.backup.is_dir():
            return "backup", 0
        checkpoint, state_path = self.checkpoint, self.state
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
        if completed or self.model.exists():
            raise VidgenError(
                f"cannot resume {self.path}: it completed {completed} epoch(s), but neither its "
                f"backup/ nor {checkpoint} is there to continue from. Restore "
                f"{checkpoint} (and state.json), or start a new run with another --out; resuming "
                "from scratch would overwrite its history, samples and model")
        return "start", 0

    def entries_in_the_way(self) -> list[str]:
        """The entries of the folder that a new run would write over, e.g. `["samples/"]`."""
        return [name + ("/" if (self.path / name).is_dir() else "")
                for name in self.ENTRIES if os.path.lexists(self.path / name)]

    def remove_new_entries(self, existing: set) -> None:
        """Remove what appeared since `existing` (the folder's entries before a run started),
        and the folder itself if it was new."""
        if not self.path.exists():
            return
        for entry in set(self.path.iterdir()) - existing:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        if not existing:
            try:
                self.path.rmdir()
            except OSError:
                pass

    def model_to_load(self) -> Path:
        """The model to export or evaluate: the final model.keras or, for a run that has not
        finished, its last good checkpoint (with a warning)."""
        if self.model.is_file():
            return self.model
        if not self.checkpoint.is_file():
            raise VidgenError(f"{self.path} holds no model.keras and no checkpoint: it is not a "
                              "run directory, or no epoch of it has finished")
        logger.warning("%s has no model.keras (the run did not finish); using its last good "
                       "checkpoint %s", self.path, self.checkpoint)
        return self.checkpoint
