#!/usr/bin/env bash
# The GPU checks in one command, for a machine with a CUDA GPU (docs/benchmarks.md, "GPU runs"):
#
#   bash benchmarks/gpu.sh [OUTDIR] [STEP...]     # OUTDIR default benchmarks/results; STEPs default all
#
# Steps: tests (pytest -m gpu: every recipe under bf16-mixed and 16-mixed), johnson, cyclegan, adain, gatys
# (the speed benchmarks' GPU paths: bf16, channels_last, torch.compile, each against a plain fp32 eager
# baseline in the same run). Each benchmark writes its JSON into OUTDIR; the tests' log is OUTDIR/gpu-tests.log.
# A failing step is reported and the others still run; the exit status is 1 if any step failed.
set -uo pipefail

out=${1:-benchmarks/results}
shift || true
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(tests johnson cyclegan adain gatys)
py=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 PYTHONPATH=".${PYTHONPATH:+:$PYTHONPATH}"

if ! "$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "error: no CUDA device visible to $py: benchmarks/gpu.sh is for a GPU machine" >&2
    exit 2
fi
mkdir -p "$out"
"$py" -c "import torch; print('torch', torch.__version__, 'on', torch.cuda.get_device_name())"

status=0
for step in "${steps[@]}"; do
    echo "== $step ($(date -u +%H:%M:%S))"
    case $step in
        tests)    "$py" -m pytest -m gpu -q -p no:cacheprovider 2>&1 | tee "$out/gpu-tests.log" ;;
        johnson)  "$py" -m benchmarks.bench_johnson --device cuda --out "$out/johnson-cuda.json" ;;
        cyclegan) "$py" -m benchmarks.bench_cyclegan --device cuda --out "$out/cyclegan-cuda.json" ;;
        adain)    "$py" -m benchmarks.bench_adain --device cuda --out "$out/adain-cuda.json" ;;
        gatys)    "$py" -m benchmarks.bench_gatys --device cuda --out "$out/gatys-cuda.json" ;;
        *)        echo "error: unknown step '$step' (tests, johnson, cyclegan, adain, gatys)" >&2; status=1; continue ;;
    esac
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAILED: $step (exit $rc)"
        status=1
    fi
done
exit $status
