"""VideoSampleLogger: every N epochs, samples from fixed noise as GIF + MP4 and to TensorBoard."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import keras
import numpy as np

from vidgen_tf.data.grid import video_grid
from vidgen_tf.data.pixels import float_to_uint8
from vidgen_tf.data.video_io import write_video
from vidgen_tf.noise import sample_noise

logger = logging.getLogger(__name__)


class VideoSampleLogger(keras.callbacks.Callback):
    """Write a grid of generated videos from fixed noise every `every` epochs.

    Files go to `out_dir/epoch_0001.gif` and `.mp4` (and `latest.gif`); with
    `tensorboard_dir`, the grid's frames are also logged as an image summary "samples".
    The noise is drawn once, with numpy, from the generator's `noise_spec()` and `seed`, so
    successive grids show the same samples improving. Generators with the paper's category
    code get labels 0, 1, 2, ... cycling over the classes; conditional generators get the
    fixed `conditions`.

    Args:
        out_dir: folder for the files (created).
        every: int, default 1. Epoch interval.
        num: int, default 16. Videos in the grid.
        seed: int, default 0. Seed of the fixed noise.
        fps: float, default 8.
        tensorboard_dir: optional TensorBoard log folder.
        conditions: optional dict of condition inputs, `num` rows each (e.g. "label",
            "prompt_tokens", "first_frame"); a "captions" entry (the prompts as text) is
            written to `out_dir/captions.txt`, one per grid cell in reading order.
    """

    def __init__(self, out_dir: str | os.PathLike, every: int = 1, num: int = 16, seed: int = 0,
                 fps: float = 8.0, tensorboard_dir: str | os.PathLike | None = None,
                 conditions: dict | None = None):
        super().__init__()
        if every < 1:
            raise ValueError(f"every must be >= 1; received every={every}")
        self.out_dir = Path(out_dir)
        self.every, self.num, self.seed, self.fps = every, num, seed, fps
        self.tensorboard_dir = tensorboard_dir
        self._noise = None
        self._writer = None
        self.conditions = dict(conditions or {})
        self.captions = self.conditions.pop("captions", None)

    def _fixed_inputs(self) -> dict:
        if self._noise is None:
            export = self.model.export_spec()
            spec = export.inputs
            labels = None
            for item in spec.values():
                if item.get("distribution") == "categorical" and item["role"] == "label" and (
                        "label" not in self.conditions):
                    labels = np.arange(self.num) % int(item["num_classes"])
            default = export.dims["frames"]["default"]
            self._noise = {**sample_noise(spec, self.num, self.seed, labels=labels,
                                          default_frames=default), **self.conditions}
        return self._noise

    def write_samples(self, epoch: int) -> Path:
        """Generate the grid now and write it for `epoch` (1-based); returns the GIF path.

        The videos come from the export's numpy sampler driving the Keras networks (with
        their moving averages): the same loop the runtime runs."""
        from vidgen_tf.runtime.samplers import get_sampler

        spec = self.model.export_spec()
        with self.model.averaged("generator"):
            sampler = get_sampler({"sampler": spec.sampler},
                                  {name: g.keras_call for name, g in spec.graphs.items()})
            videos = sampler(self._fixed_inputs())
        grid = video_grid(float_to_uint8(np.asarray(videos, dtype=np.float32)))
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if self.captions is not None:
            (self.out_dir / "captions.txt").write_text("\n".join(self.captions) + "\n")
        gif = write_video(self.out_dir / f"epoch_{epoch:04d}.gif", grid, fps=self.fps)
        write_video(self.out_dir / f"epoch_{epoch:04d}.mp4", grid, fps=self.fps)
        write_video(self.out_dir / "latest.gif", grid, fps=self.fps)
        if self.tensorboard_dir is not None:
            import tensorflow as tf

            if self._writer is None:
                self._writer = tf.summary.create_file_writer(str(self.tensorboard_dir))
            with self._writer.as_default():
                tf.summary.image("samples", grid[:: max(1, len(grid) // 4)], step=epoch,
                                 max_outputs=4)
            self._writer.flush()
        logger.info("wrote samples for epoch %d to %s", epoch, gif)
        return gif

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            self.write_samples(epoch + 1)
