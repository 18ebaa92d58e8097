"""The `ungebot` command and its sub-commands."""
