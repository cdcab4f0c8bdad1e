#!/usr/bin/env python3
"""Compares two training runs' loss curves (curves.csv of `emanet train`): means over windows of
100 iterations, the largest window difference, and the final validation mIoU of each."""
import csv
import sys


def read(path):
    steps, evals = {}, {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            it = int(row["iteration"])
            if row.get("loss"):
                steps[it] = float(row["loss"])
            if row.get("val_miou"):
                evals[it] = float(row["val_miou"])
    return steps, evals


def main(a_path, b_path, window=100):
    (a, a_eval), (b, b_eval) = read(a_path), read(b_path)
    common = sorted(set(a) & set(b))
    if not common:
        sys.exit("the runs share no iteration")
    print(f"| iterations | {a_path} loss | {b_path} loss | difference |")
    print("|---|---|---|---|")
    worst = 0.0
    for start in range(common[0], common[-1] + 1, window):
        its = [i for i in common if start <= i < start + window]
        if not its:
            continue
        ma = sum(a[i] for i in its) / len(its)
        mb = sum(b[i] for i in its) / len(its)
        worst = max(worst, abs(ma - mb) / ma)
        print(f"| {its[0]}-{its[-1]} | {ma:.4f} | {mb:.4f} | {mb - ma:+.4f} ({(mb - ma) / ma * 100:+.1f}%) |")
    print(f"\nlargest relative difference of a {window}-iteration mean: {worst * 100:.1f}%")
    for name, ev in ((a_path, a_eval), (b_path, b_eval)):
        if ev:
            last = max(ev)
            print(f"{name}: validation mIoU at iteration {last}: {ev[last] * 100:.2f}%")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
