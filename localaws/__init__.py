"""Offline AWS for the book\x27s notebooks."""
