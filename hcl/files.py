"""File plumbing: atomic writes (a reader never sees a half-written file), and no output written over an input."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hcl.errors import ConfigError


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: a reader never sees a half-written file."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates the file 0600; give it the mode a plain open() would (0666 less the umask).
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError) and e.filename is None:
            # A full disk (ENOSPC) or a failing device, raised by write/fsync without a path: name the file.
            raise OSError(e.errno, e.strerror or str(e), str(p)) from e
        raise


def refuse_overwriting_inputs(flag: str, out: str | os.PathLike, **inputs: str | os.PathLike | None) -> None:
    """Refuse an output path that is one of the command's inputs (`what=path`): writing it would destroy the input."""
    o = Path(out)
    for what, path in inputs.items():
        if path is None:
            continue
        p = Path(path)
        try:
            same = o.resolve() == p.resolve() or (o.exists() and p.exists() and os.path.samefile(o, p))
        except OSError:
            same = False
        if same:
            raise ConfigError(f"{flag} {out}: that is the {what.replace('_', ' ')} ({path}); writing it would destroy "
                              "it: give another path")
