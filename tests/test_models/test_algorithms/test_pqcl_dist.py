"""PQCL on 2 CPU processes (gloo): the centres are all-reduced and stay identical."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import mmssl_ext  # noqa: F401  (safe globals for weights-only loading of checkpoints)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
WORLD = 2
ARCH = dict(embed_dims=48, num_layers=2, num_heads=3, feedforward_channels=96)


def _rank_inputs(rank, step):
    """``inputs`` (global views, query crops) and data samples (query coords, masks)."""
    from mmpretrain.structures import DataSample
    generator = torch.Generator().manual_seed(100 * step + rank)
    images = [torch.randn(2, 2, 3, 32, 32, generator=generator),
              torch.randn(2, 1, 3, 16, 16, generator=generator)]
    coords = torch.rand(2, 2, 1, 4, 2, generator=generator) * 4
    masks = torch.rand(2, 2, 4, 4, generator=generator) > 0.5
    return images, [DataSample(query_coords=c, mask=m) for c, m in zip(coords, masks)]


def _worker(rank, port, out_dir):
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=WORLD)
    import mmssl_ext  # noqa: F401
    from mmengine.logging import MessageHub
    from mmengine.model import MMDistributedDataParallel
    from mmengine.optim import OptimWrapper
    from mmpretrain.registry import MODELS

    MessageHub.get_current_instance().update_info('iter', 0)
    MessageHub.get_current_instance().update_info('max_iters', 10)
    torch.manual_seed(0)  # identical initial weights on both ranks
    model = MODELS.build(dict(
        type='PQCL',
        backbone=dict(type='QueryViT', arch=ARCH, img_size=32, patch_size=8,
                      drop_path_rate=0.),
        head=dict(type='IBOTProjectionHead', in_channels=48, out_channels=16,
                  hidden_channels=32, bottleneck_channels=8)))
    model.init_weights()
    ddp = MMDistributedDataParallel(module=model, device_ids=None, broadcast_buffers=False)
    ddp.train()
    wrapper = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
    local = []
    for step in range(2):
        inputs, data_samples = _rank_inputs(rank, step)
        with torch.no_grad():  # this rank's teacher class logits before the step
            tokens, _ = model.teacher_backbone.module.forward_tokens(
                inputs[0].transpose(0, 1).flatten(0, 1))
            logits = model.teacher_heads.module['cls'](tokens[:, 0])
        local.append((logits.sum(0), len(logits)))
        losses = ddp(inputs=inputs, data_samples=data_samples, mode='loss')
        loss, _ = model.parse_losses(losses)
        wrapper.update_params(loss)
        model.update_target()
    torch.save(dict(centers={k: v.center.clone() for k, v in model.losses.items()},
                    local=local, student=model.backbone.layers[0].attn.qkv.weight.detach(),
                    teacher=model.teacher_backbone.module.layers[0].attn.qkv.weight.detach()),
               osp.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


@pytest.mark.slow
def test_two_processes_keep_the_centres_identical(tmp_path):
    mp.spawn(_worker, args=(29641, str(tmp_path)), nprocs=WORLD, join=True)
    results = [torch.load(tmp_path / f'rank{r}.pth', weights_only=True) for r in range(WORLD)]
    for kind in ('cls', 'patch', 'query'):
        assert torch.equal(results[0]['centers'][kind], results[1]['centers'][kind])
        assert results[0]['centers'][kind].abs().sum() > 0
    assert torch.equal(results[0]['student'], results[1]['student'])
    assert torch.equal(results[0]['teacher'], results[1]['teacher'])
    # c = 0.9 c + 0.1 * (mean over BOTH ranks' teacher class logits), twice
    center = torch.zeros(16)
    for step in range(2):
        total = sum(r['local'][step][0] for r in results)
        count = sum(r['local'][step][1] for r in results)
        center = 0.9 * center + 0.1 * total / count
    assert torch.allclose(results[0]['centers']['cls'][0], center, atol=1e-5)


@pytest.mark.slow
def test_dist_train_demo_two_cpu_processes(tmp_path, demo_data_root):
    result = subprocess.run(
        ['env', f'PYTHON={sys.executable}', 'PORT=29642', 'bash',
         osp.join(ROOT, 'tools', 'dist_train.sh'),
         osp.join(ROOT, 'configs', 'pqcl', 'vit-t_demo.py'),
         '2', '--work-dir', str(tmp_path), '--cfg-options',
         f'train_dataloader.dataset.data_root={demo_data_root / "imagenet"}',
         'train_cfg.max_epochs=2', 'train_dataloader.num_workers=0',
         'train_dataloader.persistent_workers=False',
         'train_dataloader.batch_size=4', 'default_hooks.checkpoint.interval=1'],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1'))
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    assert 'Distributed training: True' in log
    checkpoint = torch.load(tmp_path / 'epoch_2.pth', weights_only=True)
    assert checkpoint['meta']['iter'] == 2 * -(-15 // 4)  # 30 images, 15 per rank, batch 4
    # epoch 1 of the demo's 40-epoch 0.04 -> 0.07 warm-up, set through the DDP wrapper
    assert f'teacher_temp: {0.04 + 0.03 / 39:.4f}' in log
