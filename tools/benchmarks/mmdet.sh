#!/usr/bin/env bash
# Transfer an mmssl_ext pre-training checkpoint to an mmdet benchmark config:
#   tools/benchmarks/mmdet.sh PRETRAIN_CKPT CONFIG GPUS [tools/train.py args]
# 1. writes the encoder the paper transfers (tools/model_converters/extract_backbone.py)
#    to WORK_DIR/backbone.pth; ReSim-FPN^T configs (*fpn-transfer*) also get the
#    pre-trained FPN on mmdet's levels (tools/model_converters/convert.py --with-fpn);
# 2. trains CONFIG on GPUS processes (tools/dist_train.sh; gloo on CPUs) with every
#    pre-trained part (backbone; R-C4 RoI head = stage 4; FPN^T neck) reading it.
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
OPTIONS=("model.backbone.init_cfg.checkpoint=$BACKBONE" "model.backbone.init_cfg.prefix=None")
case "$(basename "$CONFIG")" in
    *-c4_*)  # R-C4: stage 4 of the same ResNet is the RoI head
        OPTIONS+=("model.roi_head.shared_head.init_cfg.checkpoint=$BACKBONE"
                  "model.roi_head.shared_head.init_cfg.prefix=None") ;;
    *fpn-transfer*)  # ReSim-FPN^T: laterals of C3-C5, P3 / P4 output convs
        PYTHONPATH="$ROOT":${PYTHONPATH:-} \
        "$PYTHON" "$ROOT/tools/model_converters/convert.py" --from resim-official \
            "$PRETRAIN" "$WORK_DIR/mmdet.pth" --with-fpn
        OPTIONS+=("model.neck.init_cfg.checkpoint=$WORK_DIR/mmdet.pth") ;;
esac

PYTHON="$PYTHON" bash "$ROOT/tools/dist_train.sh" "$CONFIG" "$GPUS" \
    --work-dir "$WORK_DIR" --cfg-options "${OPTIONS[@]}" "${@:4}"
