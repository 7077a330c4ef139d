"""Checkpoints that load with ``torch.load(weights_only=True)``, for any config.

Since torch 2.6, ``torch.load`` only unpickles tensors, plain containers and an
allow-list of globals. A stock mmengine 0.10.7 checkpoint holds more: the message
hub's :class:`HistoryBuffer` objects, whose ``__getstate__`` adds the statistic
*functions* (they unpickle through ``builtins.getattr``, i.e. arbitrary attribute
access), and numpy arrays and scalars in the runtime information.

Design: ``import mmssl_ext`` is enough, for our configs and for a stock mmpretrain /
mmdet / mmseg config that only lists ``custom_imports = dict(imports=['mmssl_ext'])``,
whichever ``train.py`` / ``test.py`` runs it; no hook is needed. Two registrations do it:

* :func:`register_portable_pickling` registers, in the standard library's
  ``copyreg.dispatch_table``, a reducer that pickles a :class:`HistoryBuffer` as a call
  of its constructor with its data (``HistoryBuffer(log_history, count_history,
  max_length)``) instead of its ``__dict__`` with functions. Every checkpoint saved in
  the process is then free of ``getattr``.
* :func:`register_safe_globals` allow-lists only data types for weights-only loading:
  the :class:`HistoryBuffer` class, numpy arrays, numpy's scalar constructor and the
  numeric dtypes (booleans, integers, floats, complex; no object dtype).

Trade-off: both registrations are process-wide. Any pickle of a ``HistoryBuffer`` in a
process that imported mmssl_ext drops its per-instance statistic functions; unpickling
restores the class's statistics (mmengine's defaults plus any registered with
``HistoryBuffer.register_statistics`` in the loading process), which is what mmengine's
own ``__setstate__`` does with functions it cannot restore. ``builtins.getattr`` stays
forbidden: a checkpoint that needs it (one saved by stock mmengine without the plugin)
is still refused by ``weights_only=True``; convert it once where you trust the file.
"""
import copyreg
from typing import Any, Tuple

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

__all__ = ['PortableHistoryBuffer', 'register_safe_globals', 'register_portable_pickling',
           'load_weights_only']


class PortableHistoryBuffer(HistoryBuffer):
    """A :class:`HistoryBuffer` that pickles its data only (no functions).

    mmssl_ext 0.x checkpoints saved through the former ``PortableCheckpointHook``
    contain this class; it stays allow-listed so that they still load.
    """

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != 'statistics_methods'}


def _numpy_core():
    return getattr(np, '_core', None) or np.core


#: numpy's numeric dtype classes (``numpy.dtypes.Float64DType`` ...): booleans,
#: integers, floats and complex numbers, nothing that holds Python objects.
NUMERIC_DTYPE_CLASSES = tuple({type(np.dtype(code)) for code in '?bBhHiIlLqQefdgFDG'})


def register_safe_globals() -> None:
    """Allow-list the data types of mmengine checkpoints for weights-only loading."""
    core = _numpy_core()
    torch.serialization.add_safe_globals([
        np.ndarray, np.dtype, *NUMERIC_DTYPE_CLASSES, core.multiarray._reconstruct,
        core.multiarray.scalar, HistoryBuffer, PortableHistoryBuffer
    ])


def _reduce_history_buffer(buffer: HistoryBuffer) -> Tuple[type, tuple]:
    """Pickle a history buffer as ``HistoryBuffer(log_history, count_history, max_length)``."""
    log_history, count_history = buffer.data
    return HistoryBuffer, (log_history, count_history, buffer.max_length)


def register_portable_pickling() -> None:
    """Pickle every :class:`HistoryBuffer` of the process without its functions."""
    copyreg.pickle(HistoryBuffer, _reduce_history_buffer)


def load_weights_only(filename: str, map_location: Any = 'cpu') -> Any:
    """Load a local checkpoint file with ``weights_only=True``, naming the file on error."""
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except Exception as error:
        raise RuntimeError(f'cannot load checkpoint {filename!r} with '
                           f'weights_only=True: {error}') from error
