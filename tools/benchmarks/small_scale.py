"""Small-scale benchmark: pre-train each method, extract its encoder, score it.

    python tools/benchmarks/small_scale.py [--methods ROW ...] [--data-root data/fashion_mnist]
        [--work-dir work_dirs/small_scale] [--bank-size 10000] [--monitor-size 2000]
        [--epochs N] [--seeds N [N ...]] [--jobs N] [--validation-size N]
        [--cfg-options KEY=VALUE ...] [--resume] [--quick]

For every selected row of :data:`METHODS` (issue 13; default: CIM, CAE, MAE, PQCL,
MoCo v3, ReSim, MoCo v2 ours, MoCo v2 mmpretrain, and the baselines) it runs, each as a
subprocess through the real entry points:

1. ``tools/train.py CONFIG --work-dir WORK_DIR/<row>``: the config sets the budget;
   ``--data-root`` points its pre-training split (``pretrain/``) and its k-NN monitor
   at any ImageNet-style labelled folder. The monitor runs after every epoch, for the
   accuracy-against-epoch curve, on class-balanced subsets of ``--monitor-size``
   images of ``train/`` (bank) and of ``val/`` (queries): smaller than the final
   evaluation's, so that the curve costs less than the training;
2. ``tools/model_converters/extract_backbone.py`` on the final checkpoint;
3. ``tools/analysis_tools/knn_eval.py`` with the encoder family's evaluation config:
   weighted k-NN (k 20, T 0.07) and a linear probe on the frozen features, with a
   class-balanced bank of ``--bank-size`` images of ``train/`` (``WORK_DIR/bank.txt``)
   and all of ``val/`` as queries; ResNets with precise BN. The labels come from
   ``meta/{train,val}.txt`` when present, else from the sorted class folders.

The baselines score each encoder family at random initialisation and the raw pixels
with the same evaluation. Results go to ``WORK_DIR/small_scale.json`` (per row: config,
iterations, pre-training wall and CPU time and the load average at its end, k-NN and
linear-probe top-1, the k-NN monitor's accuracy after each epoch), a plot
``WORK_DIR/small_scale.{png,svg}``, a markdown table and issue 13's checks on stdout
(:func:`checks`: each algorithm against random init + 5 points and its peers - 1 point,
ReSim against its own MoCo v2 setting). ``--seeds 0 1 2`` pre-trains every row once per
seed (``WORK_DIR/<row>/seed<N>``) and scores each run; the row's accuracies, the table
and the checks are then the means over the seeds, each run kept in the row's ``runs``.
One run per row is not enough for a 1-point check: the spread between seeds reaches
several points here. With several seeds the table gives each row's standard deviation
over its seeds, and each check the standard error of its margin and whether the margin
exceeds twice that (``decided``): a check within two standard errors is not settled by
these seeds either way. ``--resume`` keeps the rows already in the JSON. ``--quick``
checks the plumbing with tiny budgets (two epochs of a few images, small banks); its
numbers mean nothing.

Choosing a recipe: ``--cfg-options`` adds options to every pre-training (a variant of
the selected rows' configs) and ``--validation-size N`` scores on N class-balanced
``train/`` images taken from the end of its list, none of them in the bank, instead of
``val/`` (the final queries and the monitor's), so that the test split is not read
while a recipe is chosen. For Fashion-MNIST (bank 10,000, ``--validation-size 5000``)
these are images 54,527-59,999 of the 60,000, which no small-scale config pre-trains on
(each reads at most the first 5,760 of ``pretrain/``, the same images in the same
order). ``--jobs N`` runs N
pre-trainings / scorings at a time (one GPU holds many of these small runs); the wall
and CPU times in the JSON are then those of runs that shared the machine.
"""
import argparse
import glob
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Dict, List, NamedTuple, Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
VIT_T_EVAL = 'configs/pqcl/benchmarks/vit-t_knn-fmnist.py'
R18_EVAL = 'configs/resim/benchmarks/r18_knn-fmnist.py'


class Family(NamedTuple):
    """An encoder family: its evaluation config and precise-BN batches (0: none)."""
    eval_config: str
    precise_bn: int


FAMILIES = {'ViT-T': Family(VIT_T_EVAL, 0), 'ResNet-18': Family(R18_EVAL, 20)}


