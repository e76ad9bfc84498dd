"""The Twitter backend: application-only bearer tokens and two accounts' timelines.

The timelines are the repository's sample tweets (data/samples/tweets, synthetic; see
data/README.md): dem.txt is @TheDemocrats', gop.txt is @GOP's, newest first. Each tweet
gets what the v1.1 API returns with it — a snowflake id that encodes its time, a
`created_at`, entities found in the text (hashtags, mentions, links), the author's user
object and, for `RT @user:` tweets, a `retweeted_status`. Account ids and counts are
made up.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import random
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from . import exceptions as errors

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples" / "tweets"
TWITTER_EPOCH_MS = 1288834974657  # snowflake ids count milliseconds from here
NEWEST = datetime(2018, 11, 28, 17, 30, tzinfo=timezone.utc)  # when the book collected its tweets
MAX_COUNT = 200  # user_timeline returns at most 200 tweets per request
ACCOUNTS = {  # screen name -> (sample file, display name, made-up id, followers, description)
    "TheDemocrats": ("dem.txt", "The Democrats", 3401000001, 2_200_000,
                     "Official account of the Democratic Party (localaws sample timeline)."),
    "GOP": ("gop.txt", "GOP", 3401000002, 2_000_000,
            "Official account of the Republican Party (localaws sample timeline)."),
}
HASHTAG, MENTION, LINK = re.compile(r"#(\w+)"), re.compile(r"@(\w+)"), re.compile(r"https://t\.co/\w+")
RETWEET = re.compile(r"^RT @(\w+): ")


def _twitter_time(moment: datetime) -> str:
    return moment.strftime("%a %b %d %H:%M:%S +0000 %Y")


def _snowflake(moment: datetime, sequence: int) -> int:
    ms = int(moment.timestamp() * 1000) - TWITTER_EPOCH_MS
    return (ms << 22) | (1 << 17) | (sequence & 0xFFF)


def _entities(text: str) -> dict:
    return {
        "hashtags": [{"text": m.group(1), "indices": [m.start(), m.end()]} for m in HASHTAG.finditer(text)],
        "symbols": [],
        "user_mentions": [{"screen_name": m.group(1), "name": m.group(1), "id": _user_id(m.group(1)),
                           "id_str": str(_user_id(m.group(1))), "indices": [m.start(), m.end()]}
                          for m in MENTION.finditer(text)],
        "urls": [{"url": m.group(0), "expanded_url": f"https://example.org/{m.group(0)[13:]}",
                  "display_url": f"example.org/{m.group(0)[13:]}", "indices": [m.start(), m.end()]}
                 for m in LINK.finditer(text)],
    }


def _user_id(screen_name: str) -> int:
    if screen_name in ACCOUNTS:
        return ACCOUNTS[screen_name][2]
    return 3_500_000_000 + int(hashlib.sha256(screen_name.encode()).hexdigest()[:8], 16) % 10**8


@dataclass
class Account:
    screen_name: str
    user: dict
    tweets: list[dict] = field(default_factory=list)  # newest first


class TwitterBackend:
    def __init__(self, samples: Path = SAMPLES):
        self.samples = samples
        self._accounts: dict[str, Account] | None = None  # read on first use
        self._secret = secrets.token_bytes(16)

    # ------------------------------------------------------------ application-only auth
    def issue_token(self, authorization: str | None, grant_type: str | None) -> str:
        """A bearer token for the app whose key and secret arrive as HTTP Basic auth.
        There is no developer account offline: any non-empty key and secret are accepted."""
        if not authorization or not authorization.startswith("Basic "):
            raise errors.unable_to_verify_credentials()
        try:
            key, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        except ValueError:
            raise errors.unable_to_verify_credentials() from None
        if not key or not secret:
            raise errors.unable_to_verify_credentials()
        if grant_type != "client_credentials":
            raise errors.TwitterError(403, 170, "Missing required parameter: grant_type",
                                      "forbidden_missing_parameter")
        signature = hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()
        return "AAAAAAAAAAAAAAAAAAAAA" + base64.urlsafe_b64encode(f"{key}:{signature}".encode()).decode().rstrip("=")

    def check_token(self, authorization: str | None) -> None:
        if not authorization or not authorization.startswith("Bearer "):
            raise errors.bad_authentication_data()
        try:
            payload = authorization[7:].strip()[21:]
            key, _, signature = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode().partition(":")
        except ValueError:
            raise errors.invalid_token() from None
        expected = hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature, expected):
            raise errors.invalid_token()

    # ------------------------------------------------------------ timelines
    @property
    def accounts(self) -> dict[str, Account]:
        if self._accounts is None:
            self._accounts = {name.lower(): self._load(name) for name in ACCOUNTS}
        return self._accounts

    def _load(self, screen_name: str) -> Account:
        filename, name, user_id, followers, description = ACCOUNTS[screen_name]
        path = self.samples / filename
        if not path.exists():
            raise errors.TwitterError(503, 130, f"localaws has no tweets for @{screen_name}: {path} is missing "
                                      "(run `python data/make_samples.py tweets`)")
        user = {"id": user_id, "id_str": str(user_id), "name": name, "screen_name": screen_name,
                "location": "Washington, DC", "description": description, "url": None,
                "protected": False, "followers_count": followers, "friends_count": 1200,
                "listed_count": 9000, "created_at": "Tue Apr 15 14:05:00 +0000 2008",
                "favourites_count": 3000, "verified": True, "statuses_count": 0, "lang": None}
        rng = random.Random(screen_name)
        moment, tweets = NEWEST, []
        for sequence, text in enumerate(path.read_text(encoding="utf-8").splitlines()):
            moment -= timedelta(minutes=rng.randint(40, 900))
            tweets.append(self._tweet(text, moment, sequence, user))
        user["statuses_count"] = len(tweets)
        return Account(screen_name, user, tweets)

    @staticmethod
    def _tweet(text: str, moment: datetime, sequence: int, user: dict) -> dict:
        tweet_id = _snowflake(moment, sequence)
        tweet = {"created_at": _twitter_time(moment), "id": tweet_id, "id_str": str(tweet_id),
                 "full_text": text, "truncated": False, "display_text_range": [0, len(text)],
                 "entities": _entities(text),
                 "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
                 "in_reply_to_status_id": None, "in_reply_to_status_id_str": None,
                 "in_reply_to_user_id": None, "in_reply_to_user_id_str": None,
                 "in_reply_to_screen_name": None, "user": user, "geo": None, "coordinates": None,
                 "place": None, "contributors": None, "is_quote_status": False,
                 "retweet_count": 0, "favorite_count": 0, "favorited": False, "retweeted": False,
                 "lang": "en"}
        retweet = RETWEET.match(text)
        if retweet:
            original = text[retweet.end():]
            author = retweet.group(1)
            original_id = _snowflake(moment - timedelta(minutes=30), sequence + 2048)
            tweet["retweeted_status"] = {
                "created_at": _twitter_time(moment - timedelta(minutes=30)), "id": original_id,
                "id_str": str(original_id), "full_text": original, "truncated": False,
                "display_text_range": [0, len(original)], "entities": _entities(original),
                "user": {"id": _user_id(author), "id_str": str(_user_id(author)), "screen_name": author,
                         "name": author}, "retweet_count": 120, "favorite_count": 300, "lang": "en"}
            tweet["retweet_count"] = 120
        return tweet

    def user_timeline(self, screen_name: str | None, user_id: str | None, count: str | None,
                      since_id: str | None, max_id: str | None, extended: bool, trim_user: bool,
                      include_rts: bool) -> list[dict]:
        account = self._account(screen_name, user_id)
        limit = min(_positive(count, "count", default=20), MAX_COUNT)
        since = _positive(since_id, "since_id", default=0)
        newest = _positive(max_id, "max_id", default=None)
        # like Twitter, count is applied before retweets are dropped
        chosen = [t for t in account.tweets if t["id"] > since and (newest is None or t["id"] <= newest)][:limit]
        if not include_rts:
            chosen = [t for t in chosen if "retweeted_status" not in t]
        return [_render(t, extended, trim_user) for t in chosen]

    def _account(self, screen_name: str | None, user_id: str | None) -> Account:
        if screen_name:
            account = self.accounts.get(screen_name.lstrip("@").lower())
        elif user_id:
            account = next((a for a in self.accounts.values() if a.user["id_str"] == user_id), None)
        else:
            raise errors.missing_parameter("screen_name or user_id")
        if account is None:
            raise errors.page_does_not_exist()
        return account


def _positive(raw: str | None, name: str, default):
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.invalid_parameter(name) from None
    if value < 1:
        raise errors.invalid_parameter(name)
    return value


def _render(tweet: dict, extended: bool, trim_user: bool) -> dict:
    """The tweet as the request's tweet_mode asks: `full_text`, or the 140-character `text`."""
    out = dict(tweet)
    if trim_user:
        out["user"] = {"id": tweet["user"]["id"], "id_str": tweet["user"]["id_str"]}
    if not extended:
        full = out.pop("full_text")
        out.pop("display_text_range")
        out["text"] = full if len(full) <= 140 else full[:139] + "\u2026"
        out["truncated"] = len(full) > 140
    return out
