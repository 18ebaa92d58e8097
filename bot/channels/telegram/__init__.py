"""The Telegram channel: a python-telegram-bot Application over the shared conversation layer."""
