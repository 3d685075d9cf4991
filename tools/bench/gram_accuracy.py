#!/usr/bin/env python3
"""How far PyTorch's float32 evaluations of L_mm stray near convergence (docs/benchmarks.md).

Z is an almost isometric copy of E (3·E rotated into 256-D, shifted 100 units from the origin,
plus noise); the exact loss comes from float64 cdist on the same float32 inputs. Mmae's tests
(Mmae.Tests/Kernels/MatchLossAccuracyTests.cs) hold its kernels to 1e-5 of the exact value on
inputs of this kind.

    /usr/bin/python3 tools/bench/gram_accuracy.py
"""
import torch

from torch_reference import mm_loss_cdist, mm_loss_gram


def main():
    torch.manual_seed(0)
    p, m, l = 1024, 256, 100
    e = torch.randn(p, l, dtype=torch.float64)
    q, _ = torch.linalg.qr(torch.randn(m, m, dtype=torch.float64))
    print("| noise | exact L_mm | PyTorch Gram form, float32 | PyTorch cdist, float32 |")
    print("|---|---|---|---|")
    for noise in (1e-1, 1e-2, 1e-3):
        z = (3 * e @ q[:l] + 100 + noise * torch.randn(p, m, dtype=torch.float64)).float()
        e32 = e.float()
        exact = mm_loss_cdist(z.double(), e32.double()).item()
        gram = mm_loss_gram(z, e32).item()
        cdist = mm_loss_cdist(z, e32).item()
        print(f"| {noise:g} | {exact:.4e} | {gram:.4e} | {cdist:.4e} |")


if __name__ == "__main__":
    main()
