#!/usr/bin/env bash
# Re-measure every speed / memory figure that README.md and model_zoo.md publish, each
# with the load-monitoring harness (JSON per figure in OUT; a report whose
# `load.disturbed` is true is not publishable: re-run on a quiet machine).
#   bash tools/analysis_tools/published_figures.sh [OUT [NAME ...]]
# OUT defaults to work_dirs/figures; NAMEs (e.g. cim_vit-b demo_cae) re-run only those
# figures. Needs the demo data (`make data`; small_scale_*: `make fashion-mnist`).
# PYTHON defaults to .venv/bin/python.
set -euo pipefail
OUT=${1:-work_dirs/figures}
ONLY=" ${*:2} "
PY=${PYTHON:-.venv/bin/python}
DATA=train_dataloader.dataset.data_root=data/demo/imagenet
BENCH=tools/analysis_tools/benchmark.py
mkdir -p "$OUT"
run() {  # run NAME COMMAND...: the command's JSON report to OUT/NAME.json
    local name=$1
    shift
    [[ "$ONLY" == "  " || "$ONLY" == *" $name "* ]] || return 0
    echo "== $name: $*" >&2
    "$@" > "$OUT/$name.log" 2>&1 || { tail -20 "$OUT/$name.log" >&2; return 1; }
}
# CIM ViT-B: step time and data cost (workers + preprocessor), default vs CPU sampling
run cim_vit-b $PY $BENCH configs/cim/vit-b_300e_in1k.py configs/cim/vit-b_300e_in1k_cpu-sampling.py \
    --device cpu --batch-size 8 --iters 3 --warmup 1 --data-samples 100 --repeats 2 \
    --out "$OUT/cim_vit-b.json" --cfg-options $DATA
# CAE ViT-B vs mmpretrain's CAE, fp32 (bf16 autocast on a CPU without bf16 units is
# emulated and many times slower; tools/analysis_tools/gpu_check.sh measures bf16)
run cae_vit-b $PY $BENCH configs/cae/vit-b_300e_in1k.py \
    mmpretrain::cae/cae_beit-base-p16_8xb256-amp-coslr-300e_in1k.py \
    --device cpu --batch-size 2 --iters 2 --warmup 1 --data-samples 10 --repeats 1 \
    --out "$OUT/cae_vit-b.json" --cfg-options $DATA model.target_generator.init_cfg=None
# PQCL's query stream: iBOT alone vs PQCL, ViT-S
run pqcl_query $PY $BENCH configs/pqcl/ibot_vit-s_100e_in1k.py configs/pqcl/vit-s_100e_in1k.py \
    --device cpu --batch-size 8 --iters 3 --warmup 1 --data-samples 20 --repeats 2 \
    --out "$OUT/pqcl_query.json" --cfg-options $DATA
# ReSim-FPN vs MoCo v2 (region branch off), ResNet-50
run resim_r50 $PY $BENCH configs/resim/resim-fpn_r50_200e_in1k.py configs/resim/mocov2_r50_200e_in1k.py \
    --device cpu --batch-size 8 --iters 3 --warmup 1 --data-samples 20 --repeats 2 \
    --out "$OUT/resim_r50.json" --cfg-options $DATA
# Precise RoI Pooling alone (C4 of 256 images, 100 boxes each)
run prroi bash -c "$PY tools/analysis_tools/benchmark_prroi.py > $OUT/prroi.json"
# EMA update: fused vs a per-parameter loop, ViT-B CIM (online + target)
run ema_vit-b bash -c "$PY tools/analysis_tools/benchmark_hot_paths.py ema configs/cim/vit-b_300e_in1k.py > $OUT/ema_vit-b.json"
# per-sample photometric augmentation of a batch (64 x 224 px, blur for every image)
run photometric bash -c "$PY tools/analysis_tools/benchmark_hot_paths.py photometric > $OUT/photometric.json"
# demo configs: one step each (the demos' run lengths are iterations x this)
for config in configs/cim/vit-t_demo.py configs/cae/vit-t_demo.py configs/pqcl/vit-t_demo.py \
        configs/resim/r18_demo.py; do
    name=demo_$(basename "$(dirname "$config")")
    run "$name" $PY $BENCH "$config" --device cpu --iters 5 --warmup 2 --data-samples 20 \
        --out "$OUT/$name.json" --cfg-options $DATA
done
# scaling with batch and processes: CAE demo, one thread per process
for batch in 4 8 16; do
    run scaling_1x$batch env OMP_NUM_THREADS=1 $PY $BENCH configs/cae/vit-t_demo.py --device cpu \
        --batch-size $batch --iters 5 --warmup 2 --data-samples 2 \
        --out "$OUT/scaling_1x$batch.json" --cfg-options $DATA
done
run scaling_2x8 env OMP_NUM_THREADS=1 $PY -m torch.distributed.run --nproc_per_node 2 \
    $BENCH configs/cae/vit-t_demo.py --launcher pytorch --device cpu --batch-size 8 \
    --iters 5 --warmup 2 --data-samples 2 --out "$OUT/scaling_2x8.json" --cfg-options $DATA
# small-scale configs side by side (ViT-T rows, ResNet-18 rows): the step times behind
# their budgets
# (model_zoo.md, "Small-scale reproduction"; needs `make fashion-mnist`)
run small_scale_vit-t $PY $BENCH configs/cae/mae_vit-t_small-scale_fmnist.py \
    configs/cae/vit-t_small-scale_fmnist.py configs/cim/vit-t_small-scale_fmnist.py \
    configs/pqcl/mocov3_vit-t_small-scale_fmnist.py configs/pqcl/vit-t_small-scale_fmnist.py \
    --device cpu --iters 8 --warmup 2 --repeats 2 --data-samples 64 --out "$OUT/small_scale_vit-t.json"
# PQCL's small-scale controls (iBOT alone, DINO alone) next to PQCL: their budgets
run small_scale_pqcl_controls $PY $BENCH configs/pqcl/vit-t_small-scale_fmnist.py \
    configs/pqcl/ibot_vit-t_small-scale_fmnist.py configs/pqcl/dino_vit-t_small-scale_fmnist.py \
    --device cpu --iters 8 --warmup 2 --repeats 2 --data-samples 64 \
    --out "$OUT/small_scale_pqcl_controls.json"
run small_scale_r18 $PY $BENCH configs/resim/mocov2_r18_small-scale_fmnist.py \
    configs/resim/r18_small-scale_fmnist.py configs/resim/mmpretrain-mocov2_r18_small-scale_fmnist.py \
    --device cpu --iters 8 --warmup 2 --repeats 2 --data-samples 64 --out "$OUT/small_scale_r18.json"
echo "reports in $OUT" >&2
