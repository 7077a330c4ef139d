#!/usr/bin/env bash
# The main job on the demo data: a short CIM pre-training on CPU, then a picture of
# what it learned (context, exemplars, ground-truth and predicted correlation maps) and
# a measurement of it on held-out photos ($DATA/imagenet/val, never trained on): how much
# better each exemplar's predicted map matches its own ground truth than the other
# exemplars' maps do (0 for a location prior, the same blob for every exemplar).
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
IMAGE="$DATA/imagenet/val/motorcycle/original.jpg"  # held out, as the paper's Figure 5
OUT="$WORK_DIR/cim/correlation_maps.png"
SUMMARY="$("$PY" tools/visualization/vis_cim.py "$CONFIG" "$CHECKPOINT" "$IMAGE" --out "$OUT" \
    --eval-images "$DATA/imagenet/val" --eval-draws 8 | tail -n 1)"
echo "[demo] checkpoint: $CHECKPOINT"
echo "[demo] picture:    $OUT"
echo "[demo] held-out $SUMMARY"
