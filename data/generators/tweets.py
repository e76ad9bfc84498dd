"""Tweets of @TheDemocrats and @GOP, one per line, as chapter 2's collecting notebook writes them.

Synthetic: the live Twitter API needs a paid tier and its terms forbid redistributing
tweets, so these are composed from templates. Each party has its own issues, groups,
opponents, hashtags and calls to action; both share a pool of civic words and generic
holiday/election tweets, so a bag-of-words classifier learns a believable, not perfect,
separation. They look like the API's `full_text`: `RT @user:` retweets, `@mentions`,
`#hashtags`, `https://t.co/…` links and HTML-escaped `&amp;`. Every handle is invented.
"""
from __future__ import annotations

import random
from pathlib import Path

TWEETS_PER_PARTY = 200
SEED = 2019

PARTIES = {
    "dem": {
        "issue": ["health care", "affordable health care", "Medicaid expansion", "protections for pre-existing conditions",
                  "voting rights", "clean energy jobs", "climate action", "a living wage", "equal pay for equal work",
                  "common-sense gun safety laws", "Dreamers", "our public schools", "Social Security and Medicare",
                  "student debt relief", "the right to organize", "reproductive freedom", "clean air and water"],
        "opponent": ["Republicans", "the GOP", "Trump and the GOP", "Senate Republicans", "House Republicans",
                     "the Trump administration", "corporate special interests", "the gun lobby", "Big Pharma"],
        "attack": ["sabotage", "gut", "rip away", "cut", "undermine", "roll back", "repeal"],
        "group": ["working families", "seniors", "immigrant families", "students", "union workers", "women",
                  "veterans", "the middle class", "communities of color", "families"],
        "scandal": ["the GOP tax scam", "the culture of corruption", "family separations at the border",
                    "the shutdown", "voter suppression", "skyrocketing drug prices"],
        "call": ["Call your senator", "Make your voice heard", "Organize", "Register to vote", "Chip in $3",
                 "Sign the petition", "Find your polling place"],
        "win": ["Democrats passed the For the People Act", "Democrats flipped another state house seat",
                "Democrats held the line on health care", "a Democratic governor expanded Medicaid",
                "House Democrats passed the Equal Pay Act", "workers won a union contract"],
        "hashtag": ["#ProtectOurCare", "#ForThePeople", "#VoteBlue", "#ClimateAction", "#EqualPay", "#RaiseTheWage",
                    "#GunSafety", "#DefendDACA", "#HealthCareVoter", "#WhenWeAllVote"],
        "handle": ["DemVotersHQ", "UnionStrongUS", "CareNotCuts", "BlueStateNews", "DemGovsAssoc", "OrganizeNow",
                   "HouseDemCaucusHQ", "YoungDemsUSA"],
        "side": "Democrats",
    },
    "gop": {
        "issue": ["tax cuts", "lower taxes", "border security", "a secure border", "our Second Amendment rights",
                  "American energy independence", "religious liberty", "school choice", "a strong military",
                  "law and order", "cutting red tape", "record low unemployment", "fair trade deals",
                  "conservative judges", "free markets", "a balanced budget"],
        "opponent": ["Democrats", "the radical left", "the liberal media", "House Democrats", "socialist Democrats",
                     "open-borders Democrats", "Washington bureaucrats", "the Democrat establishment"],
        "attack": ["block", "obstruct", "raise taxes on", "resist", "stall", "undo", "defund"],
        "group": ["hardworking Americans", "small businesses", "our troops", "law enforcement", "taxpayers",
                  "American workers", "job creators", "farmers", "families", "veterans"],
        "scandal": ["the witch hunt", "socialism", "sanctuary cities", "the Green New Deal",
                    "government-run health care", "the Democrats' tax hikes"],
        "call": ["Join the team", "Stand with the President", "Get out and vote Republican", "Add your name",
                 "Volunteer today", "Tell Congress"],
        "win": ["the economy added 250,000 jobs", "unemployment hit a 50-year low", "wages are rising again",
                "Republicans confirmed another constitutionalist judge", "the tax cuts are paying off",
                "manufacturing jobs are coming back"],
        "hashtag": ["#MAGA", "#TaxCutsWork", "#JobsReport", "#SecureTheBorder", "#BackTheBlue", "#2A",
                    "#KeepAmericaGreat", "#RedWave", "#LowerTaxes", "#Winning"],
        "handle": ["GOPVotersHQ", "RedStateDaily", "TaxpayerFirst", "ConservativeCaucusHQ", "BorderWatchUS",
                   "YoungRepsUSA", "FreeMarketNews", "GOPGovsAssoc"],
        "side": "Republicans",
    },
}

