"""The command line's last guard: every failure becomes one clear Danish sentence and an exit code, never a traceback.

Exit 2: bad input, settings, files or database (the message says which, and that nothing was changed).
Exit 1: a fault in ungebot itself; UNGEBOT_DEBUG=1 shows the traceback for a bug report.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import traceback

_OS_WORDS = {
    errno.ENOENT: "findes ikke", errno.ENOTDIR: "findes ikke (en del af stien er ikke en mappe)",
    errno.EACCES: "adgang nægtet", errno.EPERM: "adgang nægtet", errno.EROFS: "skrivebeskyttet",
    errno.ENOSPC: "disken er fuld", errno.EDQUOT: "kvoten er opbrugt", errno.EISDIR: "er en mappe, ikke en fil",
    errno.EIO: "fejl på disken", errno.ENAMETOOLONG: "navnet er for langt",
}


def os_error_text(exc: OSError) -> str:
    """What went wrong with a file, in Danish: the file and the reason, not the OS's English."""
    reason = _OS_WORDS.get(exc.errno or 0, f"systemfejl {errno.errorcode.get(exc.errno or 0, '?')}")
    where = f" {exc.filename}" if exc.filename else ""
    return f"Filen{where} kan ikke bruges: {reason}. Intet er ændret."


def explain_failure(exc: Exception) -> tuple[str, int]:
    """The message and exit code for an exception that reached the command line's last guard."""
    from bot.config import ConfigError
    from bot.cli.decide import DecideError
    from flows.errors import FlowError
    from storage.db import StorageError, explain

    if isinstance(exc, DecideError):
        return exc.message, 2
    if isinstance(exc, ConfigError):
        return str(exc), 2
    if isinstance(exc, (StorageError, sqlite3.Error)):
        return explain(exc), 2
    if isinstance(exc, FlowError):
        return f"Forløbene kan ikke læses: {exc}", 2
    if isinstance(exc, OSError):
        return os_error_text(exc), 2
    if isinstance(exc, MemoryError):
        return "Der er ikke hukommelse nok til at gøre det. Intet er ændret.", 2
    if os.environ.get("UNGEBOT_DEBUG"):
        traceback.print_exception(exc)
    return (f"ungebot stødte på en fejl i sig selv ({type(exc).__name__}). Det, der var gemt, er uskadt. "
            "Kør igen med UNGEBOT_DEBUG=1, og send det, der står, til supporten."), 1
