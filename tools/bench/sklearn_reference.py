#!/usr/bin/env python3
"""scikit-learn (and, when importable, umap-learn) reference figures for the t-SNE and UMAP
references of `mmae reference`, on the same bundled 10,000 MNIST digits.

Run with the system Python, which has Debian's python3-sklearn:

    /usr/bin/python3 tools/bench/sklearn_reference.py            # t-SNE and, if present, UMAP
    /usr/bin/python3 tools/bench/sklearn_reference.py --n 2000   # the first 2,000 digits only

For each method it prints the fit time in seconds (loading and the metric not included) and
trustworthiness@10 between the pixels and the embedding over every sample, as
sklearn.manifold.trustworthiness computes it. Pixels are scaled to [-1, 1] as mmae does; t-SNE
and UMAP do not depend on that affine scaling. The matching mmae command is

    mmae reference tsne:2      mmae reference umap:2

and the two should be run back to back on the same machine, as timings on a shared machine
are noisy. The t-SNE settings are sklearn's defaults of version 1.2 written out: Barnes-Hut,
angle 0.5, perplexity 30, early exaggeration 12, PCA initialisation, learning rate 'auto'
(max(n / early exaggeration / 4, 50)), 1000 iterations.
"""
import argparse
import gzip
import os
import platform
import struct
import sys
import time

import numpy as np
from sklearn.manifold import TSNE, trustworthiness

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read_idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    magic, = struct.unpack(">i", raw[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "i" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_digits(folder, n):
    images = read_idx(os.path.join(folder, "images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(folder, "labels-idx1-ubyte.gz"))
    x = images.reshape(images.shape[0], -1).astype(np.float32) / 127.5 - 1.0
    return x[:n], labels[:n]


def report(name, x, fit):
    t0 = time.perf_counter()
    y = fit(x)
    seconds = time.perf_counter() - t0
    trust = trustworthiness(x, y, n_neighbors=10)
    print(f"{name:<28} {seconds:8.1f} s   trust@10 {trust:.4f}", flush=True)
    return y


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "data", "mnist-10k"))
    parser.add_argument("--n", type=int, default=10000, help="use the first N digits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", help="folder to write the embeddings as .npy")
    args = parser.parse_args()

    x, _ = load_digits(args.data, args.n)
    import sklearn
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"scikit-learn {sklearn.__version__}, {os.cpu_count()} CPUs, "
          f"{time.strftime('%Y-%m-%d %H:%M')}")
    print(f"data: {x.shape[0]} x {x.shape[1]} from {args.data}")

    tsne = TSNE(n_components=2, perplexity=30.0, early_exaggeration=12.0,
                learning_rate="auto", n_iter=1000, init="pca", method="barnes_hut",
                angle=0.5, random_state=args.seed)
    y = report("sklearn t-SNE (BH, 0.5)", x, tsne.fit_transform)
    if args.save:
        np.save(os.path.join(args.save, "sklearn-tsne-2.npy"), y.astype(np.float32))

    try:
        import umap  # noqa: F401  (umap-learn is optional)
    except ImportError:
        print("umap-learn: not importable here; no UMAP reference figure", flush=True)
        return 0

    reducer = umap.UMAP(n_components=2, n_neighbors=15, min_dist=0.1, random_state=args.seed)
    y = report("umap-learn UMAP", x, reducer.fit_transform)
    if args.save:
        np.save(os.path.join(args.save, "umap-learn-2.npy"), y.astype(np.float32))
    return 0


if __name__ == "__main__":
    sys.exit(main())
