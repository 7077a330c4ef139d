"""Install mmssl_ext, the OpenMMLab plugin for CIM, PQCL, CAE and ReSim pre-training.

The pinned, tested environment (torch, mmcv full, mmengine, mmpretrain, mmdet,
mmsegmentation) is built by ``make env`` (tools/misc/setup_env.sh); this file only
declares the loose requirements of the package itself.
"""
import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))
#: shipped inside the package as mmssl_ext/.mim/, where mim and mmengine.hub look for
#: configs (``mmengine.hub.get_config('mmssl_ext::cae/vit-b_300e_in1k.py')``).
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def add_mim_extension() -> None:
    """Link (editable / develop installs) or copy (wheels) the mim files into the package,
    as mmpretrain's setup.py does."""
    mode = 'symlink' if {'develop', 'editable_wheel'} & set(sys.argv) else 'copy'
    mim_dir = osp.join(HERE, 'mmssl_ext', '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FILES:
        src, dst = osp.join(HERE, name), osp.join(mim_dir, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_dir), dst)
        elif osp.isdir(src):
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)


def get_version() -> str:
    scope: dict = {}
    with open(osp.join(HERE, 'mmssl_ext', 'version.py'), encoding='utf-8') as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def readme() -> str:
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        return f.read()


add_mim_extension()
setup(
    name='mmssl_ext',
    version=get_version(),
    description='CIM, PQCL, CAE and ReSim self-supervised pre-training for OpenMMLab 2.0',
    long_description=readme(),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'data')),
    include_package_data=True,
    package_data={'mmssl_ext': ['.mim/model-index.yml', '.mim/configs/**/*.py',
                                '.mim/configs/**/*.yml', '.mim/tools/**/*']},
    python_requires='>=3.9',
    install_requires=[
        'torch>=2.0',
        'mmengine>=0.10.7,<1.0',
        'mmcv>=2.0.0,<2.2.0',
        'mmpretrain>=1.2.0,<2.0',
    ],
    extras_require={
        'det': ['mmdet>=3.3.0,<3.4', 'pycocotools'],
        'seg': ['mmsegmentation>=1.2.2,<1.3', 'ftfy', 'regex'],
        'demo': ['scikit-image', 'imgviz'],
        'tests': ['pytest'],
    },
    classifiers=[
        'License :: OSI Approved :: Apache Software License',
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    zip_safe=False,
)
