#!/usr/bin/env bash
# GPU tests and benchmarks for a machine that has an NVIDIA GPU but no .NET SDK. Two phases:
#
#   tools/gpu/run.sh build        Here, with the .NET 10 SDK. Publishes mmae, Mmae.Tests and
#                                 Mmae.Bench self-contained for linux-x64 (the runtime included)
#                                 into one folder and packs it as
#                                 artifacts/gpu/mmae-gpu-linux-x64.tar.gz (about 45 MiB; the
#                                 unpacked folder is about 114 MiB). Carry that file.
#   tools/gpu/run.sh run [DIR]    There, from the repository root. Unpacks the archive into a
#                                 temporary folder and runs, each step under a time limit:
#                                 `mmae devices --probe`; the GPU tests (the test classes named
#                                 Cuda, Gpu or DeviceTests); `Mmae.Bench gpu`; when PyTorch sees
#                                 CUDA, tools/gpu/torch_cuda_reference.py; and the default
#                                 training job for 3 epochs on the GPU. Writes DIR (default $OUT,
#                                 else ./gpu-results): summary.md (steps, test counts, one table
#                                 with both benchmarks) and one log per step. Ends within 8 minutes.
#
# Environment for `run`:
#   MMAE_GPU_KIND=ilgpu-cpu   check the whole path without a GPU: ILGPU's CPU accelerator, tiny
#                             benchmark sizes, no default training job (default: cuda).
#   MMAE_PYTHON=...           the Python with PyTorch (default: python3).
#   MMAE_GPU_BUDGET_S=460     seconds all steps together may take (default 460).
# Exit code: 0 when every step passed (PyTorch missing is not a failure), 1 otherwise.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
archive="$root/artifacts/gpu/mmae-gpu-linux-x64.tar.gz"

build() {
    set -e
    local app="$root/artifacts/gpu/app"
    rm -rf "$app" "$archive"
    # MmaeSelfRun leaves VSTest out of Mmae.Tests: its own Main runs the tests (TestRunner.cs).
    # InvariantGlobalization: the GPU machine may lack libicu, and nothing here is culture-bound.
    local props=(-c Release -r linux-x64 --self-contained -p:InvariantGlobalization=true
        -p:MmaeSelfRun=true -p:UseAppHost=true -o "$app")
    for project in Mmae.Train Mmae.Tests Mmae.Bench; do
        dotnet publish "$root/$project" "${props[@]}" -v quiet -nologo
    done
    tar -C "$root/artifacts/gpu" -cf - app | gzip -9 > "$archive"
    echo "published $(du -sm "$app" | cut -f1) MiB; packed into $archive:" \
        "$(stat -c %s "$archive") bytes (carry this file; the folder is removed)"
    rm -rf "$app"
}

# step NAME SECONDS FILE COMMAND...: runs COMMAND with stdout and stderr into FILE under a time
# limit (cut to what is left before the deadline), and adds a row to the steps table.
step() {
    local name=$1 limit=$2 file=$3
    shift 3
    local start=$SECONDS rc
    if [ $((deadline - SECONDS)) -lt "$limit" ]; then
        limit=$((deadline - SECONDS))
    fi
    if [ "$limit" -lt 5 ]; then
        status=1
        steps+=("| $name | not run: the time budget is spent | 0 | - |")
        echo "$name: not run, no time left"
        return
    fi
    timeout --kill-after=5 "$limit" "$@" > "$file" 2>&1
    rc=$?
    local result="passed"
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        result="timed out after $limit s"
    elif [ $rc -ne 0 ]; then
        # The last line says why (an error line, or the test counts); '|' would split the cell.
        result="failed (exit $rc): $(grep -v '^[[:space:]]*$' "$file" | tail -n 1 | cut -c1-160 | tr '|' '/')"
    fi
    [ $rc -eq 0 ] || status=1
    steps+=("| $name | $result | $((SECONDS - start)) | $(basename "$file") |")
    echo "$name: $result in $((SECONDS - start)) s"
}

# Joins two `| case | value |` tables on the case column, Mmae's rows first.
join_tables() {
    awk -F' [|] ' '
        /^[|] / && !/^[|] case [|]/ && !/^[|]---/ {
            c = substr($1, 3); v = $2; sub(/ [|]$/, "", v)
            if (!(c in seen)) { seen[c] = 1; order[++n] = c }
            if (FILENAME == ARGV[1]) mmae[c] = v; else torch[c] = v
        }
        END {
            print "| case | Mmae (ILGPU) | PyTorch |"
            print "|---|---|---|"
            for (i = 1; i <= n; i++) {
                c = order[i]
                printf "| %s | %s | %s |\n", c, (c in mmae) ? mmae[c] : "-", (c in torch) ? torch[c] : "-"
            }
        }' "$1" "$2"
}

