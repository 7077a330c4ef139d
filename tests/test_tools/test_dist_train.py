"""tools/dist_train.sh with 2 gloo processes: 2 iterations of every algorithm's demo config
and of a tiny-architecture override of each paper config.

Each rank reads the same 4 images (every file listed twice, unshuffled) with the same
seed, so the ranks compute the same losses whenever their models agree. A probe hook
(tests/utils/ddp_probe.py) records, per rank, the trainable parameters that received no
gradient in the first iteration and the losses and parameter sums after each iteration.
DDP with ``find_unused_parameters=False`` also fails by itself at the second iteration
if a trainable parameter got no gradient in the first.
"""
import json
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from utils.toy_runner import ToyModel, toy_runner
from utils.training import ROOT, dist_train_cmd, run, write_config

TINY_VIT = dict(_delete_=True, embed_dims=96, num_layers=2, num_heads=3, feedforward_channels=192)
TINY_HEAD = dict(in_channels=96, out_channels=256, hidden_channels=64, bottleneck_channels=32)
R18_C4 = dict(queue_len=64, feat_dim=32, backbone=dict(depth=18),
              neck=dict(in_channels=512, hid_channels=64, out_channels=32),
              region_head=dict(in_channels=(256, ), proj_channels=32))
R18_FPN = dict(R18_C4, region_neck=dict(in_channels=(128, 256, 512), out_channels=32),
               region_head=dict(in_channels=(32, 32), proj_channels=32))

CASES = {
    'cim-demo': ('cim/vit-t_demo.py', {}),
    'cae-demo': ('cae/vit-t_demo.py', {}),
    'pqcl-demo': ('pqcl/vit-t_demo.py', {}),
    'resim-demo': ('resim/r18_demo.py', {}),
    'cim-vit': ('cim/vit-b_300e_in1k.py',
                dict(backbone=dict(arch=TINY_VIT),
                     neck=dict(in_channels=96, embed_dims=64, num_heads=4))),
    'cim-r50': ('cim/r50_300e_in1k.py',
                dict(backbone=dict(depth=18), neck=dict(in_channels=512, embed_dims=64,
                                                        num_heads=4))),
    'cae': ('cae/vit-b_300e_in1k.py',  # DALL-E tokens: a narrow, randomly initialised tokenizer
            dict(backbone=dict(arch=TINY_VIT),
                 neck=dict(embed_dims=96, num_heads=3, regressor_depth=1, decoder_depth=1),
                 target_generator=dict(n_hid=8, n_blk_per_group=1, init_cfg=None))),
    'pqcl-ibot': ('pqcl/vit-s_100e_in1k.py', dict(backbone=dict(arch=TINY_VIT), head=TINY_HEAD)),
    'pqcl-dino': ('pqcl/vit-s_dino-100e_in1k.py',
                  dict(backbone=dict(arch=TINY_VIT), head=TINY_HEAD)),
    'resim-c4': ('resim/resim-c4_r50_200e_in1k.py', R18_C4),
    'resim-fpn': ('resim/resim-fpn_r50_200e_in1k.py', R18_FPN),
    # variants whose parameter sets differ from the configs above
    'cae-pixel': ('cae/vit-b_300e_in1k_pixel.py',
                  dict(backbone=dict(arch=TINY_VIT),
                       neck=dict(embed_dims=96, num_heads=3, regressor_depth=1,
                                 decoder_depth=1))),
    'resim-fpn-reference': ('resim/resim-fpn_r50_200e_in1k_reference-variant.py',
                            dict(R18_FPN, region_head=dict(in_channels=(32, 32)))),
    'mocov2': ('resim/mocov2_r50_200e_in1k.py',
               dict(queue_len=64, feat_dim=32, backbone=dict(depth=18),
                    neck=dict(in_channels=512, hid_channels=64, out_channels=32))),
}
# MoCo's shuffle BN puts different images into each rank's key batch: ReSim's losses
# differ between ranks by design (its parameters must still agree).
RANK_DEPENDENT_LOSSES = {'resim-demo', 'resim-c4', 'resim-fpn', 'resim-fpn-reference',
                         'mocov2'}


