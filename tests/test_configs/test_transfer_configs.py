"""Transfer configs (mmdet / mmseg): every one builds and follows its recipe, the tiny demo
pre-training checkpoints load into the demo detectors / segmentors with a clean report,
and the demo configs train and evaluate on the demo COCO / ADE20K sets."""
import glob
import importlib
import logging
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope
from mmpretrain.models.utils import resize_pos_embed

import mmssl_ext  # noqa: F401
from mmssl_ext.converters import extract_backbone

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TRANSFER_PREFIXES = ('mask-rcnn', 'faster-rcnn', 'upernet')
CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '*', 'benchmarks', '*.py'))
                 if osp.basename(p).startswith(TRANSFER_PREFIXES))
FULL = [p for p in CONFIGS if not p.endswith('_demo.py')]
DEMOS = [p for p in CONFIGS if p.endswith('_demo.py')]


def _rel(path):
    return osp.relpath(path, ROOT)


def _algo(path):
    return _rel(path).split(osp.sep)[1]


def _build(cfg):
    """The detector / segmentor of ``cfg``, built in its own scope (no init_weights)."""
    registry = importlib.import_module(f'{cfg.default_scope}.registry').MODELS
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        return registry.build(cfg.model)


@pytest.mark.parametrize('path', CONFIGS, ids=_rel)
def test_config_builds_in_its_scope(path):
    cfg = Config.fromfile(path)
    assert cfg.custom_imports == dict(imports=['mmssl_ext'], allow_failed_imports=False)
    assert cfg.default_scope == ('mmseg' if 'upernet' in path else 'mmdet')
    assert any(h.type == 'mmpretrain.CheckpointKindHook' for h in cfg.custom_hooks)
    model = _build(cfg)
    assert type(model).__module__.startswith(cfg.default_scope)
    assert sum(p.numel() for p in model.parameters()) > 0
    init_cfg = cfg.model.backbone.init_cfg
    assert init_cfg.type == 'Pretrained'
    # the encoder each paper transfers: PQCL's teacher, the others' online / only encoder
    assert init_cfg.prefix == ('teacher_backbone.module.' if _algo(path) == 'pqcl'
                               else 'backbone.')


VIT_DET = [p for p in FULL if 'mask-rcnn_vit' in p]
VIT_SEG = [p for p in FULL if 'upernet_vit' in p]


@pytest.mark.parametrize('path', VIT_DET, ids=_rel)
def test_vit_mask_rcnn_recipe(path):
    """CAE paper Sec. 5.2: ms 480-800 / 1333, AdamW 3e-4 at batch 32, wd 0.05, layer
    decay 0.75, drop path 0.1 (S) / 0.2 (B), 12 epochs with steps at 9 and 11."""
    cfg = Config.fromfile(path)
    backbone = cfg.model.backbone
    assert backbone.out_indices == (3, 5, 7, 11) and backbone.out_type == 'featmap'
    assert not backbone.final_norm
    assert backbone.drop_path_rate == (0.1 if 'vit-s' in path else 0.2)
    if _algo(path) == 'cae':
        assert backbone.type == 'mmpretrain.BEiTViT' and backbone.bias == 'qv_bias'
        assert backbone.layer_scale_init_value == 0.1 and backbone.use_abs_pos_emb
    else:
        assert backbone.type == 'mmpretrain.VisionTransformer'
    assert [n.type for n in cfg.model.neck] == ['ViTFeaturePyramid', 'FPN']
    assert cfg.model.neck[0].norm_cfg.type == 'SyncBN'
    resize = cfg.train_dataloader.dataset.pipeline[2]
    assert resize.type == 'RandomChoiceResize' and resize.keep_ratio
    assert {long for long, _ in resize.scales} == {1333}
    assert [short for _, short in resize.scales] == list(range(480, 801, 32))
    optim = cfg.optim_wrapper
    assert optim.constructor == 'BackboneLayerDecayOptimWrapperConstructor'
    assert (optim.optimizer.type, optim.optimizer.lr, optim.optimizer.weight_decay) == (
        'AdamW', 3e-4, 0.05)
    assert optim.paramwise_cfg.layer_decay_rate == 0.75
    assert cfg.train_dataloader.batch_size * 8 == cfg.auto_scale_lr.base_batch_size == 32
    assert cfg.train_cfg.max_epochs == 12
    assert cfg.param_scheduler[-1].milestones == [9, 11]


