#!/usr/bin/env bash
# Prepared GPU check for one H100 / H200 with no network (the model runs stop starting
# after --budget-s, default 420 s; on one H200 with --budget-s 280 the whole check took
# 341 s): installs the pure Python stack from carried wheels, then runs gpu_check.py
# (CUDA tests, bf16 step time / images/s / memory / MFU of the paper configs, SDPA path,
# PrRoI pooling vs mmcv, CIM data-loader workers) and writes one JSON, section by section.
# A machine without pycocotools cannot build the demo data: carry data/demo and
# data/demo_tests (see gpu_check.py's docstring).
#
#   bash tools/analysis_tools/gpu_check.sh [gpu_check.py options: --out FILE
#       --peak-tflops T --budget-s S --data-root DIR --test-data-root DIR]
#   DRY_RUN=1 bash tools/analysis_tools/gpu_check.sh --out check.json   # CPU, tiny
#
# WHEELS (default .whl): folder of the wheels listed in requirements/gpu_check.txt (see
# its header for the pip download command); skipped when absent (the packages are
# already installed, as on a development machine). PYTHON (default python3).
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python3}
WHEELS=${WHEELS:-.whl}
if compgen -G "$WHEELS/*.whl" > /dev/null; then
    SITE=${SITE:-/tmp/gpu_check_site}
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
        --upgrade --target "$SITE" "$WHEELS"/*.whl
    export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
DRY=()
if [ -n "${DRY_RUN:-}" ]; then DRY=(--dry-run); fi
exec "$PYTHON" tools/analysis_tools/gpu_check.py "${DRY[@]}" "$@"
