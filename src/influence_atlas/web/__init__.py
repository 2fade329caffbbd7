"""The web layer: a local FastAPI app (`create_app`, `serve`) and the views it shares with the one-file report."""

from .app import create_app, serve

__all__ = ["create_app", "serve"]
