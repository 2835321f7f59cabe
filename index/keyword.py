"""The keyword (BM25) index: ``bm25s`` sparse matrices, English stopwords, Snowball stemming.

It is derived data: always rebuildable from the chunks in the Chroma collection, and stamped
with a fingerprint of the chunk ids it was built from, so a stale or missing copy is noticed and
rebuilt (``KeywordIndex.sync``). It keeps the chunks themselves in memory so retrieval can
return them without another round trip to the store.
"""

from __future__ import annotations

import hashlib
import re
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from corpus.models import Chunk

__all__ = ["KeywordIndex", "fingerprint", "tokenize_many", "tokenize_query"]

_STEMMER: Any = None


def _stemmer() -> Any:
    global _STEMMER
    if _STEMMER is None:
        import Stemmer

        _STEMMER = Stemmer.Stemmer("english")
    return _STEMMER


def _bm25s() -> Any:
    """``bm25s``, with its logger (which it sets to DEBUG on import) back at WARNING: otherwise
    any root handler prints "DEBUG:bm25s:Building index from tokens" on every build."""
    import logging

    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def fingerprint(ids: Iterable[str]) -> str:
    """Order-independent fingerprint of a set of chunk ids (and of how text is cut into tokens:
    an index built by another tokenizer is rebuilt)."""
    h = hashlib.sha256(f"{_TOKEN_PATTERN}\n".encode())
    for cid in sorted(ids):
        h.update(cid.encode())
        h.update(b"\n")
    return h.hexdigest()


# Words that say how a question is asked, not what it is about.
_QUESTION_WORDS = ("tell", "say", "says", "said", "named", "among", "according", "article", "articles", "mention", "mentioned")


# A token is a version or decimal ("1.6.8", "3.5"; "v0.1.11" counts as "0.1.11"), "c++" / "c#", or a
# word of two characters or more (bm25s's own pattern, which cut "1.6.8" into nothing).
_TOKEN_PATTERN = r"(?u)\d+(?:\.\d+)+|\b[a-z]\+\+|\b[a-z]#|\b\w\w+\b"
_VERSION_PREFIX = re.compile(r"\b[vV](?=\d+\.\d)")


def _tokenize(texts: list[str]) -> list[list[str]]:
    bm25s = _bm25s()
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    stopwords = list(STOPWORDS_EN_PLUS) + list(_QUESTION_WORDS)
    texts = [_VERSION_PREFIX.sub("", t) for t in texts]
    return bm25s.tokenize(texts, token_pattern=_TOKEN_PATTERN, stopwords=stopwords, stemmer=_stemmer(), return_ids=False,
                          show_progress=False)


_MEMO: dict[str, tuple[str, ...]] = {}  # text -> tokens; emptied when full (answers reuse the same sentences)
_MEMO_SIZE = 50_000


def tokenize_many(texts: Sequence[str]) -> list[list[str]]:
    """``tokenize_query`` of each text, the ones not seen before in one ``bm25s.tokenize`` call:
    each call costs ~0.5 ms of set-up (a progress-bar object, a logger level), and an answer
    tokenizes its question and its passages' sentences some forty times."""
    fresh: dict[str, tuple[str, ...]] = {}
    missing = [t for t in dict.fromkeys(texts) if t not in _MEMO]
    if missing:
        fresh = {t: tuple(tokens) for t, tokens in zip(missing, _tokenize(missing), strict=True)}
        if len(_MEMO) + len(fresh) > _MEMO_SIZE:
            _MEMO.clear()
        _MEMO.update(fresh)
    out = []
    for t in texts:
        tokens = fresh.get(t)
        if tokens is None:
            tokens = _MEMO.get(t)  # None if another thread emptied the memo meanwhile
        out.append(list(tokens) if tokens is not None else _tokenize([t])[0])
    return out


def tokenize_query(text: str) -> list[str]:
    """Stemmed, stopword-free tokens of a query, as the index sees them (remembered)."""
    return tokenize_many([text])[0]


