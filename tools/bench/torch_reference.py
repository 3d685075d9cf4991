#!/usr/bin/env python3
"""PyTorch reference figures for docs/benchmarks.md, on the CPU with a fixed thread count.

Measures what `dotnet run -c Release --project Mmae.Bench -- figures` measures, with the same
shapes, so the two tables can be put side by side. Needs Debian's python3-torch (and OpenBLAS):

    apt-get install python3-torch libopenblas0-pthread
    /usr/bin/python3 tools/bench/torch_reference.py --threads 2

Each figure is the median wall time of repeated runs after warm-up.
"""
import argparse
import statistics
import time

import torch


def median_ms(fn, repeats, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def mm_loss_cdist(z, e):
    """The method's loss through torch.cdist: p×p matrices, autograd."""
    dz = torch.cdist(z, z) ** 2
    de = torch.cdist(e, e) ** 2
    p = z.shape[0]
    return ((de / de.norm() - dz / dz.norm()) ** 2).sum() / (p * p)


def mm_loss_plain_cdist(z, e):
    dz = torch.cdist(z, z)
    de = torch.cdist(e, e)
    p = z.shape[0]
    return ((de / de.norm() - dz / dz.norm()) ** 2).sum() / (p * p)


def mm_loss_gram(z, e):
    """The same squared-distance loss expanded into small Gram matrices (linear in p)."""
    p = z.shape[0]
    z = z - z.mean(0)
    e = e - e.mean(0)
    a = (z * z).sum(1)
    b = (e * e).sum(1)
    c = 2 * p * (a * b).sum() + 2 * a.sum() * b.sum() + 4 * (e.T @ z).pow(2).sum()
    q = 2 * p * (a * a).sum() + 2 * a.sum() ** 2 + 4 * (z.T @ z).pow(2).sum()
    r = 2 * p * (b * b).sum() + 2 * b.sum() ** 2 + 4 * (e.T @ e).pow(2).sum()
    return 2.0 / (p * p) * (1 - c / torch.sqrt(q * r))


def deep_ae(m=256):
    def block(i, o):
        return [torch.nn.Linear(i, o), torch.nn.BatchNorm1d(o), torch.nn.ReLU()]
    enc = torch.nn.Sequential(*block(784, 1000), *block(1000, 500), *block(500, 250),
                              torch.nn.Linear(250, m))
    dec = torch.nn.Sequential(*block(m, 250), *block(250, 500), *block(500, 1000),
                              torch.nn.Linear(1000, 784), torch.nn.Tanh())
    return enc, dec


def training_step(batch, device="cpu"):
    """One DeepAE + L_mm (cdist) step with Adam on fixed random data, as a function returning
    the loss (a device tensor: reading it waits for the device)."""
    enc, dec = (net.to(device) for net in deep_ae())
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-3)
    x = torch.rand(batch, 784, device=device) * 2 - 1
    e = torch.randn(batch, 100, device=device)

    def step():
        opt.zero_grad()
        z = enc(x)
        loss = torch.nn.functional.mse_loss(dec(z), x) + mm_loss_cdist(z, e)
        loss.backward()
        opt.step()
        return loss
    return step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="fewer repeats, skip p = 8192")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    reps = 3 if args.quick else 7
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| case | ms |")
    print("|---|---|")

    for (m, n, k, what) in [(1024, 1024, 1024, "SGEMM 1024³"),
                            (128, 1000, 784, "SGEMM 128×1000×784 (fwd NT)"),
                            (128, 784, 1000, "SGEMM 128×784×1000 (dx NN)"),
                            (1000, 784, 128, "SGEMM 1000×784×128 (dW TN)")]:
        a = torch.rand(m, k)
        b = torch.rand(k, n)
        ms = median_ms(lambda: torch.matmul(a, b), 20)
        print(f"| {what} | {ms:.3f} ({2 * m * n * k / ms / 1e6:.1f} GFLOP/s) |")

    sizes = [128, 1024, 4096] + ([] if args.quick else [8192])
    for p in sizes:
        z = torch.randn(p, 256, requires_grad=True)
        e = torch.randn(p, 100)

        def step(loss_fn=mm_loss_cdist):
            z.grad = None
            loss_fn(z, e).backward()
        r = reps if p < 8192 else 2
        print(f"| L_mm fwd+bwd cdist, p = {p} | {median_ms(step, r, warmup=1):.2f} |")
    for p in [4096] + ([] if args.quick else [65536]):
        z = torch.randn(p, 256, requires_grad=True)
        e = torch.randn(p, 100)

        def gram_step():
            z.grad = None
            mm_loss_gram(z, e).backward()
        print(f"| L_mm fwd+bwd Gram form, p = {p} | {median_ms(gram_step, reps, warmup=1):.2f} |")
    z = torch.randn(4096, 256, requires_grad=True)
    e = torch.randn(4096, 100)

    def plain_step():
        z.grad = None
        mm_loss_plain_cdist(z, e).backward()
    print(f"| L_mm fwd+bwd plain distances (cdist), p = 4096 | {median_ms(plain_step, reps, warmup=1):.2f} |")

    for batch in [128, 256, 1024]:
        ms = median_ms(training_step(batch), 10 if not args.quick else 5, warmup=3)
        print(f"| training step, batch {batch} | {ms:.1f} ({batch * 1000 / ms:.0f} samples/s) |")


if __name__ == "__main__":
    main()