class Row(NamedTuple):
    """A benchmark row: a pre-trained method (``config`` set) or a baseline."""
    name: str
    family: str
    config: Optional[str] = None
    eval_config: Optional[str] = None  # when the family's model cannot load the encoder
    baseline: Optional[str] = None  # 'random' or 'pixels'


METHODS = {row.name: row for row in (
    Row('CIM', 'ViT-T', 'configs/cim/vit-t_small-scale_fmnist.py'),
    Row('CAE', 'ViT-T', 'configs/cae/vit-t_small-scale_fmnist.py',
        eval_config='configs/cae/benchmarks/vit-t_knn-fmnist.py'),
    Row('MAE', 'ViT-T', 'configs/cae/mae_vit-t_small-scale_fmnist.py'),
    Row('PQCL', 'ViT-T', 'configs/pqcl/vit-t_small-scale_fmnist.py'),
    Row('MoCo-v3', 'ViT-T', 'configs/pqcl/mocov3_vit-t_small-scale_fmnist.py'),
    Row('iBOT', 'ViT-T', 'configs/pqcl/ibot_vit-t_small-scale_fmnist.py'),
    Row('DINO', 'ViT-T', 'configs/pqcl/dino_vit-t_small-scale_fmnist.py'),
    Row('ReSim', 'ResNet-18', 'configs/resim/r18_small-scale_fmnist.py'),
    Row('MoCo-v2', 'ResNet-18', 'configs/resim/mocov2_r18_small-scale_fmnist.py'),
    Row('MoCo-v2-mmpretrain', 'ResNet-18',
        'configs/resim/mmpretrain-mocov2_r18_small-scale_fmnist.py'),
    Row('random-ViT-T', 'ViT-T', baseline='random'),
    Row('random-ResNet-18', 'ResNet-18', baseline='random'),
    Row('raw-pixels', 'ViT-T', baseline='pixels'),  # the 32 px images as stored
)}
CONTROLS = ('iBOT', 'DINO')
DEFAULT_METHODS = [name for name in METHODS if name not in CONTROLS]
QUICK = dict(epochs=2, images=16, batch_size=8, monitor_size=30, bank_size=20, queries=20,
             precise_bn=2)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--methods', nargs='+', choices=list(METHODS),
                        default=DEFAULT_METHODS, help='rows to run (default: all but '
                        f'the controls {", ".join(CONTROLS)})')
    parser.add_argument('--data-root', default='data/fashion_mnist',
                        help='ImageNet-style folder: pretrain/, train/<class>/, val/<class>/')
    parser.add_argument('--work-dir', default='work_dirs/small_scale')
    parser.add_argument('--out', help='JSON (default: WORK_DIR/small_scale.json)')
    parser.add_argument('--bank-size', type=int, default=10000,
                        help='class-balanced k-NN bank / linear-probe training images')
    parser.add_argument('--monitor-size', type=int, default=2000,
                        help="class-balanced bank and query images of the per-epoch "
                        "k-NN monitor")
    parser.add_argument('--epochs', type=int,
                        help="tools/train.py --epochs N (default: each config's own)")
    parser.add_argument('--seeds', type=int, nargs='+',
                        help="pre-training seeds, one run of every row each; accuracies "
                        "and checks are their means (default: one run, each config's "
                        'own seed, 0)')
    parser.add_argument('--jobs', type=int, default=1,
                        help='pre-trainings / scorings run at a time (default: 1)')
    parser.add_argument('--validation-size', type=int, metavar='N',
                        help='score on N class-balanced train/ images from the end of '
                        'its list (not in the bank) instead of val/: for choosing recipes')
    parser.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help='tools/train.py --cfg-options added to every pre-training')
    parser.add_argument('--resume', action='store_true',
                        help='keep the rows already in the output JSON')
    parser.add_argument('--quick', action='store_true',
                        help='tiny budgets: checks the plumbing, numbers mean nothing')
    args = parser.parse_args(argv)
    for name in ('jobs', 'validation_size'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, got {value}')
    args.data_root, args.work_dir = osp.abspath(args.data_root), osp.abspath(args.work_dir)
    args.out = osp.abspath(args.out or osp.join(args.work_dir, 'small_scale.json'))
    if args.quick:
        args.epochs, args.bank_size = QUICK['epochs'], min(args.bank_size, QUICK['bank_size'])
        args.monitor_size = min(args.monitor_size, QUICK['monitor_size'])
    return args


def check_configs(rows: List[Row]) -> None:
    """Fail before running anything when a row's config file is missing."""
    for row in rows:
        for path in (row.config, row.eval_config or FAMILIES[row.family].eval_config):
            if path and not osp.isfile(osp.join(ROOT, path)):
                sys.exit(f'error: {row.name}: config {path} not found (select other rows '
                         'with --methods)')


def run(command: List[str], log_path: str) -> tuple:
    """Run a tool as a subprocess in the repository root, its output to ``log_path``;
    (wall seconds, CPU seconds of that process and the children it waited for). Fails
    naming the command and the log."""
    start = time.perf_counter()
    with open(log_path, 'w') as log:
        process = subprocess.Popen([sys.executable] + command, cwd=ROOT, stdout=log,
                                   stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)  # this child's own usage
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f'error: {" ".join(command)} failed ({process.returncode}); see {log_path}')
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def labelled_list(data_root: str, split: str) -> List[tuple]:
    """``(relative path, label)`` of a labelled split: ``meta/<split>.txt`` if present,
    else the class folders in sorted order (mmpretrain's rule for a folder)."""
    meta = osp.join(data_root, 'meta', f'{split}.txt')
    if osp.isfile(meta):
        with open(meta) as f:
            return [(path, int(label)) for path, label in (line.split() for line in f
                                                           if line.strip())]
    classes = sorted(d for d in os.listdir(osp.join(data_root, split))
                     if osp.isdir(osp.join(data_root, split, d)))
    return [(f'{c}/{name}', label) for label, c in enumerate(classes)
            for name in sorted(os.listdir(osp.join(data_root, split, c)))]


