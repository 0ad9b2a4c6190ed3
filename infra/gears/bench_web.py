"""What a visitor downloads: each page of ``web/dist`` (``make web``) and the scripts and styles it loads, raw and
gzip-compressed (what CloudFront sends with ``Compress: true``), into ``bench/results/web.md``.

    .venv/bin/python -m gears.bench_web [--dist web/dist] [--out bench/results/web.md]
"""

from __future__ import annotations

import argparse
import gzip
import re
from dataclasses import dataclass
from pathlib import Path

PAGES = {"index.html": "storefront", "admin.html": "admin console"}


@dataclass(frozen=True)
class Weight:
    raw: int
    gzip: int

    def __add__(self, other: Weight) -> Weight:
        return Weight(self.raw + other.raw, self.gzip + other.gzip)


def kib(n: int) -> str:
    return f"{n / 1024:.1f} KiB"


def weight(path: Path) -> Weight:
    data = path.read_bytes()
    return Weight(len(data), len(gzip.compress(data, compresslevel=9)))


def loaded_by(page: Path) -> list[Path]:
    """The scripts, module preloads and stylesheets a built page names (Vite writes them all into the page)."""
    html = page.read_text(encoding="utf-8")
    names = re.findall(r'(?:src|href)="\.?/?(assets/[^"]+\.(?:js|css))"', html)
    return [page.parent / n for n in dict.fromkeys(names)]


def report(dist: Path) -> str:
    if not (dist / "index.html").is_file():
        raise SystemExit(f"{dist} has no build: run `make web` first")
    lines = [
        "# What the pages weigh",
        "",
        "Each page and everything it loads before it can draw (`web/dist`, `make web`), raw and gzip level 9. "
        "Fonts are the system's; images come from the products' own URLs and are not counted.",
        "",
        "| page | files | raw | gzip |",
        "|---|---|---|---|",
    ]
    for name, label in PAGES.items():
        page = dist / name
        files = [page, *loaded_by(page)]
        total = sum((weight(f) for f in files), Weight(0, 0))
        lines.append(f"| {label} (`{name}`) | {len(files)} | {kib(total.raw)} | {kib(total.gzip)} |")
    lines += ["", "| file | raw | gzip |", "|---|---|---|"]
    for f in sorted((dist / "assets").iterdir()):
        w = weight(f)
        lines.append(f"| `{f.name}` | {kib(w.raw)} | {kib(w.gzip)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dist", default="web/dist")
    parser.add_argument("--out", default="bench/results/web.md")
    args = parser.parse_args(argv)
    text = report(Path(args.dist))
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
