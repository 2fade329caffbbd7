"""One exception hierarchy; every message tells the user what to do next."""


class AtlasError(Exception):
    """Base class of every error Influence Atlas raises on purpose."""


def printable(text: str) -> str:
    """Return text that can always be printed, logged and stored: lone surrogates (file names that are not UTF-8,
    broken JSON escapes) become backslash escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class InputError(AtlasError):
    """An input file or record cannot be read; the message names it and says why."""

    def __init__(self, source: str, reason: str):
        source, reason = printable(source), printable(reason)
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class OntologyError(AtlasError):
    """An ontology file (actors, narratives, ...) is malformed; names the file and entry."""


class StoreError(AtlasError):
    """The database cannot be opened, migrated or written."""


class ModelError(AtlasError):
    """A required NLP model package is missing or broken."""


class ExtraError(AtlasError):
    """A feature needs an optional extra that is not installed; the message gives the pip command."""


class GoldError(AtlasError):
    """A gold annotation folder is missing or malformed."""
