"""CollapseMonitorHook: warns on uniform teacher outputs, quiet on peaked ones, and logs
its statistics during a real PQCL run."""
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.runner import Runner

import mmssl_ext  # noqa: F401
from mmssl_ext.engine.hooks import CollapseMonitorHook, teacher_collapse_stats

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
K = 64


def _warnings(tmp_path, name, logits, center, temp=0.04):
    log_file = tmp_path / f'{name}.log'
    MMLogger.get_instance(f'collapse_{name}', log_file=str(log_file))
    stats = CollapseMonitorHook().check('cls', logits, center, temp)
    return stats, [line for line in log_file.read_text().splitlines() if 'WARNING' in line]


def test_uniform_teacher_warns(tmp_path):
    # every prototype gets the same centred logit: entropy ln K, no spread
    logits = torch.randn(8, 1).expand(8, K) + 0.3
    stats, warnings = _warnings(tmp_path, 'uniform', logits, torch.full((1, K), 0.3))
    assert stats['entropy_ratio'] == pytest.approx(1.0)
    assert stats['logit_spread'] == pytest.approx(0.0, abs=1e-5)
    assert len(warnings) == 1 and 'collapsing' in warnings[0]


def test_peaked_teacher_is_quiet(tmp_path):
    logits = torch.zeros(8, K)
    logits[torch.arange(8), torch.arange(8)] = 0.2  # one prototype per sample, 0.2 / 0.04 = 5
    stats, warnings = _warnings(tmp_path, 'peaked', logits, torch.zeros(1, K))
    # hand computation: p = e^5 / (e^5 + 63), entropy -p ln p - 63 q ln q
    p = math.exp(5) / (math.exp(5) + K - 1)
    q = 1 / (math.exp(5) + K - 1)
    entropy = -p * math.log(p) - (K - 1) * q * math.log(q)
    assert stats['entropy_ratio'] == pytest.approx(entropy / math.log(K), rel=1e-4)
    assert stats['logit_spread'] == pytest.approx(torch.zeros(K).index_fill_(
        0, torch.tensor([0]), 5.).std().item(), rel=1e-5)
    assert stats['entropy_ratio'] < 0.5 and warnings == []


def test_near_uniform_crosses_the_entropy_threshold():
    logits = torch.zeros(4, K)
    logits[:, 0] = 0.01  # tiny spread, entropy just below ln K
    stats = teacher_collapse_stats(logits, torch.zeros(1, K), 0.04)
    assert 0.95 < stats['entropy_ratio'] < 1.0


def test_bad_parameters_fail_at_build():
    with pytest.raises(ValueError, match='max_entropy_ratio'):
        CollapseMonitorHook(max_entropy_ratio=1.5)


@pytest.mark.slow
def test_pqcl_demo_run_logs_teacher_statistics(tmp_path, demo_data_root):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'pqcl', 'vit-t_demo.py'))
    cfg.work_dir = str(tmp_path)
    cfg.train_dataloader.dataset.data_root = str(demo_data_root / 'imagenet')
    cfg.train_dataloader.update(num_workers=0, persistent_workers=False)
    cfg.train_cfg.max_epochs = 1
    cfg.custom_hooks.append(dict(type='CollapseMonitorHook', interval=1))
    runner = Runner.from_cfg(cfg)
    runner.train()
    hub = runner.message_hub
    for kind in ('cls', 'patch', 'query'):
        if f'train/collapse/{kind}_entropy_ratio' not in hub.log_scalars:
            continue
        ratios = hub.get_scalar(f'train/collapse/{kind}_entropy_ratio').data[0]
        assert len(ratios) == 2 and all(0 < r <= 1 for r in ratios)  # 2 iterations
    ratios = hub.get_scalar('train/collapse/cls_entropy_ratio').data[0]
    assert len(ratios) == 2
    spread = hub.get_scalar('train/collapse/cls_logit_spread').data[0]
    assert all(s > 0 for s in spread)
