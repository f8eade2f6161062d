"""The --out folders of `vidgen data synth` and `prepare`: what --overwrite may replace, and how.

--overwrite replaces only an empty folder or one that the same command wrote earlier,
recognised by its own files. Anything else (a plain file, a folder of someone else's files) is
an error that changes nothing, with or without --overwrite.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

from vidgen_tf.errors import VidgenError

# `synth` writes <class>/<index>.<mp4|gif> and <class>/<index>.txt, index zero-padded to >= 6.
_SYNTH_FILE = re.compile(r"(\d{6,})\.(mp4|gif|txt)")
# `prepare` writes dataset.json (pipeline.PREPARED_METADATA; that module imports TensorFlow)
# and its shards.
PREPARED_METADATA = "dataset.json"
PREPARED_FORMAT_PREFIX = "vidgen_tf.prepared/"
_PREPARED_SHARD = re.compile(r"clips-\d+-of-\d+\.tfrecord")


def is_synth_output(folder: Path) -> bool:
    """Whether `folder` holds exactly what `vidgen data synth` writes, and nothing else:
    class subfolders of numbered videos, each with its caption."""
    classes = list(folder.iterdir())
    if not classes or not all(path.is_dir() and not path.is_symlink() for path in classes):
        return False
    for class_dir in classes:
        videos, captions = set(), set()
        for path in class_dir.iterdir():
            match = _SYNTH_FILE.fullmatch(path.name)
            if match is None or not path.is_file() or path.is_symlink():
                return False
            (captions if match.group(2) == "txt" else videos).add(match.group(1))
        if not videos or videos != captions:
            return False
    return True


def is_prepared_output(folder: Path) -> bool:
    """Whether `folder` holds exactly what `vidgen data prepare` writes: its dataset.json and
    TFRecord shards."""
    try:
        meta = json.loads((folder / PREPARED_METADATA).read_text())
    except (OSError, ValueError):
        return False
    if not (isinstance(meta, dict)
            and str(meta.get("format", "")).startswith(PREPARED_FORMAT_PREFIX)):
        return False
    return all(path.name == PREPARED_METADATA
               or (_PREPARED_SHARD.fullmatch(path.name) and path.is_file())
               for path in folder.iterdir())


def check_output_folder(out: str | os.PathLike, *, overwrite: bool,
                        recognise: Callable[[Path], bool], command: str) -> bool:
    """Raise VidgenError unless writing `out` loses nothing; True when an earlier output of
    `command` is there (and `overwrite` allows replacing it).

    Args:
        out: the --out path.
        overwrite: whether --overwrite was passed.
        recognise: `is_synth_output` or `is_prepared_output`.
        command: the command for messages, e.g. "vidgen data synth".
    """
    out = Path(out)
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        kind = "a link" if out.is_symlink() else "a file"
        raise VidgenError(f"--out {out} is {kind}, not a folder; it was left as is: choose a "
                          "folder path for --out")
    if not out.exists():
        return False
    entries = sorted(path.name for path in out.iterdir())
    if not entries:
        return False
    if not recognise(out):
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise VidgenError(f"--out {out} is not empty and does not hold an earlier `{command}` "
                          f"output (it holds {shown}); it is left untouched, even with "
                          "--overwrite: choose another --out")
    if not overwrite:
        raise VidgenError(f"--out {out} holds an earlier `{command}` output; pass --overwrite "
                          "to replace it, or choose another --out")
    return True


def replace_folder(tmp: Path, out: str | os.PathLike, *, overwrite: bool,
                   recognise: Callable[[Path], bool], command: str) -> bool:
    """Rename the finished folder `tmp` to `out`, replacing only what `check_output_folder`
    allows (checked again now: `out` may have changed while `tmp` was written). Returns
    whether an earlier output was replaced."""
    out = Path(out)
    replaced = check_output_folder(out, overwrite=overwrite, recognise=recognise,
                                   command=command)
    # `tmp` comes from tempfile.mkdtemp, which makes it 0700 whatever the umask: give it the
    # mode of the folder it replaces, or the one os.mkdir would give (keeping a setgid bit
    # inherited from the parent).
    mode = stat.S_IMODE(out.stat().st_mode) if out.exists() else _new_folder_mode()
    os.chmod(tmp, mode | (tmp.stat().st_mode & stat.S_ISGID))
    if not out.exists():
        os.replace(tmp, out)
        return False
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    os.replace(out, old)
    try:
        os.replace(tmp, out)
    except OSError:
        os.replace(old, out)  # put the earlier output back
        raise
    shutil.rmtree(old, ignore_errors=True)
    return replaced


def _new_folder_mode() -> int:
    """The mode os.mkdir gives a new folder under the current umask."""
    # The umask can only be read by setting it; 0o077 makes anything created meanwhile by
    # another thread private rather than public.
    umask = os.umask(0o077)
    os.umask(umask)
    return 0o777 & ~umask
