"""Tell a timed step that other processes disturbed from one that ran undisturbed.

Linux only (reads ``/proc``). Around each timed step, :class:`LoadMonitor` records

* ``own_cpu_s``: this process's CPU time, all threads (``time.process_time``), and
  ``thread_cpu_s``: each thread's share (``/proc/self/task/*/schedstat``);
* ``cpu_wait_s``: the time this process's threads were ready to run but waited for a
  CPU (the run-queue delay of the same files): CPU time the step wanted and did not get;
* ``foreign_cpu_s``: CPU time the rest of the machine used in the step: the busy time of
  ``/proc/stat`` (all CPUs, user + nice + system + irq + softirq) minus ``own_cpu_s``,
  plus the time the hypervisor gave to other guests (``steal``);
  ``foreign_cores`` = ``foreign_cpu_s / wall_s``.

A step is ``disturbed`` when other processes ran (``foreign_cores > max_foreign_cores``)
*and* this process's threads waited for a CPU (``cpu_wait_s / wall_s >
max_wait_fraction``). Load on cores the step did not want (a step that sleeps or waits
for the GPU, spare cores) is reported but does not disturb it; waiting without foreign
load is this process over-subscribing its own cores, not a disturbance. Without
schedstat (``cpu_wait_s`` None) foreign load alone decides. ``/proc/stat`` counts in
clock ticks (usually 10 ms), so ``foreign_cpu_s`` is good to about one tick per CPU.
"""
import os
import statistics
import time
from typing import Dict, List, NamedTuple, Optional, Tuple

TICK_S = 1.0 / os.sysconf('SC_CLK_TCK')


class Sample(NamedTuple):
    wall: float
    own_cpu: float
    busy_ticks: int
    steal_ticks: int
    threads: Optional[Dict[str, Tuple[int, int]]]  # tid -> (run ns, wait ns)


def machine_ticks() -> Tuple[int, int]:
    """(busy, steal) clock ticks of all CPUs since boot, from ``/proc/stat``."""
    with open('/proc/stat') as f:
        fields = [int(value) for value in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    steal = fields[7] if len(fields) > 7 else 0
    return user + nice + system + irq + softirq, steal


def thread_schedstats() -> Optional[Dict[str, Tuple[int, int]]]:
    """Run and run-queue wait time (ns) of each thread of this process, None without
    schedstat (a kernel without CONFIG_SCHED_INFO)."""
    stats = {}
    for tid in os.listdir('/proc/self/task'):
        try:
            with open(f'/proc/self/task/{tid}/schedstat') as f:
                run_ns, wait_ns = f.read().split()[:2]
        except FileNotFoundError:
            if not os.path.exists('/proc/self/schedstat'):
                return None
            continue  # the thread ended while we listed
        stats[tid] = (int(run_ns), int(wait_ns))
    return stats


def sample() -> Sample:
    """Wall clock, own CPU time, machine ticks and per-thread schedstats now."""
    busy, steal = machine_ticks()
    threads = thread_schedstats()
    return Sample(time.perf_counter(), time.process_time(), busy, steal, threads)


class LoadMonitor:
    """Per-step load records: ``record = monitor.stop(monitor.start())`` around a step.

    Args:
        max_foreign_cores (float): foreign CPU load (in cores, averaged over the step)
            above which a step whose threads waited counts as disturbed. Defaults to 0.25.
        max_wait_fraction (float): run-queue wait of this process's threads, as a
            fraction of the step's wall time, above which a step with foreign load
            counts as disturbed. Defaults to 0.05.
    """

    def __init__(self, max_foreign_cores: float = 0.25, max_wait_fraction: float = 0.05):
        if max_foreign_cores < 0 or max_wait_fraction < 0:
            raise ValueError(f'max_foreign_cores and max_wait_fraction must be >= 0, got '
                             f'{max_foreign_cores}, {max_wait_fraction}')
        self.max_foreign_cores = max_foreign_cores
        self.max_wait_fraction = max_wait_fraction

    def start(self) -> Sample:
        return sample()

    def stop(self, start: Sample) -> dict:
        """The load record of the step since ``start``."""
        end = sample()
        wall = end.wall - start.wall
        own = end.own_cpu - start.own_cpu
        steal = (end.steal_ticks - start.steal_ticks) * TICK_S
        foreign = max(0., (end.busy_ticks - start.busy_ticks) * TICK_S - own) + steal
        record = dict(wall_s=wall, own_cpu_s=own, own_cores=own / wall,
                      foreign_cpu_s=foreign, foreign_cores=foreign / wall, steal_s=steal,
                      cpu_wait_s=None, cpu_wait_fraction=None, thread_cpu_s=None)
        if start.threads is not None and end.threads is not None:
            deltas = [(run - start.threads.get(tid, (0, 0))[0],
                       wait - start.threads.get(tid, (0, 0))[1])
                      for tid, (run, wait) in end.threads.items()]
            wait_s = sum(wait for _, wait in deltas) * 1e-9
            record.update(
                cpu_wait_s=wait_s, cpu_wait_fraction=wait_s / wall,
                thread_cpu_s=sorted((run * 1e-9 for run, _ in deltas if run > 0),
                                    reverse=True))
        record['disturbed'] = self.is_disturbed(record)
        return record

    def is_disturbed(self, record: dict) -> bool:
        foreign = record['foreign_cores'] > self.max_foreign_cores
        if record['cpu_wait_fraction'] is None:
            return foreign
        return foreign and record['cpu_wait_fraction'] > self.max_wait_fraction

    def summary(self, records: List[dict]) -> dict:
        """Totals and medians over the per-step records of one run."""
        waits = [r['cpu_wait_fraction'] for r in records if r['cpu_wait_fraction'] is not None]
        foreign = [r['foreign_cores'] for r in records]
        return dict(
            disturbed=any(r['disturbed'] for r in records),
            disturbed_steps=sum(r['disturbed'] for r in records),
            steps=len(records),
            retries=sum(r.get('attempts', 1) - 1 for r in records),
            foreign_cores_median=statistics.median(foreign),
            foreign_cores_max=max(foreign),
            own_cores_median=statistics.median(r['own_cores'] for r in records),
            cpu_wait_fraction_median=statistics.median(waits) if waits else None,
            max_foreign_cores=self.max_foreign_cores,
            max_wait_fraction=self.max_wait_fraction,
            cpus=os.cpu_count(), tick_s=TICK_S)
