"""API keys: development keys from HC_API_KEYS, hashed production keys from HC_API_KEYS_FILE.

Keys are never kept in clear: every configured key is stored as its sha256 digest and a presented
key is hashed and compared with every digest in constant time (`hmac.compare_digest`).
Run `python -m api.security` and type a key to get the line to put in the keys file.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import sys
from pathlib import Path

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class KeyFileError(ValueError):
    """The keys file is missing or holds a line that is not a sha256 hex digest."""


def hash_key(key: str) -> str:
    """The sha256 hex digest of a key, as written in the keys file."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def read_key_file(path: Path) -> list[str]:
    """Digests from a keys file: one sha256 hex digest per line, blank lines and '#' comments ignored."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeyFileError(f"cannot read the API keys file {path}: {exc.strerror}") from exc
    digests = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip().lower()
        if not line:
            continue
        if not _HEX64.match(line):
            raise KeyFileError(
                f"{path}, line {number}: expected a sha256 hex digest (64 characters 0-9a-f) of an API key; "
                "make one with `python -m api.security`"
            )
        digests.append(line)
    return digests


class KeyStore:
    """The set of accepted keys, as digests."""

    def __init__(self, digests: list[str]) -> None:
        self._digests = [bytes.fromhex(d) for d in digests]

    @classmethod
    def from_config(cls, dev_keys: str, keys_file: Path | None) -> KeyStore:
        digests = [hash_key(k.strip()) for k in dev_keys.split(",") if k.strip()]
        if keys_file is not None:
            digests += read_key_file(keys_file)
        return cls(digests)

    def __len__(self) -> int:
        return len(self._digests)

    def verify(self, key: str) -> bool:
        """True when `key` is one of the accepted keys; time does not depend on which one matched."""
        presented = hashlib.sha256(key.encode("utf-8")).digest()
        found = False
        for digest in self._digests:
            found |= hmac.compare_digest(presented, digest)
        return found


def main() -> None:  # pragma: no cover - tiny CLI
    key = sys.stdin.readline().strip()  # whitespace around a key is never part of it
    if not key:
        sys.exit("type the API key on standard input")
    print(hash_key(key))


if __name__ == "__main__":  # pragma: no cover
    main()
