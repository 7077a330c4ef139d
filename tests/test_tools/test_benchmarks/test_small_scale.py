"""tools/benchmarks/small_scale.py: rows, bank, evaluation models and a --quick run."""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from conftest import ROOT, load_tool

small_scale = load_tool('tools/benchmarks/small_scale.py')
CLASSES = ('face', 'nonface')


@pytest.fixture(scope='module')
def face_folder(tmp_path_factory):
    """A tiny ImageNet-style folder of real images without meta/: scikit-image's LFW
    subset (100 face / 100 non-face 25 px crops) as 32 px RGB PNGs: 16 unlabelled
    pre-training images, 20 labelled bank images and 10 queries per class."""
    from skimage.data import lfw_subset

    images = (lfw_subset() * 255).round().astype(np.uint8)
    images = {'face': images[:100], 'nonface': images[100:]}
    root = tmp_path_factory.mktemp('faces')

    def write(path, image):
        os.makedirs(osp.dirname(path), exist_ok=True)
        image = cv2.resize(image, (32, 32), interpolation=cv2.INTER_CUBIC)
        assert cv2.imwrite(str(path), np.repeat(image[..., None], 3, axis=2))

    for name in CLASSES:
        for i in range(20):
            write(root / 'train' / name / f'{i:03d}.png', images[name][i])
        for i in range(20, 30):
            write(root / 'val' / name / f'{i:03d}.png', images[name][i])
        for i in range(60, 68):
            write(root / 'pretrain' / f'{name}{i:03d}.png', images[name][i])
    return root


def test_lists_read_class_folders_and_balance_the_bank(face_folder, tmp_path):
    lists = small_scale.write_lists(str(face_folder), 7, 5, str(tmp_path))
    read = {name: [line.split() for line in open(path).read().splitlines()]
            for name, path in lists.items()}
    assert set(read) == {'val', 'bank', 'monitor_bank', 'monitor_queries'}
    assert len(read['val']) == 20
    assert {label for path, label in read['val'] if path.startswith('face/')} == {'0'}
    assert {label for path, label in read['val'] if path.startswith('nonface/')} == {'1'}
    # 7 images: 4 of class 0 (the remainder goes to the lowest label), 3 of class 1
    assert [label for _, label in read['bank']] == ['0'] * 4 + ['1'] * 3
    assert all(osp.isfile(face_folder / 'train' / path) for path, _ in read['bank'])
    # the per-epoch monitor's subsets: 5 images each, 3 + 2, from train/ and val/
    for name, split in (('monitor_bank', 'train'), ('monitor_queries', 'val')):
        assert [label for _, label in read[name]] == ['0'] * 3 + ['1'] * 2
        assert all(osp.isfile(face_folder / split / path) for path, _ in read[name])


def test_validation_queries_come_from_the_end_of_train_and_miss_the_bank(face_folder,
                                                                         tmp_path):
    """--validation-size: class-balanced train/ images from the end of its list, none
    in the bank; val/ is not listed."""
    lists = small_scale.write_lists(str(face_folder), 7, 4, str(tmp_path), validation_size=6)
    read = {name: [tuple(line.split()) for line in open(path).read().splitlines()]
            for name, path in lists.items()}
    assert set(read) == {'bank', 'validation', 'monitor_bank', 'monitor_queries'}
    # train/ lists face/000-019 then nonface/000-019 (sorted class folders)
    assert read['validation'] == [(f'{c}/{i:03d}.png', label) for c, label in
                                  (('face', '0'), ('nonface', '1')) for i in (17, 18, 19)]
    assert not set(read['validation']) & set(read['bank'])
    assert read['monitor_queries'] == read['validation'][0:2] + read['validation'][3:5]
    # a bank of 19 images per class leaves one of each: the queries take only those
    lists = small_scale.write_lists(str(face_folder), 38, 4, str(tmp_path), validation_size=4)
    assert open(lists['validation']).read().split()[::2] == ['face/019.png',
                                                             'nonface/019.png']


