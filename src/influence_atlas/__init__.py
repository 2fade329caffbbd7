"""Influence Atlas: evidence-linked maps of information-manipulation campaigns."""

__version__ = "0.1.0"
