"""Model-zoo metadata: every config is listed in a metafile, every entry points at a
config, and an installed package serves its configs to mmengine.hub / mim."""
import glob
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _metafiles():
    index = yaml.safe_load(open(osp.join(ROOT, 'model-index.yml')))
    return [osp.join(ROOT, path) for path in index['Import']]


def test_model_index_imports_every_algorithm_metafile():
    listed = sorted(osp.relpath(path, ROOT) for path in _metafiles())
    on_disk = sorted(osp.relpath(path, ROOT)
                     for path in glob.glob(osp.join(ROOT, 'configs', '*', 'metafile.yml')))
    assert listed == on_disk


def test_every_config_is_listed_and_every_entry_exists():
    listed, names = [], []
    for metafile in _metafiles():
        meta = yaml.safe_load(open(metafile))
        collections = {collection['Name'] for collection in meta['Collections']}
        for model in meta['Models']:
            assert model['In Collection'] in collections, model['Name']
            assert osp.isfile(osp.join(ROOT, model['Config'])), model['Config']
            listed.append(model['Config'])
            names.append(model['Name'])
    configs = sorted(osp.relpath(path, ROOT) for path in glob.glob(
        osp.join(ROOT, 'configs', '*', '**', '*.py'), recursive=True)
        if '/_base_/' not in path)
    assert sorted(listed) == configs
    assert len(set(names)) == len(names)


USER_CONFIG = """_base_ = ['mmssl_ext::cim/vit-b_300e_in1k.py']
model = dict(backbone=dict(arch='small'))
"""
RESOLVE = ("import mmssl_ext; from mmengine.hub import get_config; "
           "from mmengine.config import Config; "
           "cfg = get_config('mmssl_ext::cae/vit-b_300e_in1k.py'); "
           "user = Config.fromfile('user_config.py'); "
           "print(cfg.model.type, cfg.filename, user.model.type, user.model.backbone.arch)")


def test_editable_checkout_serves_configs(tmp_path):
    """What `make` installs (pip install -e .): mmssl_ext/.mim links to the checkout."""
    (tmp_path / 'user_config.py').write_text(USER_CONFIG)
    result = subprocess.run([sys.executable, '-c', RESOLVE], capture_output=True, text=True,
                            cwd=str(tmp_path), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    kind, filename, user_kind, arch = result.stdout.split()[-4:]
    assert kind == 'ContextAutoencoder' and user_kind == 'CIM' and arch == 'small'
    assert osp.realpath(filename).endswith(osp.join('configs', 'cae', 'vit-b_300e_in1k.py'))


@pytest.fixture(scope='module')
def wheel_install(tmp_path_factory):
    """``pip wheel --no-deps`` of the checkout, installed with ``pip install --target``."""
    tmp_path = tmp_path_factory.mktemp('wheel')
    source = tmp_path / 'src'
    files = subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard'],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if osp.isfile(osp.join(ROOT, name)):
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(osp.join(ROOT, name), source / name)
    pip = [sys.executable, '-m', 'pip', '--disable-pip-version-check']
    subprocess.run([*pip, 'wheel', '-q', '--no-deps', '--no-build-isolation', '-w',
                    str(tmp_path / 'dist'), str(source)], check=True, capture_output=True)
    wheel, = glob.glob(str(tmp_path / 'dist' / 'mmssl_ext-*.whl'))
    target = tmp_path / 'site'
    subprocess.run([*pip, 'install', '-q', '--no-deps', '--target', str(target), wheel],
                   check=True, capture_output=True)
    return target


def _from_wheel(target, args, cwd, timeout=300):
    """Run with the wheel's install first on the path (and the checkout nowhere on it)."""
    paths = [path for path in os.environ.get('PYTHONPATH', '').split(os.pathsep)
             if path and osp.realpath(path) != osp.realpath(ROOT)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(target), *paths]),
               OMP_NUM_THREADS='1')
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True,
                            env=env, cwd=str(cwd), timeout=timeout)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


@pytest.mark.slow
def test_wheel_serves_configs_to_mmengine_hub_and_base(wheel_install, tmp_path):
    assert (wheel_install / 'mmssl_ext' / '.mim' / 'configs' / 'cae' /
            'vit-b_300e_in1k.py').is_file()
    (tmp_path / 'user_config.py').write_text(USER_CONFIG)
    out = _from_wheel(wheel_install, ['-c', RESOLVE], tmp_path)
    kind, filename, user_kind, arch = out.split()[-4:]
    assert kind == 'ContextAutoencoder' and filename.startswith(str(wheel_install))
    assert user_kind == 'CIM' and arch == 'small'


@pytest.mark.slow
def test_mim_searches_and_trains_the_installed_package(wheel_install, tmp_path, demo_data_root):
    pytest.importorskip('mim', reason='openmim (requirements/mim.txt) is not installed')
    out = _from_wheel(wheel_install, ['-m', 'mim', 'search', 'mmssl_ext', '--field',
                                      'training_data'], tmp_path)
    assert 'config id: resim_resim-c4_r50_500e_in100' in out and 'imagenet-100' in out
    config = wheel_install / 'mmssl_ext' / '.mim' / 'configs' / 'cim' / 'vit-t_demo.py'
    _from_wheel(wheel_install, [
        '-m', 'mim', 'train', 'mmssl_ext', str(config), '--gpus', '0', '--work-dir',
        str(tmp_path / 'work'), '--cfg-options',
        f'train_dataloader.dataset.data_root={demo_data_root / "imagenet"}',
        'train_dataloader.num_workers=0', 'train_cfg.max_epochs=1'], tmp_path, timeout=600)
    assert (tmp_path / 'work' / 'epoch_1.pth').is_file()


def _datasets(dataset):
    """Leaf dataset configs of a (possibly wrapped) dataset config."""
    if 'datasets' in dataset:
        return [leaf for inner in dataset['datasets'] for leaf in _datasets(inner)]
    if 'dataset' in dataset:
        return _datasets(dataset['dataset'])
    return [dataset]


def _training_data(cfg):
    """What a config trains on, named as the metafiles name it."""
    names = set()
    for dataset in _datasets(cfg.train_dataloader.dataset):
        root, kind = str(dataset.get('data_root', '')), dataset['type'].split('.')[-1]
        if 'fashion_mnist' in root:
            names.add('Fashion-MNIST (tools/dataset_converters/fashion_mnist.py)')
        elif 'data/demo' in root:
            names.add('mmssl_ext demo data (tools/dataset_converters/make_demo_data.py)')
        elif kind == 'VOCDataset':
            names.add('PASCAL VOC 2007+2012')
        elif kind == 'CocoDataset':
            names.add('COCO 2017')
        elif kind == 'ADE20KDataset':
            names.add('ADE20K')
        elif 'imagenet100' in root:
            names.add('ImageNet-100')
        elif 'imagenet' in root:
            names.add('ImageNet-1k')
    assert len(names) == 1, (cfg.filename, names)
    return names.pop()


def test_training_data_and_readme_links_are_true():
    import importlib.util

    from mmengine.config import Config
    for metafile in _metafiles():
        meta = yaml.safe_load(open(metafile))
        for collection in meta['Collections']:
            assert osp.isfile(osp.join(ROOT, collection['README'])), collection['README']
        for model in meta['Models']:
            try:
                cfg = Config.fromfile(osp.join(ROOT, model['Config']))
            except ModuleNotFoundError:  # an mmdet / mmseg base where they are absent
                if all(importlib.util.find_spec(name) for name in ('mmdet', 'mmseg')):
                    raise
                continue
            assert model['Metadata']['Training Data'] == _training_data(cfg), model['Name']
