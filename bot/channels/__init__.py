"""The channels a caseworker talks through (terminal, Telegram, web): each turns its own I/O into calls of bot.chat."""

import gc


def freeze_long_lived() -> None:
    """What is built at start (the flows, the trainer's lessons, the channel's library and the modules) lives as long
    as the process: it is moved out of the cyclic garbage collector's reach (gc.freeze), so that a collection scans
    only what the answers since made. Without it a full collection, every few hundred answers, scanned some 90,000
    objects. Called by a long-running channel once it is built, before it takes its first update or request."""
    gc.collect()
    gc.freeze()