def balanced(samples: List[tuple], size: int) -> List[tuple]:
    """The first ``size // C`` samples of every class, in list order (the remainder to
    the lowest labels)."""
    labels = sorted({label for _, label in samples})
    quota = {label: size // len(labels) + (i < size % len(labels))
             for i, label in enumerate(labels)}
    chosen = []
    for sample in samples:
        if quota[sample[1]] > 0:
            chosen.append(sample)
            quota[sample[1]] -= 1
    return chosen


def write_lists(data_root: str, bank_size: int, monitor_size: int, out_dir: str,
                validation_size: Optional[int] = None) -> Dict[str, str]:
    """Annotation files (``<class>/<file> <label>`` lines) in ``out_dir``: the
    class-balanced ``bank`` of ``bank_size`` images of ``train/`` and the queries
    (the final evaluation's), and class-balanced subsets of ``monitor_size`` images of
    each (``monitor_bank``, ``monitor_queries``). The queries are all of ``val/``
    (``val``), or with ``validation_size`` that many class-balanced ``train/`` images
    taken from the end of its list, none of them in the bank (``validation``; ``val/``
    is then not read). Lists let mmpretrain's ``ImageNet`` dataset read a folder of any
    number of classes."""
    train = labelled_list(data_root, 'train')
    splits = dict(bank=balanced(train, bank_size), monitor_bank=balanced(train, monitor_size))
    if validation_size:
        in_bank = set(splits['bank'])
        unused = [sample for sample in reversed(train) if sample not in in_bank]
        splits['validation'] = balanced(unused, validation_size)[::-1]
        queries = splits['validation']
    else:
        queries = splits['val'] = labelled_list(data_root, 'val')
    splits['monitor_queries'] = balanced(queries, monitor_size)
    paths = {}
    for name, samples in splits.items():
        paths[name] = osp.join(out_dir, f'{name}.txt')
        with open(paths[name], 'w') as f:
            f.write(''.join(f'{path} {label}\n' for path, label in samples))
    return paths


