"""tools/benchmarks/{mmdet,mmseg}.sh: pre-training checkpoint -> extracted backbone ->
multi-process (torchrun, gloo on CPU) transfer training and evaluation on the demo sets."""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _run(script, checkpoint, config, work_dir, port, *options):
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(port), WORK_DIR=str(work_dir),
               PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    result = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'benchmarks', script), checkpoint,
         osp.join(ROOT, config), '1', '--cfg-options', *options],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result.stdout + result.stderr


def _metric(log, name):
    final = log[log.rindex('Iter(val)'):]
    return float(re.search(rf'{re.escape(name)}: (\S+)', final).group(1))


@pytest.mark.slow
def test_mmdet_script_transfers_the_extracted_backbone(tmp_path, demo_pretrain_checkpoints,
                                                       demo_data_root):
    coco = demo_data_root / 'coco'
    log = _run('mmdet.sh', demo_pretrain_checkpoints['cim'],
               'configs/cim/benchmarks/mask-rcnn_vit-t_fpn_demo.py', tmp_path, 29631,
               f'train_dataloader.dataset.data_root={coco}/',
               f'val_dataloader.dataset.data_root={coco}/',
               f'val_evaluator.ann_file={coco}/annotations/instances_val2017.json')
    extracted = torch.load(tmp_path / 'backbone.pth', weights_only=True)
    assert extracted['meta'] == {'algorithm': 'cim', 'encoder': 'online'}
    assert f'load model from: {tmp_path}/backbone.pth' in log
    assert 'Distributed training: True' in log
    for kind in ('bbox', 'segm'):  # COCO's AP averages thresholds 0.5:0.95: AP <= AP50
        assert 0 <= _metric(log, f'coco/{kind}_mAP') <= _metric(log, f'coco/{kind}_mAP_50')
    assert torch.load(tmp_path / 'iter_4.pth', weights_only=True)['meta']['iter'] == 4


@pytest.mark.slow
def test_mmdet_script_transfers_the_resim_fpn(tmp_path, demo_pretrain_checkpoints,
                                              demo_data_root):
    coco = demo_data_root / 'coco'
    log = _run('mmdet.sh', demo_pretrain_checkpoints['resim'],
               'configs/resim/benchmarks/mask-rcnn_r18_fpn-transfer_demo.py', tmp_path,
               29632, f'train_dataloader.dataset.data_root={coco}/',
               f'val_dataloader.dataset.data_root={coco}/',
               f'val_evaluator.ann_file={coco}/annotations/instances_val2017.json')
    assert f'load model from: {tmp_path}/backbone.pth' in log
    assert f'load neck. in model from: {tmp_path}/mmdet.pth' in log
    mmdet = torch.load(tmp_path / 'mmdet.pth', weights_only=True)['state_dict']
    assert 'neck.lateral_convs.1.conv.weight' in mmdet
    assert 0 <= _metric(log, 'coco/bbox_mAP') <= _metric(log, 'coco/bbox_mAP_50')


@pytest.mark.slow
def test_mmseg_script_transfers_the_extracted_backbone(tmp_path, demo_pretrain_checkpoints,
                                                       demo_data_root):
    ade = demo_data_root / 'ade' / 'ADEChallengeData2016'
    log = _run('mmseg.sh', demo_pretrain_checkpoints['cae'],
               'configs/cae/benchmarks/upernet_vit-t_demo.py', tmp_path, 29633,
               f'train_dataloader.dataset.data_root={ade}',
               f'val_dataloader.dataset.data_root={ade}')
    extracted = torch.load(tmp_path / 'backbone.pth', weights_only=True)
    assert extracted['meta'] == {'algorithm': 'cae', 'encoder': 'encoder'}
    assert f'load model from: {tmp_path}/backbone.pth' in log
    # per class IoU = TP / (TP + FP + FN) <= accuracy = TP / (TP + FN): mIoU <= mAcc
    assert 0 <= _metric(log, 'mIoU') <= _metric(log, 'mAcc') <= 100
