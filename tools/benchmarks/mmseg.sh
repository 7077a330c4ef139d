#!/usr/bin/env bash
# Transfer an mmssl_ext pre-training checkpoint to an mmseg benchmark config:
#   tools/benchmarks/mmseg.sh PRETRAIN_CKPT CONFIG GPUS [tools/train.py args]
# 1. writes the encoder the paper transfers (tools/model_converters/extract_backbone.py)
#    to WORK_DIR/backbone.pth;
# 2. trains CONFIG on GPUS processes (tools/dist_train.sh; gloo on CPUs) with the
#    backbone reading it.
# WORK_DIR defaults to work_dirs/<algo>/<config name>, as tools/train.py; PYTHON, PORT as
# for dist_train.sh.
set -euo pipefail

PRETRAIN=$1
CONFIG=$2
GPUS=$3
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PYTHON=${PYTHON:-python}
WORK_DIR=${WORK_DIR:-$(PYTHONPATH="$ROOT":${PYTHONPATH:-} "$PYTHON" -c \
    'import sys; from mmssl_ext.utils.launch import default_work_dir as d; print(d(sys.argv[1]))' \
    "$CONFIG")}
mkdir -p "$WORK_DIR"

BACKBONE="$WORK_DIR/backbone.pth"
PYTHONPATH="$ROOT":${PYTHONPATH:-} \
"$PYTHON" "$ROOT/tools/model_converters/extract_backbone.py" "$PRETRAIN" "$BACKBONE"

PYTHON="$PYTHON" bash "$ROOT/tools/dist_train.sh" "$CONFIG" "$GPUS" --work-dir "$WORK_DIR" \
    --cfg-options "model.backbone.init_cfg.checkpoint=$BACKBONE" \
    "model.backbone.init_cfg.prefix=None" "${@:4}"
