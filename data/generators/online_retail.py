"""Transactions in the schema of the UCI *Online Retail* data set (`data.csv` on Kaggle).

Synthetic: no real rows. 400 customers of a UK gift wholesaler fall into three segments
that differ in where they live, what they buy and how much they spend:

- **wholesale**: UK shops ordering party and kitchen goods by the dozen (big spenders);
- **gift shoppers**: UK customers buying a few Christmas and home-decoration items;
- **international**: customers in 14 other countries buying retrospot and vintage lines.

Invoices, dates (M/D/YYYY H:MM as in the original), a few cancellations (`C` invoices,
negative quantities) and rows without a CustomerID are mixed in as in the real file.
"""
from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

SEED = 5
CUSTOMERS = 400
COLUMNS = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
           "CustomerID", "Country"]
# product lines: (name, words that make up descriptions, price range in GBP)
LINES = {
    "party": (["PARTY BUNTING", "PAPER CHAIN KIT", "PARTY CONES", "BALLOON", "PAPER PLATES",
               "NAPKINS", "CAKE CASES", "PARTY BAG"], (0.4, 2.5)),
    "kitchen": (["JAM MAKING SET", "BAKING SET", "TEA TOWELS", "CAKE TIN", "APRON", "OVEN GLOVE",
                 "MEASURING SPOONS", "STORAGE JAR"], (1.2, 6.0)),
    "christmas": (["CHRISTMAS TREE DECORATION", "CHRISTMAS STAR", "ADVENT CALENDAR",
                   "CHRISTMAS STOCKING", "SNOWFLAKE ORNAMENT", "REINDEER", "CHRISTMAS CANDLE"],
                  (0.8, 7.5)),
    "home": (["HANGING HEART T-LIGHT HOLDER", "HEART WICKER WREATH", "PHOTO FRAME", "CUSHION COVER",
              "DOORMAT", "WALL CLOCK", "LANTERN"], (2.0, 12.0)),
    "retrospot": (["RETROSPOT LUNCH BAG", "RETROSPOT UMBRELLA", "RETROSPOT MUG", "RETROSPOT CAKE STAND",
                   "RETROSPOT CHARLOTTE BAG", "RETROSPOT TEA SET"], (0.9, 9.0)),
    "vintage": (["VINTAGE SNAP CARDS", "VINTAGE DOILY", "VINTAGE ALARM CLOCK", "VINTAGE SIGN",
                 "VINTAGE POSTCARD SET", "VINTAGE BILLBOARD BAG"], (0.8, 8.0)),
}
COLOURS = ["RED", "PINK", "BLUE", "WHITE", "GREEN", "IVORY", "SPOTTY"]
SEGMENTS = {  # share of customers, product lines with weights, quantity range, order lines
    "wholesale": (0.30, {"party": 4, "kitchen": 4, "home": 1}, (12, 48), (14, 40)),
    "gift": (0.40, {"christmas": 5, "home": 3, "kitchen": 1}, (1, 6), (4, 14)),
    "international": (0.30, {"retrospot": 5, "vintage": 4, "party": 1}, (4, 16), (8, 24)),
}
COUNTRIES = ["Germany", "France", "EIRE", "Spain", "Netherlands", "Belgium", "Switzerland",
             "Portugal", "Australia", "Norway", "Italy", "Finland", "Sweden", "USA"]
COUNTRY_WEIGHTS = np.array([16, 15, 13, 7, 7, 6, 5, 4, 4, 3, 3, 2, 2, 1], float)


def _catalogue(rng) -> list[dict]:
    products, code = [], 20700
    for line, (names, (low, high)) in LINES.items():
        for name in names:
            for colour in rng.choice(COLOURS, size=2, replace=False):
                code += int(rng.integers(3, 60))
                suffix = "" if rng.random() < 0.6 else "ABCDEFG"[int(rng.integers(0, 7))]
                products.append({"line": line, "code": f"{code}{suffix}",
                                 "description": f"{colour} {name}",
                                 "price": round(float(rng.uniform(low, high)), 2)})
    return products


def rows(seed: int = SEED) -> list[list]:
    rng = np.random.default_rng(seed)
    products = _catalogue(rng)
    by_line = {line: [p for p in products if p["line"] == line] for line in LINES}
    names = list(SEGMENTS)
    shares = np.array([SEGMENTS[s][0] for s in names])
    invoice, start, out = 536365, datetime(2010, 12, 1, 8, 0), []
    customer_ids = rng.choice(np.arange(12346, 18288), size=CUSTOMERS, replace=False)
    orders = []
    for customer in customer_ids:
        segment = names[rng.choice(len(names), p=shares)]
        country = "United Kingdom" if segment != "international" else \
            str(rng.choice(COUNTRIES, p=COUNTRY_WEIGHTS / COUNTRY_WEIGHTS.sum()))
        for _ in range(int(rng.integers(1, 5))):
            when = start + timedelta(days=int(rng.integers(0, 373)), minutes=int(rng.integers(0, 600)))
            orders.append((when, int(customer), segment, country))
    orders.sort()
    for when, customer, segment, country in orders:
        _, mix, (qlow, qhigh), (llow, lhigh) = SEGMENTS[segment]
        lines = list(mix)
        weights = np.array([mix[l] for l in lines], float)
        cancelled = rng.random() < 0.02
        anonymous = rng.random() < 0.03
        number = f"C{invoice}" if cancelled else str(invoice)
        count = int(rng.integers(1, 4)) if cancelled else int(rng.integers(llow, lhigh + 1))
        for _ in range(count):
            line = lines[rng.choice(len(lines), p=weights / weights.sum())]
            product = by_line[line][int(rng.integers(0, len(by_line[line])))]
            quantity = int(rng.integers(qlow, qhigh + 1)) * (-1 if cancelled else 1)
            out.append([number, product["code"], product["description"], quantity,
                        f"{when.month}/{when.day}/{when.year} {when.hour}:{when.minute:02d}",
                        product["price"], "" if anonymous else customer, country])
        invoice += 1
    return out


def make(out: Path) -> list[Path]:
    path = out / "data.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows())
    return [path]