class KeywordIndex:
    """BM25 over chunk texts (with title and section), persisted under ``folder``."""

    def __init__(self, folder: str | os.PathLike[str] | None = None, k1: float = 1.2, b: float = 0.75):
        self.folder = Path(folder) if folder is not None else None
        self.k1 = k1
        self.b = b
        self._bm25: Any = None
        self._chunks: list[Chunk] = []
        self._by_id: dict[str, int] = {}
        self._by_position: dict[tuple[str, int], int] | None = None
        self._fingerprint = fingerprint([])
        self._ready = False

    # -- building -----------------------------------------------------------------------------
    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def __len__(self) -> int:
        return len(self._chunks)

    def build(self, chunks: Sequence[Chunk]) -> None:
        bm25s = _bm25s()

        chunks = sorted(chunks, key=lambda c: (c.source, c.index, c.id))
        self._chunks = list(chunks)
        self._by_id = {c.id: i for i, c in enumerate(self._chunks)}
        self._by_position = None
        self._fingerprint = fingerprint(self._by_id)
        self._ready = True
        if not chunks:
            self._bm25 = None
            return
        bm25 = bm25s.BM25(k1=self.k1, b=self.b)
        bm25.index(_tokenize([c.embedding_text() for c in self._chunks]), show_progress=False)
        self._bm25 = bm25

    def sync(self, chunk_ids: Iterable[str], load_chunks: Any) -> bool:
        """Make this index match ``chunk_ids``; ``load_chunks()`` gives the chunks if a rebuild
        is needed. Tries the saved copy first. Returns True when it had to rebuild."""
        wanted = fingerprint(chunk_ids)
        if self._ready and self._fingerprint == wanted:
            return False
        if self.load() and self._fingerprint == wanted:
            return False
        self.build(load_chunks())
        self.save()
        return True

    # -- persistence --------------------------------------------------------------------------
    def save(self) -> None:
        """Write atomically: a new versioned folder, then a pointer file swapped in place."""
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"bm25-{self._fingerprint[:16]}"
        target = self.folder / name
        if not target.exists():
            tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.folder))
            if self._bm25 is not None:
                self._bm25.save(str(tmp), show_progress=False)
            with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as fh:
                for c in self._chunks:
                    fh.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")
            (tmp / "fingerprint").write_text(self._fingerprint)
            os.replace(tmp, target)
        pointer_tmp = self.folder / ".current.tmp"
        pointer_tmp.write_text(name)
        os.replace(pointer_tmp, self.folder / "current")
        for old in self.folder.iterdir():
            if old.is_dir() and old.name != name and (old.name.startswith("bm25-") or old.name.startswith(".tmp-")):
                shutil.rmtree(old, ignore_errors=True)

    def load(self) -> bool:
        """Load the saved copy; False when there is none or it is unreadable."""
        if self.folder is None:
            return False
        try:
            name = (self.folder / "current").read_text().strip()
            base = self.folder / name
            fp = (base / "fingerprint").read_text().strip()
            chunks = []
            with open(base / "chunks.jsonl", encoding="utf-8") as fh:
                for line in fh:
                    chunks.append(Chunk(**json.loads(line)))
            bm25 = None
            if chunks:
                bm25s = _bm25s()

                bm25 = bm25s.BM25.load(str(base), show_progress=False)
        except (OSError, ValueError, TypeError, KeyError):
            return False
        if fingerprint(c.id for c in chunks) != fp:
            return False
        self._chunks = chunks
        self._by_id = {c.id: i for i, c in enumerate(chunks)}
        self._by_position = None
        self._bm25 = bm25
        self._fingerprint = fp
        self._ready = True
        return True

    # -- reading ------------------------------------------------------------------------------
    def chunk(self, chunk_id: str) -> Chunk | None:
        i = self._by_id.get(chunk_id)
        return self._chunks[i] if i is not None else None

    def chunks(self) -> list[Chunk]:
        return list(self._chunks)

    def next_chunk(self, chunk_id: str) -> Chunk | None:
        """The chunk that follows ``chunk_id`` in its article, if any."""
        chunk = self.chunk(chunk_id)
        if chunk is None:
            return None
        if self._by_position is None:
            self._by_position = {(c.source, c.index): i for i, c in enumerate(self._chunks)}
        i = self._by_position.get((chunk.source, chunk.index + 1))
        return self._chunks[i] if i is not None else None

    def article_chunks(self, source: str) -> list[Chunk]:
        """The chunks of one article, in reading order."""
        if self._by_position is None:
            self._by_position = {(c.source, c.index): i for i, c in enumerate(self._chunks)}
        out = []
        while (i := self._by_position.get((source, len(out)))) is not None:
            out.append(self._chunks[i])
        return out

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk (in ``chunks()`` order) for ``query``."""
        if self._bm25 is None:
            return np.zeros(0, dtype=np.float32)
        tokens = tokenize_query(query)
        if not tokens:
            return np.zeros(len(self._chunks), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    def idf(self, tokens: list[str]) -> dict[str, float]:
        """BM25 idf of each token (a token no chunk contains gets the highest idf)."""
        n = len(self._chunks)
        out: dict[str, float] = {}
        for token in set(tokens):
            df = int(np.count_nonzero(self._bm25.get_scores([token]))) if self._bm25 is not None else 0
            out[token] = float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))
        return out

    def present(self, tokens: Iterable[str], sources: frozenset[str] | None = None) -> set[str]:
        """The tokens (already tokenized: stemmed, lower-case) that some chunk holds, counting
        only chunks of ``sources`` when given."""
        out: set[str] = set()
        if self._bm25 is None:
            return out
        mask = None
        if sources is not None:
            mask = np.fromiter((c.source in sources for c in self._chunks), dtype=bool, count=len(self._chunks))
        for token in set(tokens):
            hits = np.asarray(self._bm25.get_scores([token])) > 0
            if mask is not None:
                hits &= mask
            if hits.any():
                out.add(token)
        return out

    def knows(self, word: str) -> bool:
        """True when some chunk contains (the stem of) every content word of ``word``."""
        tokens = tokenize_query(word)
        return all(v < self._unseen_idf() for v in self.idf(tokens).values())

    def _unseen_idf(self) -> float:
        n = len(self._chunks)
        return float(np.log(1.0 + (n + 0.5) / 0.5)) - 1e-9

    def search(self, query: str, n: int, allowed_sources: frozenset[str] | None = None) -> list[tuple[Chunk, float]]:
        """The ``n`` best chunks with a positive BM25 score, best first."""
        scores = self.scores(query)
        if scores.size == 0 or n <= 0:
            return []
        if allowed_sources is not None:
            mask = np.fromiter((c.source in allowed_sources for c in self._chunks), dtype=bool, count=len(self._chunks))
            scores = np.where(mask, scores, 0.0)
        n = min(n, scores.size)
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self._chunks[i], float(scores[i])) for i in top if scores[i] > 0]