@pytest.mark.parametrize('path', VIT_SEG, ids=_rel)
def test_vit_upernet_recipe(path):
    """BEiT / MAE / CAE ADE20K protocol: 512 crops, batch 16, 160k iterations, AdamW,
    layer decay 0.65, 1500-iteration warm-up then PolyLR, UPerHead 768 + FCN aux."""
    cfg = Config.fromfile(path)
    assert cfg.model.backbone.out_indices == (3, 5, 7, 11)
    assert cfg.model.backbone.drop_path_rate == 0.1
    if _algo(path) == 'cae':  # CAE fine-tunes with a relative position bias per block
        assert cfg.model.backbone.use_rel_pos_bias and cfg.model.backbone.img_size == 512
    dims, channels = (384, 512) if 'vit-s' in path else (768, 768)
    neck = cfg.model.neck  # mmseg's own pyramid for segmentation
    assert (neck.type, neck.embed_dim, neck.rescales) == ('Feature2Pyramid', dims,
                                                          [4, 2, 1, 0.5])
    head = cfg.model.decode_head
    assert (head.type, head.in_channels, head.channels) == ('UPerHead', [dims] * 4, channels)
    assert cfg.model.auxiliary_head.type == 'FCNHead'
    assert cfg.model.test_cfg.mode == 'slide' and cfg.model.test_cfg.crop_size == (512, 512)
    assert cfg.crop_size == (512, 512) and cfg.model.data_preprocessor.size == (512, 512)
    assert cfg.train_dataloader.batch_size * 8 == 16
    optim = cfg.optim_wrapper
    assert optim.constructor == 'BackboneLayerDecayOptimWrapperConstructor'
    assert optim.optimizer.type == 'AdamW' and optim.paramwise_cfg.layer_decay_rate == 0.65
    warmup, poly = cfg.param_scheduler
    assert (warmup.type, warmup.end, poly.type, poly.begin, poly.end) == (
        'LinearLR', 1500, 'PolyLR', 1500, 160000)
    assert cfg.train_cfg.max_iters == 160000


def test_layer_decay_groups_of_the_vit_detector():
    """The constructor sees the detector's ViT: block i of 12 gets 0.75 ** (12 - i)."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'cim', 'benchmarks',
                                   'mask-rcnn_vit-b_fpn_1x_coco.py'))
    model = _build(cfg)
    from mmdet.registry import OPTIM_WRAPPER_CONSTRUCTORS
    optim_cfg = cfg.optim_wrapper.to_dict()
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type=optim_cfg.pop('constructor'), paramwise_cfg=optim_cfg.pop('paramwise_cfg'),
        optim_wrapper_cfg=optim_cfg))
    groups = {g['param_name']: g for g in constructor(model).optimizer.param_groups}
    lr = 3e-4
    assert groups['backbone.pos_embed']['lr'] == pytest.approx(lr * 0.75**13)
    assert groups['backbone.pos_embed']['weight_decay'] == 0
    for block in (0, 11):
        group = groups[f'backbone.layers.{block}.ffn.layers.1.weight']
        assert group['lr'] == pytest.approx(lr * 0.75**(12 - block))
        assert group['weight_decay'] == 0.05
    assert groups['backbone.layers.0.ln1.weight']['weight_decay'] == 0
    assert groups['neck.1.lateral_convs.0.conv.weight']['lr'] == pytest.approx(lr)
    assert groups['roi_head.bbox_head.fc_cls.weight']['lr'] == pytest.approx(lr)


RESIM_COCO = [p for p in FULL if 'resim' in p and 'mask-rcnn' in p]


@pytest.mark.parametrize('path', RESIM_COCO, ids=_rel)
def test_resim_mask_rcnn_recipe(path):
    """ReSim paper Sec. 4.3 (MoCo protocol): SyncBN in backbone (all stages trained), FPN
    and heads, short side 640-800, SGD 0.02 at batch 16, 1x (8, 11) / 2x (16, 22)."""
    cfg = Config.fromfile(path)
    model = cfg.model
    assert model.backbone.norm_cfg.type == 'SyncBN' and not model.backbone.norm_eval
    assert model.backbone.frozen_stages == -1
    assert model.neck.norm_cfg.type == 'SyncBN'
    assert model.roi_head.bbox_head.type == 'Shared4Conv1FCBBoxHead'
    assert model.roi_head.bbox_head.norm_cfg.type == model.roi_head.mask_head.norm_cfg.type \
        == 'SyncBN'
    resize = cfg.train_dataloader.dataset.pipeline[2]
    assert [short for _, short in resize.scales] == list(range(640, 801, 32))
    assert cfg.optim_wrapper.optimizer.lr == 0.02 and cfg.auto_scale_lr.base_batch_size == 16
    epochs, steps = (24, [16, 22]) if '_2x_' in path else (12, [8, 11])
    assert cfg.train_cfg.max_epochs == epochs and cfg.param_scheduler[-1].milestones == steps
    assert ('fpn-transfer' in path) == ('init_cfg' in model.neck)
    if 'fpn-transfer' in path:
        assert model.neck.init_cfg.prefix == 'neck.'


def test_resim_voc_c4_recipe():
    """ReSim paper Sec. 4.1: R50-C4, SyncBN, short side 480-800, 24k iterations at batch
    16, steps at 18k and 22k, VOC07+12 trainval -> test07, AP over IoU 0.5:0.95."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'resim', 'benchmarks',
                                   'faster-rcnn_r50-c4_ms-24k_voc0712.py'))
    shared_head = cfg.model.roi_head.shared_head
    assert shared_head.type == 'ResLayerExtraNorm' and shared_head.norm_cfg.type == 'SyncBN'
    assert shared_head.init_cfg.prefix == 'backbone.'
    assert cfg.model.backbone.norm_cfg.type == 'SyncBN' and cfg.model.backbone.style == 'pytorch'
    assert cfg.model.roi_head.bbox_head.num_classes == 20
    assert [d.ann_file.split('/')[0] for d in cfg.train_dataloader.dataset.datasets] == [
        'VOC2007', 'VOC2012']
    resize = cfg.train_dataloader.dataset.datasets[0].pipeline[2]
    assert [short for _, short in resize.scales] == list(range(480, 801, 32))
    assert cfg.train_cfg.max_iters == 24000 and cfg.train_dataloader.batch_size * 8 == 16
    assert cfg.param_scheduler[-1].milestones == [18000, 22000]
    assert cfg.optim_wrapper.optimizer.lr == 0.02
    assert len(cfg.val_evaluator.iou_thrs) == 10


