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
