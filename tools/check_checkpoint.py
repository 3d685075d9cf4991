#!/usr/bin/env python3
"""Loads a finished mmae run into PyTorch and checks it against the run's own latent codes.

What it checks (see docs/reliability.md):
  1. model.safetensors loads into the same network built from torch.nn layers with a strict
     load_state_dict: every name and shape is PyTorch's.
  2. checkpoint.safetensors does too once its optimizer.* and train.* entries are set aside,
     and its weights equal model.safetensors'.
  3. The encoder in evaluation mode reproduces latent.npy, so the weights mean the same thing
     in both programs.

Needs Debian's python3-torch. Uses safetensors.torch.load_file when the safetensors package is
installed; otherwise it reads the file by the format's specification (8-byte little-endian
header length, JSON header, raw little-endian data), which is what load_file does.

    /usr/bin/python3 tools/check_checkpoint.py runs/<run-folder> [--data DIR]
"""
import argparse
import gzip
import json
import os
import struct
import sys

import numpy as np
import torch

DTYPES = {"F32": torch.float32, "I32": torch.int32, "I64": torch.int64, "F64": torch.float64}


def read_safetensors(path):
    try:
        from safetensors.torch import load_file
        tensors = load_file(path)
    except ImportError:
        tensors = None
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    if tensors is None:
        tensors = {}
        for name, e in header.items():
            begin, end = e["data_offsets"]
            buf = bytearray(raw[8 + n + begin:8 + n + end])
            t = torch.frombuffer(buf, dtype=DTYPES[e["dtype"]]) if buf else torch.empty(0)
            tensors[name] = t.reshape(e["shape"])
    return tensors, meta


def deep_ae(arch):
    def block(i, o):
        return [torch.nn.Linear(i, o), torch.nn.BatchNorm1d(o), torch.nn.ReLU()]
    widths = [arch["InputDim"]] + arch["Hidden"]
    enc, dec = [], []
    for i, o in zip(widths, widths[1:]):
        enc += block(i, o)
    enc.append(torch.nn.Linear(widths[-1], arch["LatentDim"]))
    back = [arch["LatentDim"]] + arch["Hidden"][::-1]
    for i, o in zip(back, back[1:]):
        dec += block(i, o)
    dec += [torch.nn.Linear(back[-1], arch["InputDim"]), torch.nn.Tanh()]
    return torch.nn.ModuleDict({"encoder": torch.nn.Sequential(*enc),
                                "decoder": torch.nn.Sequential(*dec)})


def read_idx_images(folder):
    for name in ("images-idx3-ubyte.gz", "images-idx3-ubyte"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rb") as f:
                raw = f.read()
            _, count, rows, cols = struct.unpack(">iiii", raw[:16])
            pixels = np.frombuffer(raw[16:], dtype=np.uint8).reshape(count, rows * cols)
            return torch.from_numpy(pixels.astype(np.float64) / 127.5 - 1.0).float()
    sys.exit(f"{folder}: no images-idx3-ubyte(.gz)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--data", help="data folder (default: the run's, or the bundled digits)")
    args = ap.parse_args()

    weights, meta = read_safetensors(os.path.join(args.run, "model.safetensors"))
    arch = json.loads(meta["mmae.architecture"])
    model = deep_ae(arch)
    model.load_state_dict(weights, strict=True)
    print(f"model.safetensors: strict load_state_dict of {len(weights)} tensors: ok")

    state, _ = read_safetensors(os.path.join(args.run, "checkpoint.safetensors"))
    own = {k: v for k, v in state.items() if not k.startswith(("optimizer.", "train."))}
    deep_ae(arch).load_state_dict(own, strict=True)
    same = all(torch.equal(own[k], weights[k]) for k in weights if not k.endswith("num_batches_tracked"))
    print(f"checkpoint.safetensors: strict load of {len(own)} model tensors: ok; same weights: {same}")

    config = json.loads(meta["mmae.config"])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    data = args.data or config.get("Data") or os.path.join(root, "data", "mnist-10k")
    x = read_idx_images(data)
    model.eval()
    with torch.no_grad():
        z = model["encoder"](x).numpy()
    latent = np.load(os.path.join(args.run, "latent.npy"))
    diff = float(np.abs(z - latent).max())
    scale = float(np.abs(latent).max())
    print(f"encoder vs latent.npy: max |difference| {diff:.3g} (codes up to {scale:.3g})")
    ok = same and diff <= 1e-4 * max(scale, 1.0)
    print("all checks passed" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