run() {
    local kind=${MMAE_GPU_KIND:-cuda} python=${MMAE_PYTHON:-python3}
    local out=${1:-${OUT:-./gpu-results}}
    if [ ! -f "$archive" ]; then
        echo "run.sh: $archive not found; run 'tools/gpu/run.sh build' on a machine with the .NET SDK" >&2
        return 1
    fi
    mkdir -p "$out" && out=$(cd "$out" && pwd)
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    local start=$SECONDS
    # Every step ends by this deadline (7 min 40 s), leaving time for the summary.
    deadline=$((SECONDS + ${MMAE_GPU_BUDGET_S:-460}))
    tar -xzf "$archive" -C "$work"
    local app="$work/app"
    status=0
    steps=()
    : > "$out/bench-mmae.md"
    : > "$out/bench-torch.md"
    : > "$out/tests.log"
    echo "unpacked in $((SECONDS - start)) s; results go to $out"

    local smoke=() tests=(--class Cuda --class Gpu --class DeviceTests) torch_args=()
    step "devices" 45 "$out/devices.log" "$app/mmae" devices --probe
    if [ "$kind" = "ilgpu-cpu" ]; then
        smoke=(--smoke)
        tests=(--class DeviceTests)
        torch_args=(--device cpu --smoke)
    fi

    step "tests" 200 "$out/tests.log" "$app/Mmae.Tests" "${tests[@]}"
    step "bench (Mmae)" 120 "$out/bench-mmae.md" "$app/Mmae.Bench" gpu "$kind" "${smoke[@]}"
    local have_torch="no"
    if timeout 60 "$python" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2> /dev/null \
        || { [ "$kind" = "ilgpu-cpu" ] && timeout 60 "$python" -c 'import torch' 2> /dev/null; }; then
        have_torch="yes"
        step "bench (PyTorch)" 90 "$out/bench-torch.md" "$python" "$root/tools/gpu/torch_cuda_reference.py" \
            "${torch_args[@]}"
    fi
    if [ "$kind" != "ilgpu-cpu" ]; then
        step "train, default job, 3 epochs" 60 "$out/train.log" \
            "$app/mmae" train --device "$kind" --epochs 3 --out "$work/run"
    fi

    {
        local title
        title=$(grep -m1 '^# ' "$out/bench-mmae.md" | sed 's/^# //')
        echo "# GPU run: ${title:-device kind $kind, no benchmark figures}"
        echo
        echo "$(date -u '+%Y-%m-%d %H:%M UTC'), device kind $kind, $((SECONDS - start)) s in all."
        echo
        echo "| step | result | seconds | log |"
        echo "|---|---|---|---|"
        printf '%s\n' "${steps[@]}"
        echo
        local counts
        counts=$(tail -n 1 "$out/tests.log" | grep -E '^[0-9]+ passed, [0-9]+ failed')
        echo "Tests: ${counts:-did not finish (see tests.log)}"
        if grep -q '^epoch' "$out/train.log" 2> /dev/null; then
            echo
            echo "Default job (\`mmae train --device $kind --epochs 3\`):"
            echo
            grep -E '^(GPU|device)|^epoch|trustworthiness' "$out/train.log" | sed 's/^/    /'
        fi
        echo
        [ "$have_torch" = "yes" ] && grep -m1 '^# ' "$out/bench-torch.md" | sed 's/^# /PyTorch: /'
        [ "$have_torch" = "yes" ] || echo "PyTorch: no CUDA-enabled torch for $python; its column is empty."
        echo
        join_tables "$out/bench-mmae.md" "$out/bench-torch.md"
        echo
        [ ${#smoke[@]} -eq 0 ] && echo "Medians after warm-up, in ms unless the row says otherwise;" \
            "m = 256, l = 100, DeepAE 784-1000-500-250-256 with Adam."
        [ ${#smoke[@]} -eq 0 ] || echo "Smoke sizes (m = 16, l = 8, tiny models): the numbers mean nothing."
        echo "Plain distances: Mmae's fused tiled kernel, PyTorch's cdist with autograd."
    } > "$out/summary.md"
    echo "wrote $out/summary.md in $((SECONDS - start)) s"
    return $status
}

case "${1:-}" in
    build) build ;;
    run) shift; run "$@" ;;
    *)
        sed -n '2,/^set /p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'
        exit 2
        ;;
esac
