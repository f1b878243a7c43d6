from pathlib import Path

import pytest

from api.security import KeyFileError, KeyStore, hash_key, read_key_file


def test_dev_keys_are_accepted_and_others_refused():
    store = KeyStore.from_config(" alpha , beta,,", None)
    assert len(store) == 2
    assert store.verify("alpha") and store.verify("beta")
    assert not store.verify("gamma")
    assert not store.verify("alpha ")
    assert not store.verify("")


def test_hashed_keys_file(tmp_path: Path):
    path = tmp_path / "keys.txt"
    path.write_text(f"# production keys\n{hash_key('s3cret')}  # team A\n\n{hash_key('other').upper()}\n")
    store = KeyStore.from_config("", path)
    assert len(store) == 2
    assert store.verify("s3cret") and store.verify("other")
    assert not store.verify(hash_key("s3cret"))  # the digest itself is not a key


def test_bad_keys_file_names_the_line(tmp_path: Path):
    path = tmp_path / "keys.txt"
    path.write_text(f"{hash_key('a')}\nnot-a-digest\n")
    with pytest.raises(KeyFileError, match=r"keys.txt, line 2: expected a sha256 hex digest"):
        read_key_file(path)
    with pytest.raises(KeyFileError, match="cannot read the API keys file"):
        read_key_file(tmp_path / "missing.txt")


def test_no_keys_accepts_nothing():
    assert not KeyStore.from_config("", None).verify("anything")
