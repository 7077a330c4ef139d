"""Run the real entry points (tools/train.py, tools/test.py, tools/dist_train.sh) in a
subprocess, as a user would, and write small configs that inherit ours.

    from utils.training import run, train_cmd, evaluate_cmd, dist_train_cmd, write_config

    log = run(train_cmd(config, '--work-dir', str(tmp_path)))        # asserts rc 0
    result = run(train_cmd(config), expect='fail')                   # asserts rc != 0

The subprocesses see this checkout first on ``PYTHONPATH`` (and tests/, so a config may
``custom_imports`` a test probe such as ``utils.ddp_probe``), one OpenMP thread each,
unbuffered output.
"""
import os
import os.path as osp
import socket
import subprocess
import sys
from typing import NamedTuple, Optional, Sequence

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TESTS = osp.join(ROOT, 'tests')


class ToolRun(NamedTuple):
    returncode: int
    log: str  # stdout + stderr


def tool_env(**extra: str) -> dict:
    """The environment of a tool subprocess."""
    paths = [ROOT, TESTS] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(paths), PYTHONUNBUFFERED='1',
                OMP_NUM_THREADS='1', **extra)


def run(args: Sequence[str], cwd: str = ROOT, expect: Optional[str] = 'ok',
        timeout: float = 900, **env: str) -> ToolRun:
    """Run a command; ``expect='ok'`` asserts exit status 0, ``'fail'`` a non-zero one,
    None nothing. The assertion message ends with the command's output."""
    result = subprocess.run(list(args), cwd=cwd, env=tool_env(**env), capture_output=True,
                            text=True, timeout=timeout, check=False)
    log = result.stdout + result.stderr
    if expect == 'ok':
        assert result.returncode == 0, f'{args} exited {result.returncode}:\n{log[-6000:]}'
    elif expect == 'fail':
        assert result.returncode != 0, f'{args} unexpectedly succeeded:\n{log[-3000:]}'
    return ToolRun(result.returncode, log)


def tool(name: str) -> str:
    return osp.join(ROOT, 'tools', name)


def train_cmd(config: str, *args: str) -> list:
    """``python tools/train.py CONFIG ARGS``."""
    return [sys.executable, tool('train.py'), config, *args]


def evaluate_cmd(config: str, checkpoint: str, *args: str) -> list:
    """``python tools/test.py CONFIG CHECKPOINT ARGS``."""
    return [sys.executable, tool('test.py'), config, checkpoint, *args]


def dist_train_cmd(config: str, nproc: int, *args: str) -> list:
    """``PYTHON=<this python> PORT=<free port> bash tools/dist_train.sh CONFIG N ARGS``."""
    return ['env', f'PYTHON={sys.executable}', f'PORT={free_port()}', 'bash',
            tool('dist_train.sh'), config, str(nproc), *args]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def write_config(path, base: str, **fields) -> str:
    """Write a config that inherits ``base`` (a path) and sets ``fields`` (plain Python
    values; dicts merge into the base's as in any mmengine config)."""
    lines = [f'_base_ = [{osp.abspath(base)!r}]']
    lines += [f'{name} = {value!r}' for name, value in fields.items()]
    with open(path, 'w') as file:
        file.write('\n'.join(lines) + '\n')
    return str(path)
