"""Install mmssl_ext, the OpenMMLab plugin for CIM, PQCL, CAE and ReSim pre-training.

The pinned, tested environment (torch, mmcv full, mmengine, mmpretrain, mmdet,
mmsegmentation) is built by ``make env`` (tools/misc/setup_env.sh); this file only
declares the loose requirements of the package itself.
"""
import os.path as osp

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def get_version() -> str:
    scope: dict = {}
    with open(osp.join(HERE, 'mmssl_ext', 'version.py'), encoding='utf-8') as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def readme() -> str:
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        return f.read()


setup(
    name='mmssl_ext',
    version=get_version(),
    description='CIM, PQCL, CAE and ReSim self-supervised pre-training for OpenMMLab 2.0',
    long_description=readme(),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'data')),
    include_package_data=True,
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
