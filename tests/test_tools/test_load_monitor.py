"""tools/analysis_tools/load_monitor.py: a step that another process slowed down is
flagged, one that wanted no CPU while another process ran is not.

A quiet machine cannot be arranged on a shared CI host, so both tests run a busy-loop
competitor pinned to one CPU and check the monitor against what can be measured exactly:
the competitor's own CPU time (its /proc schedstat) must show up as foreign load, and
whether our step was disturbed depends on whether it wanted that CPU (a spinning step
pinned beside the competitor) or not (a sleeping step).
"""
import contextlib
import importlib.util
import os
import os.path as osp
import resource
import subprocess
import sys
import time

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool(name):
    """A module of tools/analysis_tools/ (a scripts folder, not a package)."""
    spec = importlib.util.spec_from_file_location(
        name, osp.join(ROOT, 'tools', 'analysis_tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


load_monitor = load_tool('load_monitor')
pytestmark = pytest.mark.skipif(not osp.exists('/proc/self/schedstat'),
                                reason='needs Linux /proc with schedstat')

SPIN = ('import os, sys\nos.sched_setaffinity(0, {%d})\nprint("ready", flush=True)\n'
        'while True:\n    pass\n')


def _cpu_s(pid):
    with open(f'/proc/{pid}/schedstat') as f:
        return int(f.read().split()[0]) * 1e-9


@contextlib.contextmanager
def _competitor(cpu):
    """A busy-loop process pinned to ``cpu``, running when the block starts."""
    child = subprocess.Popen([sys.executable, '-c', SPIN % cpu], stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout.readline().strip() == 'ready'
        yield child
    finally:
        child.kill()
        child.wait()


@contextlib.contextmanager
def _pinned(cpu):
    """Pin the calling thread to ``cpu`` for the block."""
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, allowed)


def _spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _own_cpu_s():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _monitored(monitor, child, step):
    """Run ``step`` under ``monitor``; also return the competitor's CPU time in it."""
    child_before, own_before = _cpu_s(child.pid), _own_cpu_s()
    sample = monitor.start()
    step()
    record = monitor.stop(sample)
    return record, _cpu_s(child.pid) - child_before, _own_cpu_s() - own_before


def _tolerance():
    """/proc/stat resolution: one clock tick per CPU at each end of the window."""
    return 2 * load_monitor.TICK_S * os.cpu_count() + 0.01


def test_a_competitor_on_our_cpu_disturbs_a_busy_step():
    monitor = load_monitor.LoadMonitor()
    cpu = min(os.sched_getaffinity(0))
    with _competitor(cpu) as child, _pinned(cpu):
        record, child_cpu, own_cpu = _monitored(monitor, child, lambda: _spin(0.6))
    assert child_cpu > 0.05  # the scheduler gave the pinned competitor its share
    assert record['foreign_cpu_s'] >= child_cpu - _tolerance()
    assert record['own_cpu_s'] == pytest.approx(own_cpu, abs=0.02)
    assert record['foreign_cores'] == pytest.approx(record['foreign_cpu_s'] / record['wall_s'])
    # the step spun on the CPU the competitor shared: it waited for at least a fifth
    assert record['cpu_wait_fraction'] > 0.2
    assert record['thread_cpu_s'][0] <= record['own_cpu_s'] + 0.01
    assert record['disturbed']


def test_a_step_that_wants_no_cpu_is_not_disturbed():
    monitor = load_monitor.LoadMonitor()
    cpu = min(os.sched_getaffinity(0))
    with _competitor(cpu) as child:
        record, child_cpu, _ = _monitored(monitor, child, lambda: time.sleep(0.6))
    assert child_cpu > 0.05
    assert record['foreign_cpu_s'] >= child_cpu - _tolerance()  # the load is seen...
    assert record['own_cpu_s'] < 0.05
    assert record['cpu_wait_fraction'] < monitor.max_wait_fraction  # ...but took nothing
    assert not record['disturbed']


@pytest.mark.parametrize('foreign, wait, disturbed', [
    (1.0, 0.3, True), (1.0, 0.0, False), (0.1, 0.3, False), (1.0, None, True),
    (0.1, None, False)])
def test_both_signals_decide(foreign, wait, disturbed):
    monitor = load_monitor.LoadMonitor(max_foreign_cores=0.25, max_wait_fraction=0.05)
    record = dict(foreign_cores=foreign, cpu_wait_fraction=wait)
    assert monitor.is_disturbed(record) is disturbed


def test_summary_counts_disturbed_steps_and_retries():
    monitor = load_monitor.LoadMonitor()
    records = [dict(disturbed=False, foreign_cores=0.1, own_cores=1.0, cpu_wait_fraction=0.,
                    attempts=1),
               dict(disturbed=True, foreign_cores=1.5, own_cores=0.5, cpu_wait_fraction=0.4,
                    attempts=3)]
    summary = monitor.summary(records)
    assert summary['disturbed'] and summary['disturbed_steps'] == 1
    assert summary['retries'] == 2 and summary['steps'] == 2
    assert summary['foreign_cores_max'] == 1.5
    assert summary['foreign_cores_median'] == pytest.approx(0.8)


def test_bad_thresholds_are_named():
    with pytest.raises(ValueError, match='max_foreign_cores'):
        load_monitor.LoadMonitor(max_foreign_cores=-1)
