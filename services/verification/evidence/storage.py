"""A content-addressed folder of evidence files: <root>/<aa>/<bb>/<sha256>, written atomically, never rewritten."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class EvidenceStore:
    """Files named by the SHA-256 of their content; the same bytes are stored once."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        """Where a file of this hash lives (two levels of fan-out keep folders small)."""
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, content: bytes) -> str:
        """Store the bytes (once) and return their hash; a crash never leaves a half-written file under the name."""
        sha = hashlib.sha256(content).hexdigest()
        target = self.path_of(sha)
        if target.exists():
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha

    def has(self, sha256: str) -> bool:
        """Whether the file of this hash is stored."""
        return self.path_of(sha256).is_file()
