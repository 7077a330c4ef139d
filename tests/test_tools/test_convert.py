"""tools/model_converters/convert.py: one entry point, argument checks."""
import os.path as osp
import runpy

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = runpy.run_path(osp.join(ROOT, 'tools', 'model_converters', 'convert.py'))


@pytest.mark.parametrize('argv', [
    ['--from', 'cim-official', 'a', 'b', '--with-fpn'],
    ['--from', 'resim-official', 'a', 'b', '--with-fpn', '--backbone-only'],
    ['--from', 'cae-official', 'a', 'b', '--format', 'vit'],
    ['--from', 'cim-official', 'a', 'b', '--format', 'vit', '--backbone-only'],
    ['--from', 'cim-official', 'a', 'b', '--encoder', 'target'],
    ['--from', 'moco', 'a', 'b'],
])
def test_contradictory_arguments_are_refused(argv):
    with pytest.raises(SystemExit):
        TOOL['parse_args'](argv)


def test_unknown_encoder_is_named():
    args = TOOL['parse_args'](['--from', 'cim-official', 'a', 'b', '--backbone-only',
                               '--encoder', 'teacher'])
    with pytest.raises(ValueError, match="--encoder for cim-official must be one of"):
        TOOL['convert']('cim-official', {}, args)


def test_a_vit_checkpoint_is_not_converted_as_resim(demo_pretrain_checkpoints, tmp_path):
    import subprocess
    import sys
    out = tmp_path / 'out.pth'
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'model_converters', 'convert.py'),
         '--from', 'resim-official', demo_pretrain_checkpoints['cim'], str(out)],
        capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert 'not a resim-official checkpoint' in result.stderr
    assert 'backbone.layer1.0.conv1.weight' in result.stderr
    assert not out.exists()


@pytest.mark.parametrize('source, other', [
    ('cim-official', 'resim'), ('cae-official', 'cim'), ('cae-mmpretrain', 'pqcl'),
    ('pqcl-official', 'cae'), ('resim-official', 'pqcl'), ('cae-mmpretrain', 'resim')])
def test_every_source_checks_its_layout(source, other, demo_pretrain_checkpoints):
    from mmssl_ext.converters import load_state_dict
    state_dict = load_state_dict(demo_pretrain_checkpoints[other])
    with pytest.raises(ValueError, match=f'not a {source} checkpoint'):
        TOOL['check_layout'](source, state_dict)
