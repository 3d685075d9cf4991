#!/usr/bin/env bash
# Mmae's figures and the PyTorch reference, measured alternately on the same machine and
# thread count, then put side by side (the table of docs/benchmarks.md).
#
#   tools/bench/compare.sh [ROUNDS] [THREADS]     (defaults: 3 rounds, 2 threads)
#
# Needs Debian's python3-torch and libopenblas0-pthread for the reference. Each round runs
# both programs once; the table gives the median of the rounds' figures, so a short burst of
# other load on the machine moves one round, not the result. Writes bench-results/ too.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
threads=${2:-2}
out=bench-results
mkdir -p "$out"
dotnet build Mmae.Bench -c Release -v quiet -nologo > /dev/null
for r in $(seq "$rounds"); do
    echo "round $r/$rounds" >&2
    dotnet Mmae.Bench/bin/Release/net10.0/Mmae.Bench.dll figures "$threads" > "$out/mmae-$r.md"
    # Debian's OpenBLAS picks its kernels by itself; variables some images set would pin them.
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 tools/bench/torch_reference.py \
        --threads "$threads" > "$out/torch-$r.md"
done
/usr/bin/python3 tools/bench/side_by_side.py "$out" "$rounds"
