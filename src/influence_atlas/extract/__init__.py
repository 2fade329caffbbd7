"""Extraction: turn parsed text into plain records that point at their evidence."""
