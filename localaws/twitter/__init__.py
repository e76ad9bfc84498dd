"""Emulated Twitter API v1.1 (application-only auth and user timelines) for chapter 2's
tweet collection with Twython. Not an AWS service: served under <localaws>/twitter."""
from __future__ import annotations

from .models import TwitterBackend
from .responses import TwitterService


def build(emulator) -> dict:
    return {"twitter": TwitterService(TwitterBackend())}
