import pytest
import torch


@pytest.fixture(scope='session')
def demo_data_root(tmp_path_factory):
    """The demo data sets (mmssl_ext.datasets.demo_data), built once per test session."""
    from mmssl_ext.datasets.demo_data import build_demo_data

    root = tmp_path_factory.mktemp('demo_data')
    build_demo_data(str(root), num_unlabeled=30)
    return root


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason='needs a CUDA device')
    for item in items:
        if 'gpu' in item.keywords:
            item.add_marker(skip_gpu)
