"""Verified checkpoint downloads: SHA-256 checked, resumable, loaded weights-only.

A URL carries its expected SHA-256 either in mmengine's / torch.hub's file-name
convention (``name-<first hex digits of the SHA-256>.pth``, at least 8 digits) or as an
explicit fragment (``https://host/file.pth#sha256=<64 hex digits>``). Files go to the
torch hub cache (``<torch.hub.get_dir()>/checkpoints``); a broken transfer is resumed with
an HTTP Range request and retried; a file whose digest does not match is deleted and
refused. The checkpoint is then read with ``torch.load(weights_only=True)``: tensors and
plain containers only. ``import mmssl_ext`` registers :func:`load_from_http_verified`
for ``http://`` and ``https://`` in mmengine's ``CheckpointLoader``, so ``init_cfg=dict(
type='Pretrained', checkpoint=URL)`` and ``load_from=URL`` go through it.
"""
import hashlib
import http.client
import os
import os.path as osp
import re
import urllib.error
import urllib.request
from typing import Any, Optional, Tuple
from urllib.parse import urlparse

import torch
from mmengine.dist import barrier, get_dist_info
from mmengine.runner.checkpoint import CheckpointLoader

from .checkpoint import load_weights_only

#: torch.hub's file-name hash convention: ``-<hex digits>.`` in the file name.
FILENAME_HASH = re.compile(r'-([a-f0-9]{8,64})\.')
FRAGMENT = '#sha256='
CHUNK = 1 << 20


class ChecksumError(RuntimeError):
    """The downloaded file's SHA-256 does not match the one given with its URL."""


def expected_sha256(url: str) -> Tuple[str, Optional[str]]:
    """Split ``url`` into the address to fetch and its expected SHA-256 (or prefix).

    Returns:
        tuple: (URL without the ``#sha256=`` fragment, lower-case hex digest or prefix,
        or None when the URL carries no hash).
    """
    if FRAGMENT in url:
        url, digest = url.split(FRAGMENT, 1)
        if not re.fullmatch(r'[0-9a-fA-F]{64}', digest):
            raise ValueError(f'#sha256= must be followed by 64 hex digits, got {digest!r}')
        return url, digest.lower()
    match = FILENAME_HASH.search(osp.basename(urlparse(url).path))
    return url, match.group(1) if match else None


def sha256_of(path: str) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch(url: str, partial: str, timeout: float) -> None:
    """Download ``url`` into ``partial``, continuing an earlier partial file if any."""
    start = osp.getsize(partial) if osp.exists(partial) else 0
    request = urllib.request.Request(url, headers={'Range': f'bytes={start}-'} if start else {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if start and response.status != 206:  # the server ignored the range: start over
            start = 0
        length = response.headers.get('Content-Length')
        expected_size = start + int(length) if length is not None else None
        with open(partial, 'ab' if start else 'wb') as f:
            for chunk in iter(lambda: response.read(CHUNK), b''):
                f.write(chunk)
    if expected_size is not None and osp.getsize(partial) != expected_size:
        raise http.client.IncompleteRead(b'', expected_size - osp.getsize(partial))


def download_verified(url: str, cache_dir: Optional[str] = None, retries: int = 3,
                      timeout: float = 60.) -> str:
    """Download ``url`` once into the cache, verify its SHA-256, return the local path.

    Args:
        url (str): ``http(s)://`` address with its hash (see the module docstring).
        cache_dir (str, optional): defaults to ``<torch.hub.get_dir()>/checkpoints``.
        retries (int): attempts for a failing or truncated transfer; each attempt
            resumes from the bytes already received. Defaults to 3.
        timeout (float): socket timeout in seconds. Defaults to 60.

    Raises:
        ChecksumError: the digest differs from the expected one (the file is deleted).
        RuntimeError: every attempt failed (the last error is chained).
    """
    url, expected = expected_sha256(url)
    cache_dir = cache_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(cache_dir, exist_ok=True)
    path = osp.join(cache_dir, osp.basename(urlparse(url).path))
    if not osp.exists(path):
        partial = path + '.partial'
        for attempt in range(1, retries + 1):
            try:
                _fetch(url, partial, timeout)
                break
            except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
                if attempt == retries:
                        raise RuntimeError(f'could not download {url} in {retries} attempts '
                                       f'({error!r}); the partial file {partial} is kept '
                                       'for a later resume') from error
        os.replace(partial, path)
    if expected is not None:
        digest = sha256_of(path)
        if not digest.startswith(expected):
            os.remove(path)
            raise ChecksumError(f'SHA-256 mismatch for {url}: expected {expected}..., got '
                                f'{digest}; the downloaded file was deleted')
    return path


def load_from_http_verified(filename: str, map_location: Any = None) -> Any:
    """mmengine ``CheckpointLoader`` scheme for ``http(s)://``: verified, weights-only.

    In distributed runs local rank 0 downloads first and the other ranks then read the
    verified cache. A release that pickles more than tensors and plain containers is
    refused by ``weights_only=True``: convert it once with
    ``tools/model_converters/convert.py``, which reads it with an explicit allow-list.
    """
    rank, world_size = get_dist_info()
    local_rank = int(os.environ.get('LOCAL_RANK', rank))
    if local_rank == 0:
        path = download_verified(filename)
    if world_size > 1:
        barrier()
    if local_rank != 0:
        path = download_verified(filename)
    return load_weights_only(path, map_location)


def register_verified_http_loader() -> None:
    """Route mmengine's ``http://`` / ``https://`` checkpoint loads through this module."""
    CheckpointLoader.register_scheme(('http://', 'https://'), load_from_http_verified,
                                     force=True)
