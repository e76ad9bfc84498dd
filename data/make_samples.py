"""Write the small sample data sets the notebooks and tests run on, deterministically.

    python data/make_samples.py            # every sample
    python data/make_samples.py housing    # only some

Each module of data/generators/ makes one data set under data/samples/<name>/ with the
real schema of a book data set; data/README.md says where each comes from and what is
synthetic. Running it twice gives identical files (the tests check this).
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLES = HERE / "samples"
sys.path.insert(0, str(HERE))

import generators  # noqa: E402  (data/generators, one module per data set)


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(generators.__path__) if not m.name.startswith("_"))


def make(name: str, root: Path = SAMPLES) -> list[Path]:
    module = importlib.import_module(f"generators.{name}")
    out = root / name
    out.mkdir(parents=True, exist_ok=True)
    return module.make(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"data sets to make (default: all of {available()})")
    parser.add_argument("--out", type=Path, default=SAMPLES, help="where to write (default data/samples)")
    args = parser.parse_args()
    for name in args.names or available():
        if name not in available():
            parser.error(f"unknown data set {name!r}; choose from {available()}")
        for path in make(name, args.out):
            print(f"wrote {path.relative_to(args.out.parent) if args.out == SAMPLES else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
