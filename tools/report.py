"""build/report.html: every chapter's results at a glance, from a `make run`.

    python -m tools.report [--out build]

Per chapter: each way's metrics beside the book's figures and the band the tests accept,
each notebook's run time and status (a failed one shows its error and a link to its log),
its plots, and links to HTML copies of the executed notebooks.
"""
from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools import figures  # noqa: E402

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2733;padding:0 1rem}
h1{font-size:1.6rem} h2{margin-top:2.2rem;border-bottom:2px solid #e3e8ee;padding-bottom:.3rem}
table{border-collapse:collapse;width:100%;font-size:.92rem;margin:.6rem 0}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #e3e8ee;vertical-align:top}
th{background:#f5f7fa} td.num{font-variant-numeric:tabular-nums;text-align:right}
.ok{color:#137333;font-weight:600} .bad{color:#b3261e;font-weight:600} .muted{color:#68737d}
.plots{display:flex;flex-wrap:wrap;gap:.8rem;margin:.6rem 0}
.plots figure{margin:0;max-width:330px} .plots img{max-width:330px;border:1px solid #e3e8ee}
.plots figcaption{font-size:.8rem;color:#68737d} pre{white-space:pre-wrap;background:#fdf3f2;padding:.6rem}
.summary{display:flex;gap:2rem;font-size:1.05rem} nav a{margin-right:.8rem}
"""


def notebook_title(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0].source.splitlines()[0] if nb.cells else path.stem
    return first.lstrip("# ").strip()


def chapter_title(notebooks: list[Path]) -> str:
    """'Chapter 3 · Predicting house value with linear regression' from a notebook title."""
    return notebook_title(notebooks[0]).split(" — ")[0] if notebooks else ""


def images(executed: Path, limit: int = 2) -> list[str]:
    if not executed.exists():
        return []
    found = []
    for cell in nbformat.read(executed, as_version=4).cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                found.append(data["image/png"] if isinstance(data["image/png"], str) else "".join(data["image/png"]))
    return found[:limit]


def to_html(executed: Path) -> Path | None:
    if not executed.exists():
        return None
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(executed, as_version=4))
    target = executed.with_suffix(".html")
    target.write_text(body)
    return target


def _number(value) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else html.escape(str(value))


def write(out: Path) -> Path:
    everything = json.loads((out / "results.json").read_text())
    results = [r for r in everything if r.get("platform", "laptop") == "laptop"]
    spec = figures.load()
    chapters: dict[str, list[dict]] = {}
    for r in results:
        chapters.setdefault(r["notebook"].split("/")[0], []).append(r)
    passed = sum(1 for r in results if not r["error"] and not r["leftovers"])
    parts = [f"<!doctype html><meta charset=utf-8><title>Mastering ML on AWS — offline run</title><style>{STYLE}</style>",
             "<h1>Mastering Machine Learning on AWS — every chapter, run offline</h1>",
             f"<div class=summary><span>{dt.datetime.now():%Y-%m-%d %H:%M}</span>"
             f"<span class={'ok' if passed == len(results) else 'bad'}>{passed} of {len(results)} notebooks passed</span>"
             f"<span>{sum(r['seconds'] for r in results):.0f} s of notebook time</span></div>",
             "<p class=muted>Sample data, AWS emulated by localaws. The book's figures come from the full "
             "data sets and AWS's own services, so expect the two columns to differ; the band is what the "
             "tests accept on the samples.</p>",
             "<nav>" + "".join(f"<a href='#{c}'>{html.escape(c.split('_')[0].replace('chapter', 'Ch. '))}</a>"
                               for c in chapters) + "</nav>"]
    for chapter, rows in chapters.items():
        paths = [ROOT / r["notebook"] for r in rows]
        parts.append(f"<h2 id='{chapter}'>{html.escape(chapter_title(paths))}</h2><table>"
                     "<tr><th>notebook</th><th>way</th><th>metric</th><th>this run</th><th>over repeated splits</th>"
                     "<th>book</th><th>book vs. spread</th><th>band</th><th>time</th><th>status</th></tr>")
        gallery = []
        for r in rows:
            executed = out / "executed" / r["notebook"]
            page = to_html(executed)
            link = f"<a href='{page.relative_to(out)}'>{html.escape(Path(r['notebook']).name)}</a>" if page \
                else html.escape(Path(r["notebook"]).name)
            expected = spec.get(r["notebook"], {})
            metrics = list(expected.get("metrics", {})) or sorted(r["metrics"]) or [""]
            ok = not r["error"] and not r["leftovers"]
            status = "<span class=ok>passed</span>" if ok else "<span class=bad>failed</span>"
            for i, metric in enumerate(metrics):
                band = expected.get("metrics", {}).get(metric, {})
                band_text = f"{band['min']} – {band['max']}" if "min" in band and "max" in band else ""
                first = i == 0
                parts.append(
                    f"<tr><td>{link if first else ''}</td><td>{html.escape(expected.get('way', '')) if first else ''}</td>"
                    f"<td>{html.escape(metric)}</td><td class=num>{_number(r['metrics'].get(metric))}</td>"
                    f"<td class=num>{html.escape(figures.spread_text(r['metrics'], metric))}</td>"
                    f"<td class=num>{_number(band.get('book'))}</td>"
                    f"<td>{html.escape(figures.book_against_spread(band.get('book'), r['metrics'], metric))}</td>"
                    f"<td class=muted>{band_text}</td>"
                    f"<td class=num>{r['seconds'] if first else ''}{' s' if first else ''}</td>"
                    f"<td>{status if first else ''}</td></tr>")
            if not ok:
                log = out / "logs" / r["notebook"].replace(".ipynb", ".log")
                problem = r["error"] or f"left running: {r['leftovers']}"
                parts.append(f"<tr><td colspan=10><pre>{html.escape(problem)}</pre>"
                             f"<a href='{log.relative_to(out)}'>full log</a></td></tr>")
            gallery += [(Path(r["notebook"]).stem, png) for png in images(executed)]
        parts.append("</table>")
        if gallery:
            parts.append("<div class=plots>" + "".join(
                f"<figure><img src='data:image/png;base64,{png}'><figcaption>{html.escape(name)}</figcaption></figure>"
                for name, png in gallery) + "</div>")
    if len(results) < len(everything):
        parts.append(matrix_html(everything))
    else:  # this run had no platforms: show the last matrix `make test` ran, if any
        from tools import matrix

        last = matrix.remembered()
        if last:
            parts.append(matrix_html(results + last, note="platform columns from the last `make test`"))
    target = out / "report.html"
    target.write_text("\n".join(parts))
    return target


def matrix_html(results: list[dict], note: str = "") -> str:
    """Platform x notebook: ok / stops (at the SDK check, as it must) / FAILED / not run, and time."""
    from types import SimpleNamespace

    from tools import matrix

    defaults = {"platform": "laptop", "expected": None, "skipped": None}
    header, body = matrix.rows([SimpleNamespace(**{**defaults, **r}) for r in results])
    reasons = sorted({r["skipped"] for r in results if r.get("skipped")})

    def cell(text: str) -> str:
        css = "ok" if text.startswith(("ok", "stops")) else "bad" if text == "FAILED" else "muted"
        return f"<td class={css}>{html.escape(text)}</td>"

    return ("<h2 id=platforms>The platform matrix</h2><p class=muted>Each platform's kernel re-created on this "
            "machine (platforms/README.md); ok = passed; stops = stopped at the SDK check with the install "
            f"line, as it must on SDK v3; blank = not meant for that platform. {html.escape(note)}</p><table><tr>"
            + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"
            + "".join("<tr><td>" + html.escape(row[0]) + "</td>" + "".join(cell(c) for c in row[1:]) + "</tr>"
                      for row in body) + "</table>"
            + "".join(f"<p class=bad>not run: {html.escape(reason)}</p>" for reason in reasons))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    print(write(parser.parse_args().out))