@pytest.mark.parametrize('validation_size', [None, 6])
def test_train_options_point_the_monitor_at_its_lists_every_epoch(face_folder, tmp_path,
                                                                  validation_size):
    """The options, applied as tools/train.py does (mmengine's DictAction parsing),
    give every k-NN monitor the per-epoch interval, the monitor lists (no index
    subset left from the config, queries from train/ with --validation-size) and the
    seed; the benchmark's --cfg-options come last and win."""
    from mmengine.config import Config, DictAction

    lists = small_scale.write_lists(str(face_folder), 7, 5, str(tmp_path), validation_size)
    args = argparse.Namespace(data_root=str(face_folder), quick=False, lists=lists,
                              validation_size=validation_size,
                              cfg_options=['randomness.seed=5', 'model.head.align_weight=0.7'])
    config = 'configs/cae/vit-t_small-scale_fmnist.py'
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    options = parser.parse_args(
        ['--cfg-options'] + small_scale.train_options(config, args, seed=3)).cfg_options
    cfg = Config.fromfile(osp.join(ROOT, config))
    assert cfg.custom_hooks[0].interval == cfg.train_cfg.max_epochs  # once, at the end
    cfg.merge_from_dict(options)
    monitor = cfg.custom_hooks[0]
    assert monitor.type == 'KNNMonitorHook' and monitor.interval == 1
    query_split = 'train' if validation_size else 'val'
    for loader, name, split in (('bank_dataloader', 'monitor_bank', 'train'),
                                ('query_dataloader', 'monitor_queries', query_split)):
        dataset = monitor[loader].dataset
        assert dataset.ann_file == lists[name] and dataset.indices is None
        assert dataset.data_root == str(face_folder) and dataset.split == split
    assert cfg.train_dataloader.dataset.data_root == str(face_folder)
    assert cfg.randomness.seed == 5 and cfg.model.head.align_weight == 0.7


def test_monitor_scoring_of_a_baseline_uses_the_monitor_lists_without_a_probe(tmp_path):
    lists = {name: str(tmp_path / f'{name}.txt')
             for name in ('bank', 'val', 'monitor_bank', 'monitor_queries')}
    args = argparse.Namespace(data_root='DATA', quick=False, lists=lists,
                              validation_size=None)
    row = small_scale.METHODS['random-ResNet-18']
    final = small_scale.eval_command(row, args)
    monitor = small_scale.eval_command(row, args, monitor=True)
    assert '--linear-probe' in final and '--linear-probe' not in monitor
    assert '--random-init' in monitor and monitor[1] == small_scale.R18_EVAL
    assert f'train_dataloader.dataset.ann_file={lists["monitor_bank"]}' in monitor
    assert f'val_dataloader.dataset.ann_file={lists["monitor_queries"]}' in monitor
    assert f'train_dataloader.dataset.ann_file={lists["bank"]}' in final
    assert f'val_dataloader.dataset.ann_file={lists["val"]}' in final
    assert 'val_dataloader.dataset.split=val' in final + monitor


def test_validation_scoring_reads_its_queries_from_train(tmp_path):
    lists = {name: str(tmp_path / f'{name}.txt')
             for name in ('bank', 'validation', 'monitor_bank', 'monitor_queries')}
    args = argparse.Namespace(data_root='DATA', quick=False, lists=lists, validation_size=6)
    row = small_scale.METHODS['random-ViT-T']
    for command in (small_scale.eval_command(row, args),
                    small_scale.eval_command(row, args, monitor=True)):
        assert 'val_dataloader.dataset.split=train' in command
    assert f'val_dataloader.dataset.ann_file={lists["validation"]}' in \
        small_scale.eval_command(row, args)


def test_missing_config_is_named():
    row = small_scale.Row('nothing', 'ViT-T', 'configs/nothing/vit-t_nothing.py')
    with pytest.raises(SystemExit, match='configs/nothing/vit-t_nothing.py'):
        small_scale.check_configs([row])


def test_rows_cover_the_contract():
    assert small_scale.DEFAULT_METHODS == [
        'CIM', 'CAE', 'MAE', 'PQCL', 'MoCo-v3', 'ReSim', 'MoCo-v2', 'MoCo-v2-mmpretrain',
        'random-ViT-T', 'random-ResNet-18', 'raw-pixels']
    assert set(small_scale.METHODS) - set(small_scale.DEFAULT_METHODS) == {'iBOT', 'DINO'}


@pytest.mark.parametrize('name', [name for name, row in small_scale.METHODS.items()
                                  if row.config])
