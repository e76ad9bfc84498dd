"""The Twitter API v1.1 emulation, through Twython (as chapter 2 uses it) and raw HTTP."""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
import requests
from twython import Twython, TwythonAuthError, TwythonError

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples" / "tweets"


@pytest.fixture(scope="module")
def api() -> str:
    return os.environ["TWITTER_API_URL"]


def pointed_at(twitter: Twython, api: str) -> Twython:
    """Twython with its base URL set from configuration (what the notebook does)."""
    twitter.api_url = api.rstrip("/") + "/%s"
    twitter.request_token_url = twitter.api_url % "oauth2/token"
    return twitter


@pytest.fixture(scope="module")
def token(api) -> str:
    return pointed_at(Twython("app-key", "app-secret", oauth_version=2), api).obtain_access_token()


@pytest.fixture(scope="module")
def twitter(api, token) -> Twython:
    return pointed_at(Twython("app-key", access_token=token), api)


def test_user_timeline_in_extended_mode_is_the_sample_newest_first(twitter):
    tweets = twitter.get_user_timeline(screen_name="TheDemocrats", tweet_mode="extended", count=200)
    assert [t["full_text"] for t in tweets] == (SAMPLES / "dem.txt").read_text().splitlines()
    ids = [t["id"] for t in tweets]
    assert ids == sorted(ids, reverse=True) and all(t["id_str"] == str(t["id"]) for t in tweets)
    times = [datetime.strptime(t["created_at"], "%a %b %d %H:%M:%S %z %Y") for t in tweets]
    assert times == sorted(times, reverse=True)
    assert {t["user"]["screen_name"] for t in tweets} == {"TheDemocrats"}


def test_entities_and_retweets_are_found_in_the_text(twitter):
    tweets = twitter.get_user_timeline(screen_name="GOP", tweet_mode="extended", count=200)
    retweets = [t for t in tweets if t["full_text"].startswith("RT @")]
    assert retweets and all(t["retweeted_status"]["user"]["screen_name"] in t["full_text"] for t in retweets)
    tagged = next(t for t in tweets if "#" in t["full_text"])
    start, end = tagged["entities"]["hashtags"][0]["indices"]
    assert tagged["full_text"][start:end] == "#" + tagged["entities"]["hashtags"][0]["text"]


def test_count_is_capped_at_200_and_max_id_pages_backwards(twitter):
    assert len(twitter.get_user_timeline(screen_name="GOP", count=500)) == 200
    first = twitter.get_user_timeline(screen_name="GOP", count=50, tweet_mode="extended")
    second = twitter.get_user_timeline(screen_name="GOP", count=50, tweet_mode="extended",
                                       max_id=first[-1]["id"] - 1)
    assert len(second) == 50 and second[0]["id"] < first[-1]["id"]
    newer = twitter.get_user_timeline(screen_name="GOP", since_id=first[1]["id"])
    assert [t["id"] for t in newer] == [first[0]["id"]]


def test_compatibility_mode_gives_text_not_full_text(twitter):
    tweet = twitter.get_user_timeline(screen_name="GOP", count=1)[0]
    assert "text" in tweet and "full_text" not in tweet and len(tweet["text"]) <= 140


def test_unknown_user_is_404_code_34(twitter):
    with pytest.raises(TwythonError) as caught:
        twitter.get_user_timeline(screen_name="no_such_account_here")
    assert caught.value.error_code == 404 and "does not exist" in str(caught.value)


def test_raw_http_errors_are_twitters(api, token):
    timeline = f"{api}/1.1/statuses/user_timeline.json"
    missing = requests.get(timeline, params={"screen_name": "GOP"}, timeout=10)
    assert missing.status_code == 400 and missing.json()["errors"][0]["code"] == 215
    bad = requests.get(timeline, params={"screen_name": "GOP"}, headers={"Authorization": "Bearer AAAAnope"}, timeout=10)
    assert bad.status_code == 401 and bad.json() == {"errors": [{"code": 89, "message": "Invalid or expired token."}]}
    unknown = requests.get(timeline, params={"screen_name": "nobody_at_all"},
                           headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["code"] == 34
    no_user = requests.get(timeline, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert no_user.status_code == 400 and no_user.json()["errors"][0]["code"] == 38
    bad_count = requests.get(timeline, params={"screen_name": "GOP", "count": "many"},
                             headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert bad_count.status_code == 400 and bad_count.json()["errors"][0]["code"] == 44


def test_token_endpoint_needs_basic_auth_and_the_grant_type(api):
    url = f"{api}/oauth2/token"
    ok = requests.post(url, data={"grant_type": "client_credentials"}, auth=("key", "secret"), timeout=10)
    assert ok.status_code == 200 and ok.json()["token_type"] == "bearer"
    no_auth = requests.post(url, data={"grant_type": "client_credentials"}, timeout=10)
    assert no_auth.status_code == 403 and no_auth.json()["errors"][0]["code"] == 99
    no_grant = requests.post(url, data={}, auth=("key", "secret"), timeout=10)
    assert no_grant.status_code == 403 and no_grant.json()["errors"][0]["code"] == 170
    with pytest.raises(TwythonAuthError):
        pointed_at(Twython("key", "", oauth_version=2), api).obtain_access_token()


def test_unknown_paths_are_404(api):
    response = requests.get(f"{api}/1.1/search/tweets.json", timeout=10)
    assert response.status_code == 404 and response.json()["errors"][0]["code"] == 34