def train_options(config: str, args, seed: Optional[int] = None) -> List[str]:
    """``--cfg-options`` pointing a pre-training config's data and k-NN monitors at
    ``--data-root`` (the monitor lists of :func:`write_lists`, every epoch), the
    pre-training ``seed`` (None: the config's own), the tiny budgets of ``--quick``
    and, last, the benchmark's own ``--cfg-options``."""
    from mmengine.config import Config

    cfg = Config.fromfile(osp.join(ROOT, config), import_custom_modules=False)
    options = [f'train_dataloader.dataset.data_root={args.data_root}']
    if seed is not None:
        options.append(f'randomness.seed={seed}')
    if args.quick:
        options += [f'train_dataloader.dataset.indices={QUICK["images"]}',
                    f'train_dataloader.batch_size={QUICK["batch_size"]}',
                    'train_dataloader.num_workers=0',
                    'train_dataloader.persistent_workers=False',
                    'default_hooks.logger.interval=1']
    lists = dict(bank_dataloader=(args.lists['monitor_bank'], 'train'),
                 query_dataloader=(args.lists['monitor_queries'], query_split(args)))
    for i, hook in enumerate(cfg.get('custom_hooks', [])):
        if hook.get('type') != 'KNNMonitorHook':
            continue
        options.append(f'custom_hooks.{i}.interval=1')
        for loader, (ann_file, split) in lists.items():
            prefix = f'custom_hooks.{i}.{loader}.dataset'
            options += [f'{prefix}.data_root={args.data_root}', f'{prefix}.ann_file={ann_file}',
                        f'{prefix}.split={split}', f'{prefix}.indices=None']
    return options + args.cfg_options


def query_split(args) -> str:
    """The folder the queries come from: ``train`` with ``--validation-size``, else ``val``."""
    return 'train' if args.validation_size else 'val'


def eval_command(row: Row, args, backbone: Optional[str] = None,
                 monitor: bool = False) -> List[str]:
    """knn_eval.py arguments scoring ``backbone`` (or the row's baseline): on the
    final evaluation's bank and queries with a linear probe, or (``monitor``) k-NN
    only on the k-NN monitor's lists."""
    family = FAMILIES[row.family]
    encoder = dict(random=['--random-init'], pixels=['--raw-pixels']).get(
        row.baseline, ['--checkpoint', backbone])
    precise_bn = min(family.precise_bn, QUICK['precise_bn']) if args.quick \
        else family.precise_bn
    bank, queries = ('monitor_bank', 'monitor_queries') if monitor else (
        'bank', 'validation' if args.validation_size else 'val')
    options = [f'train_dataloader.dataset.data_root={args.data_root}',
               f'train_dataloader.dataset.ann_file={args.lists[bank]}',
               f'val_dataloader.dataset.data_root={args.data_root}',
               f'val_dataloader.dataset.ann_file={args.lists[queries]}',
               f'val_dataloader.dataset.split={query_split(args)}']
    if args.quick and not monitor:
        options.append(f'val_dataloader.dataset.indices={QUICK["queries"]}')
    probe = [] if monitor else ['--linear-probe']
    return (['tools/analysis_tools/knn_eval.py', row.eval_config or family.eval_config]
            + encoder + probe + ['--precise-bn', str(precise_bn), '--cfg-options']
            + options)