# Tweets either party posts: holidays, turnout, debates. They carry no party signal.
SHARED = [
    "Happy Fourth of July! Today we celebrate the freedom that makes America great.",
    "Early voting starts today in many states. Make a plan and vote!",
    "Tune in tonight at 9pm ET for the debate. We'll be live-tweeting along.",
    "On Veterans Day we thank every man and woman who served our country. #ThankYouVeterans",
    "Wishing everyone a happy and safe Thanksgiving with family and friends. #HappyThanksgiving",
    "Today we remember those who gave their lives for our freedom. #MemorialDay",
    "Polls close at 8pm in most states. If you're in line, stay in line! #ElectionDay",
    "Our thoughts are with everyone in the path of the hurricane. Please follow local guidance and stay safe.",
    "Watch live: the State of the Union begins now. #SOTU",
    "Merry Christmas and happy holidays from our family to yours!",
    "Happy Labor Day to the workers who build this country.",
    "The deadline to register is next week. Check your registration now.",
]
CIVIC = ["today", "tonight", "this week", "right now", "this November", "every day"]
TEMPLATES = [
    "{opponent} want to {attack} {issue}. We won't let them. {hashtag}",
    "{Group} deserve {issue}, not {scandal}. {call}: {url}",
    "RT @{handle}: {opponent} just voted to {attack} {issue} for {group}. Remember that in November.",
    "We're fighting for {issue} {civic} because {group} can't wait. {hashtag} {url}",
    "Good news for {group}: {win}! {hashtag}",
    "RT @{handle}: {win}. That's what {side} deliver for {group}. {url}",
    "{opponent} are pushing {scandal} while {group} pay the price. {call} {url}",
    "It's simple: {issue} &amp; {issue2}. {side} will keep delivering for {group}. {hashtag}",
    "@{handle} Thank you for standing up for {issue}! {hashtag}",
    "{call} and tell {opponent}: hands off {issue}. {url}",
    "ICYMI: {win}. Read more: {url}",
    "RT @{handle}: {Group} are counting on us to protect {issue}. {hashtag} {hashtag2}",
]
SHARED_SHARE = 0.12  # fraction of each party's tweets drawn from SHARED


def _link(rng: random.Random) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "https://t.co/" + "".join(rng.choice(alphabet) for _ in range(10))


def _tweet(party: dict, rng: random.Random) -> str:
    if rng.random() < SHARED_SHARE:
        return rng.choice(SHARED)
    issue, issue2 = rng.sample(party["issue"], 2)
    hashtag, hashtag2 = rng.sample(party["hashtag"], 2)
    group = rng.choice(party["group"])
    text = rng.choice(TEMPLATES).format(
        opponent=rng.choice(party["opponent"]), attack=rng.choice(party["attack"]), issue=issue, issue2=issue2,
        group=group, Group=group[0].upper() + group[1:], scandal=rng.choice(party["scandal"]),
        call=rng.choice(party["call"]), win=rng.choice(party["win"]), hashtag=hashtag, hashtag2=hashtag2,
        handle=rng.choice(party["handle"]), side=party["side"], civic=rng.choice(CIVIC), url=_link(rng))
    return text[0].upper() + text[1:]


def timeline(party: str, count: int = TWEETS_PER_PARTY, seed: int = SEED) -> list[str]:
    """`count` distinct tweets of one party ('dem' or 'gop'), newest first."""
    rng = random.Random(f"{seed}-{party}")
    tweets: list[str] = []
    while len(tweets) < count:
        text = _tweet(PARTIES[party], rng)
        if text not in tweets or text in SHARED and tweets.count(text) < 2:
            tweets.append(text)
    return tweets


# A common English stop-word list (function words only), as the book's stop_words.txt.
STOP_WORDS = """a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most my
myself no nor not now of off on once only or other our ours ourselves out over own rt same she should so
some such than that the their theirs them themselves then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you your yours yourself
yourselves""".split()


def make(out: Path) -> list[Path]:
    paths = []
    for party in ("dem", "gop"):
        path = out / f"{party}.txt"
        path.write_text("\n".join(timeline(party)) + "\n", encoding="utf-8")
        paths.append(path)
    stop = out / "stop_words.txt"
    stop.write_text("\n".join(STOP_WORDS) + "\n", encoding="utf-8")
    return paths + [stop]
