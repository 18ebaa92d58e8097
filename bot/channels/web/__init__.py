"""The web chat: the shared dialogue in the browser behind the municipality's login (Starlette, uvicorn, Jinja2)."""