def test_extracted_encoder_loads_strictly_into_its_evaluation_model(name):
    """Each row's pre-training model (its config as it is), extracted with
    extract_backbone, loads with no missing or unexpected key into the row's
    evaluation backbone and gives one feature vector per image."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS

    from mmssl_ext.converters import extract_backbone
    from mmssl_ext.evaluation import global_features

    row = small_scale.METHODS[name]
    if not osp.isfile(osp.join(ROOT, row.config)):
        pytest.skip(f'{row.config} is not in this branch yet')
    cfg = Config.fromfile(osp.join(ROOT, row.config))
    eval_cfg = Config.fromfile(osp.join(
        ROOT, row.eval_config or small_scale.FAMILIES[row.family].eval_config))
    eval_cfg.model.init_cfg = None
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
        evaluation = MODELS.build(eval_cfg.model)
    model.init_weights()
    weights, _, _ = extract_backbone(model.state_dict())
    evaluation.load_state_dict(weights, strict=True)
    size = 32 if row.family == 'ViT-T' else 64
    evaluation.eval()
    with torch.no_grad():
        features = global_features(evaluation(torch.randn(2, 3, size, size))[-1])
    assert features.shape == (2, 128 if row.family == 'ViT-T' else 512)


def _raw_pixel_knn(folder, bank_list, query_list, query_split='val'):
    """k-NN top-1 of the flattened, normalised query pixels against the bank's,
    computed here from the image files and the lists."""
    from mmssl_ext.evaluation import knn_scores, topk_accuracy

    mean = torch.tensor([123.675, 116.28, 103.53])
    std = torch.tensor([58.395, 57.12, 57.375])

    def load(split, list_path):
        features, labels = [], []
        for line in open(list_path).read().splitlines():
            path, label = line.split()
            rgb = cv2.imread(str(folder / split / path))[..., ::-1].astype(np.float32)
            features.append(((torch.from_numpy(rgb) - mean) / std).permute(2, 0, 1).flatten())
            labels.append(int(label))
        return torch.stack(features), torch.tensor(labels)

    bank, bank_labels = load('train', bank_list)
    queries, query_labels = load(query_split, query_list)
    scores = knn_scores(bank, bank_labels, queries, 2, k=20, temperature=0.07)
    return topk_accuracy(scores, query_labels, (1, ))['top1']


def test_checks_are_issue_13_item_3_on_the_rows_present():
    """Hand case: margins against random init (+5), peers (-1) and ReSim's own MoCo v2
    setting (0); checks whose rows are missing (iBOT, CIM's MAE) are left out."""
    knn = {'CIM': 60., 'random-ViT-T': 55., 'PQCL': 62.5, 'MoCo-v3': 63.,
           'ReSim': 80., 'random-ResNet-18': 60., 'MoCo-v2-mmpretrain': 81.5,
           'MoCo-v2': 80.25}
    rows = {name: dict(knn_top1=value) for name, value in knn.items()}
    found = {c['check']: (c['bound'], c['margin'], c['holds'])
             for c in small_scale.checks(rows)}
    assert found == {
        'CIM >= random-ViT-T + 5': (60., 0., True),
        'PQCL >= random-ViT-T + 5': (60., 2.5, True),
        'PQCL >= MoCo-v3 - 1': (62., 0.5, True),
        'ReSim >= random-ResNet-18 + 5': (65., 15., True),
        'ReSim >= MoCo-v2-mmpretrain - 1': (80.5, -0.5, False),
        'ReSim >= MoCo-v2': (80.25, -0.25, False)}
    text = small_scale.checks_text(small_scale.checks(rows))
    assert '- ReSim >= MoCo-v2: 80.00 vs 80.25, misses (-0.25)' in text.splitlines()
    # a run of one algorithm alone has nothing to check against, and says so
    alone = small_scale.checks({'CIM': rows['CIM']})
    assert alone == []
    assert small_scale.checks_text(alone).startswith('- none: each check needs')


def test_runs_of_several_seeds_are_averaged():
    runs = [dict(config='c.py', epochs=2, iterations=4, eval_config='e.py', bank_size=20,
                 queries=20, seed=seed, knn_top1=knn, linear_top1=linear, backbone=f'{seed}',
                 knn_monitor=[[1.0, knn - 10], [2.0, knn]])
            for seed, knn, linear in ((0, 60., 70.), (1, 65., 71.), (2, 64., 75.))]
    row = small_scale.mean_of_runs(runs)
    assert row['knn_top1'] == pytest.approx(63.) and row['linear_top1'] == pytest.approx(72.)
    # sample standard deviation: deviations -3, +2, +1 -> sqrt(14 / 2)
    assert row['knn_top1_sd'] == pytest.approx(7 ** 0.5)
    assert row['knn_monitor'] == [[1.0, pytest.approx(53.)], [2.0, pytest.approx(63.)]]
    assert row['runs'] == runs and 'backbone' not in row and row['iterations'] == 4
    assert small_scale.mean_of_runs(runs[:1]) == runs[0]
    runs[2]['knn_monitor'] = [[2.0, 64.]]  # a run whose monitor epochs differ
    assert small_scale.mean_of_runs(runs)['knn_monitor'] == []
    table = small_scale.markdown_table({'A': dict(row, family='ViT-T')})
    assert '| 63.00 +- 2.65 sd (60.00 / 65.00 / 64.00) | 72.00 (70.00 / 71.00 / 75.00) |' \
        in table


def _seed_runs(*knn):
    return small_scale.mean_of_runs([
        dict(config='c.py', epochs=1, iterations=1, eval_config='e.py', bank_size=20,
             queries=20, seed=seed, knn_top1=value, linear_top1=0., knn_monitor=[])
        for seed, value in enumerate(knn)])


def test_checks_of_several_seeds_carry_the_standard_error_of_their_margin():
    rows = {'CIM': _seed_runs(60., 65., 64.),  # mean 63, sd sqrt(7)
            'CAE': _seed_runs(69., 71., 70.),  # mean 70, sd 1
            'MAE': _seed_runs(70., 72.),  # mean 71, sd sqrt(2)
            'random-ViT-T': dict(knn_top1=52., baseline='random')}
    found = {c['check']: c for c in small_scale.checks(rows)}
    # against a baseline (one fixed scoring) only the algorithm's seeds count
    assert found['CIM >= random-ViT-T + 5']['margin'] == pytest.approx(6.)
    assert found['CIM >= random-ViT-T + 5']['margin_se'] == pytest.approx((7 / 3) ** 0.5)
    assert found['CIM >= random-ViT-T + 5']['decided'] is True
    # against a peer both rows' seeds: sqrt(7 / 3 + 2 / 2)
    assert found['CIM >= MAE - 1']['margin'] == pytest.approx(-7.)
    assert found['CIM >= MAE - 1']['margin_se'] == pytest.approx((10 / 3) ** 0.5)
    assert found['CIM >= MAE - 1']['decided'] is True
    # a margin of 0 +- 1.15 holds, undecided: sqrt(1 / 3 + 1)
    assert found['CAE >= MAE - 1']['holds'] is True
    assert found['CAE >= MAE - 1']['decided'] is False
    lines = small_scale.checks_text(small_scale.checks(rows)).splitlines()
    assert '- CAE >= MAE - 1: 70.00 vs 70.00, holds (+0.00 +- 1.15 se, within 2 se)' in lines
    assert '- CIM >= MAE - 1: 63.00 vs 70.00, misses (-7.00 +- 1.83 se, beyond 2 se)' in lines
    # a single-seed algorithm has no spread: no error, nothing decided
    rows['CIM'] = dict(knn_top1=63.)
    single = {c['check']: c for c in small_scale.checks(rows)}['CIM >= random-ViT-T + 5']
    assert single['margin_se'] is None and single['decided'] is None


def test_resume_with_other_seeds_queries_or_options_is_refused():
    protocol = dict(seeds=[0, 1], queries='val', cfg_options=[])
    results = dict(protocol=protocol, rows=dict(CIM=dict(knn_top1=60.)))
    small_scale.check_resumed(results, dict(protocol), 'r.json')
    for seeds in ([0], None, [1, 0]):
        with pytest.raises(SystemExit, match=r'r.json holds rows run with seeds \[0, 1\]'):
            small_scale.check_resumed(results, dict(protocol, seeds=seeds), 'r.json')
    with pytest.raises(SystemExit, match=r'queries val, not validation.*--validation-size'):
        small_scale.check_resumed(results, dict(protocol, queries='validation (6 train/ '
                                                'images)'), 'r.json')
    with pytest.raises(SystemExit, match=r"cfg_options \[\], not \['a=1'\].*--cfg-options"):
        small_scale.check_resumed(results, dict(protocol, cfg_options=['a=1']), 'r.json')
    # a JSON written before the queries and options were recorded: val/, no options
    old = dict(protocol=dict(seeds=[0, 1]), rows=dict(CIM=dict(knn_top1=60.)))
    small_scale.check_resumed(old, protocol, 'r.json')
    small_scale.check_resumed(dict(protocol=protocol, rows={}), dict(protocol, seeds=[2]),
                              'r.json')


@pytest.mark.slow
def test_quick_run_end_to_end(face_folder, tmp_path):
    """--quick through the real subprocesses, two at a time: a ViT row (PQCL), a ResNet
    row (our MoCo v2 setting), each pre-trained with two seeds and an option of the
    benchmark's --cfg-options, both random inits and the raw pixels; then --resume
    keeps them."""
    work_dir = tmp_path / 'bench'
    methods = ['PQCL', 'MoCo-v2', 'random-ViT-T', 'random-ResNet-18', 'raw-pixels']
    command = [sys.executable, osp.join(ROOT, 'tools', 'benchmarks', 'small_scale.py'),
               '--quick', '--data-root', str(face_folder), '--work-dir', str(work_dir),
               '--seeds', '3', '4', '--jobs', '2', '--cfg-options',
               'optim_wrapper.optimizer.weight_decay=0.0123', '--methods'] + methods
    env = dict(os.environ, OMP_NUM_THREADS='1')
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env,
                            timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    results = json.loads((work_dir / 'small_scale.json').read_text())
    assert list(results['rows']) == methods
    assert results['protocol']['bank_size'] == 20 and results['protocol']['seeds'] == [3, 4]
    assert results['protocol']['jobs'] == 2 and results['protocol']['queries'] == 'val'
    scored = [row for row in results['rows'].values() if row['baseline']]
    scored += [run for row in results['rows'].values() for run in row.get('runs', [])]
    for row in scored:
        assert row['bank_size'] == 20 and row['queries'] == 20, row
        for key in ('knn_top1', 'linear_top1'):  # multiples of 100 / 20 queries
            hits = row[key] / 5
            assert 0 <= hits <= 20 and abs(hits - round(hits)) < 1e-4, (row, key)
    for name in ('PQCL', 'MoCo-v2'):
        row = results['rows'][name]
        # two epochs of 16 images at batch 8; the monitor ran at the end of each
        assert row['epochs'] == 2 and row['iterations'] == 4, row
        assert [epoch for epoch, _ in row['knn_monitor']] == [1.0, 2.0]
        assert [run['seed'] for run in row['runs']] == [3, 4]
        for key in ('knn_top1', 'linear_top1'):
            assert row[key] == pytest.approx(np.mean([run[key] for run in row['runs']]))
        for run in row['runs']:
            run_dir = work_dir / name / f'seed{run["seed"]}'
            assert run['backbone'] == str(run_dir / 'backbone.pth')
            assert osp.isfile(run['backbone']) and run['pretrain_cpu_s'] > 0
            dumped = (run_dir / osp.basename(row['config'])).read_text()
            assert f'seed={run["seed"]}' in dumped.replace(' ', '')
            assert 'weight_decay=0.0123' in dumped.replace(' ', '')
    assert 'precise BN: 20 BatchNorm layers' in (
        work_dir / 'MoCo-v2' / 'seed3' / 'eval.log').read_text()
    lists = {name: str(work_dir / f'{name}.txt')
             for name in ('bank', 'val', 'monitor_bank', 'monitor_queries')}
    # The curve is the encoder the row transfers: the monitor's last value (logged in
    # the run) equals knn_eval.py of the extracted file on the monitor's lists, with the
    # run's own BatchNorm statistics as the monitor uses them (PQCL: its teacher).
    args = argparse.Namespace(data_root=str(face_folder), quick=True, lists=lists,
                              validation_size=None)
    for name in ('PQCL', 'MoCo-v2'):
        run = results['rows'][name]['runs'][0]
        out = tmp_path / f'{name}_monitor_check.json'
        scoring = small_scale.eval_command(small_scale.METHODS[name], args,
                                           backbone=run['backbone'], monitor=True)
        scoring[scoring.index('--precise-bn') + 1] = '0'
        scored = subprocess.run([sys.executable] + scoring + ['--out', str(out)], cwd=ROOT,
                                capture_output=True, text=True, env=env, timeout=300)
        assert scored.returncode == 0, scored.stderr[-3000:]
        assert json.loads(out.read_text())['20-NN']['top1'] == pytest.approx(
            run['knn_monitor'][-1][1], abs=1e-4), name
    pixels = results['rows']['raw-pixels']
    assert pixels['knn_top1'] == pytest.approx(
        _raw_pixel_knn(face_folder, lists['bank'], lists['val']), abs=1e-4)
    # the plot's baseline: the same scoring on the monitor's lists (30 bank images)
    assert len(open(lists['monitor_bank']).read().splitlines()) == 30
    assert pixels['monitor_knn_top1'] == pytest.approx(
        _raw_pixel_knn(face_folder, lists['monitor_bank'], lists['monitor_queries']),
        abs=1e-4)
    assert 'monitor_knn_top1' in results['rows']['random-ViT-T']
    assert (work_dir / 'small_scale.png').read_bytes()[:4] == b'\x89PNG'
    assert '<svg' in (work_dir / 'small_scale.svg').read_text()
    assert '| PQCL | ViT-T | `configs/pqcl/vit-t_small-scale_fmnist.py` | 4 |' in result.stdout
    assert results['checks'] == small_scale.checks(results['rows'])
    assert [c['check'] for c in results['checks']] == ['PQCL >= random-ViT-T + 5']
    # two seeds against a baseline: the margin's standard error is the seeds' sd / sqrt(2)
    pqcl_knn = [run['knn_top1'] for run in results['rows']['PQCL']['runs']]
    assert results['rows']['PQCL']['knn_top1_sd'] == pytest.approx(np.std(pqcl_knn, ddof=1))
    assert results['checks'][0]['margin_se'] == pytest.approx(
        np.std(pqcl_knn, ddof=1) / 2 ** 0.5)
    assert small_scale.checks_text(results['checks']) in result.stdout

    resumed = subprocess.run(command + ['--resume'], cwd=ROOT, capture_output=True,
                             text=True, env=env, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert all(f'{name}: kept from' in resumed.stdout for name in methods)
    assert json.loads((work_dir / 'small_scale.json').read_text())['rows'] == results['rows']


def test_validation_run_never_reads_val(face_folder, tmp_path):
    """--validation-size through the real subprocesses with val/ deleted: a PQCL
    pre-training through tools/train.py whose per-epoch k-NN monitor queries the
    held-out train/ images, its scoring, and the raw-pixel baseline scored as computed
    here on the validation list."""
    import shutil
    folder = tmp_path / 'faces'
    shutil.copytree(face_folder, folder)
    shutil.rmtree(folder / 'val')
    work_dir = tmp_path / 'bench'
    command = [sys.executable, osp.join(ROOT, 'tools', 'benchmarks', 'small_scale.py'),
               '--quick', '--data-root', str(folder), '--work-dir', str(work_dir),
               '--validation-size', '8', '--methods', 'PQCL', 'raw-pixels']
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS='1'), timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    results = json.loads((work_dir / 'small_scale.json').read_text())
    assert results['protocol']['queries'] == 'validation (8 train/ images)'
    pqcl = results['rows']['PQCL']
    assert pqcl['queries'] == 8 and pqcl['bank_size'] == 20
    assert [epoch for epoch, _ in pqcl['knn_monitor']] == [1.0, 2.0]
    dumped = (work_dir / 'PQCL' / osp.basename(pqcl['config'])).read_text()
    assert str(work_dir / 'monitor_queries.txt') in dumped
    pixels = results['rows']['raw-pixels']
    assert pixels['queries'] == 8 and pixels['bank_size'] == 20
    assert pixels['knn_top1'] == pytest.approx(_raw_pixel_knn(
        folder, work_dir / 'bank.txt', work_dir / 'validation.txt', 'train'), abs=1e-4)
    assert pixels['monitor_knn_top1'] == pytest.approx(_raw_pixel_knn(
        folder, work_dir / 'monitor_bank.txt', work_dir / 'monitor_queries.txt', 'train'),
        abs=1e-4)
