import importlib.util
import os.path as osp
import sys

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_tool(path):
    """Import a script under tools/ (e.g. 'tools/dataset_converters/make_demo_data.py')
    as a module of its own. While it is imported, its own folder is first on sys.path,
    as when the script runs, so it finds its sibling modules (e.g. vis_common.py)."""
    name = 'mmssl_tool_' + osp.splitext(path)[0].replace('/', '_')
    file = osp.join(ROOT, path)
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, osp.dirname(file))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(osp.dirname(file))
    return module


@pytest.fixture
def message_hub():
    """A fresh current MessageHub at iteration 0 of 10 (EMA schedules read both)."""
    import uuid

    from mmengine.logging import MessageHub

    hub = MessageHub.get_instance(f'test-{uuid.uuid4().hex}')
    hub.update_info('max_iters', 10)
    hub.update_info('iter', 0)
    return hub


@pytest.fixture(scope='session')
def demo_data_root(tmp_path_factory):
    """The demo data sets (tools/dataset_converters/make_demo_data.py), built once per
    test session, or the ones ``MMSSL_DEMO_DATA`` names if built with the same settings
    (the GPU check's, made where pycocotools exists to build the COCO part)."""
    import json
    import os
    import pathlib

    make_demo_data = load_tool('tools/dataset_converters/make_demo_data.py')
    settings = dict(version=make_demo_data.VERSION, num_unlabeled=30, seed=0)
    prebuilt = os.environ.get('MMSSL_DEMO_DATA')
    if prebuilt:
        marker = osp.join(prebuilt, '.complete.json')
        found = None
        if osp.exists(marker):
            with open(marker) as f:
                found = json.load(f)
        if found != settings:
            raise ValueError(f'MMSSL_DEMO_DATA={prebuilt}: not complete demo data built with '
                             f'{settings} (found {found})')
        return pathlib.Path(prebuilt)
    root = tmp_path_factory.mktemp('demo_data')
    make_demo_data.build_demo_data(str(root), num_unlabeled=settings['num_unlabeled'],
                                   seed=settings['seed'])
    return root


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason='needs a CUDA device')
    for item in items:
        if 'gpu' in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture(scope='session')
def demo_pretrain_checkpoints(tmp_path_factory):
    """Pre-training checkpoints ({'meta', 'state_dict'}) of the initialised demo models of
    configs/{cim,cae,pqcl}/vit-t_demo.py and configs/resim/r18_demo.py, by algorithm, plus
    'resim-mmdet': the ReSim one converted for mmdet with its FPN (ReSim-FPN^T)."""
    import os.path as osp

    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS

    from mmssl_ext.converters import resim_to_mmdet

    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    out = tmp_path_factory.mktemp('demo_pretrain')
    paths = {}
    for algo, config in (('cim', 'cim/vit-t_demo.py'), ('cae', 'cae/vit-t_demo.py'),
                         ('pqcl', 'pqcl/vit-t_demo.py'), ('resim', 'resim/r18_demo.py')):
        cfg = Config.fromfile(osp.join(root, 'configs', config))
        model_cfg = cfg.model.copy()
        if 'data_preprocessor' in cfg:
            model_cfg.data_preprocessor = cfg.data_preprocessor
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            model = MODELS.build(model_cfg)
        model.init_weights()
        paths[algo] = str(out / f'{algo}.pth')
        torch.save({'meta': {}, 'state_dict': model.state_dict()}, paths[algo])
    converted, _ = resim_to_mmdet(torch.load(paths['resim'])['state_dict'], with_fpn=True)
    paths['resim-mmdet'] = str(out / 'resim-mmdet.pth')
    torch.save({'meta': {}, 'state_dict': converted}, paths['resim-mmdet'])
    return paths
