"""tools/train.py stops a diverging run: CIM demo with lr=1e6."""
import re

import pytest
import torch
from utils.training import ROOT, run, train_cmd


@pytest.mark.slow
def test_cim_demo_with_huge_lr_stops_naming_the_term_and_saves_no_nan_state(
        tmp_path, demo_data_root):
    result = run(train_cmd(
        f'{ROOT}/configs/cim/vit-t_demo.py', '--work-dir', str(tmp_path), '--cfg-options',
        f'train_dataloader.dataset.data_root={demo_data_root / "imagenet"}',
        'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
        'optim_wrapper.optimizer.lr=1e6', 'train_cfg.max_epochs=3',
        'default_hooks.checkpoint.by_epoch=False', 'default_hooks.checkpoint.interval=1',
        'default_hooks.checkpoint.max_keep_ckpts=100', 'default_hooks.logger.interval=1'),
        expect='fail')
    # The first non-finite quantity is named: a loss term of CIMHead, or the parameter
    # whose gradient overflowed while the loss was still finite.
    match = re.search(r'FloatingPointError: Non-finite (loss|gradient) at iteration (\d+): '
                      r'(loss=(nan|inf|-inf)|[\w.]+ \(finite loss terms: loss=)', result.log)
    assert match, result.log[-3000:]
    stop = int(match.group(2))
    saved = sorted(int(p.stem.split('_')[1]) for p in tmp_path.glob('iter_*.pth'))
    assert saved == list(range(1, stop)), (stop, saved)  # nothing of the failing iteration
    for step in saved:
        state = torch.load(tmp_path / f'iter_{step}.pth', weights_only=True)['state_dict']
        assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())
