#!/usr/bin/env python3
"""PyTorch CUDA reference figures, next to `Mmae.Bench gpu` (both run by tools/gpu/run.sh).

Same cases and the same markdown layout (| case | ms |) as the Mmae table, so run.sh can join
the two on the case names:

  - L_mm forward + backward through torch.cdist and autograd (p×p matrices), and the same loss
    expanded into Gram matrices (linear in p), at p = 1024, 8192, 65536, 262144 (m = 256,
    l = 100); a cdist case that cannot fit in device memory is not run and reads
    "out of memory (needs N GB)", N scaled from the peak measured at p = 8192;
  - the extra device memory of the Gram form at the largest p (peak minus z, e and dz);
  - plain (non-squared) distances through cdist at p = 8192;
  - torch.matmul 4096³ with TF32 off;
  - the DeepAE 784-1000-500-250-256 (BatchNorm1d + ReLU, Tanh output) + L_mm training step with
    Adam at batch 1024 and 8192, L_mm through cdist as a PyTorch user would write it.

    python3 tools/gpu/torch_cuda_reference.py                        # on a CUDA machine
    python3 tools/gpu/torch_cuda_reference.py --device cpu --smoke   # tiny sizes: checks the script

Each figure is the median wall time after warm-up, with the device synchronised inside the timed
region. The loss functions and the model come from tools/bench/torch_reference.py.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from torch_reference import (  # noqa: E402
    median_ms, mm_loss_cdist, mm_loss_gram, mm_loss_plain_cdist, training_step)

FULL = dict(sizes=[1024, 8192, 65536, 262144], m=256, l=100, plain_p=8192, gemm=4096,
            batches=[1024, 8192], measure_p=8192)
# Tiny sizes for checking the script without a GPU; the numbers mean nothing.
SMOKE = dict(sizes=[32, 64], m=16, l=8, plain_p=64, gemm=64, batches=[16, 32], measure_p=32)
MIB = 1 << 20


def is_out_of_memory(error):
    return isinstance(error, RuntimeError) and "out of memory" in str(error)


class Device:
    """Synchronisation, free memory and peak allocation for CUDA; no-ops on the CPU."""

    def __init__(self, name):
        self.torch = torch.device(name)
        self.cuda = self.torch.type == "cuda"

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize()

    def free_bytes(self):
        return torch.cuda.mem_get_info()[0] if self.cuda else None

    def reset_peak(self):
        if self.cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        return torch.cuda.memory_allocated() if self.cuda else 0

    def peak(self):
        return torch.cuda.max_memory_allocated() if self.cuda else None

    def timed(self, fn, repeats, warmup):
        def run():
            fn()
            self.sync()
        return median_ms(run, repeats, warmup)


def match_step(dev, loss_fn, p, m, l, repeats):
    """Median ms of forward + backward, and the peak bytes beyond the inputs z, e (and dz)."""
    z = torch.randn(p, m, device=dev.torch, requires_grad=True)
    e = torch.randn(p, l, device=dev.torch)

    def step():
        z.grad = None
        loss_fn(z, e).backward()
    base = dev.reset_peak()
    ms = dev.timed(step, repeats, warmup=1)
    peak = dev.peak()
    extra = None if peak is None else peak - base - z.numel() * 4
    del z, e
    return ms, extra


def row(what, value):
    print(f"| {what} | {value} |", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, to check the script")
    args = ap.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("torch_cuda_reference: PyTorch sees no CUDA device", file=sys.stderr)
        return 1
    dev = Device(args.device)
    c = SMOKE if args.smoke else FULL
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)
    name = torch.cuda.get_device_name(dev.torch) if dev.cuda else "cpu"
    print(f"# torch {torch.__version__} on {name}, TF32 off"
          + (" (smoke sizes, not a benchmark)" if args.smoke else ""))
    print()
    print("| case | ms |")
    print("|---|---|")

    # The Gram form's memory first, as the Mmae table does.
    big = c["sizes"][-1]
    _, extra = match_step(dev, mm_loss_gram, big, c["m"], c["l"], 1)
    inputs = (2 * big * c["m"] + big * c["l"]) * 4 / MIB
    row(f"L_mm extra device memory (Gram form), p = {big}",
        "not measured on the CPU" if extra is None
        else f"{extra / MIB:.1f} MiB (inputs z, e and dz: {inputs:.1f} MiB)")

    per_pair = None
    for p in c["sizes"]:
        what = f"L_mm fwd+bwd cdist (autograd), p = {p}"
        need = None if per_pair is None else per_pair * p * p
        free = dev.free_bytes()
        if need is not None and free is not None and need > 0.9 * free:
            row(what, f"out of memory (needs {need / 1e9:.0f} GB)")
            continue
        try:
            ms, extra = match_step(dev, mm_loss_cdist, p, c["m"], c["l"], 10 if p <= 8192 else 3)
        except RuntimeError as error:
            if not is_out_of_memory(error):
                raise
            torch.cuda.empty_cache()
            row(what, "out of memory" + ("" if need is None else f" (needs {need / 1e9:.0f} GB)"))
            continue
        if p == c["measure_p"] and extra is not None:
            per_pair = extra / (p * p)
        row(what, f"{ms:.3f}")

    for p in c["sizes"]:
        ms, _ = match_step(dev, mm_loss_gram, p, c["m"], c["l"], 15 if p <= 8192 else 5)
        row(f"L_mm fwd+bwd (Gram form), p = {p}", f"{ms:.3f}")

    ms, _ = match_step(dev, mm_loss_plain_cdist, c["plain_p"], c["m"], c["l"], 5)
    row(f"L_mm fwd+bwd plain distances, p = {c['plain_p']}", f"{ms:.3f}")

    n = c["gemm"]
    a = torch.randn(n, n, device=dev.torch)
    b = torch.randn(n, n, device=dev.torch)
    ms = dev.timed(lambda: torch.matmul(a, b), 10, warmup=2)
    row(f"SGEMM {n}³", f"{ms:.3f} ({2 * n ** 3 / ms / 1e6:.0f} GFLOP/s)")
    del a, b

    for batch in c["batches"]:
        # .item() reads the loss back, as Mmae's step does.
        step = training_step(batch, dev.torch)
        ms = dev.timed(lambda: step().item(), 10 if batch >= 8192 else 20, warmup=3)
        row(f"training step, batch {batch}", f"{ms:.2f} ({batch * 1000 / ms:.0f} samples/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
