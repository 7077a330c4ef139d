#!/usr/bin/env bash
# The main job on the demo data: a short CIM pre-training on CPU, then a picture of
# what it learned (context, exemplars, ground-truth and predicted correlation maps).
#   tools/misc/demo.sh PYTHON DEMO_DATA WORK_DIR
set -euo pipefail

PY=${1:-.venv/bin/python}
DATA=${2:-data/demo}
WORK_DIR=${3:-work_dirs/demo}
CONFIG=configs/cim/vit-t_demo.py

echo "[demo] pre-training CIM ($CONFIG) on $DATA/imagenet, work dir $WORK_DIR/cim"
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR/cim" \
    --cfg-options train_dataloader.dataset.data_root="$DATA/imagenet"
CHECKPOINT="$(cat "$WORK_DIR/cim/last_checkpoint")"
IMAGE="$DATA/imagenet/train/astronaut/original.jpg"
OUT="$WORK_DIR/cim/correlation_maps.png"
"$PY" tools/visualization/vis_cim.py "$CONFIG" "$CHECKPOINT" "$IMAGE" --out "$OUT"
echo "[demo] checkpoint: $CHECKPOINT"
echo "[demo] picture:    $OUT"
