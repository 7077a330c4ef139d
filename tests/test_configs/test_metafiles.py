"""Model-zoo metadata: every config is listed in a metafile, every entry points at a
config, and an installed package serves its configs to mmengine.hub / mim."""
import glob
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


@pytest.mark.slow
def test_installed_package_serves_configs_to_mmengine_hub(tmp_path):
    source = tmp_path / 'src'
    files = subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard'],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if osp.isfile(osp.join(ROOT, name)):
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(osp.join(ROOT, name), source / name)
    target = tmp_path / 'site'
    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps',
                    '--no-build-isolation', '--target', str(target), str(source)],
                   check=True, capture_output=True)
    assert (target / 'mmssl_ext' / '.mim' / 'configs' / 'cae' / 'vit-b_300e_in1k.py').is_file()
    script = ("import mmssl_ext; from mmengine.hub import get_config; "
              "cfg = get_config('mmssl_ext::cae/vit-b_300e_in1k.py'); "
              "print(cfg.model.type, cfg.filename)")
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            env={'PYTHONPATH': str(target), 'PATH': '/usr/bin:/bin'},
                            cwd=str(tmp_path), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    kind, filename = result.stdout.split()[-2:]
    assert kind == 'ContextAutoencoder' and filename.startswith(str(target))


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
        if 'data/demo' in root:
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
