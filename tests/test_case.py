"""Shared test helpers: videos written independently of vidgen_tf, bad files, subprocess checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np


def moving_bar_video(frames: int = 12, height: int = 32, width: int = 32) -> np.ndarray:
    """uint8 (frames, height, width, 3): a white vertical bar moving right on grey; smooth
    enough that lossy codecs keep it within a few levels."""
    video = np.full((frames, height, width, 3), 64, np.uint8)
    for t in range(frames):
        x = (2 * t) % max(1, width - 6)
        video[t, :, x:x + 6] = (240, 200, 40)
    return video


def encode_with_pyav(path: Path, video: np.ndarray, codec: str, fps: int = 10,
                     pix_fmt: str = "yuv420p", fmt: str | None = None) -> Path:
    """Write `video` with PyAV directly: an encoder independent of vidgen_tf.write_video."""
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = video.shape[2], video.shape[1], pix_fmt
        for image in video:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return Path(path)


def make_bad_files(folder: Path, good_video: np.ndarray) -> dict[str, str]:
    """Write one file of each kind of bad input into `folder`; return name -> expected reason
    fragment."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "notes.mp4").write_text("this is not a video\n" * 20)
    full = encode_with_pyav(folder / "full_tmp.mp4", good_video, "libx264")
    data = full.read_bytes()
    full.unlink()
    (folder / "truncated.mp4").write_bytes(data[: len(data) // 2])
    short = encode_with_pyav(folder / "short.webm", good_video[:3], "libvpx-vp9")
    del short
    odd = encode_with_pyav(folder / "odd_tmp.avi", good_video, "mpeg4")
    (folder / "odd_codec.avi").write_bytes(odd.read_bytes().replace(b"FMP4", b"QQQQ"))
    odd.unlink()
    os.symlink(folder / "does-not-exist.mp4", folder / "dangling.mkv")
    return {
        "empty.mp4": "empty file",
        "notes.mp4": "not a readable video",
        "truncated.mp4": "not a readable video",
        "short.webm": "too short",
        "odd_codec.avi": "codec is not supported",
        "dangling.mkv": "broken symlink",
    }


def run_python(code: str, env: dict | None = None, timeout: int = 120) -> dict:
    """Run `code` in a fresh interpreter; it must print one JSON object as its last line."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    if result.returncode != 0:
        raise AssertionError(f"subprocess failed ({result.returncode}):\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run `vidgen ARGS...` as a user would, in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "vidgen_tf.cli.main", *args], capture_output=True, text=True,
        timeout=timeout,
    )


def one_line_error(result: subprocess.CompletedProcess, fragment: str) -> str:
    """Assert that a `run_cli` result is a user error: exit 2 and one `vidgen: error:` line
    holding `fragment`, no traceback. Returns that line."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vidgen: error: "), result.stderr
    assert fragment in lines[0], lines[0]
    return lines[0]


# --------------------------------------------------------------------------- Keras model checks


def weights_of(model) -> list:
    return [v.numpy().copy() for v in model.trainable_variables]


def assert_config_round_trip(model) -> None:
    """from_config(get_config()) rebuilds a model with the same config."""
    clone = type(model).from_config(model.get_config())
    assert clone.get_config() == model.get_config()


def assert_fit_changes_every_network(trainer, data, networks: list[str],
                                     exempt: tuple[str, ...] = (), **fit_kwargs) -> dict:
    """One `fit` epoch moves every trainable variable of every named sub-network.

    `exempt` lists variable path endings whose gradient is zero by construction (e.g. a WGAN
    critic's output bias, which cancels in mean(fake) - mean(real)).
    """
    before = {name: weights_of(getattr(trainer, name)) for name in networks}
    history = trainer.fit(data, epochs=1, verbose=0, **fit_kwargs)
    for name in networks:
        after = weights_of(getattr(trainer, name))
        paths = [v.path for v in getattr(trainer, name).trainable_variables]
        unchanged = [path for path, a, b in zip(paths, before[name], after, strict=True)
                     if np.array_equal(a, b) and not any(path.endswith(e) for e in exempt)]
        assert not unchanged, f"{name}: variables {unchanged} did not change in fit"
    return history.history


def optimizer_state(trainer) -> dict:
    """Every optimizer's variables (iterations, Adam moments, ...) by optimizer name."""
    return {name: [v.numpy().copy() for v in getattr(trainer, name).variables]
            for name in trainer.optimizer_names}


def assert_same_optimizer_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert len(a[name]) == len(b[name]), name
        for x, y in zip(a[name], b[name], strict=True):
            np.testing.assert_array_equal(x, y, err_msg=name)


def assert_resume_matches_uninterrupted(make_trainer, data, backup_dir) -> None:
    """Kill a 3-epoch `fit` mid-epoch 1, resume it with AtomicBackupAndRestore, and check it
    equals an uninterrupted run: epochs [1, 2] re-run, every optimizer's `iterations` counts
    each step once, and weights and Adam moments match (restored, not rebuilt from zero).

    `make_trainer()` returns a compiled trainer; it is called under one fixed seed each time
    so every run starts from the same weights. `data` holds 4 batches of 2.
    """
    import keras
    import pytest

    from vidgen_tf.training.callbacks import AtomicBackupAndRestore

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 1 and batch == 1:
                raise RuntimeError("simulated kill")

    def seeded():
        keras.utils.set_random_seed(0)
        return make_trainer()

    fit = dict(batch_size=2, epochs=3, shuffle=False, verbose=0)
    reference = seeded()
    reference.fit(data, **fit)
    with pytest.raises(RuntimeError, match="simulated kill"):
        seeded().fit(data, **fit,
                     callbacks=[AtomicBackupAndRestore(str(backup_dir)), Interrupt()])
    resumed = seeded()
    epochs_run = []
    record = keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: epochs_run.append(e))
    resumed.fit(data, **fit, callbacks=[AtomicBackupAndRestore(str(backup_dir)), record])
    assert epochs_run == [1, 2]  # resumed at the interrupted epoch; epoch 0 not trained twice
    for name in resumed.optimizer_names:
        assert int(getattr(resumed, name).iterations) == 3 * 4, name
    for a, b in zip(reference.get_weights(), resumed.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    ref_state, resumed_state = optimizer_state(reference), optimizer_state(resumed)
    for name in ref_state:
        for a, b in zip(ref_state[name], resumed_state[name], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-7, err_msg=name)
