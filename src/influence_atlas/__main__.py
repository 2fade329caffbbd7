"""`python -m influence_atlas` runs the `atlas` command."""

from .cli import run

run()
