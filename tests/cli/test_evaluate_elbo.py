"""`vidgen evaluate elbo`: the negative ELBO of a video VAE on held-out clips, and its errors."""

import json
import math

import keras
import numpy as np

from tests.test_case import one_line_error, run_cli
from vidgen_tf.cli.evaluate_elbo import HELD_OUT_SEED, batch_bound, clip_batches
from vidgen_tf.data.builtin import make_builtin
from vidgen_tf.data.pixels import uint8_to_float
from vidgen_tf.models.video_vae import VideoVAE


def saved_vae(tmp_path):
    keras.utils.set_random_seed(0)
    vae = VideoVAE(frames=8, size=16, z_dim=4, base_filters=8, sigma=0.5)
    vae.compile()
    path = tmp_path / "vae.keras"
    vae.save(path)
    return vae, path


def test_the_bound_is_the_mean_of_each_draws_nll_plus_kl(tmp_path):
    vae, path = saved_vae(tmp_path)
    result = run_cli("evaluate", "elbo", str(path), "--data", "shapes", "--num", "6",
                     "--samples", "2", "--batch-size", "4", "--json")
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout.strip().splitlines()[-1])
    assert (scores["clips"], scores["samples"]) == (6, 2)
    # The held-out clips are the shapes of HELD_OUT_SEED, as the pipeline draws them.
    source = make_builtin("shapes", frames=8, size=16, seed=HELD_OUT_SEED, num=6)
    expected = uint8_to_float(np.stack([source.clip(i)["video"] for i in range(6)]))
    batches = list(clip_batches("shapes", vae, 6, 4))
    assert [len(b) for b in batches] == [4, 2]
    np.testing.assert_allclose(np.concatenate(batches), expected, atol=1e-6)
    # Worked in numpy from the networks, draw by draw, with the CLI's noise (seed 0 + clips
    # done before the batch).
    nll = kl = 0.0
    for start, video in ((0, batches[0]), (4, batches[1])):
        rng = np.random.default_rng(start)
        for _ in range(2):
            noise = rng.standard_normal((len(video), 4)).astype(np.float32)
            posterior = {k: np.asarray(v, np.float64) for k, v in vae.encoder(video).items()}
            z = posterior["mean"] + np.exp(posterior["logvar"] / 2) * noise
            decoded = np.asarray(vae.generator({"z": z.astype(np.float32)}), np.float64)
            squared = np.square(video - decoded).reshape(len(video), -1)
            nll += (0.5 * squared.sum(1) / 0.25 + squared.shape[1] * math.log(
                0.5 * math.sqrt(2 * math.pi))).sum() / 2
            kl += (0.5 * (np.exp(posterior["logvar"]) + posterior["mean"] ** 2 - 1
                          - posterior["logvar"]).sum(1)).sum() / 2
    assert scores["kl_per_clip"] > 0
    np.testing.assert_allclose(scores["kl_per_clip"], kl / 6, rtol=1e-3)
    np.testing.assert_allclose(scores["nll_per_frame"], nll / 6 / 8, rtol=1e-4)
    np.testing.assert_allclose(scores["neg_elbo_per_frame"], (nll + kl) / 6 / 8, rtol=1e-4)
    one_draw = batch_bound(vae, batches[1], 1, 4)  # the first of the two draws above
    assert one_draw["kl"] > 0 and one_draw["nll"] > 0


def test_exports_other_models_and_bad_flags_are_one_line_errors(tmp_path, tiny_export):
    _, path = saved_vae(tmp_path)
    one_line_error(run_cli("evaluate", "elbo", str(path), "--samples", "0"),
                   "--samples must be >= 1; received 0")
    one_line_error(run_cli("evaluate", "elbo", str(path), "--data", "nowhere"),
                   "--data must be a built-in dataset")
    one_line_error(run_cli("evaluate", "elbo", str(tiny_export["export"])),
                   "the ELBO needs the encoder too")
    one_line_error(run_cli("evaluate", "elbo", str(tiny_export["run_dir"])),
                   "which has no ELBO")


def test_tdvae_is_scored_per_predicted_frame_with_one_pair_per_jump(tmp_path):
    from vidgen_tf.models.registry import model_kwargs
    from vidgen_tf.models.tdvae import TDVAE
    from vidgen_tf.models.tdvae.presets import TDVAE_PRESETS

    keras.utils.set_random_seed(0)
    tdvae = TDVAE(**{**model_kwargs(TDVAE_PRESETS["tiny"]), "size": 32})
    tdvae.compile()
    path = tmp_path / "tdvae.keras"
    tdvae.save(path)
    result = run_cli("evaluate", "elbo", str(path), "--data", "moving_mnist", "--num", "3",
                     "--samples", "2", "--json")
    assert result.returncode == 0, result.stderr
    assert "per predicted frame" in result.stdout and "dt=2:" in result.stdout
    scores = json.loads(result.stdout.strip().splitlines()[-1])
    # The same clips (grey), pairs and noise through `losses_of`, the training loss, whose
    # terms are checked against a numpy computation of the paper's objective.
    video = np.concatenate(list(clip_batches("moving_mnist", tdvae, 3, 32))).mean(
        axis=-1, keepdims=True)
    rng = np.random.default_rng(0)
    bounds = []
    for _ in range(2):
        jump = np.tile(np.arange(1, 3, dtype=np.int32), (3, 1))  # max_jump 2
        t1 = rng.integers(0, tdvae.frames - jump).astype(np.int32)
        noise = rng.standard_normal((2, 3, 2, tdvae.predictor.z_dim)).astype(np.float32)
        terms = tdvae.losses_of(video, t1, jump, noise[0], noise[1], training=False)
        bounds.append(float(terms["neg_elbo"]))
    np.testing.assert_allclose(scores["neg_elbo_per_frame"], np.mean(bounds), rtol=1e-4)
    np.testing.assert_allclose(np.mean(scores["neg_elbo_per_jump"]),
                               scores["neg_elbo_per_frame"], rtol=1e-4)
    assert math.isclose(scores["neg_elbo_per_frame"],
                        scores["nll_per_frame"] + scores["kl_per_frame"], rel_tol=1e-9)
