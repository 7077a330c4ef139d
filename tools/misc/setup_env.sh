#!/usr/bin/env bash
# Build the project's virtual environment (.venv) from scratch or bring it up to date.
#
# mmcv 2.1.0 ships no wheel for torch 2.14, so its full build (compiled ops) is made
# from the PyPI sdist once and cached outside the repository, keyed by mmcv, torch and
# Python versions. Later environments reuse the cached wheel and install in minutes.
#
# Environment variables:
#   VENV              path of the virtual environment (default: .venv)
#   PYTHON            interpreter used to create it (default: python3.11)
#   MMSSL_WHEEL_CACHE where built wheels are cached (default: ~/.cache/mmssl_ext/wheels)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3.11}"
CACHE="${MMSSL_WHEEL_CACHE:-$HOME/.cache/mmssl_ext/wheels}"
MMCV_VERSION=2.1.0
MMCV_SDIST_SHA256=d387bcab66b467479b6660310e23746cfc79c6e57acf04094680adb499a5cd3f

log() { printf '[setup_env] %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV with $PYTHON"
    "$PYTHON" -m venv "$VENV"
fi
PY="$(cd "$VENV" && pwd)/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

"${PIP[@]}" install -q --upgrade pip
"${PIP[@]}" install -q -r requirements/build.txt
"${PIP[@]}" install -q -r requirements/torch.txt

TORCH_VERSION="$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')"
PY_TAG="$("$PY" -c 'import sys; print(f"cp{sys.version_info.major}{sys.version_info.minor}")')"
KEY="mmcv-${MMCV_VERSION}_torch-${TORCH_VERSION}_${PY_TAG}"
WHEEL_DIR="$CACHE/$KEY"

if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
    log "no cached mmcv wheel for $KEY: building mmcv $MMCV_VERSION with compiled ops (about 15 minutes on 2 cores)"
    BUILD="$(mktemp -d)"
    trap 'rm -rf "$BUILD"' EXIT
    "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation \
        "mmcv==$MMCV_VERSION" -d "$BUILD"
    echo "$MMCV_SDIST_SHA256  $BUILD/mmcv-$MMCV_VERSION.tar.gz" | sha256sum -c --quiet -
    tar -xzf "$BUILD/mmcv-$MMCV_VERSION.tar.gz" -C "$BUILD"
    SRC="$BUILD/mmcv-$MMCV_VERSION"
    # torch >= 2.14 headers require C++20; mmcv hard-codes older standards.
    sed -i -E 's/-std=c\+\+1[47]/-std=c++20/g' "$SRC/setup.py"
    mkdir -p "$WHEEL_DIR"
    (cd "$SRC" && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
        "$PY" -m pip --disable-pip-version-check wheel -q --no-deps \
        --no-build-isolation . -w "$WHEEL_DIR.partial")
    mv "$WHEEL_DIR.partial"/mmcv-*.whl "$WHEEL_DIR"/
    rm -rf "$WHEEL_DIR.partial"
fi
log "installing mmcv from $WHEEL_DIR"
"${PIP[@]}" install -q --no-deps "$WHEEL_DIR"/mmcv-*.whl

"${PIP[@]}" install -q -r requirements/runtime.txt -r requirements/tests.txt
"${PIP[@]}" install -q --no-deps -r requirements/mim.txt  # see the file for why --no-deps
"${PIP[@]}" install -q --no-deps --no-build-isolation -e .
# mmengine (`mmssl_ext::` configs, get_installed_path) and mim look for a package's
# configs under <distribution location>/<package>/.mim. A PEP 660 editable install keeps
# only its metadata in site-packages, so the checkout's package is linked there too.
SITE="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
ln -sfn "$ROOT/mmssl_ext" "$SITE/mmssl_ext"
"$PY" - <<'PY'
import mmcv, mmdet, mmengine, mmpretrain, mmseg, torch
from mmcv.ops import roi_align, point_sample  # noqa: F401  compiled ops are present
import mmssl_ext
print(f'[setup_env] ok: torch {torch.__version__}, mmcv {mmcv.__version__} (full), '
      f'mmengine {mmengine.__version__}, mmpretrain {mmpretrain.__version__}, '
      f'mmdet {mmdet.__version__}, mmseg {mmseg.__version__}, mmssl_ext {mmssl_ext.__version__}')
PY
