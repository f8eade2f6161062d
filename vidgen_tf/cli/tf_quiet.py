"""Import TensorFlow for CLI commands without its C++ start-up chatter on the user's terminal."""

from __future__ import annotations

import os
import sys


def import_tensorflow(verbose: bool = False):
    """Import and return tensorflow; unless `verbose`, hide the log lines it writes to fd 2.

    TensorFlow 2.21 prints oneDNN/CUDA notices before absl logging is initialised, so
    TF_CPP_MIN_LOG_LEVEL cannot silence them; the file descriptor is redirected instead.
    """
    if "tensorflow" in sys.modules or verbose:
        import tensorflow

        return tensorflow
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return tensorflow
