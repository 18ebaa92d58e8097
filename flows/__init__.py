"""The rulebooks as data and the pure engine that walks them: no I/O, no Telegram, no SQLite, no templates."""
