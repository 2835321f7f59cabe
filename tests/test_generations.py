"""The generation bookkeeping and the locks: a collection already gone is no error, a failing
server is; one refusal message for the data folder's lock wherever it is taken."""

from __future__ import annotations

import pytest

from corpus.errors import IndexStateError
from index.generations import Generations, manifest_entry


class _Client:
    """A client whose ``delete_collection`` raises what it is given (unit isolation only)."""

    def __init__(self, error: BaseException | None):
        self.error = error
        self.deleted: list[str] = []

    def delete_collection(self, name: str) -> None:
        if self.error is not None:
            raise self.error
        self.deleted.append(name)


def test_drop_of_a_collection_gone_already_returns_false():
    from chromadb.errors import NotFoundError

    assert Generations(_Client(NotFoundError("gone")), "articles").drop("articles.g3") is False


def test_drop_on_a_failing_server_raises_a_one_line_index_state_error():
    with pytest.raises(IndexStateError, match=r"cannot be deleted \(ConnectionError: refused\)"):
        Generations(_Client(ConnectionError("refused\nmore lines")), "articles").drop("articles.g3")


def test_drop_deletes_and_returns_true():
    client = _Client(None)
    assert Generations(client, "articles").drop("articles.g3") is True
    assert client.deleted == ["articles.g3"]


def test_generation_of_reads_chunk_and_knowledge_names():
    g = Generations(_Client(None), "articles")
    assert [g.generation_of(n) for n in ("articles", "articles.g7", "articles.k12")] == [0, 7, 12]


def test_manifest_entry_names_the_previous_collections_for_readers_still_on_them():
    current = {"collection": "a.g1", "knowledge": "a.k1"}
    meta = manifest_entry(current, 2, "a.g2", 10, "m", 384, "a.k2", {"chunking": "x"})
    assert meta == {
        "generation": 2, "collection": "a.g2", "chunks": 10, "model": "m", "dimension": 384,
        "knowledge": "a.k2", "previous_knowledge": "a.k1", "chunking": "x", "previous": "a.g1",
    }


def test_discard_local_index_refuses_while_another_run_holds_the_lock(tmp_path):
    from filelock import FileLock

    from index.client import discard_local_index

    folder = tmp_path / "chroma"
    folder.mkdir()
    lock = tmp_path / "index.lock"
    with FileLock(str(lock)):
        with pytest.raises(IndexStateError, match="another indexing run holds"):
            discard_local_index(folder, lock)
    assert folder.exists()
    discard_local_index(folder, lock)
    assert not folder.exists()
