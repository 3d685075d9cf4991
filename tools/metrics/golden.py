#!/usr/bin/env python3
"""Golden values for Mmae's quality metrics (Mmae.Train/Metrics), computed once with
scikit-learn and numpy and written to Mmae.Tests/References/metrics-golden.json, which the
tests in Mmae.Tests/Train/QualityMetricsTests.cs read. Rerun after changing the inputs:

    /usr/bin/python3 tools/metrics/golden.py

It needs numpy and scikit-learn (Debian: apt-get install -y python3-sklearn). The inputs are
drawn from a seeded generator, stored as float32 and written into the JSON file, so the C#
tests read exactly the numbers the references saw. References:
  trustworthiness       sklearn.manifold.trustworthiness(X, Z, n_neighbors=k)
  continuity            the same with the spaces swapped, trustworthiness(Z, X)
  MRRE, RMSE, KL_sigma  plain numpy written from the definitions (scikit-learn has none)
  ARI, silhouette       sklearn.metrics.adjusted_rand_score, silhouette_score
  k-means inertia       sklearn.cluster.KMeans(n_init=10) on well-separated blobs
"""
import json
import os

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.manifold import trustworthiness
from sklearn.metrics import adjusted_rand_score, silhouette_score

KS = [3, 5, 10, 25, 100]
SIGMAS = [0.01, 0.1, 1.0]
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Mmae.Tests",
                   "References", "metrics-golden.json")


