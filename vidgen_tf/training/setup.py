"""Precision policies and tf.distribute strategies for training runs."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import keras
import tensorflow as tf

from vidgen_tf.errors import VidgenError

logger = logging.getLogger(__name__)

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
STRATEGIES = ("default", "mirrored", "multiworker")
# CPU flags of bfloat16 instructions (AVX-512 BF16, AMX): where mixed_bfloat16 pays off on CPU.
_BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_has_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether this CPU has bfloat16 instructions (Linux /proc/cpuinfo; False elsewhere)."""
    try:
        with open(cpuinfo) as f:
            flags = next((line.split(":", 1)[1].split() for line in f
                          if line.startswith("flags")), [])
    except OSError:
        return False
    return any(flag in flags for flag in _BF16_CPU_FLAGS)


def default_precision() -> str:
    """What `--precision auto` means here: mixed_bfloat16 on a CPU-only machine whose CPU has
    bfloat16 instructions (1.65x faster MoCoGAN steps on this project's machine), float32
    otherwise (on GPUs, choose mixed_float16 or mixed_bfloat16 yourself)."""
    if tf.config.list_physical_devices("GPU"):
        return "float32"
    return "mixed_bfloat16" if cpu_has_bf16() else "float32"


def onednn_enabled() -> bool:
    """Whether TensorFlow runs its oneDNN CPU kernels in this process (True if unknown)."""
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:
        return True
    is_enabled = getattr(_pywrap_util_port, "IsMklEnabled", None)
    return True if is_enabled is None else bool(is_enabled())


_warned_onednn = False


def warn_if_onednn_is_off() -> bool:
    """Log a warning once, and return True, when TensorFlow's oneDNN CPU kernels are off although
    nobody asked for that: TensorFlow was imported before vidgen_tf (which turns them on) on a
    CPU where TensorFlow's own default is off. No warning on a GPU machine, or when
    TF_ENABLE_ONEDNN_OPTS=0 was set on purpose.

    Measured on an AVX2-only EPYC: a MoCoGAN step at 32x32 (base_filters 16, batch 8) took 6.5 s
    with `import keras` first against 0.13 s with `import vidgen_tf` first; the shapes_32 preset
    (batch 16) 16.3 s against 0.28 s; a paper_64 iteration 1.7-1.9x longer.
    """
    global _warned_onednn
    setting = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "").strip().lower()
    if (_warned_onednn or setting in ("0", "false") or onednn_enabled()
            or tf.config.list_physical_devices("GPU")):
        return False
    _warned_onednn = True
    logger.warning("TensorFlow's oneDNN CPU kernels are off, so training here runs 2-60x slower "
                   "(TensorFlow was imported before vidgen_tf, which turns them on). Import "
                   "vidgen_tf before tensorflow and keras, or start Python with "
                   "TF_ENABLE_ONEDNN_OPTS=1 set")
    return True


def warn_if_bfloat16_is_emulated(what: str) -> bool:
    """Log a warning, and return True, when bfloat16 compute would run emulated here: no GPU
    and no bfloat16 CPU instructions.

    Measured on an AVX2-only EPYC: MoCoGAN paper_64 took 1.42 s per training iteration in
    float32, while 4 iterations in mixed_bfloat16 did not finish in 300 s; and I3D logits in
    bfloat16 differed from float32 by 15% (norm of the difference), against under 5% on CPUs
    with AVX-512 BF16.
    """
    if tf.config.list_physical_devices("GPU") or cpu_has_bf16():
        return False
    logger.warning(f"this CPU has no bfloat16 instructions (avx512_bf16, amx_bf16): {what} in "
                   "mixed_bfloat16 is emulated, many times slower than float32 and less exact; "
                   "use --precision auto (float32 here)")
    return True


def set_precision(precision: str) -> str:
    """Set the Keras global dtype policy ("auto": `default_precision()`); returns the policy set.

    Final activations stay float32 in every model.
    """
    if precision == "auto":
        precision = default_precision()
    if precision not in PRECISIONS:
        raise VidgenError(f"unknown precision {precision!r}; choose one of: auto, "
                          f"{', '.join(PRECISIONS)}")
    if precision == "mixed_float16" and not tf.config.list_physical_devices("GPU"):
        raise VidgenError("mixed_float16 needs a GPU (float16 is slow on CPUs); use "
                          "--precision auto on this machine")
    if precision == "mixed_bfloat16":
        warn_if_bfloat16_is_emulated("training")
    keras.mixed_precision.set_global_policy(precision)
    return precision


def multi_worker_task(tf_config: str | None = None) -> tuple[str, int, bool]:
    """(task type, task index, is chief) of this process in the TF_CONFIG cluster.

    The chief is the "chief" task, or worker 0 when the cluster has no chief (TensorFlow's
    rule). `vidgen train` runs chief and worker tasks only.
    """
    text = os.environ.get("TF_CONFIG") if tf_config is None else tf_config
    example = ('(e.g. {"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
               '"task": {"type": "worker", "index": 0}})')
    if not text:
        raise VidgenError(f"--strategy multiworker needs TF_CONFIG describing the cluster "
                          f"{example}")
    try:
        config = json.loads(text)
    except ValueError as exc:
        raise VidgenError(f"TF_CONFIG is not valid JSON: {exc}") from exc
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        raise VidgenError(f"TF_CONFIG needs a \"cluster\" and a \"task\" {example}")
    kind, index = task.get("type"), task.get("index", 0)
    if kind not in ("chief", "worker"):
        raise VidgenError(f"vidgen train runs \"chief\" and \"worker\" tasks; TF_CONFIG's "
                          f"task type is {kind!r}")
    members = cluster.get(kind)
    if (not isinstance(index, int) or isinstance(index, bool) or not isinstance(members, list)
            or not 0 <= index < len(members)):
        raise VidgenError(f"TF_CONFIG's task is {kind} {index!r}, but its cluster lists "
                          f"{len(members) if isinstance(members, list) else 'no'} {kind} "
                          "address(es)")
    chief = kind == "chief" or (index == 0 and "chief" not in cluster)
    return kind, index, chief


def worker_run_dir(run_dir, tf_config: str | None = None):
    """Where this multi-worker task keeps its run: the chief uses `run_dir`, every other task
    `run_dir/<type>_<index>`. Each task then writes and restores its own (identical) state,
    on one shared file system or on separate machines."""
    kind, index, chief = multi_worker_task(tf_config)
    return Path(run_dir) if chief else Path(run_dir) / f"{kind}_{index}"


def make_strategy(name: str) -> tf.distribute.Strategy:
    """The tf.distribute strategy for `--strategy`.

    "mirrored": every local GPU (or the CPU). "multiworker": many machines, described by the
    TF_CONFIG environment variable. With either, `--batch-size` is the global batch; losses
    are scaled by it and each replica draws its own noise.
    """
    if name not in STRATEGIES:
        raise VidgenError(f"unknown strategy {name!r}; choose one of: {', '.join(STRATEGIES)}")
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        multi_worker_task()  # clear errors for a missing or malformed TF_CONFIG
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()
