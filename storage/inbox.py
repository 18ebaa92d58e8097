"""The Telegram inbox: an update received and not answered in the same commit, on disk before Telegram is told it
arrived, until it is answered; and the replies kept with the answers in the dialogues table (see
bot/channels/telegram/receipts.py for how the two fit).

The functions write without committing: the caller (the bot's group commit) wraps them in one transaction."""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Collection, Iterable
from typing import NamedTuple

from storage.records import utc_now

COMPRESS_FROM = 1000  # characters: a stored reply longer than this is compressed


def receive(conn: sqlite3.Connection, updates: Iterable[tuple[int, str]], handled: Collection[int] = (),
            numbering: int = 0) -> list[int]:
    """Store (update_id, JSON body) pairs not stored before, received in this numbering of Telegram's updates, those
    in `handled` as replied already (kept only for the offset); the ids that were new."""
    received, fresh = utc_now(), []
    for update_id, body in updates:
        done = update_id in handled
        cursor = conn.execute("INSERT OR IGNORE INTO telegram_inbox (update_id, received, body, replied, numbering) "
                              "VALUES (?, ?, ?, ?, ?)",
                              (update_id, received, "" if done else body, int(done), numbering))
        if cursor.rowcount:
            fresh.append(update_id)
    return fresh


class Progress(NamedTuple):
    """Where a restarted bot stands: the newest update received (the next getUpdates offset is one past it), the
    highest reply number given, how far replies are known sent (every reply numbered up to it was), which of
    Telegram's numberings the updates now come in (see `renumber`), when an update of it was last received or
    answered (UTC, ISO text as utc_now writes it; "" if never), and the updates of an older numbering still to be
    handled."""

    newest: int
    last_seq: int
    sent_through: int
    numbering: int = 0
    heard: str = ""
    older: tuple[tuple[int, int], ...] = ()  # (update id, numbering)


def progress(conn: sqlite3.Connection) -> Progress:
    """Read once at start: one pass over the dialogues (no index: an index would cost every answer a page)."""
    quiet = conn.execute("SELECT sent_through, numbering FROM telegram_progress WHERE id = 1").fetchone()
    numbering = quiet[1] if quiet else 0
    received, inbox_heard = conn.execute("SELECT max(update_id), max(received) FROM telegram_inbox "
                                         "WHERE numbering = ?", (numbering,)).fetchone()
    older = tuple((row[0], row[1]) for row in conn.execute(
        "SELECT update_id, numbering FROM telegram_inbox WHERE replied = 0 AND numbering != ? ORDER BY update_id",
        (numbering,)))
    answered, seq, sent, answer_heard = conn.execute(
        "SELECT max(reply_update), max(reply_seq), max(sent_through), max(CASE WHEN reply_update IS NOT NULL "
        "THEN updated END) FROM dialogues WHERE channel = 'telegram'").fetchone()
    sent_through = max(sent or 0, quiet[0] if quiet else 0)
    return Progress(max(received or 0, answered or 0), max(seq or 0, sent_through), sent_through, numbering,
                    max(inbox_heard or "", answer_heard or ""), older)


def renumber(conn: sqlite3.Connection, numbering: int) -> None:
    """Telegram has numbered its updates afresh: record the new numbering, and let go of the old numbering's ids that
    were kept only for the offset (the answered updates' ids in the dialogues, the answered inbox rows), so that a
    restart asks Telegram from the new numbering. Updates not yet answered keep their rows, under their numbering."""
    conn.execute("INSERT INTO telegram_progress (id, sent_through, numbering) VALUES (1, 0, ?) "
                 "ON CONFLICT(id) DO UPDATE SET numbering = excluded.numbering", (numbering,))
    conn.execute("UPDATE dialogues SET reply_update = NULL WHERE channel = 'telegram' AND reply_update IS NOT NULL")
    conn.execute("DELETE FROM telegram_inbox WHERE replied = 1")


def set_sent_through(conn: sqlite3.Connection, seq: int) -> None:
    """Every reply numbered up to `seq` has been sent (written when the bot goes quiet: see Receipts)."""
    conn.execute("INSERT INTO telegram_progress (id, sent_through) VALUES (1, ?) "
                 "ON CONFLICT(id) DO UPDATE SET sent_through = max(sent_through, excluded.sent_through)", (seq,))


def compress(reply: str) -> str | bytes:
    """A reply as stored with its answer: as it is, or compressed when long, so that the dialogue's row stays
    within one page (a reply can be 4,096 characters and more); compressing a short one costs more than it saves."""
    return zlib.compress(reply.encode("utf-8"), 1) if len(reply) > COMPRESS_FROM else reply


def unsent(conn: sqlite3.Connection, after: int) -> list[tuple[int, str]]:
    """(number, JSON) of the replies kept with the answers that are not known to be sent, in the order committed."""
    rows = conn.execute("SELECT reply_seq, reply FROM dialogues WHERE channel = 'telegram' AND reply IS NOT NULL "
                        "AND reply_seq > ? ORDER BY reply_seq", (after,))
    return [(int(seq), _reply(reply) or "") for seq, reply in rows]


def _reply(stored: str | bytes | None) -> str | None:
    """A stored reply as JSON text: compressed (bytes), or as text (a short one; inbox rows before m020)."""
    if isinstance(stored, bytes):
        return zlib.decompress(stored).decode("utf-8")
    return stored


def mark_replied(conn: sqlite3.Connection, update_ids: Iterable[int]) -> None:
    """These updates have been answered; a restart must not handle them again. The body is no longer needed."""
    for update_id in update_ids:  # mostly one: a plain statement is quicker than executemany's setup
        conn.execute("UPDATE telegram_inbox SET replied = 1, body = '' WHERE update_id = ?", (update_id,))


def prune(conn: sqlite3.Connection, numbering: int = 0) -> None:
    """Forget answered updates, keeping the newest row of the current numbering: with the dialogues' answered update
    ids, it tells a restart where Telegram's offset stands (see `progress`)."""
    conn.execute("DELETE FROM telegram_inbox WHERE replied = 1 AND (numbering != ? OR update_id < "
                 "(SELECT max(update_id) FROM telegram_inbox WHERE numbering = ?))", (numbering, numbering))


def unreplied(conn: sqlite3.Connection) -> list[tuple[int, str, str | None]]:
    """(update_id, JSON body, stored reply or None) of every update received and not yet answered, oldest first (a
    reply in the inbox was stored there by ungebot before m022; since, replies are kept in the dialogues table)."""
    rows = conn.execute("SELECT update_id, body, reply FROM telegram_inbox WHERE replied = 0 ORDER BY update_id")
    return [(int(row[0]), str(row[1]), _reply(row[2])) for row in rows]

