"""The schema, as sqlite-utils migrations recorded in the database. Imported only when a step is pending."""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("ungebot")


def apply(conn: sqlite3.Connection) -> None:
    """Apply every pending step, each in its own transaction."""
    MIGRATIONS.apply(Database(conn))


def names() -> tuple[str, ...]:
    """The steps in order, as recorded in _sqlite_migrations."""
    return tuple(migration.name for migration in MIGRATIONS._migrations)


@MIGRATIONS()
def m001_decisions(db: Database) -> None:
    """The decision log: one row per finished dialogue, never updated."""
    decisions = db.table("decisions")
    decisions.create({
        "id": int, "time": str, "channel": str, "staff_id": str, "staff_name": str, "programme": str,
        "flow": str, "rulebook_edition": str, "answers": str, "outcome": str, "result": str,
        "warnings": str, "sources": str,
    }, pk="id", not_null={"time", "channel", "staff_id", "flow", "rulebook_edition", "answers", "outcome"})
    decisions.create_index(["time"])
    decisions.create_index(["staff_id", "time"])
    decisions.create_index(["flow", "time"])


@MIGRATIONS()
def m002_dialogues(db: Database) -> None:
    """Open dialogues: the answers so far per channel and staff member, written before each reply."""
    db.table("dialogues").create({
        "channel": str, "staff_id": str, "state": str, "updated": str,
    }, pk=("channel", "staff_id"), not_null={"state", "updated"})


@MIGRATIONS()
def m003_decisions_append_only(db: Database) -> None:
    """The decision log is never updated in place: the database itself refuses an UPDATE."""
    db.execute("""
        CREATE TRIGGER decisions_append_only BEFORE UPDATE ON decisions
        BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END
    """)


@MIGRATIONS()
def m004_decided_on(db: Database) -> None:
    """The day a dialogue used as today (far-date warnings depend on it), so a replay reproduces the decision."""
    db.execute("ALTER TABLE decisions ADD COLUMN decided_on TEXT")


@MIGRATIONS()
def m005_staff_name_index(db: Database) -> None:
    """`log list --user` by display name, newest first, straight from an index."""
    db.table("decisions").create_index(["staff_name", "time"])


@MIGRATIONS()
def m006_star_questions(db: Database) -> None:
    """Questions for STAR: stored before anything is sent (draft → queued → sent → answered), searchable once answered."""
    questions = db.table("star_questions")
    questions.create({
        "id": int, "created": str, "updated": str, "status": str, "channel": str, "staff_id": str, "staff_name": str,
        "programme": str, "flow": str, "gap": str, "situation": str, "subject": str, "body": str, "words": str,
        "recipient": str, "sent_at": str, "sent_via": str, "attempts": int, "last_error": str, "eml_path": str,
        "answer": str, "answered_at": str, "answered_by": str,
    }, pk="id", not_null={"created", "updated", "status", "subject", "body"}, defaults={"attempts": 0})
    questions.create_index(["status", "id"])
    questions.create_index(["gap", "status"])
    questions.enable_fts(["subject", "words", "answer", "situation"], fts_version="FTS5", create_triggers=True,
                         tokenize="unicode61 remove_diacritics 0")


@MIGRATIONS()
def m007_replaced_decisions(db: Database) -> None:
    """Decisions shown and then changed by /tilbage or /ret: marked here, since the log itself is never updated."""
    db.execute("""
        CREATE TABLE replaced_decisions (
            decision_id INTEGER PRIMARY KEY REFERENCES decisions(id),
            time TEXT NOT NULL,
            replaced_by INTEGER REFERENCES decisions(id)
        )
    """)
    db.execute("""
        CREATE TRIGGER replaced_decisions_append_only BEFORE UPDATE ON replaced_decisions
        BEGIN SELECT RAISE(ABORT, 'the marks of replaced decisions are append-only'); END
    """)


@MIGRATIONS()
def m009_telegram_inbox(db: Database) -> None:
    """Telegram updates as received, committed before their getUpdates offset is confirmed; the reply, committed with
    the answer it acknowledges; replied = 1 once it has been sent."""
    db.table("telegram_inbox").create({
        "update_id": int, "received": str, "body": str, "reply": str, "replied": int,
    }, pk="update_id", not_null={"received", "body", "replied"}, defaults={"replied": 0})
    db.execute("CREATE INDEX telegram_inbox_unreplied ON telegram_inbox(update_id) WHERE replied = 0")


@MIGRATIONS()
def m011_star_outbox(db: Database) -> None:
    """The outbox: each confirmed question's e-mail, made once (one Message-ID for every attempt), with its claim and
    back-off, so that a question is sent once even with several senders (the bot, `star send-queued`)."""
    outbox = db.table("star_outbox")
    outbox.create({
        "question_id": int, "message_id": str, "message": bytes, "queued_at": str, "attempts": int,
        "next_attempt_at": str, "claimed_at": str, "claim": str, "last_error": str, "sent_at": str,
    }, pk="question_id", not_null={"message_id", "message", "queued_at", "attempts", "next_attempt_at"},
        defaults={"attempts": 0}, foreign_keys=[("question_id", "star_questions", "id")])
    outbox.create_index(["message_id"], unique=True)
    outbox.create_index(["next_attempt_at"])
    # Handed to the caseworker's own mail program is not sent: nobody knows whether it was. (A question queued by an
    # older ungebot gets its outbox row when a sender next looks: bot.desk.star.StarDesk.adopt_queued.)
    db.execute("UPDATE star_questions SET status = 'handed_over' WHERE status = 'sent' AND sent_via = 'mailto'")


