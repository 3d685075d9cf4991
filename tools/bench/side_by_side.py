#!/usr/bin/env python3
"""Joins the rounds of tools/bench/compare.sh into one table: median per case, and the ratio.

    side_by_side.py RESULTS_DIR ROUNDS
"""
import re
import statistics
import sys

# (what, Mmae case, PyTorch case). The ratio is PyTorch's time over ours: above 1, we are faster.
ROWS = [
    ("SGEMM 1024³", "SGEMM 1024³", "SGEMM 1024³"),
    ("SGEMM 128×1000×784 (fwd NT)", "SGEMM 128×1000×784 (fwd NT)", "SGEMM 128×1000×784 (fwd NT)"),
    ("SGEMM 128×784×1000 (dx NN)", "SGEMM 128×784×1000 (dx NN)", "SGEMM 128×784×1000 (dx NN)"),
    ("SGEMM 1000×784×128 (dW TN)", "SGEMM 1000×784×128 (dW TN)", "SGEMM 1000×784×128 (dW TN)"),
] + [
    (f"L_mm fwd+bwd p = {p}: ours (Gram form) vs cdist",
     f"L_mm fwd+bwd (Gram form, the default), p = {p}", f"L_mm fwd+bwd cdist, p = {p}")
    for p in (128, 1024, 4096, 8192)
] + [
    ("L_mm fwd+bwd p = 4096: ours vs PyTorch's Gram form",
     "L_mm fwd+bwd (Gram form, the default), p = 4096", "L_mm fwd+bwd Gram form, p = 4096"),
    ("L_mm fwd+bwd p = 65536: ours vs PyTorch's Gram form",
     "L_mm fwd+bwd (Gram form), p = 65536", "L_mm fwd+bwd Gram form, p = 65536"),
    ("L_mm plain distances p = 4096: tiled vs cdist",
     "L_mm fwd+bwd plain distances (tiled), p = 4096", "L_mm fwd+bwd plain distances (cdist), p = 4096"),
] + [
    (f"training step, batch {b}", f"training step, batch {b}", f"training step, batch {b}")
    for b in (128, 256, 1024)
]


def read(path):
    cases = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\| (.+?) \| ([0-9.]+)", line)
            if m:
                cases[m.group(1)] = float(m.group(2))
    return cases


def main():
    folder, rounds = sys.argv[1], int(sys.argv[2])
    ours = [read(f"{folder}/mmae-{r}.md") for r in range(1, rounds + 1)]
    theirs = [read(f"{folder}/torch-{r}.md") for r in range(1, rounds + 1)]
    print(f"| case | Mmae ms | PyTorch ms | PyTorch / Mmae | Mmae range over {rounds} rounds |")
    print("|---|---|---|---|---|")
    for what, a, b in ROWS:
        xs = [t[a] for t in ours if a in t]
        ys = [t[b] for t in theirs if b in t]
        if not xs or not ys:
            continue
        x, y = statistics.median(xs), statistics.median(ys)
        print(f"| {what} | {x:.2f} | {y:.2f} | {y / x:.2f}× | {min(xs):.2f}–{max(xs):.2f} |")


if __name__ == "__main__":
    main()