def _cpu_optim_wrapper(cfg: Config) -> dict:
    """The config's optimizer settings in a plain OptimWrapper (AMP needs a GPU)."""
    wrapper = cfg.optim_wrapper.to_dict()
    if wrapper['type'] != 'AmpOptimWrapper':
        return {}
    wrapper.pop('loss_scale', None)
    return dict(wrapper, type='OptimWrapper', _delete_=True)


def _two_iteration_config(tmp_path, name: str, data_root) -> str:
    config, model = CASES[name]
    base = osp.join(ROOT, 'configs', config)
    cfg = Config.fromfile(base)
    images = [line.split()[0] for line in (data_root / 'meta' / 'train.txt').read_text()
              .splitlines()[:4]]
    ann_file = tmp_path / 'same_images_on_both_ranks.txt'
    ann_file.write_text(''.join(f'{image}\n{image}\n' for image in images))
    return write_config(
        tmp_path / f'{name}.py', base,
        model=model,
        custom_imports=dict(imports=['mmssl_ext', 'utils.ddp_probe'],
                            allow_failed_imports=False),
        train_dataloader=dict(
            batch_size=2, num_workers=0, persistent_workers=False, pin_memory=False,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(_delete_=True, type='CustomDataset', data_root=str(data_root),
                         data_prefix='train', ann_file=str(ann_file), with_label=False,
                         pipeline=[step.to_dict()
                                   for step in cfg.train_dataloader.dataset.pipeline])),
        train_cfg=dict(max_epochs=1),
        randomness=dict(seed=0, diff_rank_seed=False),
        default_hooks=dict(logger=dict(interval=1), ddp_probe=dict(type='DDPProbeHook')),
        **({'optim_wrapper': _cpu_optim_wrapper(cfg)} if _cpu_optim_wrapper(cfg) else {}))


@pytest.mark.slow
@pytest.mark.parametrize('name', list(CASES))
def test_two_gloo_processes_train_every_parameter_in_sync(tmp_path, demo_data_root, name):
    config = _two_iteration_config(tmp_path, name, demo_data_root / 'imagenet')
    work_dir = tmp_path / 'work'
    log = run(dist_train_cmd(config, 2, '--work-dir', str(work_dir))).log
    assert 'Distributed training: True' in log
    ranks = [json.loads((work_dir / f'probe_rank{rank}.json').read_text()) for rank in (0, 1)]
    for probe in ranks:
        assert probe['trainable'], 'no trainable parameters'
        assert probe['no_grad_first_iter'] == [], \
            f'trainable parameters without a gradient: {probe["no_grad_first_iter"]}'
        assert [record['iter'] for record in probe['iters']] == [1, 2]
    for first, second in zip(ranks[0]['iters'], ranks[1]['iters']):
        # DDP kept the replicas identical: trained, frozen and EMA parameters alike.
        assert first['params'] == second['params'], f'iteration {first["iter"]}'
        assert all(map(_finite, first['losses'].values())), first['losses']
        if name not in RANK_DEPENDENT_LOSSES:
            assert first['losses'] == second['losses'], f'iteration {first["iter"]}'
        if name.startswith('cim'):  # CIM also logs its location-only cross-entropy
            assert 0 < first['losses']['location_prior_ce'] < math.log(2) + 1e-6
    # The model trained: the parameters moved in the second step.
    assert ranks[0]['iters'][0]['params'] != ranks[0]['iters'][1]['params']


def _finite(value: float) -> bool:
    return value == value and abs(value) != float('inf')


class ToyModelWithUnusedParameter(ToyModel):

    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))


def test_the_probe_reports_trainable_parameters_without_a_gradient(tmp_path):
    import utils.ddp_probe  # noqa: F401  (registers DDPProbeHook)
    toy_runner(tmp_path, 2, model=ToyModelWithUnusedParameter(),
               default_hooks=dict(ddp_probe=dict(type='DDPProbeHook'))).train()
    probe = json.loads((tmp_path / 'probe_rank0.json').read_text())
    assert probe['trainable'] == ['linear.bias', 'linear.weight', 'unused']
    assert probe['no_grad_first_iter'] == ['unused']
