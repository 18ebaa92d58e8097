"""Everything a person touches, one package per concern: chat (the turn layer), channels, cli, desk."""
