"""User-facing adapters: the terminal chat, the command line and (later) Telegram. Thin: no rules, no texts."""
