"""Type-ahead index over normalised address keys: sorted keys + bisect, and a token index.

Built once at load time (a few seconds for 500,000 addresses) and read-only afterwards, so
one instance can serve concurrent requests. Answers come in three passes, each only when
the earlier ones found fewer than ``limit``:

1. keys that start with the text, number first ("12 smith street glebe 2037");
2. keys that start with the text, street first ("smith street 12 glebe 2037");
3. keys containing every complete word of the text plus a word starting with the last,
   partly typed one (postings intersected with numpy).

The benchmark (``python -m bench.bench_geocode``) measures it against the < 20 ms budget.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
#: Up to this many postings under a partly typed word, pass 3 intersects them with the candidates;
#: above it, it scans the candidates (at most _SCAN_MAX of them, so a type-ahead stays fast).
_UNION_MAX = 20_000
_SCAN_MAX = 20_000


def _intersect_sorted(a: IntArray, b: IntArray) -> IntArray:
    """Sorted unique ``a`` and ``b`` -> their intersection, in O(len(small) * log(len(big)))."""
    small, big = (a, b) if a.size <= b.size else (b, a)
    if small.size == 0 or big.size == 0:
        return small[:0]
    idx = np.minimum(np.searchsorted(big, small), big.size - 1)
    return small[big[idx] == small]


class SuggestIndex:
    """Prefix and token index over one pair of keys per record.

    Parameters
    ----------
    full_keys
        Per record, its key number first (what people type first).
    street_keys
        Per record, its key street first.
    """

    def __init__(self, full_keys: Sequence[str], street_keys: Sequence[str]) -> None:
        n = len(full_keys)
        order = sorted(range(n), key=full_keys.__getitem__)
        self._full = [full_keys[i] for i in order]
        self._full_rec = np.asarray(order, dtype=np.int64)
        order2 = sorted(range(n), key=street_keys.__getitem__)
        self._street = [street_keys[i] for i in order2]
        self._street_rec = np.asarray(order2, dtype=np.int64)
        # Token postings: positions in the sorted full-key list, ascending per token. pandas
        # factorises the ~5 words per key in C, which is what makes 500k keys load in seconds.
        tokens: list[str] = []
        counts_per_key = np.empty(n, dtype=np.int64)
        for pos, key in enumerate(self._full):
            words = key.split()
            tokens.extend(words)
            counts_per_key[pos] = len(words)
        codes, uniques = pd.factorize(np.asarray(tokens, dtype=object), sort=False)
        ids = np.asarray(codes, dtype=np.int64)
        pos_arr = np.repeat(np.arange(n, dtype=np.int64), counts_per_key)
        # Sorted by word, then position; one posting per (word, key) even when a key repeats a
        # word ("saint ... saint").
        pair = np.unique(ids * max(n, 1) + pos_arr)
        ids, self._postings = pair // max(n, 1), pair % max(n, 1)
        vocab = {str(w): i for i, w in enumerate(uniques)}
        counts = np.bincount(ids, minlength=len(vocab))
        starts = np.concatenate([[0], np.cumsum(counts)])
        # Vocabulary sorted alphabetically, with each word's slice of the postings.
        words = sorted(vocab)
        wid = np.asarray([vocab[w] for w in words], dtype=np.int64)
        self._words = words
        self._word_start = starts[wid]
        self._word_end = starts[wid + 1]
        self._word_count_cum = np.concatenate([[0], np.cumsum(counts[wid])])
        self._word_index = {w: i for i, w in enumerate(words)}

    def __len__(self) -> int:
        return len(self._full)

    @staticmethod
    def _prefix(keys: list[str], recs: IntArray, prefix: str, limit: int, out: dict[int, None]) -> None:
        i = bisect_left(keys, prefix)
        while i < len(keys) and len(out) < limit and keys[i].startswith(prefix):
            out.setdefault(int(recs[i]), None)
            i += 1

    def _posting(self, word: str) -> IntArray | None:
        j = self._word_index.get(word)
        if j is None:
            return None
        return self._postings[self._word_start[j]:self._word_end[j]]

    def _tokens(self, words: Sequence[str], partial: str | None, limit: int, out: dict[int, None]) -> None:
        lists = []
        for w in dict.fromkeys(words):
            post = self._posting(w)
            if post is None:
                return  # a complete word nobody has: nothing can match
            lists.append(post)
        lo = hi = 0
        if partial:
            lo, hi = bisect_left(self._words, partial), bisect_right(self._words, partial + "\uffff")
            if lo == hi:
                return
        if not lists:
            # Only a partly typed word: the first postings of the words it starts, in key order.
            found: list[int] = []
            for j in range(lo, min(hi, lo + 200)):
                start, end = self._word_start[j], self._word_end[j]
                found.extend(self._postings[start:min(end, start + limit)].tolist())
            cand = np.unique(np.asarray(found, dtype=np.int64))
        else:
            lists.sort(key=len)
            cand = lists[0]
            for other in lists[1:]:
                cand = _intersect_sorted(cand, other)
                if cand.size == 0:
                    return
            if partial:
                cand = self._with_partial(cand, partial, lo, hi, limit)
        for pos in cand[: limit * 4].tolist():
            if len(out) >= limit:
                break
            out.setdefault(int(self._full_rec[pos]), None)

    def _with_partial(self, cand: IntArray, partial: str, lo: int, hi: int, limit: int) -> IntArray:
        """The candidates (sorted key positions) whose key has a word starting with ``partial``."""
        total = int(self._word_count_cum[hi] - self._word_count_cum[lo])
        if total <= _UNION_MAX and total < cand.size:
            # Few keys have such a word: walk those (sorted) and keep the ones among the candidates.
            union = np.sort(np.concatenate([self._postings[self._word_start[j]:self._word_end[j]] for j in range(lo, hi)]))
            return _intersect_sorted(union, cand)
        # Many have it (a short, common start such as "e" or "dr"): scan the candidates in key
        # order and stop at the limit; matches are dense, so the scan is short.
        needle = " " + partial
        kept: list[int] = []
        for p in cand[:_SCAN_MAX].tolist():
            if needle in " " + self._full[p]:
                kept.append(p)
                if len(kept) >= limit:
                    break
        return np.asarray(kept, dtype=np.int64)

    def query(self, variants: Sequence[str], *, words: Sequence[str] = (), partials: Sequence[str] = (),
              limit: int = 10) -> list[int]:
        """Record numbers (positions in the key sequences given to the constructor), best first.

        Parameters
        ----------
        variants
            Normalised prefixes to look up in passes 1 and 2 (e.g. "12 smith st" and
            "12 smith street" while the last word is still being typed).
        words
            Complete words for pass 3.
        partials
            What the last, partly typed word may become (the word as typed, and the long forms of
            abbreviations it starts), for pass 3; empty when the text ended with a space.
        limit
            Most records returned.
        """
        out: dict[int, None] = {}
        for keys, recs in ((self._full, self._full_rec), (self._street, self._street_rec)):
            for v in variants:
                if v and len(out) < limit:
                    self._prefix(keys, recs, v, limit, out)
        if words and not partials and len(out) < limit:
            self._tokens(words, None, limit, out)
        for partial in partials:
            if len(out) >= limit:
                break
            self._tokens(words, partial, limit, out)
        return list(out)[:limit]
