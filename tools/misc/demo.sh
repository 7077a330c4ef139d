#!/usr/bin/env bash
# The main job on the demo data: a short CIM pre-training on CPU, then pictures of what
# it learned (context, exemplars, ground-truth and predicted correlation maps) and a
# measurement of it: how much better each exemplar's predicted map matches its own
# ground truth than the other exemplars' maps do (0 for a location prior, the same blob
# for every exemplar), on held-out photos ($DATA/imagenet/val, never trained on) and on
# the pre-training photos with freshly drawn exemplars.
#   tools/misc/demo.sh PYTHON DEMO_DATA WORK_DIR [tools/train.py options, e.g. --epochs 2]
set -euo pipefail

PY=${1:-.venv/bin/python}
DATA=${2:-data/demo}
WORK_DIR=${3:-work_dirs/demo}
shift $(( $# < 3 ? $# : 3 ))
CONFIG=configs/cim/vit-t_demo.py

echo "[demo] pre-training CIM ($CONFIG) on $DATA/imagenet, work dir $WORK_DIR/cim"
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR/cim" "$@" \
    --cfg-options train_dataloader.dataset.data_root="$DATA/imagenet"
CHECKPOINT="$(cat "$WORK_DIR/cim/last_checkpoint")"
IMAGE="$DATA/imagenet/val/motorcycle/original.jpg"  # held out, as the paper's Figure 5
OUT="$WORK_DIR/cim/correlation_maps.png"
SUMMARY="$("$PY" tools/visualization/vis_cim.py "$CONFIG" "$CHECKPOINT" "$IMAGE" --out "$OUT" \
    --eval-images "$DATA/imagenet/val" --eval-draws 8 | tail -n 1)"
SEEN_IMAGE="$DATA/imagenet/train/astronaut/original.jpg"
SEEN_OUT="$WORK_DIR/cim/correlation_maps_pretraining_photo.png"
SEEN_SUMMARY="$("$PY" tools/visualization/vis_cim.py "$CONFIG" "$CHECKPOINT" "$SEEN_IMAGE" \
    --out "$SEEN_OUT" --eval-images "$DATA/imagenet/train" --eval-draws 2 | tail -n 1)"
echo "[demo] checkpoint: $CHECKPOINT"
echo "[demo] pictures:   $OUT (held-out photo), $SEEN_OUT (pre-training photo)"
echo "[demo] held-out $SUMMARY"
echo "[demo] pre-training photos, new exemplars: $SEEN_SUMMARY"
