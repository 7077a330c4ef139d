"""The visualisers measure their picture on held-out images and print the figure."""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch

from conftest import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _run_tool(algo, checkpoints, demo_data_root, tmp_path):
    """Run vis_{algo}.py on the initialised demo model; return its printed summary."""
    out = tmp_path / f'{algo}.png'
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'visualization', f'vis_{algo}.py'),
         osp.join(ROOT, 'configs', algo, 'vit-t_demo.py'), checkpoints[algo],
         str(demo_data_root / 'imagenet' / 'train' / 'astronaut' / 'original.jpg'),
         '--out', str(out), '--eval-images', str(demo_data_root / 'imagenet' / 'val'),
         '--eval-draws', '2'],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert result.returncode == 0, result.stderr[-3000:]
    import cv2
    picture = cv2.imread(str(out))
    assert picture is not None and picture.shape[0] > 300
    return result.stdout.strip().splitlines()[-1]


def _number(pattern, text):
    match = re.search(pattern, text)
    assert match, text
    return float(match.group(1))


@pytest.mark.slow
def test_cim_tool_prints_exemplar_specificity(demo_pretrain_checkpoints, demo_data_root,
                                              tmp_path):
    summary = _run_tool('cim', demo_pretrain_checkpoints, demo_data_root, tmp_path)
    assert 'on 5 image(s) x 2 draws (40 exemplars)' in summary  # 5 held-out photos
    # an untrained decoder ignores its exemplar: no specificity
    assert abs(_number(r'gap ([-+]\d\.\d+)', summary)) < 0.05
    assert 0 < _number(r'perfect maps (\d\.\d+)', summary) < 1
    # ... and its cross-entropy is no better than the location-only predictor's
    assert (_number(r'cross-entropy (\d+\.\d+)', summary)
            > _number(r'location-only predictor (\d\.\d+)', summary) > 0)


@pytest.mark.slow
def test_cae_tool_prints_error_against_trivial_fills(demo_pretrain_checkpoints,
                                                     demo_data_root, tmp_path):
    summary = _run_tool('cae', demo_pretrain_checkpoints, demo_data_root, tmp_path)
    # a per-patch normalised target of n = 8 * 8 * 3 values has mean square (n - 1) / n
    assert _number(r'zeros (\d\.\d+)', summary) == pytest.approx(191 / 192, abs=2e-3)
    # an untrained decoder does worse than pasting the mean visible patch
    assert _number(r'mean visible patch (\d\.\d+)', summary) < 1
    assert _number(r'ratio to the mean visible patch (\d+\.\d+)', summary) > 1


@pytest.mark.slow
def test_pqcl_tool_prints_attention_concentration(demo_pretrain_checkpoints, demo_data_root,
                                                  tmp_path):
    summary = _run_tool('pqcl', demo_pretrain_checkpoints, demo_data_root, tmp_path)
    crops = _number(r'on (\d+) query crops of 5 image', summary)
    assert 0 < crops <= 10
    # near-uniform attention at initialisation
    assert 0.7 < _number(r'lift (\d+\.\d+)', summary) < 1.4


def test_pqcl_query_box_cells_by_hand():
    box_cells = load_tool('tools/visualization/vis_pqcl.py').box_cells
    # a 64 px global view at (0, 0) on an 8 x 8 grid: patch centres at 4, 12, 20, ...
    cells = box_cells((8, 16, 16, 8), (0, 0, 64, 64), (8, 8)).view(8, 8)
    expected = torch.zeros(8, 8, dtype=torch.bool)
    expected[1:3, 2] = True  # rows with centres 12, 20 in [8, 24]; column 20 in [16, 24]
    assert torch.equal(cells, expected)
    # a global view offset in the image shifts the grid
    cells = box_cells((108, 116, 16, 8), (100, 100, 64, 64), (8, 8)).view(8, 8)
    assert torch.equal(cells, expected)