def distances(x):
    """Euclidean distance matrix in float64."""
    x = x.astype(np.float64)
    sq = ((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=-1)
    return np.sqrt(sq)


def ranks(d):
    """rank[i, j]: 1-based position of j among the points other than i, by distance from i,
    equal distances by index (a stable sort); rank[i, i] = 0."""
    n = d.shape[0]
    r = np.zeros((n, n), dtype=np.int64)
    for i in range(n):
        others = np.array([j for j in range(n) if j != i])
        order = others[np.argsort(d[i, others], kind="stable")]
        r[i, order] = np.arange(1, n)
    return r


def mrre(dx, dz, k):
    """Lee and Verleysen's mean relative rank errors with Moor et al.'s normalisation.
    latent_to_data: over the k nearest latent neighbours, |r_X - r_Z| / r_Z;
    data_to_latent: over the k nearest data neighbours, |r_X - r_Z| / r_X."""
    n = dx.shape[0]
    rx, rz = ranks(dx), ranks(dz)
    zx = 0.0
    xz = 0.0
    for i in range(n):
        for j in range(n):
            if j == i:
                continue
            if rz[i, j] <= k:
                zx += abs(rx[i, j] - rz[i, j]) / rz[i, j]
            if rx[i, j] <= k:
                xz += abs(rx[i, j] - rz[i, j]) / rx[i, j]
    c = n * sum(abs(2 * j - n - 1) / j for j in range(1, k + 1))
    return zx / c, xz / c


def kl_sigma(dx, dz, sigma):
    """KL(f_X || f_Z), f(i) proportional to sum_j exp(-(d_ij / max d)^2 / sigma), j = i
    included, each density normalised to sum 1."""
    fx = np.exp(-((dx / dx.max()) ** 2) / sigma).sum(axis=1)
    fz = np.exp(-((dz / dz.max()) ** 2) / sigma).sum(axis=1)
    fx /= fx.sum()
    fz /= fz.sum()
    return float((fx * (np.log(fx) - np.log(fz))).sum())


def floats(a):
    """float32 values as exact doubles, so JSON round-trips them."""
    return [float(v) for v in np.asarray(a, dtype=np.float32).ravel()]


def embedding_case(rng):
    n, high_dim, low_dim = 210, 10, 2
    x = rng.standard_normal((n, high_dim)).astype(np.float32)
    z = (x[:, :low_dim] + 0.7 * rng.standard_normal((n, low_dim))).astype(np.float32)
    recon = (x + 0.1 * rng.standard_normal((n, high_dim))).astype(np.float32)

    # Classes from the first two input coordinates, so latent codes partly separate them.
    labels = (2 * (x[:, 0] > 0) + (x[:, 1] > 0.3)).astype(np.int64)
    x64, z64 = x.astype(np.float64), z.astype(np.float64)
    dx, dz = distances(x64), distances(z64)
    case = {
        "n": n, "high_dim": high_dim, "low_dim": low_dim,
        "high": floats(x), "low": floats(z), "reconstruction": floats(recon),
        "labels": labels.tolist(), "ks": KS, "sigmas": SIGMAS,
        "trustworthiness": [trustworthiness(x64, z64, n_neighbors=k) for k in KS],
        "continuity": [trustworthiness(z64, x64, n_neighbors=k) for k in KS],
        "reconstruction_mse": float(((recon.astype(np.float64) - x64) ** 2).mean()),
        "distance_rmse": float(np.sqrt(((dx / dx.max() - dz / dz.max()) ** 2).mean())),
        "kl": [kl_sigma(dx, dz, s) for s in SIGMAS],
        "silhouette": float(silhouette_score(z64, labels, metric="euclidean")),
    }
    pairs = [mrre(dx, dz, k) for k in KS]
    case["mrre_latent_to_data"] = [p[0] for p in pairs]
    case["mrre_data_to_latent"] = [p[1] for p in pairs]
    return case


def labelling_cases(rng):
    cases = []
    for n, ca, cb in [(50, 3, 4), (50, 5, 5), (120, 10, 7), (17, 2, 3)]:
        a = rng.integers(0, ca, n)
        b = np.where(rng.random(n) < 0.6, a, rng.integers(0, cb, n))
        cases.append({"a": a.tolist(), "b": b.tolist()})

    # Label values need not be 0..C-1; a relabelled copy scores exactly 1.
    a = rng.integers(0, 4, 40)
    cases.append({"a": a.tolist(), "b": (7 * a - 3).tolist()})

    # Limit cases scikit-learn defines as 1: one cluster each; every point its own cluster.
    cases.append({"a": [0] * 12, "b": [5] * 12})
    cases.append({"a": list(range(12)), "b": list(range(12, 0, -1))})
    cases.append({"a": [0] * 12, "b": list(range(12))})
    for c in cases:
        c["ari"] = float(adjusted_rand_score(c["a"], c["b"]))
    return cases


def silhouette_cases(rng):
    cases = []
    for n, dim, classes in [(40, 3, 3), (75, 5, 6)]:
        x = rng.standard_normal((n, dim)).astype(np.float32)
        labels = rng.integers(0, classes, n)
        labels[0] = classes + 4  # a singleton cluster, whose silhouette is 0
        cases.append({"n": n, "dim": dim, "x": floats(x), "labels": labels.tolist()})
    for c in cases:
        x = np.array(c["x"], dtype=np.float64).reshape(c["n"], c["dim"])
        c["silhouette"] = float(silhouette_score(x, c["labels"], metric="euclidean"))
    return cases


def kmeans_case(rng):
    """Well-separated blobs: every good k-means run finds the same optimum."""
    n, dim, k = 150, 4, 5
    centres = 12.0 * rng.standard_normal((k, dim))
    truth = np.arange(n) % k
    x = (centres[truth] + rng.standard_normal((n, dim))).astype(np.float32)
    km = KMeans(n_clusters=k, n_init=10, random_state=0).fit(x.astype(np.float64))
    return {"n": n, "dim": dim, "k": k, "x": floats(x), "labels": truth.tolist(),
            "inertia": float(km.inertia_),
            "ari": float(adjusted_rand_score(truth, km.labels_))}


def main():
    rng = np.random.default_rng(20260404)
    golden = {
        "generator": "tools/metrics/golden.py",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "embedding": embedding_case(rng),
        "ari": labelling_cases(rng),
        "silhouette": silhouette_cases(rng),
        "kmeans": kmeans_case(rng),
    }
    with open(OUT, "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
