"""Indexing streams: each batch of vectors reaches the store before the next is embedded, the
chunk list is gone once embedding ends, and copying unchanged articles pages through the old
generation. Real embedded Chroma in a temp folder; a recording fake embedder."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import index.indexer as indexer_module
import index.records as records_module
from corpus.models import Article
from index.indexer import Indexer
from index.keyword import KeywordIndex
from index.client import make_client
from index.store import ChromaStore

from conftest import FakeEmbedder


def _body(i: int) -> str:
    return "\n\n".join(
        f"Paragraph {p} of article {i}: " + " ".join(f"word{(i * 7 + p * 3 + w) % 97}" for w in range(40)) for p in range(3)
    )


def _articles(n: int) -> list[Article]:
    return [Article(source=f"a{i:03d}.md", title=f"Article {i}", text=_body(i)) for i in range(n)]


def _indexer(tmp_path: Path, embedder: FakeEmbedder, batch_size: int) -> Indexer:
    store = ChromaStore(make_client(path=str(tmp_path / "chroma")), "docs", model_name=embedder.model_id)
    return Indexer(store, KeywordIndex(tmp_path / "keyword"), embedder, max_chars=200, overlap_chars=40, batch_size=batch_size)


class _RecordingEmbedder(FakeEmbedder):
    def __init__(self, events: list[str]) -> None:
        super().__init__()
        self.events = events

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.events.append(f"embed {len(texts)}")
        return super().embed_documents(texts)


def test_sync_with_small_batches_upserts_each_batch_before_embedding_the_next(tmp_path, monkeypatch):
    events: list[str] = []
    real_upsert = ChromaStore.upsert

    def recording_upsert(self, chunks, embeddings):
        events.append(f"upsert {len(chunks)}")
        return real_upsert(self, chunks, embeddings)

    monkeypatch.setattr(ChromaStore, "upsert", recording_upsert)
    monkeypatch.setattr(indexer_module, "release_free_memory", lambda: events.append("trim"))
    indexer = _indexer(tmp_path, _RecordingEmbedder(events), batch_size=4)
    report = indexer.sync(_articles(6))

    assert report.embedded > 12  # several batches
    expected = []
    for start in range(0, report.embedded, 4):
        size = min(4, report.embedded - start)
        expected += [f"embed {size}", f"upsert {size}", "trim"]  # freed memory handed back each batch
    assert events == expected


def test_release_free_memory_hands_freed_heap_pages_back():
    import ctypes

    from index.memory import release_free_memory

    def rss_kib() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    # a fragmented heap: 100 kB blocks (below glibc's mmap threshold), touched, every other freed
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    blocks = [libc.malloc(100_000) for _ in range(600)]
    for b in blocks:
        ctypes.memset(b, 1, 100_000)
    for b in blocks[::2]:
        libc.free(b)
    before = rss_kib()
    assert release_free_memory() is True  # glibc here; elsewhere it reports False and does nothing
    after = rss_kib()
    for b in blocks[1::2]:
        libc.free(b)
    assert before - after > 15_000  # most of the ~29 MiB freed between live blocks went back


def test_sync_after_embedding_holds_no_chunk_of_the_new_articles(tmp_path, monkeypatch):
    made: list[weakref.ref] = []
    real_chunk_article = indexer_module.chunk_article

    def tracked(article, max_chars, overlap_chars):
        chunks = real_chunk_article(article, max_chars, overlap_chars)
        made.extend(weakref.ref(c) for c in chunks)
        return chunks

    monkeypatch.setattr(indexer_module, "chunk_article", tracked)
    indexer = _indexer(tmp_path, FakeEmbedder(), batch_size=4)
    alive_when_written: list[int] = []

    def checkpoint(name: str) -> None:
        if name == "written":  # every batch is in the store; the keyword build comes next
            gc.collect()
            alive_when_written.append(sum(1 for r in made if r() is not None))

    indexer.checkpoint = checkpoint
    report = indexer.sync(_articles(5))

    assert report.embedded == len(made) > 0
    assert alive_when_written == [0]


def test_sync_with_unchanged_articles_copies_them_page_by_page(tmp_path, monkeypatch):
    monkeypatch.setattr(records_module, "PAGE", 3)  # the old generation spans many pages
    limits: list[int] = []
    real_pages = ChromaStore._pages_with_vectors

    def recording_pages(self):
        for page in real_pages(self):
            limits.append(len(page[0]))
            yield page

    monkeypatch.setattr(ChromaStore, "_pages_with_vectors", recording_pages)
    embedder = FakeEmbedder()
    indexer = _indexer(tmp_path, embedder, batch_size=4)
    first = indexer.sync(_articles(4))
    articles = _articles(4) + [Article(source="new.md", title="New", text="A new article about compilers and parsers.")]
    second = indexer.sync(articles)

    assert (second.unchanged, second.added, second.embedded) == (4, 1, 1)
    assert second.chunks == first.chunks + 1
    assert len(limits) > 3 and max(limits) <= 3 and sum(limits) == first.chunks
    assert sorted(c.id for c in indexer.store.all_chunks()) == sorted(c.id for c in indexer.keyword.chunks())


def test_sync_unchanged_with_same_chunking_reads_store_once_and_does_not_rechunk(tmp_path, monkeypatch):
    indexer = _indexer(tmp_path, FakeEmbedder(), batch_size=8)
    articles = _articles(5)
    first = indexer.sync(articles)
    assert indexer.store.manifest()["chunking"] == indexer_module.chunking_signature(200, 40)

    def no_chunking(*args, **kwargs):
        raise AssertionError("re-chunked an unchanged article")

    reads = []
    real_articles = ChromaStore.articles

    def counting_articles(self):
        reads.append(1)
        return real_articles(self)

    monkeypatch.setattr(indexer_module, "chunk_article", no_chunking)
    monkeypatch.setattr(ChromaStore, "articles", counting_articles)
    again = indexer.sync(articles)
    assert (again.embedded, again.unchanged, again.chunks) == (0, 5, first.chunks)
    assert len(reads) == 1  # the keyword check reuses what the plan read


def test_chunking_signature_changes_with_settings():
    sig = indexer_module.chunking_signature
    assert sig(800, 200) == sig(800, 200)
    assert len({sig(800, 200), sig(801, 200), sig(800, 150)}) == 3
