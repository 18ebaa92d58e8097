"""The channels a caseworker talks through (terminal, Telegram): each turns its own I/O into calls of bot.chat."""
