"""One rule for every path localaws derives from request data (S3 keys, channel names,
manifest entries, entry points, table names): it stays inside the directory it belongs
to, or the request is refused. S3 allows any key, `../` included; a file written from
it must not land outside the job's or the query's own directory."""
from __future__ import annotations

import os
from pathlib import Path

from .protocol import AwsError


def inside(root: Path, relative: str, what: str = "path") -> Path:
    """root/relative, refused with ValidationException when it is absolute, empty, or
    leaves root (by `..` or a symbolic link already under root)."""
    text = str(relative)
    if not text or text.startswith(("/", "\\")) or os.path.isabs(text) or "\0" in text:
        raise AwsError("ValidationException", f"{what} {text[:200]!r} is not a relative path inside its directory")
    base = Path(os.path.realpath(root))
    target = Path(os.path.realpath(base / text))
    if target != base and base not in target.parents:
        raise AwsError("ValidationException", f"{what} {text[:200]!r} leads outside its directory")
    return target
