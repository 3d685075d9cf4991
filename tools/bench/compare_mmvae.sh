#!/usr/bin/env bash
# The dSprites MMVAE training step (batch 64, latent 256, 100-D reference) in Mmae and in
# PyTorch, in alternating rounds on the same machine, so drift hits both alike.
#   tools/bench/compare_mmvae.sh [ROUNDS] [THREADS] [STEPS]   (defaults 2, 2, 10)
set -euo pipefail
rounds=${1:-2}
threads=${2:-2}
steps=${3:-10}
cd "$(dirname "$0")/../.."
dotnet build Mmae.Bench -c Release -v q -nologo >/dev/null
py=${PYTHON:-/usr/bin/python3}
for r in $(seq 1 "$rounds"); do
  echo "round $r"
  dotnet Mmae.Bench/bin/Release/net10.0/Mmae.Bench.dll mmvae 64 "$threads" "$steps"
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" tools/bench/torch_dsprites_vae.py --threads "$threads" \
    --latent 256 --ref-dim 100 --steps "$steps"
done
