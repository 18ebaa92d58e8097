"""SQLite storage: migrations, dialogue state and the decision log."""
