"""PredictionSampleLogger: every N epochs, a predictor's forecasts of fixed clips beside the
truth, as GIF + MP4 and to TensorBoard."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import keras
import numpy as np

from vidgen_tf.data.grid import video_grid
from vidgen_tf.data.pixels import float_to_uint8
from vidgen_tf.data.video_io import write_video

logger = logging.getLogger(__name__)


def truth_beside_prediction(context: np.ndarray, future: np.ndarray,
                            predicted: np.ndarray) -> np.ndarray:
    """uint8 RGB cells `(2 * num, frames, height, width, 3)`: for each clip the real clip
    (context then future), then the context followed by the prediction, each predicted frame
    framed by a one-pixel red border so that a viewer can tell which frames are forecast."""
    truth = np.concatenate([context, future], axis=1)
    guessed = np.concatenate([context, predicted], axis=1)
    cells = float_to_uint8(np.stack([truth, guessed], axis=1).reshape(
        -1, *truth.shape[1:]))
    if cells.shape[-1] == 1:
        cells = np.repeat(cells, 3, axis=-1)
    k = context.shape[1]
    marked = cells[1::2, k:]
    for edge in (np.s_[:, :, 0, :], np.s_[:, :, -1, :], np.s_[:, :, :, 0], np.s_[:, :, :, -1]):
        marked[edge] = (220, 30, 30)
    return cells


class PredictionSampleLogger(keras.callbacks.Callback):
    """Write the model's predictions of `num` fixed clips every `every` epochs.

    The clips come from `data` with another seed than training's (and, for a built-in
    dataset, its test split), so a grid shows the forecasts of clips the model never saw,
    improving epoch by epoch. Each clip takes two cells of the grid: the real clip, then its
    context followed by the prediction (red-framed). Files go to `out_dir/epoch_0001.gif`
    and `.mp4` and `latest.gif`; with `tensorboard_dir`, frames go to TensorBoard too.

    Args:
        out_dir: folder for the files (created).
        data: the run's `--data`.
        clip: {"size", "channels"} of the model.
        every: int, default 1. Epoch interval.
        num: int, default 8. Clips shown.
        seed: int, default 0. The run's seed (the clips use seed + 1).
        fps: float, default 4.
        tensorboard_dir: optional TensorBoard log folder.
    """

    def __init__(self, out_dir: str | os.PathLike, data: str, clip: dict, every: int = 1,
                 num: int = 8, seed: int = 0, fps: float = 4.0,
                 tensorboard_dir: str | os.PathLike | None = None):
        super().__init__()
        if every < 1:
            raise ValueError(f"every must be >= 1; received every={every}")
        self.out_dir = Path(out_dir)
        self.data, self.clip = data, dict(clip)
        self.every, self.num, self.seed, self.fps = every, num, seed, fps
        self.tensorboard_dir = tensorboard_dir
        self._clips = self._actions = None
        self._writer = None

    def fixed_clips(self) -> np.ndarray:
        """The `num` clips, float32 in [-1, 1] `(num, context + horizon, size, size, channels)`."""
        if self._clips is None:
            from vidgen_tf.data.pipeline import load_dataset, match_channels

            ds = load_dataset(self.data, frames=self.model.frames, size=self.clip["size"],
                              seed=self.seed + 1, split="test", batch_size=self.num)
            batch = next(iter(ds))
            self._clips = np.asarray(match_channels(batch["video"], self.clip["channels"]),
                                     np.float32)
            # An action-conditioned model follows the clips' own actions.
            self._actions = np.asarray(batch["actions"]) if "actions" in batch else None
        return self._clips

    def write_samples(self, epoch: int) -> Path:
        """Predict the fixed clips now and write the grid for `epoch` (1-based); returns the
        GIF path. The predictions come from the export's numpy sampler driving the Keras
        networks: what the export will predict."""
        clips = self.fixed_clips()
        k = self.model.context
        given = {}
        if "actions" in getattr(self.model, "data_keys", ()) and self._actions is not None:
            given["actions"] = self._actions[:, k - 1:-1]  # actions[t] moves frame t to t + 1
        predicted = self.model.predict(clips[:, :k], **given)
        grid = video_grid(truth_beside_prediction(clips[:, :k], clips[:, k:], predicted),
                          cols=4)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        gif = write_video(self.out_dir / f"epoch_{epoch:04d}.gif", grid, fps=self.fps)
        write_video(self.out_dir / f"epoch_{epoch:04d}.mp4", grid, fps=self.fps)
        write_video(self.out_dir / "latest.gif", grid, fps=self.fps)
        if self.tensorboard_dir is not None:
            import tensorflow as tf

            if self._writer is None:
                self._writer = tf.summary.create_file_writer(str(self.tensorboard_dir))
            with self._writer.as_default():
                tf.summary.image("samples", grid[k::max(1, (len(grid) - k) // 3)], step=epoch,
                                 max_outputs=4)
            self._writer.flush()
        logger.info("wrote predictions for epoch %d to %s", epoch, gif)
        return gif

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            self.write_samples(epoch + 1)
