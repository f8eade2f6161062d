"""onnxruntime sessions for the runtime: providers checked by name, CUDA used only when it
really loads."""

from __future__ import annotations

import contextlib
import io
import logging

from vidgen_tf.runtime.manifest import ManifestError

logger = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


def check_providers(ort, providers) -> list[str] | None:
    """`providers` as a list, or ValueError: onnxruntime would only warn and use the CPU."""
    if providers is None:
        return None
    if isinstance(providers, str):
        providers = [providers]
    providers = list(providers)
    available = ort.get_available_providers()
    if not providers:
        raise ValueError(f"providers must name at least one onnxruntime provider; available "
                         f"here: {', '.join(available)}")
    # An entry may be a (name, options) pair, as onnxruntime allows.
    unknown = [_provider_name(p) for p in providers if _provider_name(p) not in available]
    if unknown:
        raise ValueError(f"unknown onnxruntime provider {unknown[0]!r}; available here: "
                         f"{', '.join(available)}")
    return providers


def _provider_name(provider) -> str:
    return provider[0] if isinstance(provider, tuple) else provider


def open_session(ort, model_path: str, options, providers: list | None):
    """An InferenceSession; with `providers=None`, CUDA only if it really loads. A provider
    asked for by name that does not load is a ValueError, not a silent fall-back to the CPU,
    unless the list names the CPU as its fall-back (the usual `[CUDA, CPU]`)."""
    try:
        if providers is None:
            if CUDA in ort.get_available_providers():
                if _first_provider_loads(ort, model_path, [CUDA, CPU]):
                    return ort.InferenceSession(model_path, options, providers=[CUDA, CPU])
                logger.info("CUDA is listed by onnxruntime but did not load; using the CPU")
            return ort.InferenceSession(model_path, options, providers=[CPU])
        names = [_provider_name(p) for p in providers]
        if names[0] == CPU or _first_provider_loads(ort, model_path, providers):
            return ort.InferenceSession(model_path, options, providers=providers)
        if CPU in names:  # e.g. [CUDA, CPU]: the caller named the CPU as the fall-back
            logger.info("%s did not load; using %s", names[0], CPU)
            return ort.InferenceSession(model_path, options,
                                        providers=providers[names.index(CPU):])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ManifestError(f"onnxruntime cannot load {model_path}: {exc}".splitlines()[0]
                            ) from exc
    raise ValueError(f"onnxruntime provider {_provider_name(providers[0])} did not load on this "
                     "machine (onnxruntime lists it, but its libraries or device are missing); "
                     f"use {CPU}, or no provider to pick one automatically")


def _first_provider_loads(ort, model_path: str, providers: list) -> bool:
    """Whether a session gets `providers[0]`. onnxruntime-gpu lists CUDA even without a GPU
    and then falls back to the CPU after logging an error: try quietly and look. (For a
    provider that fails to register, such as TensorRT without its libraries, onnxruntime also
    `print`s an "EP Error" banner to standard output, where it would mix with the caller's
    output: it is swallowed too.)"""
    previous = ort.get_default_logger_severity() if hasattr(
        ort, "get_default_logger_severity") else 2
    ort.set_default_logger_severity(4)
    try:
        quiet = ort.SessionOptions()
        quiet.log_severity_level = 4
        with contextlib.redirect_stdout(io.StringIO()):
            session = ort.InferenceSession(model_path, quiet, providers=providers)
    finally:
        ort.set_default_logger_severity(previous)
    return session.get_providers()[0] == _provider_name(providers[0])
