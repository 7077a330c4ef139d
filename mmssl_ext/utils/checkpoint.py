"""Checkpoints that load with ``torch.load(weights_only=True)``.

Since torch 2.6, ``torch.load`` only unpickles tensors, plain containers and an
allow-list of globals. A stock mmengine 0.10.7 checkpoint holds more: the message
hub's :class:`HistoryBuffer` objects (numpy arrays plus, through their
``__getstate__``, the statistic *functions*, which unpickle through
``builtins.getattr``) and numpy scalars in the runtime information.

Two parts fix this without re-enabling arbitrary code execution:

* :func:`register_safe_globals` allow-lists only data types: numpy arrays and
  dtypes, and the history buffers (which :meth:`HistoryBuffer.__setstate__`
  restores with their default statistics).
* :func:`make_portable` rewrites a checkpoint dict before it is saved: history
  buffers are saved without their functions and numpy scalars become Python
  numbers (see :class:`~mmssl_ext.engine.hooks.PortableCheckpointHook`).
"""
from typing import Any

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

__all__ = ['PortableHistoryBuffer', 'register_safe_globals', 'make_portable',
           'load_weights_only']


class PortableHistoryBuffer(HistoryBuffer):
    """A :class:`HistoryBuffer` that pickles its data only (no functions)."""

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != 'statistics_methods'}

    @classmethod
    def from_buffer(cls, buffer: HistoryBuffer) -> 'PortableHistoryBuffer':
        log_history, count_history = buffer.data
        return cls(log_history, count_history, buffer.max_length)


def _numpy_reconstruct():
    core = getattr(np, '_core', None) or np.core
    return core.multiarray._reconstruct


#: numpy's numeric dtype classes (``numpy.dtypes.Float64DType`` ...): booleans,
#: integers, floats and complex numbers, nothing that holds Python objects.
NUMERIC_DTYPE_CLASSES = tuple({type(np.dtype(code)) for code in '?bBhHiIlLqQefdgFDG'})


def register_safe_globals() -> None:
    """Allow-list the data types of mmengine checkpoints for weights-only loading."""
    torch.serialization.add_safe_globals([
        np.ndarray, np.dtype, *NUMERIC_DTYPE_CLASSES, _numpy_reconstruct(),
        HistoryBuffer, PortableHistoryBuffer
    ])


def _plain(value: Any) -> Any:
    """Return ``value`` with numpy scalars turned into Python numbers, recursively."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, HistoryBuffer) and not isinstance(value, PortableHistoryBuffer):
        return PortableHistoryBuffer.from_buffer(value)
    if isinstance(value, dict):
        return type(value)((k, _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)) and not hasattr(value, '_fields'):
        return type(value)(_plain(v) for v in value)
    return value


def make_portable(checkpoint: dict) -> None:
    """Rewrite an mmengine checkpoint dict in place so it loads weights-only.

    Only the ``meta`` and ``message_hub`` entries hold non-tensor objects; model,
    optimizer and scheduler states are tensors and plain containers already.
    """
    for key in ('meta', 'message_hub'):
        if key in checkpoint:
            checkpoint[key] = _plain(checkpoint[key])


def load_weights_only(filename: str, map_location: Any = 'cpu') -> Any:
    """Load a local checkpoint file with ``weights_only=True``, naming the file on error."""
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except Exception as error:
        raise RuntimeError(f'cannot load checkpoint {filename!r} with '
                           f'weights_only=True: {error}') from error
