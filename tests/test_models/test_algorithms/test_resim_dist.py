"""ReSim on 2 CPU processes (gloo): gathered region negatives, per-level gathering of
the paper configs, shared queue, shuffle BN."""
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
WORLD = 2


def _rank_data(rank):
    generator = torch.Generator().manual_seed(10 + rank)
    query = F.normalize(torch.randn(2, 3, 8, generator=generator), dim=-1)
    key = F.normalize(torch.randn(2, 3, 8, generator=generator), dim=-1)
    valid = torch.rand(2, 3, generator=generator) > 0.3
    valid[0, 0] = True
    return query, key, valid


def _worker(rank, port, out_dir):
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=WORLD)
    import mmssl_ext  # noqa: F401
    from mmengine.logging import MessageHub
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample

    from mmssl_ext.models.losses import RegionInfoNCELoss

    # region loss: negatives from both ranks
    query, key, valid = _rank_data(rank)
    loss, count = RegionInfoNCELoss()(query, key, valid)
    all_keys = torch.cat([_rank_data(r)[1].flatten(0, 1) for r in range(WORLD)])
    all_valid = torch.cat([_rank_data(r)[2].flatten() for r in range(WORLD)])
    logits = (query.flatten(0, 1)[valid.flatten()] @ all_keys.t() / 0.2).masked_fill(
        ~all_valid, float('-inf'))
    labels = rank * 6 + valid.flatten().nonzero().squeeze(1)
    expected = F.cross_entropy(logits, labels)

    # the whole algorithm: identical weights on both ranks, different images
    MessageHub.get_current_instance().update_info('iter', 0)
    MessageHub.get_current_instance().update_info('max_iters', 1)
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='ReSim',
        backbone=dict(type='ResNet', depth=18, out_indices=(2, 3)),
        neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=32, out_channels=8),
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2),
        region_head=dict(type='ReSimRegionHead', in_channels=(256, ), strides=(16, ),
                         windows=(32, ), window_strides=(16, ), level_names=('c4', ),
                         view_size=64, proj_channels=8),
        queue_len=8, feat_dim=8))
    model.init_weights()
    model.train()
    torch.manual_seed(100 + rank)
    views = [torch.randn(2, 3, 64, 64) for _ in range(2)]
    samples = [DataSample(crop_boxes=np.array([[0, 0, 100, 100], [20, 10, 120, 110]],
                                              np.float32), metainfo=dict(flip=bool(i)))
               for i in range(2)]
    losses = model.loss(views, samples)
    torch.save(dict(loss=loss, count=count, expected=expected,
                    model_losses={k: v.detach() for k, v in losses.items()},
                    queue=model.queue.clone(), queue_ptr=int(model.queue_ptr)),
               osp.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


@pytest.mark.slow
def test_two_processes_gather_negatives_and_share_the_queue(tmp_path):
    mp.spawn(_worker, args=(29631, str(tmp_path)), nprocs=WORLD, join=True)
    results = [torch.load(tmp_path / f'rank{r}.pth', weights_only=True) for r in range(WORLD)]
    for result in results:
        assert torch.allclose(result['loss'], result['expected'], atol=1e-5)
        assert all(torch.isfinite(v) for v in result['model_losses'].values())
        assert result['queue_ptr'] == 4  # the global batch of 2 x 2 keys was enqueued
    # both ranks enqueued the same gathered keys, in rank order
    assert torch.equal(results[0]['queue'], results[1]['queue'])
    assert not torch.equal(results[0]['queue'][:, :2], results[0]['queue'][:, 2:4])


def _level_data(rank):
    """One rank's P3 / P4 query and key embeddings (B = 2, 64 and 36 windows, D = 8),
    validity, and 224 px key maps (B, 8, 28, 28) and (B, 8, 14, 14)."""
    generator = torch.Generator().manual_seed(20 + rank)
    levels = []
    for windows, side in ((64, 28), (36, 14)):
        query = F.normalize(torch.randn(2, windows, 8, generator=generator), dim=-1)
        key = F.normalize(torch.randn(2, windows, 8, generator=generator), dim=-1)
        valid = torch.rand(2, windows, generator=generator) > 0.5
        levels.append((query, key, valid, torch.randn(2, 8, side, side, generator=generator)))
    return levels


def _paper_heads_worker(rank, port, out_dir):
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=WORLD)
    import mmssl_ext  # noqa: F401
    from mmengine.config import Config
    from mmpretrain.registry import MODELS

    losses = {}
    for name in ('resim-fpn_r50_200e_in1k', 'resim-fpn_r50_200e_in1k_reference-variant'):
        cfg = Config.fromfile(osp.join(ROOT, 'configs', 'resim', f'{name}.py'))
        head = MODELS.build(cfg.model.region_head)
        query, key, valid, maps = zip(*_level_data(rank))
        losses[name] = {k: v for k, v in head.loss(query, key, valid, maps).items()}
    torch.save(losses, osp.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


def _expected_region_loss(rank, level, gather):
    """Eq. 2 with the other valid key regions of this rank, or of both ranks, as negatives."""
    ranks = range(WORLD) if gather else [rank]
    query, _, valid, _ = _level_data(rank)[level]
    keys = torch.cat([_level_data(r)[level][1].flatten(0, 1) for r in ranks])
    key_valid = torch.cat([_level_data(r)[level][2].flatten() for r in ranks])
    logits = query.flatten(0, 1)[valid.flatten()] @ keys.t() / 0.2
    offset = rank * valid.numel() if gather else 0
    labels = offset + valid.flatten().nonzero().squeeze(1)
    return F.cross_entropy(logits.masked_fill(~key_valid, float('-inf')), labels), len(keys)


def _expected_dense_loss(rank, level, gather):
    """The reference's loss: the pooled key region against every 3 x 3 average-pooled,
    unit-length key-map position of this rank, or of both ranks (numpy transcription)."""
    negatives = []
    for r in (range(WORLD) if gather else [rank]):
        maps = _level_data(r)[level][3].numpy().astype(np.float64)
        side = maps.shape[-1] - 2
        pooled = sum(maps[:, :, dy:dy + side, dx:dx + side]
                     for dy in range(3) for dx in range(3)) / 9
        pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
        negatives.append(pooled.transpose(0, 2, 3, 1).reshape(-1, maps.shape[1]))
    negatives = torch.from_numpy(np.concatenate(negatives)).float()
    query, key, valid, _ = _level_data(rank)[level]
    query, key = query[valid], key[valid]
    logits = torch.cat([(query * key).sum(1, keepdim=True), query @ negatives.t()], 1) / 0.2
    return F.cross_entropy(logits, torch.zeros(len(query), dtype=torch.long)), len(negatives)


@pytest.mark.slow
def test_two_processes_paper_configs_keep_p3_negatives_per_rank(tmp_path):
    """Appendix A.1: P4 negatives from all GPUs, P3 negatives from each GPU alone; in
    both the paper's region negatives and the reference variant's dense negatives."""
    mp.spawn(_paper_heads_worker, args=(29633, str(tmp_path)), nprocs=WORLD, join=True)
    counts = {}
    for rank in range(WORLD):
        result = torch.load(tmp_path / f'rank{rank}.pth', weights_only=True)
        for name, expect in (('resim-fpn_r50_200e_in1k', _expected_region_loss),
                             ('resim-fpn_r50_200e_in1k_reference-variant',
                              _expected_dense_loss)):
            for level, (level_name, gather) in enumerate((('p3', False), ('p4', True))):
                loss = result[name][f'loss_region_{level_name}']
                expected, count = expect(rank, level, gather)
                other, _ = expect(rank, level, not gather)
                assert torch.allclose(loss, expected, atol=1e-5), (name, level_name)
                assert not torch.allclose(loss, other, atol=1e-3), (name, level_name)
                counts[name, level_name] = count
    # negatives (or candidate key regions) per rank: 2 images per rank, 2 ranks
    assert counts == {('resim-fpn_r50_200e_in1k', 'p3'): 2 * 64,
                      ('resim-fpn_r50_200e_in1k', 'p4'): 2 * 2 * 36,
                      ('resim-fpn_r50_200e_in1k_reference-variant', 'p3'): 2 * 26 * 26,
                      ('resim-fpn_r50_200e_in1k_reference-variant', 'p4'): 2 * 2 * 12 * 12}


@pytest.mark.slow
def test_dist_train_demo_two_cpu_processes(tmp_path, demo_data_root):
    result = subprocess.run(
        ['env', f'PYTHON={sys.executable}', 'PORT=29632', 'bash',
         osp.join(ROOT, 'tools', 'dist_train.sh'),
         osp.join(ROOT, 'configs', 'resim', 'r18_demo.py'),
         '2', '--work-dir', str(tmp_path), '--cfg-options',
         f'train_dataloader.dataset.data_root={demo_data_root / "imagenet"}',
         'train_cfg.max_epochs=1', 'train_dataloader.num_workers=0',
         'train_dataloader.batch_size=4'],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1'))
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    assert 'Distributed training: True' in log
    checkpoint = torch.load(tmp_path / 'epoch_1.pth', weights_only=True)
    iters = checkpoint['meta']['iter']
    assert iters == 15 // 4  # 30 images, 15 per rank, batch 4, drop_last
    # the queue advanced by the global batch (2 ranks x 4) per iteration
    assert int(checkpoint['state_dict']['queue_ptr']) == (iters * 8) % 32
