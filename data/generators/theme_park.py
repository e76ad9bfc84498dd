"""Theme-park photos in the schemas of Lim et al.'s SIGIR'17 Flickr data (`data-sigir17`).

`poiList-sigir17`: poiID;poiName;lat;long;rideDuration;theme;theme2;theme3;theme4
`userVisits-sigir17`: id;nsid;takenUnix;poiID;poiTheme;poiFreq;rideDuration;seqID

Synthetic: 31 attractions of one park (real attraction names, made-up coordinates near
Disneyland, Anaheim) and 700 made-up Flickr users. Each user has a taste — thrill rides,
family and kiddie rides, shows, water rides, or a mix — and visits and photographs the
attractions that match it more often, so collaborative filtering has real structure to
find. One row per photo; `seqID` numbers a user's trips (a gap of more than 8 hours
starts a new one); `poiFreq` is the attraction's photo count in the whole file.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

SEED = 6
USERS = 700
# name, minutes per ride, themes
POIS = [
    ("Space Mountain", 3.0, ["Thrill", "Roller Coaster", "Dark Ride"]),
    ("Big Thunder Mountain Railroad", 3.5, ["Thrill", "Roller Coaster"]),
    ("Matterhorn Bobsleds", 2.5, ["Thrill", "Roller Coaster"]),
    ("Indiana Jones Adventure", 3.0, ["Thrill", "Dark Ride"]),
    ("California Screamin'", 2.5, ["Thrill", "Roller Coaster"]),
    ("The Twilight Zone Tower of Terror", 2.0, ["Thrill", "Dark Ride"]),
    ("Test Track", 4.0, ["Thrill", "Ride"]),
    ("Gadget's Go Coaster", 1.0, ["Kiddie", "Roller Coaster"]),
    ("Dumbo the Flying Elephant", 1.67, ["Family", "Spinning Ride"]),
    ("Mad Tea Party", 1.5, ["Family", "Spinning Ride"]),
    ("Astro Orbitor", 1.5, ["Family", "Spinning Ride"]),
    ("King Arthur Carrousel", 2.0, ["Kiddie", "Family"]),
    ("It's A Small World", 12.0, ["Family", "Boat Ride"]),
    ("Peter Pan's Flight", 2.5, ["Kiddie", "Dark Ride"]),
    ("Snow White's Scary Adventures", 2.0, ["Kiddie", "Dark Ride"]),
    ("Pinocchio's Daring Journey", 3.0, ["Kiddie", "Dark Ride"]),
    ("The Many Adventures of Winnie the Pooh", 3.5, ["Kiddie", "Dark Ride"]),
    ("Buzz Lightyear Astro Blasters", 4.5, ["Family", "Dark Ride"]),
    ("Golden Zephyr", 2.0, ["Family", "Spinning Ride"]),
    ("Fantasmic!", 22.0, ["Show", "Night Show"]),
    ("Country Bear Jamboree", 15.0, ["Show", "Family"]),
    ("Main Street Cinema", 10.0, ["Show"]),
    ("Enchanted Tiki Room", 15.0, ["Show", "Family"]),
    ("Sleeping Beauty Castle Walkthrough", 10.0, ["Show", "Walkthrough"]),
    ("Walt Disney World Railroad", 20.0, ["Show", "Train"]),
    ("Splash Mountain", 11.0, ["Water", "Thrill", "Boat Ride"]),
    ("Pirates of the Caribbean", 15.0, ["Water", "Boat Ride", "Dark Ride"]),
    ("Jungle Cruise", 10.0, ["Water", "Boat Ride"]),
    ("Tom Sawyer Island", 30.0, ["Water", "Family", "Walkthrough"]),
    ("Grizzly River Run", 5.0, ["Water", "Thrill"]),
    ("Voyage of The Little Mermaid", 12.0, ["Water", "Kiddie", "Dark Ride"]),
]
# taste -> weight of each main theme
TASTES = {"thrill": {"Thrill": 8.0, "Water": 1.5}, "family": {"Family": 6.0, "Kiddie": 6.0},
          "shows": {"Show": 8.0, "Family": 1.0}, "water": {"Water": 8.0, "Thrill": 1.0},
          "mix": {}}
TASTE_SHARES = np.array([0.27, 0.27, 0.16, 0.16, 0.14])
POI_COLUMNS = ["poiID", "poiName", "lat", "long", "rideDuration", "theme", "theme2", "theme3", "theme4"]
VISIT_COLUMNS = ["id", "nsid", "takenUnix", "poiID", "poiTheme", "poiFreq", "rideDuration", "seqID"]


def poi_rows(rng) -> list[list]:
    out = []
    for i, (name, minutes, themes) in enumerate(POIS, start=1):
        lat, lon = 33.8121 + rng.normal(scale=0.002), -117.9190 + rng.normal(scale=0.002)
        padded = (themes + ["None"] * 4)[:4]
        out.append([i, name, f"{lat:.6f}", f"{lon:.6f}", f"{minutes:.2f}", *padded])
    return out


def _affinity(taste: str, rng) -> np.ndarray:
    """How much a user of this taste likes each attraction, plus personal noise."""
    weights = TASTES[taste]
    base = np.array([1.0 + sum(weights.get(t, 0.0) for t in themes[:2]) for _, _, themes in POIS])
    return base * rng.lognormal(sigma=0.25, size=len(POIS))


def visit_rows(rng) -> list[list]:
    photos, photo_id = [], 5_800_000_000
    for user in range(USERS):
        nsid = f"{int(rng.integers(10_000_000, 99_999_999))}@N0{int(rng.integers(0, 9))}"
        taste = list(TASTES)[rng.choice(len(TASTES), p=TASTE_SHARES)]
        affinity = _affinity(taste, rng)
        visited = rng.choice(len(POIS), size=min(len(POIS), 1 + int(rng.geometric(0.2))),
                             replace=False, p=affinity / affinity.sum())
        trip_start = 1_300_000_000 + int(rng.integers(0, 90_000_000))
        clock = trip_start
        keenness = rng.lognormal(sigma=0.5)  # some visitors photograph everything
        for poi in sorted(visited, key=lambda _: rng.random()):
            count = 1 + int(rng.poisson(keenness * affinity[poi]))
            if rng.random() < 0.3:  # another trip, days later
                clock += int(rng.integers(2, 400)) * 86_400
            for _ in range(count):
                clock += int(rng.integers(5, 240))
                photos.append([photo_id, nsid, clock, poi + 1])
                photo_id += int(rng.integers(1, 5000))
            clock += int(rng.integers(600, 5400))
    freq = np.bincount([p[3] for p in photos], minlength=len(POIS) + 1)
    out, last_user, last_time, seq = [], None, 0, 0
    for photo_id, nsid, taken, poi in sorted(photos, key=lambda p: (p[1], p[2])):
        if nsid != last_user or taken - last_time > 8 * 3600:
            seq += 1
        last_user, last_time = nsid, taken
        name, minutes, themes = POIS[poi - 1]
        out.append([photo_id, nsid, taken, poi, themes[0], int(freq[poi]), f"{minutes * 60:.1f}", seq])
    return out


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    lines = [";".join(header)] + [";".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def make(out: Path) -> list[Path]:
    rng = np.random.default_rng(SEED)
    pois, visits = out / "poiList-sigir17", out / "userVisits-sigir17"
    _write(pois, POI_COLUMNS, poi_rows(rng))
    _write(visits, VISIT_COLUMNS, visit_rows(rng))
    return [pois, visits]
