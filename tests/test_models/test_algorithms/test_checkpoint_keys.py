"""Checkpoints written before the issue-16 refactor still load: the state-dict keys and
shapes of the four demo models equal the ones recorded from the code before it
(tests/data/demo_state_dict_keys.json). A deliberate change of a checkpoint layout must
update that file and ship a converter for the old layout."""
import json
import os.path as osp

import pytest
import torch

RECORDED = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'data',
                    'demo_state_dict_keys.json')


@pytest.mark.parametrize('algo', ['cim', 'cae', 'pqcl', 'resim'])
def test_demo_checkpoint_keys_and_shapes_are_unchanged(algo, demo_pretrain_checkpoints):
    with open(RECORDED) as f:
        recorded = json.load(f)[algo]
    state = torch.load(demo_pretrain_checkpoints[algo], weights_only=True)['state_dict']
    assert {key: list(value.shape) for key, value in state.items()} == recorded
