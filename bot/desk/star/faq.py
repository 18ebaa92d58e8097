"""Search STAR's answers the way a caseworker writes: Danish stems (Snowball), compounds and e-less forms match.

"barsel", "barslen" and "barselsorlov" find each other: each word is stemmed, its unstressed e's after the first
letter are dropped ("barsel" and "barsl-en" both give "barsl"), and a word matches when its key is contained in the
key of a word of the question or begins with one (so a compound and its first part find each other)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Words that say nothing about the rules; without this list "og" or "den" would match every answer.
_STOP = frozenset("""af alle andet at bliver da de dem den denne der det dette din disse du efter eller en end er et
for fra ham han har hun hvad hvis hvor hvordan i ikke ind jeg kan man med men mig min mod når nu når og om op os på
sig sin skal som så til ud under var vi vil vores år""".split())
MIN_KEY = 4
FIELDS = ("subject", "words", "situation", "answer")


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    """The Danish stemmer, loaded at the first search: importing snowballstemmer costs the chat's start ~0.1-0.8 s."""
    import snowballstemmer

    return snowballstemmer.stemmer("danish")


@lru_cache(maxsize=4096)
def key(word: str) -> str:
    """The word's search key: its Danish stem without e's after the first letter."""
    stem = _stemmer().stemWord(word.lower())
    return stem[:1] + stem[1:].replace("e", "")


def keys(text: str) -> set[str]:
    """The search keys of a text's words, without stop words."""
    return {key(word) for word in _WORD.findall(text.lower()) if word not in _STOP and len(word) > 1}


def _matches(query: str, document: set[str]) -> bool:
    if len(query) < MIN_KEY:
        return query in document
    return any(query in word or (len(word) >= MIN_KEY and query.startswith(word)) for word in document)


def search(entries: list[dict[str, Any]], words: str, limit: int = 5) -> list[dict[str, Any]]:
    """The entries that match the most of the words, best first (newest first among equals); the newest when
    no words are given."""
    wanted = keys(words)
    if not wanted:
        return entries[:limit]
    scored = []
    for order, entry in enumerate(entries):
        document = keys(" ".join(str(entry.get(name) or "") for name in FIELDS))
        score = sum(_matches(query, document) for query in wanted)
        if score:
            scored.append((-score, order, entry))
    return [entry for _, _, entry in sorted(scored, key=lambda item: item[:2])[:limit]]