@MIGRATIONS()
def m012_local_settings(db: Database) -> None:
    """Answers the bot asked for once and keeps (the municipality's name when it is not configured)."""
    db.table("local_settings").create({"key": str, "value": str, "updated": str}, pk="key",
                                      not_null={"value", "updated"})


@MIGRATIONS()
def m017_learn(db: Database) -> None:
    """Onboarding, in its own tables: a training answer never enters the decision log or its statistics."""
    db.table("learn_sessions").create({
        "channel": str, "staff_id": str, "state": str, "updated": str,
    }, pk=("channel", "staff_id"), not_null={"state", "updated"})
    db.table("learn_lessons").create({
        "channel": str, "staff_id": str, "lesson": str, "completed": str, "correct": int, "total": int,
    }, pk=("channel", "staff_id", "lesson"), not_null={"completed"})
    answers = db.table("learn_answers")
    answers.create({
        "id": int, "time": str, "channel": str, "staff_id": str, "kind": str, "seed": int, "flow": str,
        "outcome": str, "part": str, "rule": str, "given": str, "expected": str, "correct": int,
    }, pk="id", not_null={"time", "channel", "staff_id", "kind", "flow", "part", "correct"})
    answers.create_index(["channel", "staff_id", "time"])
    answers.create_index(["flow", "part"])
    db.table("learn_cards").create({
        "channel": str, "staff_id": str, "card": str, "state": str, "due": str, "updated": str,
    }, pk=("channel", "staff_id", "card"), not_null={"state", "due"})
    db.table("learn_tests").create({
        "id": int, "time": str, "channel": str, "staff_id": str, "seed": int, "score": int, "total": int,
        "passed": int,
    }, pk="id", not_null={"time", "channel", "staff_id", "score", "total", "passed"})


@MIGRATIONS()
def m019_web_sessions(db: Database) -> None:
    """Server-side sessions of the web chat: keyed by a hash of the cookie's token, so the database holds no cookie."""
    sessions = db.table("web_sessions")
    sessions.create({"key": str, "data": str, "created": str, "expires": str}, pk="key",
                    not_null={"data", "created", "expires"})
    sessions.create_index(["expires"])


@MIGRATIONS()
def m020_inbox_lean(db: Database) -> None:
    """The Telegram inbox without its index of unanswered updates: the table is pruned to a few hundred rows, so the
    restart's one query scans it at once, and the index cost a page in every answer's durable commit."""
    db.execute("DROP INDEX IF EXISTS telegram_inbox_unreplied")


@MIGRATIONS()
def m021_web_transcript(db: Database) -> None:
    """The web page's messages, one row per message, appended: an answer writes its new messages, never the whole
    transcript again. Keyed like web_sessions (the hash of the cookie's token) and a pane ("chat", "learn")."""
    db.table("web_transcript").create({"key": str, "pane": str, "seq": int, "entry": str}, pk=("key", "pane", "seq"),
                                      not_null={"entry"})


@MIGRATIONS()
def m022_telegram_reply_in_dialogue(db: Database) -> None:
    """A Telegram answer's reply kept in its dialogue's row, so an answer is one row: the reply (JSON, compressed
    when long), the update it answers, its place in the order replies are committed (reply_seq) and how far the
    replies were known sent when the row was written (sent_through). telegram_progress keeps that last figure when
    the bot goes quiet (see bot/channels/telegram/receipts.py)."""
    for column, kind in (("reply", "BLOB"), ("reply_update", "INTEGER"), ("reply_seq", "INTEGER"),
                         ("sent_through", "INTEGER")):
        db.execute(f"ALTER TABLE dialogues ADD COLUMN {column} {kind}")
    db.execute("CREATE TABLE telegram_progress (id INTEGER PRIMARY KEY CHECK (id = 1), sent_through INTEGER NOT NULL)")


@MIGRATIONS()
def m024_web_turns(db: Database) -> None:
    """The web page's messages as one row per turn (its messages as HTML and the answer forms after it): an answer
    appends one row at the table's end (the same page as the other answers of its commit) and one index entry, and
    the session's row is left alone. The message rows of m021 go: they were the page's history only (the dialogue
    is in dialogues)."""
    db.table("web_turns").create({"id": int, "key": str, "pane": str, "seq": int, "messages": str, "controls": str},
                                 pk="id", not_null={"key", "pane", "seq", "messages", "controls"})
    db.table("web_turns").create_index(["key", "pane", "seq"], unique=True)
    db.execute("DROP TABLE IF EXISTS web_transcript")


@MIGRATIONS()
def m025_telegram_numbering(db: Database) -> None:
    """Which numbering of Telegram's updates the ids kept for the offset belong to: Telegram numbers its updates
    afresh after a week without any (see bot/channels/telegram/inbox.py), and each time the bot sees that, this
    count goes up by one and the old ids are let go."""
    db.execute("ALTER TABLE telegram_progress ADD COLUMN numbering INTEGER NOT NULL DEFAULT 0")


@MIGRATIONS()
def m026_telegram_inbox_numbering(db: Database) -> None:
    """Each inbox row keeps the numbering of Telegram's updates it came in (see m025), so the offset is read from
    the current numbering's ids alone and an older update still waiting is known as such after a restart."""
    db.execute("ALTER TABLE telegram_inbox ADD COLUMN numbering INTEGER NOT NULL DEFAULT 0")
