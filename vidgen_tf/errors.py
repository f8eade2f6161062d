"""Exception types that the CLI reports as one clear line instead of a traceback."""


class VidgenError(Exception):
    """A problem with the user's input or environment, with a message saying what to do."""


class VideoReadError(VidgenError):
    """A video file that cannot be decoded; `reason` is a short human-readable cause."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")
