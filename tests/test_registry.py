"""Registration: mmssl_ext adds modules to OpenMMLab registries and never shadows theirs."""
import subprocess
import sys
import textwrap

import pytest

# Runs in a fresh interpreter so the order of imports is controlled.
SNAPSHOT_SCRIPT = textwrap.dedent('''
    import importlib, json, sys

    def registries():
        out = {}
        for scope in ('mmpretrain', 'mmdet', 'mmseg'):
            module = importlib.import_module(f'{scope}.registry')
            for name in dir(module):
                registry = getattr(module, name)
                if hasattr(registry, 'module_dict') and name.isupper():
                    out[f'{scope}.{name}'] = registry
        return out

    def register_all():
        for scope in ('mmpretrain', 'mmdet', 'mmseg'):
            importlib.import_module(f'{scope}.utils').register_all_modules(False)

    def qualname(obj):
        obj = getattr(obj, 'func', obj)  # functools.partial
        return f'{obj.__module__}.{getattr(obj, "__qualname__", repr(obj))}'

    def snapshot():
        return {key: {name: qualname(obj) for name, obj in reg.module_dict.items()}
                for key, reg in registries().items()}

    order = sys.argv[1]
    if order == 'openmmlab-first':
        register_all()
        before = snapshot()
        import mmssl_ext  # noqa: F401
    else:
        before = None
        import mmssl_ext  # noqa: F401
        register_all()
    print(json.dumps(dict(before=before, after=snapshot())))
''')


def _snapshot(order):
    result = subprocess.run([sys.executable, '-c', SNAPSHOT_SCRIPT, order],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    import json
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope='module')
def openmmlab_first():
    return _snapshot('openmmlab-first')


def test_import_adds_modules_without_shadowing(openmmlab_first):
    before, after = openmmlab_first['before'], openmmlab_first['after']
    added = {}
    for key, names in after.items():
        for name, qualname in before[key].items():
            assert names[name] == qualname, f'{key}: {name} was replaced by {names[name]}'
        added[key] = {n: q for n, q in names.items() if n not in before[key]}
        for name, qualname in added[key].items():
            assert qualname.startswith('mmssl_ext.'), f'{key}: {name} from {qualname}'
    assert 'CheckpointKindHook' in added['mmpretrain.HOOKS']


def test_plugin_first_then_openmmlab_lazy_registration(openmmlab_first):
    """Importing mmssl_ext before the libraries' own modules must not collide later."""
    after_plugin_first = _snapshot('plugin-first')['after']
    assert after_plugin_first == openmmlab_first['after']


def test_every_plugin_module_lives_in_mmpretrain_registries(openmmlab_first):
    """Modules registered into mmdet / mmseg are also reachable as mmpretrain.Name."""
    before, after = openmmlab_first['before'], openmmlab_first['after']
    for key, names in after.items():
        scope, registry = key.split('.')
        if scope == 'mmpretrain':
            continue
        for name, qualname in names.items():
            if name in before[key]:
                continue
            assert after[f'mmpretrain.{registry}'].get(name) == qualname, (key, name)


def test_custom_imports_reaches_plugin_modules(tmp_path):
    """An mmpretrain config gains our modules through ``custom_imports`` alone."""
    config = tmp_path / 'user_config.py'
    config.write_text("custom_imports = dict(imports=['mmssl_ext'], "
                      "allow_failed_imports=False)\n")
    script = textwrap.dedent(f'''
        import sys
        from mmengine.config import Config
        from mmpretrain.registry import HOOKS
        assert 'mmssl_ext' not in sys.modules
        Config.fromfile({str(config)!r})
        hook = HOOKS.build(dict(type='CheckpointKindHook'))
        print(type(hook).__module__)
    ''')
    result = subprocess.run([sys.executable, '-c', script], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().startswith('mmssl_ext.')
