#!/usr/bin/env python3
"""PyTorch reference for the dSprites MMVAE training step (issue 6), on the CPU.

The network is the method's dSprites table, as Mmae.Engine builds it for `--arch dsprites
--model vae`: conv 32-64-128-256 (4x4, stride 2, pad 1, LeakyReLU 0.2, BatchNorm after all but
the first), flatten 4096, linear 512, heads to the latent; the decoder mirrors it with
transposed convolutions and a Tanh output. One step = forward, L = SSE + beta*KL + lambda*L_mm(mu, E),
backward and Adam, on a batch of 64 binary 64x64 images scaled to [-1, 1].

    /usr/bin/python3 tools/bench/torch_dsprites_vae.py --threads 2 --latent 256 --ref-dim 100

Prints the median seconds per step after warm-up.
"""
import argparse
import statistics
import time

import torch
from torch import nn


def encoder(latent):
    layers, cin = [], 1
    for i, cout in enumerate([32, 64, 128, 256]):
        layers.append(nn.Conv2d(cin, cout, 4, 2, 1))
        if i > 0:
            layers.append(nn.BatchNorm2d(cout))
        layers.append(nn.LeakyReLU(0.2))
        cin = cout
    layers += [nn.Flatten(), nn.Linear(4096, 512), nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers), nn.Linear(512, latent), nn.Linear(512, latent)


def decoder(latent):
    layers = [nn.Linear(latent, 512), nn.LeakyReLU(0.2), nn.Linear(512, 4096), nn.LeakyReLU(0.2),
              nn.Unflatten(1, (256, 4, 4))]
    chans = [256, 128, 64, 32]
    for cin, cout in zip(chans, chans[1:]):
        layers += [nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2)]
    layers += [nn.ConvTranspose2d(32, 1, 4, 2, 1), nn.Tanh()]
    return nn.Sequential(*layers)


def mm_loss(z, e):
    dz = torch.cdist(z, z) ** 2
    de = torch.cdist(e, e) ** 2
    p = z.shape[0]
    return ((de / de.norm() - dz / dz.norm()) ** 2).sum() / (p * p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--latent", type=int, default=256)
    ap.add_argument("--ref-dim", type=int, default=100)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--beta", type=float, default=1.0)
    ap.add_argument("--lam", type=float, default=1.0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    trunk, fc_mu, fc_logvar = encoder(args.latent)
    dec = decoder(args.latent)
    params = [*trunk.parameters(), *fc_mu.parameters(), *fc_logvar.parameters(), *dec.parameters()]
    opt = torch.optim.Adam(params, lr=1e-3)
    x = (torch.rand(args.batch, 1, 64, 64) < 0.2).float() * 2 - 1
    e = torch.randn(args.batch, args.ref_dim)

    def step():
        opt.zero_grad()
        h = trunk(x)
        mu, logvar = fc_mu(h), fc_logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        rec = ((dec(z) - x) ** 2).sum() / args.batch
        kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum() / args.batch
        loss = rec + args.beta * kl + args.lam * mm_loss(mu, e)
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    print(f"pytorch {torch.__version__} threads {args.threads}: dSprites MMVAE step, batch {args.batch}, "
          f"latent {args.latent}: median {statistics.median(times):.3f} s/step (min {min(times):.3f})")


if __name__ == "__main__":
    main()
