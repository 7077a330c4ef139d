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
