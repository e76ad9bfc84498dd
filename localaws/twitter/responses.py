"""HTTP front end of the Twitter API v1.1 emulation, served under a path of our server
(`TWITTER_API_URL` = <localaws>/twitter) since it is not an AWS service."""
from __future__ import annotations

import json

from werkzeug.wrappers import Request, Response

from . import exceptions as errors
from .models import TwitterBackend

PREFIX = "/twitter"
TRUE = ("true", "1", "t")


class TwitterService:
    # TWITTER_API_URL is where clients find us. Twython sends the bearer token through
    # requests-oauthlib, which refuses plain-HTTP URLs unless OAUTHLIB_INSECURE_TRANSPORT is
    # set; our server is plain HTTP on 127.0.0.1.
    endpoint_variables = {"TWITTER_API_URL": PREFIX}
    client_environment = {"OAUTHLIB_INSECURE_TRANSPORT": "1"}

    def __init__(self, backend: TwitterBackend):
        self.backend = backend
        self.routes = {
            ("POST", "/oauth2/token"): self.oauth2_token,
            ("GET", "/1.1/statuses/user_timeline.json"): self.user_timeline,
        }

    def matches(self, request: Request) -> bool:
        return request.path == PREFIX or request.path.startswith(PREFIX + "/")

    def __call__(self, request: Request) -> Response:
        handler = self.routes.get((request.method, request.path[len(PREFIX):]))
        try:
            if handler is None:
                raise errors.page_does_not_exist()
            return _json(handler(request))
        except errors.TwitterError as err:
            return _json(err.body(), err.status)

    def oauth2_token(self, request: Request) -> dict:
        token = self.backend.issue_token(request.headers.get("Authorization"), request.form.get("grant_type"))
        return {"token_type": "bearer", "access_token": token}

    def user_timeline(self, request: Request) -> list:
        self.backend.check_token(request.headers.get("Authorization"))
        args = request.args
        return self.backend.user_timeline(
            screen_name=args.get("screen_name"), user_id=args.get("user_id"), count=args.get("count"),
            since_id=args.get("since_id"), max_id=args.get("max_id"),
            extended=args.get("tweet_mode") == "extended",
            trim_user=args.get("trim_user", "").lower() in TRUE,
            include_rts=args.get("include_rts", "true").lower() in TRUE)


def _json(body, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json;charset=utf-8")