@pytest.mark.parametrize('path', [p for p in DEMOS if 'mask-rcnn_vit' in p], ids=_rel)
def test_vit_detector_features_follow_any_input_size(path):
    """Multi-scale detection inputs: the ViT resizes its position embedding to each
    (padded, non-square) input grid and the pyramid gives four levels of stride
    2 ** k * patch / 4."""
    cfg = Config.fromfile(path)
    model = _build(cfg).eval()
    patch = cfg.model.backbone.patch_size
    for height, width in ((160, 224), (128, 96)):
        with torch.no_grad():
            feats = model.extract_feat(torch.randn(1, 3, height, width))
        strides = [patch // 4 * 2**level for level in range(5)]
        assert [tuple(f.shape[-2:]) for f in feats] == [
            (-(-height // s), -(-width // s)) for s in strides]


# ---------------------------------------------------------------- checkpoint chain

#: backbone keys the pre-training encoder legitimately does not fill / that the detection
#: backbone does not take: the final LayerNorm (the pyramid reads block outputs before
#: it, as BEiT / CAE do); CAE's new relative position tables (segmentation).
UNUSED_BY_BACKBONE = {'cim': {'ln1.weight', 'ln1.bias'}, 'cae': {'ln1.weight', 'ln1.bias'},
                      'pqcl': {'ln1.weight', 'ln1.bias'}, 'resim': set()}
#: ... and in the raw pre-training checkpoint only: PQCL's mask token (iBOT's MIM input).
UNUSED_FROM_PRETRAIN = {'pqcl': {'mask_token'}}


class _Capture(logging.Handler):

    def __init__(self):
        super().__init__(logging.INFO)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _load_reports(model):
    """init_weights() through the config's init_cfgs; mmengine's report of each load."""
    logger = MMLogger.get_current_instance()
    capture = _Capture()
    logger.addHandler(capture)
    try:
        model.init_weights()
    finally:
        logger.removeHandler(capture)
    reports = []
    for message in capture.messages:
        start = re.match(r'load (?:(\S+) in )?model from: (\S+)', message)
        if start:
            reports.append(dict(prefix=start.group(1), missing=set(), unexpected=set(),
                                mismatch=[]))
        elif reports and 'do not match exactly' in message:
            for kind, pattern in (('unexpected', r'unexpected key in source state_dict: (.*)'),
                                  ('missing', r'missing keys in source state_dict: (.*)')):
                found = re.search(pattern, message)
                if found:
                    reports[-1][kind] = set(found.group(1).split(', '))
            reports[-1]['mismatch'] = re.findall(r'size mismatch for (\S+)', message)
    return reports


def _assert_loaded(module, weights):
    loaded = module.state_dict()
    for key, value in weights.items():
        if key == 'pos_embed' and value.shape != loaded[key].shape:  # resized on load
            grid = module.patch_embed.init_out_size
            value = resize_pos_embed(value, (round((value.shape[1] - 1)**0.5), ) * 2, grid,
                                     'bicubic', 1)
        if key in loaded and 'num_batches_tracked' not in key:
            assert torch.equal(loaded[key], value), key


@pytest.mark.parametrize('path', DEMOS, ids=_rel)
@pytest.mark.parametrize('source', ['pretrain', 'extracted'])
def test_demo_pretraining_checkpoint_loads_into_the_backbone(path, source,
                                                             demo_pretrain_checkpoints, tmp_path):
    """Demo pre-training state dict -> (extract_backbone.py) -> the demo detector's /
    segmentor's init_cfg: every backbone key filled, nothing unexpected but the unused
    final norm, values equal."""
    algo = _algo(path)
    checkpoint = demo_pretrain_checkpoints[algo]
    pretrain = torch.load(checkpoint, weights_only=True)['state_dict']
    cfg = Config.fromfile(path)
    prefix = cfg.model.backbone.init_cfg.prefix
    weights = {k[len(prefix):]: v for k, v in pretrain.items() if k.startswith(prefix)}
    unused = UNUSED_BY_BACKBONE[algo]
    if source == 'pretrain':
        unused = unused | UNUSED_FROM_PRETRAIN.get(algo, set())
        cfg.model.backbone.init_cfg.checkpoint = checkpoint
    else:  # tools/model_converters/extract_backbone.py output, no prefix
        backbone, detected, _ = extract_backbone(pretrain)
        assert detected == algo
        torch.save({'state_dict': backbone}, tmp_path / 'backbone.pth')
        cfg.model.backbone.init_cfg = dict(type='Pretrained',
                                           checkpoint=str(tmp_path / 'backbone.pth'))
    neck_cfg = cfg.model.get('neck')
    fpn_transfer = isinstance(neck_cfg, dict) and neck_cfg.get('init_cfg') is not None
    if fpn_transfer:  # ReSim-FPN^T: the converter's FPN weights into mmdet's FPN
        cfg.model.neck.init_cfg.checkpoint = demo_pretrain_checkpoints['resim-mmdet']
    model = _build(cfg)
    reports = _load_reports(model)
    assert len(reports) == 1 + fpn_transfer
    backbone_report = reports[0]
    new_tables = {k for k in model.backbone.state_dict() if 'relative_position' in k}
    assert backbone_report['missing'] == new_tables
    assert backbone_report['unexpected'] == unused
    assert backbone_report['mismatch'] == []
    _assert_loaded(model.backbone, weights)
    if fpn_transfer:
        neck_report = reports[1]
        converted = torch.load(demo_pretrain_checkpoints['resim-mmdet'])['state_dict']
        neck = {k[len('neck.'):]: v for k, v in converted.items() if k.startswith('neck.')}
        # C3-C5 laterals and P3 / P4 outputs; their biases are dropped (a norm follows)
        assert {k.rsplit('.', 2)[0] for k in neck} == {
            'lateral_convs.1', 'lateral_convs.2', 'lateral_convs.3', 'fpn_convs.1',
            'fpn_convs.2'}
        assert neck_report['unexpected'] == {k for k in neck if k.endswith('conv.bias')}
        assert not neck_report['missing'] & set(neck)
        _assert_loaded(model.neck, {k: v for k, v in neck.items() if k.endswith('weight')})


def test_resim_checkpoint_splits_into_the_c4_backbone_and_roi_head(demo_pretrain_checkpoints):
    """R-C4: the backbone takes stem + stages 1-3, the RoI head stage 4 (+ a new BN), from
    the same pre-training file (ResNet-18 demo encoder in the R50-C4 recipe)."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'resim', 'benchmarks',
                                   'faster-rcnn_r50-c4_ms-24k_voc0712.py'))
    checkpoint = demo_pretrain_checkpoints['resim']
    bn = dict(type='BN', requires_grad=True)
    cfg.merge_from_dict({
        'model.backbone.depth': 18, 'model.backbone.norm_cfg': bn,
        'model.backbone.init_cfg.checkpoint': checkpoint,
        'model.roi_head.shared_head.depth': 18, 'model.roi_head.shared_head.norm_cfg': bn,
        'model.roi_head.shared_head.init_cfg.checkpoint': checkpoint,
        'model.rpn_head.in_channels': 256, 'model.rpn_head.feat_channels': 256,
        'model.roi_head.bbox_roi_extractor.out_channels': 256,
        'model.roi_head.bbox_head.in_channels': 512})
    model = _build(cfg)
    backbone_report, head_report = _load_reports(model)
    pretrain = torch.load(checkpoint, weights_only=True)['state_dict']
    weights = {k[len('backbone.'):]: v for k, v in pretrain.items() if k.startswith('backbone.')}
    stage4 = {k for k in weights if k.startswith('layer4.')}
    assert backbone_report['missing'] == set() and backbone_report['unexpected'] == stage4
    assert head_report['unexpected'] == set(weights) - stage4
    assert {k.split('.')[0] for k in head_report['missing']} == {'norm'}
    _assert_loaded(model.backbone, weights)
    _assert_loaded(model.roi_head.shared_head, {k: weights[k] for k in stage4})


# ---------------------------------------------------------------- smoke transfer runs

#: one mmdet and one mmseg demo run stay out of the slow set (each < 60 s on 2 CPU cores).
FAST = {'configs/cim/benchmarks/mask-rcnn_vit-t_fpn_demo.py',
        'configs/cae/benchmarks/upernet_vit-t_demo.py'}
SMOKE = [pytest.param(p, marks=() if _rel(p) in FAST else pytest.mark.slow, id=_rel(p))
         for p in DEMOS]


def _train(config, work_dir, options):
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'train.py'), config, '--work-dir',
         str(work_dir), '--cfg-options', *options],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result.stdout + result.stderr


@pytest.mark.parametrize('path', SMOKE)
def test_demo_transfer_trains_and_evaluates(path, demo_pretrain_checkpoints, demo_data_root,
                                            tmp_path):
    """Pre-training checkpoint -> 4 training iterations on CPU -> COCO / ADE metrics."""
    checkpoint = demo_pretrain_checkpoints[_algo(path)]
    options = [f'model.backbone.init_cfg.checkpoint={checkpoint}']
    if 'fpn-transfer' in path:
        neck_checkpoint = demo_pretrain_checkpoints['resim-mmdet']
        options.append(f'model.neck.init_cfg.checkpoint={neck_checkpoint}')
    if 'upernet' in path:
        root = demo_data_root / 'ade' / 'ADEChallengeData2016'
        options += [f'train_dataloader.dataset.data_root={root}',
                    f'val_dataloader.dataset.data_root={root}']
        metrics = ['mIoU', 'mAcc', 'aAcc']
    else:
        root = demo_data_root / 'coco'
        options += [f'train_dataloader.dataset.data_root={root}/',
                    f'val_dataloader.dataset.data_root={root}/',
                    f'val_evaluator.ann_file={root}/annotations/instances_val2017.json']
        metrics = [f'coco/{kind}_mAP{suffix}' for kind in ('bbox', 'segm')
                   for suffix in ('', '_50', '_75')]
    log = _train(path, tmp_path, options)
    assert f' in model from: {checkpoint}' in log
    assert 'Iter(train) [4/4]' in log
    final = log[log.rindex('Iter(val)'):]
    values = {metric: float(re.search(rf'{re.escape(metric)}: (\S+)', final).group(1))
              for metric in metrics}
    if 'upernet' in path:  # per class IoU = TP / (TP + FP + FN) <= TP / (TP + FN)
        assert 0 <= values['mIoU'] <= values['mAcc'] <= 100, values
    for kind in ('bbox', 'segm') if 'upernet' not in path else ():
        ap = [values[f'coco/{kind}_mAP{suffix}'] for suffix in ('_75', '', '_50')]
        assert 0 <= min(ap) and ap[0] <= ap[2] and ap[1] <= ap[2] <= 1, values
    checkpoint = torch.load(tmp_path / 'iter_4.pth', weights_only=True)
    assert checkpoint['meta']['iter'] == 4