def read_scalars(work_dir: str) -> List[dict]:
    """The scalar records of the latest run in ``work_dir`` (LocalVisBackend)."""
    paths = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not paths:
        return []
    with open(paths[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]


def monitor_curve(records: List[dict], max_epochs: int) -> tuple:
    """(iterations, [[epoch, k-NN top-1], ...]) from a run's scalars. KNNMonitorHook's
    own records (no 'epoch' key, unlike the training log lines that repeat its last
    value) come at the iteration that ends an epoch, and after the last one, which is
    the last record: iterations per epoch = last step / max_epochs."""
    iterations = max((r['step'] for r in records), default=0)
    per_epoch = iterations / max_epochs if max_epochs else 0
    curve = [[round(r['step'] / per_epoch, 3), r['knn/top1']] for r in records
             if 'knn/top1' in r and 'epoch' not in r and per_epoch]
    return iterations, curve


def pretrain(row: Row, args, work_dir: str, seed: Optional[int] = None) -> dict:
    """Pre-train in ``work_dir`` with ``seed`` (None: the config's own), extract and
    record; returns the run's pre-training fields and the extracted backbone's path."""
    os.makedirs(work_dir, exist_ok=True)
    command = ['tools/train.py', row.config, '--work-dir', work_dir]
    command += ['--epochs', str(args.epochs)] if args.epochs else []
    command += ['--cfg-options'] + train_options(row.config, args, seed)
    wall, cpu = run(command, osp.join(work_dir, 'train.log'))
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    backbone = osp.join(work_dir, 'backbone.pth')
    run(['tools/model_converters/extract_backbone.py', checkpoint, backbone],
        osp.join(work_dir, 'extract.log'))
    from mmengine.config import Config
    dumped = Config.fromfile(osp.join(work_dir, osp.basename(row.config)),
                             import_custom_modules=False)
    iterations, curve = monitor_curve(read_scalars(work_dir), dumped.train_cfg.max_epochs)
    return dict(config=row.config, seed=seed, epochs=dumped.train_cfg.max_epochs,
                iterations=iterations, pretrain_wall_s=round(wall, 1),
                pretrain_cpu_s=round(cpu, 1),
                load_avg_1min_at_end=os.getloadavg()[0], knn_monitor=curve,
                backbone=backbone)


def evaluate(row: Row, args, work_dir: str, backbone: Optional[str] = None) -> dict:
    """Score a backbone (or the row's baseline) with knn_eval.py, logs in ``work_dir``."""
    os.makedirs(work_dir, exist_ok=True)
    out = osp.join(work_dir, 'eval.json')
    run(eval_command(row, args, backbone) + ['--out', out], osp.join(work_dir, 'eval.log'))
    with open(out) as f:
        scores = json.load(f)
    return dict(eval_config=row.eval_config or FAMILIES[row.family].eval_config,
                knn_top1=scores['20-NN']['top1'], linear_top1=scores['linear']['top1'],
                linear_weight_decay=scores['linear']['weight_decay'],
                bank_size=scores['num_train'], queries=scores['num_val'])


def monitor_baseline(row: Row, args) -> float:
    """k-NN top-1 of a baseline on the k-NN monitor's lists: the plot's reference for
    the monitor curves (a smaller bank scores lower than the final evaluation's)."""
    out = osp.join(args.work_dir, row.name, 'monitor_eval.json')
    run(eval_command(row, args, monitor=True) + ['--out', out],
        osp.join(args.work_dir, row.name, 'monitor_eval.log'))
    with open(out) as f:
        return json.load(f)['20-NN']['top1']


#: Fields that are the same in every run of a row.
SHARED_FIELDS = ('config', 'epochs', 'iterations', 'eval_config', 'bank_size', 'queries')


def mean_of_runs(runs: List[dict]) -> dict:
    """A row's fields from its runs (one per seed): a single run as it is; several as
    their shared fields, the mean k-NN and linear top-1, the k-NN top-1's sample
    standard deviation over the seeds, the mean k-NN monitor curve (empty when the
    runs' curves differ in epochs) and the runs under ``runs``."""
    if len(runs) == 1:
        return runs[0]
    curves = [result['knn_monitor'] for result in runs]
    epochs = [epoch for epoch, _ in curves[0]]
    same_epochs = all([epoch for epoch, _ in run_curve] == epochs for run_curve in curves)
    curve = [[epoch, statistics.fmean(run_curve[i][1] for run_curve in curves)]
             for i, epoch in enumerate(epochs)] if same_epochs else []
    knn = [result['knn_top1'] for result in runs]
    return dict({key: runs[0][key] for key in SHARED_FIELDS},
                knn_top1=statistics.fmean(knn), knn_top1_sd=statistics.stdev(knn),
                linear_top1=statistics.fmean(result['linear_top1'] for result in runs),
                knn_monitor=curve, runs=runs)


def score_baseline(row: Row, args) -> dict:
    """A baseline row: scored once, and on the monitor's lists."""
    result = evaluate(row, args, osp.join(args.work_dir, row.name))
    return dict(result, monitor_knn_top1=monitor_baseline(row, args))


def pretrain_and_score(row: Row, args, seed: Optional[int]) -> dict:
    """One run of a method: pre-trained with ``seed``, extracted and scored."""
    row_dir = osp.join(args.work_dir, row.name)
    work_dir = row_dir if not args.seeds or len(args.seeds) == 1 else osp.join(
        row_dir, f'seed{seed}')
    result = pretrain(row, args, work_dir, seed)
    return dict(result, **evaluate(row, args, work_dir, result['backbone']))


def submit_row(row: Row, args, pool: ThreadPoolExecutor) -> List[Future]:
    """Start a row's work in ``pool``: a baseline's scoring, or a method's run per seed
    of ``--seeds``."""
    if row.baseline:
        return [pool.submit(score_baseline, row, args)]
    return [pool.submit(pretrain_and_score, row, args, seed)
            for seed in (args.seeds or [None])]


def row_result(row: Row, outcomes: List[dict]) -> dict:
    """A row of the results from its finished work (see :func:`submit_row`)."""
    result = dict(family=row.family, baseline=row.baseline)
    return dict(result, **(outcomes[0] if row.baseline else mean_of_runs(outcomes)))


#: Issue 13, item 3: (algorithm, its encoder at random init, the peers it must match).
#: PQCL's peers: mmpretrain's MoCo v3 and, when that control row was run, iBOT alone
#: (the paper's own baseline: PQCL without its query stream).
CHECKS = (
    ('CIM', 'random-ViT-T', ('MAE', )),
    ('CAE', 'random-ViT-T', ('MAE', )),
    ('PQCL', 'random-ViT-T', ('MoCo-v3', 'iBOT')),
    ('ReSim', 'random-ResNet-18', ('MoCo-v2-mmpretrain', )),
)
RANDOM_INIT_MARGIN = 5.
PEER_MARGIN = -1.


def mean_variance(row: dict) -> Optional[float]:
    """The variance of a row's mean k-NN top-1 over seeds (sd^2 / n): 0 for a
    baseline (one fixed scoring), None for a method run with a single seed (its
    spread unknown)."""
    if row.get('baseline'):
        return 0.
    if 'knn_top1_sd' not in row:
        return None
    return row['knn_top1_sd'] ** 2 / len(row['runs'])


def checks(rows: Dict[str, dict]) -> List[dict]:
    """Issue 13's item 3 on the k-NN top-1 of the rows present: every algorithm at
    least 5 points above its encoder at random init and at most 1 point below each
    peer, and ReSim at least its own MoCo v2 setting. A check whose rows were not run
    is left out. With several seeds a check also carries the standard error of its
    margin, sqrt(sd_a^2 / n_a + sd_b^2 / n_b) over the two rows' seeds, and
    ``decided``: whether the margin is at least twice that (None without a spread)."""
    found = []

    def check(name: str, other: str, margin: float) -> None:
        if name not in rows or other not in rows:
            return
        knn, bound = rows[name]['knn_top1'], rows[other]['knn_top1'] + margin
        sign = f' {"+-"[margin < 0]} {abs(margin):g}' if margin else ''
        variances = [mean_variance(rows[name]), mean_variance(rows[other])]
        error = None if None in variances else sum(variances) ** 0.5
        found.append(dict(check=f'{name} >= {other}{sign}', knn_top1=knn, bound=bound,
                          margin=knn - bound, holds=knn >= bound, margin_se=error,
                          decided=None if error is None else abs(knn - bound) >= 2 * error))

    for name, random_init, peers in CHECKS:
        check(name, random_init, RANDOM_INIT_MARGIN)
        for peer in peers:
            check(name, peer, PEER_MARGIN)
    check('ReSim', 'MoCo-v2', 0.)
    return found


def save_json(results: dict, path: str) -> None:
    """Write atomically (a killed run leaves the previous file)."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path + '.tmp', 'w') as f:
        json.dump(results, f, indent=2)
    os.replace(path + '.tmp', path)


def markdown_table(rows: Dict[str, dict]) -> str:
    """Results as a markdown table; a row of several runs shows their mean (the k-NN
    top-1's with its standard deviation over the seeds), then each run's accuracy."""
    lines = ['| row | encoder | pre-training config | iterations | k-NN top-1 | '
             'linear top-1 |', '|---|---|---|---|---|---|']

    def cell(r: dict, key: str) -> str:
        runs = ' / '.join(f'{result[key]:.2f}' for result in r.get('runs', []))
        spread = f' +- {r[key + "_sd"]:.2f} sd' if key + '_sd' in r else ''
        return f'{r[key]:.2f}' + spread + (f' ({runs})' if runs else '')

    for name, r in rows.items():
        config = f'`{r["config"]}`' if r.get('config') else f'({r["baseline"]})'
        lines.append(f'| {name} | {r["family"]} | {config} | {r.get("iterations", "-")} | '
                     f'{cell(r, "knn_top1")} | {cell(r, "linear_top1")} |')
    return '\n'.join(lines)


def checks_text(found: List[dict]) -> str:
    """The checks as a markdown list; a line saying so when no check's rows were run."""
    if not found:
        return ('- none: each check needs its algorithm and its random-init row or a '
                'peer in the same run (add e.g. --methods random-ViT-T MAE)')

    def line(c: dict) -> str:
        text = (f'- {c["check"]}: {c["knn_top1"]:.2f} vs {c["bound"]:.2f}, '
                f'{"holds" if c["holds"] else "misses"} ({c["margin"]:+.2f}')
        if c.get('margin_se') is None:
            return text + ')'
        return text + (f' +- {c["margin_se"]:.2f} se, '
                       f'{"beyond" if c["decided"] else "within"} 2 se)')

    return '\n'.join(line(c) for c in found)


def plot(rows: Dict[str, dict], path: str) -> None:
    """k-NN monitor accuracy against epoch, one line per method; baselines scored on
    the monitor's lists as horizontal lines. Written as ``path`` + ``.png`` and
    ``.svg``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    with plt.rc_context({'svg.fonttype': 'none'}):  # text stays text in the SVG
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for name, r in rows.items():
            if r.get('knn_monitor'):
                epochs, accuracy = zip(*r['knn_monitor'])
                ax.plot(epochs, accuracy, marker='o', label=name)
            elif r.get('baseline'):
                ax.axhline(r.get('monitor_knn_top1', r['knn_top1']),
                           linestyle='--' if r['baseline'] == 'random' else ':',
                           color='grey' if r['family'] == 'ViT-T' else 'black', label=name)
        ax.set_xlabel('epoch')
        ax.set_ylabel('k-NN top-1 (%)')
        ax.set_title('k-NN monitor during pre-training (k 20, T 0.07, monitor lists)')
        ax.legend(fontsize=8)
        fig.tight_layout()
        for ext in ('png', 'svg'):
            fig.savefig(f'{path}.{ext}', dpi=120)
    plt.close(fig)


#: Protocol fields that the rows kept by ``--resume`` must share with the new run:
#: (field, its command-line flag, its value when a JSON predates the field).
RESUMED_FIELDS = (('seeds', '--seeds', None), ('queries', '--validation-size', 'val'),
                  ('cfg_options', '--cfg-options', []))


def check_resumed(results: dict, protocol: dict, path: str) -> None:
    """``--resume`` keeps rows only when they were run with the same seeds, queries and
    pre-training options: rows of other runs would enter the means and checks
    unnoticed."""
    if not results.get('rows'):
        return
    kept = results.get('protocol', {})
    for field, flag, default in RESUMED_FIELDS:
        if kept.get(field, default) != protocol[field]:
            sys.exit(f'error: {path} holds rows run with {field} {kept.get(field, default)}, '
                     f'not {protocol[field]} ({flag}); resume with the same {flag} or use '
                     'another --work-dir / --out')


def main(argv=None):
    args = parse_args(argv)
    rows = [METHODS[name] for name in args.methods]
    check_configs(rows)
    protocol = dict(data_root=args.data_root, bank_size=args.bank_size,
                    monitor_size=args.monitor_size, seeds=args.seeds, k=20,
                    temperature=0.07, linear_probe='knn_eval.py --linear-probe',
                    queries=(f'validation ({args.validation_size} train/ images)'
                             if args.validation_size else 'val'),
                    cfg_options=args.cfg_options, jobs=args.jobs, quick=args.quick)
    results = dict(rows={})
    if args.resume and osp.isfile(args.out):
        with open(args.out) as f:
            results = json.load(f)
        check_resumed(results, protocol, args.out)
    os.makedirs(args.work_dir, exist_ok=True)
    args.lists = write_lists(args.data_root, args.bank_size, args.monitor_size,
                             args.work_dir, args.validation_size)
    results['protocol'] = protocol
    pool = ThreadPoolExecutor(args.jobs)
    try:
        started = {}
        for row in rows:
            if row.name in results['rows']:
                print(f'{row.name}: kept from {args.out}')
                continue
            print(f'{row.name}: queued (logs in {osp.join(args.work_dir, row.name)})',
                  flush=True)
            started[row.name] = submit_row(row, args, pool)
        for row in rows:  # in the rows' order, each saved once all its runs are done
            if row.name in started:
                outcomes = [future.result() for future in started[row.name]]
                results['rows'][row.name] = row_result(row, outcomes)
                save_json(results, args.out)
                print(f'{row.name}: done, k-NN top-1 '
                      f'{results["rows"][row.name]["knn_top1"]:.2f}', flush=True)
    finally:
        pool.shutdown(cancel_futures=True)
    results['checks'] = checks(results['rows'])
    save_json(results, args.out)
    plot(results['rows'], osp.splitext(args.out)[0])
    print(markdown_table(results['rows']))
    print(f'\nIssue 13, item 3 (k-NN top-1):\n{checks_text(results["checks"])}')


if __name__ == '__main__':
    main()
