#!/usr/bin/env python3
"""Draws the two plots of BENCHMARKS.md as SVG from criterion's results (standard library only).

Usage: python3 scripts/bench_plot.py [CRITERION_DIR] [--out DIR]

* readers.svg: aggregate reads/s with 1 and 2 reader threads, per implementation (u32);
* churn.svg:   reads/s of one reader while one writer clears and refills 1024 elements, per
               implementation (u32), with the writer's operations/s beside it.

CRITERION_DIR is found as in bench_summary.py; DIR defaults to docs/.
"""

import argparse
import html
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_summary import default_dir, load  # noqa: E402

IMPLS = [
    ("ftarray_reader", "FtArray Reader::get"),
    ("ftarray_get", "FtArray get"),
    ("arcswap", "ArcSwap<Vec>"),
    ("pl_rwlock", "parking_lot RwLock<Vec>"),
    ("std_rwlock", "std RwLock<Vec>"),
    ("pl_mutex", "parking_lot Mutex<Vec>"),
    ("atomic_relaxed", "Vec<AtomicU32> (relaxed)"),
    ("vec", "Vec (no sync)"),
]
COLORS = ["#1f77b4", "#ff7f0e"]


def bars_svg(title, unit, rows, series):
    """rows: [(label, [value per series or None])]; a horizontal grouped bar chart."""
    width, left, right, bar, gap, top = 900, 230, 120, 14, 10, 60
    height = top + len(rows) * (bar * len(series) + gap) + 40
    vmax = max((v for _, vals in rows for v in vals if v), default=1.0)
    scale = (width - left - right) / vmax
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15">{html.escape(title)}</text>',
    ]
    for k, name in enumerate(series):
        x = left + k * 200
        out.append(f'<rect x="{x}" y="34" width="12" height="12" fill="{COLORS[k]}"/>')
        out.append(f'<text x="{x + 18}" y="45">{html.escape(name)}</text>')
    y = top
    for label, vals in rows:
        group_h = bar * len(series)
        out.append(
            f'<text x="{left - 8}" y="{y + group_h / 2 + 4}" text-anchor="end">{html.escape(label)}</text>'
        )
        for k, v in enumerate(vals):
            if v is None:
                out.append(f'<text x="{left + 4}" y="{y + bar - 3}" fill="#888">no data</text>')
            else:
                w = max(v * scale, 1)
                out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar - 2}" fill="{COLORS[k]}"/>')
                out.append(f'<text x="{left + w + 4:.1f}" y="{y + bar - 3}">{v / 1e6:.1f} M{unit}/s</text>')
            y += bar
        y += gap
    out.append("</svg>")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", nargs="?", type=Path, default=default_dir())
    ap.add_argument("--out", type=Path, default=Path("docs"))
    args = ap.parse_args()
    t = load(args.dir, "slope")
    if not t:
        sys.exit(f"no criterion results under {args.dir}")
    args.out.mkdir(parents=True, exist_ok=True)

    def agg(impl, n):
        ns = t.get(f"readers_scaling/{impl}/u32_{n}t")
        return n * 1e9 / ns if ns else None

    rows = [(label, [agg(i, 1), agg(i, 2)]) for i, label in IMPLS]
    (args.out / "readers.svg").write_text(
        bars_svg(
            "Aggregate reads/s by reader threads (u32, 1024 elements, no writer)",
            "reads",
            rows,
            ["1 reader thread", "2 reader threads"],
        )
    )

    def rate(impl, side):
        ns = t.get(f"read_under_churn/{impl}/{side}/u32")
        return 1e9 / ns if ns else None

    churn = [(label, [rate(i, "reads"), rate(i, "writes")]) for i, label in IMPLS[:6]]
    (args.out / "churn.svg").write_text(
        bars_svg(
            "One reader while one writer clears and refills 1024 elements (u32)",
            "",
            churn,
            ["reader: reads/s", "writer: clear+extend ops/s"],
        )
    )
    print(f"wrote {args.out / 'readers.svg'} and {args.out / 'churn.svg'}")


if __name__ == "__main__":
    main()
