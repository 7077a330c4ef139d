"""Verified checkpoint downloads: SHA-256 checked, resumable, loaded weights-only.

A URL carries its expected SHA-256 either in mmengine's / torch.hub's file-name
convention (``name-<first hex digits of the SHA-256>.pth``, at least 8 digits) or as an
explicit fragment (``https://host/file.pth#sha256=<64 hex digits>``). Files go to the
torch hub cache (``<torch.hub.get_dir()>/checkpoints``); a broken transfer is resumed with
an HTTP Range request and retried (client errors such as 404 are not retried); a file
whose digest does not match is deleted and refused, a cached copy that does not match is
downloaded again. The checkpoint is then read with ``torch.load(weights_only=True)``:
tensors and plain containers only.

Which URLs come here. ``import mmssl_ext`` registers :func:`load_from_http_verified` in
mmengine's ``CheckpointLoader`` for two kinds of address only, so that ``init_cfg=dict(
type='Pretrained', checkpoint=URL)`` and ``load_from=URL`` go through it:

* ``http(s)://`` URLs that carry a hash (either convention above), and
* the explicit scheme ``mmssl_ext+https://...`` (or ``mmssl_ext+http://``): a config
  asks for this loader for a file that has no published hash (the CAE DALL-E encoder).
  The file is then downloaded unverified, with a warning saying so, and the cached copy
  is revalidated with the server (ETag / Last-Modified) each time, so that a changed
  file on the server replaces a stale cache copy.

Every other ``http(s)://`` URL is left to mmengine's own ``load_from_http``, exactly as
without the plugin: importing mmssl_ext changes no other package's loads.
"""
import hashlib
import http.client
import json
import os
import os.path as osp
import re
import urllib.error
import urllib.request
import warnings
from typing import Any, Dict, Optional, Tuple
from urllib.parse import urlparse

import torch
from mmengine.dist import barrier, get_dist_info
from mmengine.runner.checkpoint import CheckpointLoader

from .checkpoint import load_weights_only

#: torch.hub's file-name hash convention: ``-<hex digits>.`` in the file name.
FILENAME_HASH = re.compile(r'-([a-f0-9]{8,64})\.')
FRAGMENT = '#sha256='
#: the scheme prefix that asks for this loader explicitly (``mmssl_ext+https://...``).
SCHEME = 'mmssl_ext+'
#: mmengine ``CheckpointLoader`` prefixes (regular expressions matched at the start of
#: the path) served by :func:`load_from_http_verified`.
LOADER_PREFIXES = (
    r'mmssl_ext\+https?://',
    r'https?://[^#]*#sha256=[0-9a-fA-F]{64}$',
    r'https?://[^?#]*/[^/?#]*-[a-f0-9]{8,64}\.[^/?#]*(?:[?#]|$)',
)
#: HTTP errors worth another attempt; any other 4xx answer is final.
RETRYABLE_STATUS = (408, 425, 429)
CHUNK = 1 << 20


class ChecksumError(RuntimeError):
    """The downloaded file's SHA-256 does not match the one given with its URL."""


def expected_sha256(url: str) -> Tuple[str, Optional[str]]:
    """Split ``url`` into the address to fetch and its expected SHA-256 (or prefix).

    The ``mmssl_ext+`` scheme prefix, if any, is removed.

    Returns:
        tuple: (URL without the ``#sha256=`` fragment, lower-case hex digest or prefix,
        or None when the URL carries no hash).
    """
    if url.startswith(SCHEME):
        url = url[len(SCHEME):]
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


class _NotModified(Exception):
    """The server answered 304: the cached copy is current."""


def _fetch(url: str, partial: str, timeout: float, headers: Dict[str, str],
           validators: Dict[str, str]) -> None:
    """Download ``url`` into ``partial``, continuing an earlier partial file if any.

    ``validators`` receives the response's ``ETag`` / ``Last-Modified`` (for resumes
    and later conditional requests); raises :class:`_NotModified` on a 304 answer.
    """
    start = osp.getsize(partial) if osp.exists(partial) else 0
    headers = dict(headers)
    if start:
        headers['Range'] = f'bytes={start}-'
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                          timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 304:
            raise _NotModified() from error
        raise
    with response:
        if start and response.status != 206:  # the server ignored the range: start over
            start = 0
        length = response.headers.get('Content-Length')
        expected_size = start + int(length) if length is not None else None
        validators.update({key: response.headers[key] for key in ('ETag', 'Last-Modified')
                           if response.headers.get(key)})
        with open(partial, 'ab' if start else 'wb') as f:
            for chunk in iter(lambda: response.read(CHUNK), b''):
                f.write(chunk)
    if expected_size is not None and osp.getsize(partial) != expected_size:
        raise http.client.IncompleteRead(b'', expected_size - osp.getsize(partial))


def _download(url: str, path: str, retries: int, timeout: float,
              conditional: Optional[Dict[str, str]] = None) -> Optional[Dict[str, str]]:
    """Download ``url`` to ``path`` through ``path + '.partial'`` with resumed retries.

    Args:
        conditional (dict, optional): validators of a cached copy (``ETag`` /
            ``Last-Modified``): the server may answer "not modified".

    Returns:
        dict | None: the new file's validators, or None when the cached copy is current.
    """
    partial = path + '.partial'
    headers = {}
    if conditional:
        headers = {name: conditional[key] for name, key in (('If-None-Match', 'ETag'), (
            'If-Modified-Since', 'Last-Modified')) if key in conditional}
    validators: Dict[str, str] = {}
    for attempt in range(1, retries + 1):
        try:
            _fetch(url, partial, timeout, headers, validators)
            break
        except _NotModified:
            return None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            status = getattr(error, 'code', None)
            final = status is not None and 400 <= status < 500 and status not in RETRYABLE_STATUS
            if final or attempt == retries:
                tries = 'once' if final else f'in {attempt} attempts'
                kept = (f'; the partial file {partial} ({osp.getsize(partial)} bytes) is kept '
                        'for a later resume' if osp.exists(partial)
                        and osp.getsize(partial) else '')
                raise RuntimeError(f'could not download {url} (tried {tries}): '
                                   f'{error!r}{kept}') from error
            # resume only the same version of the file: otherwise the server sends it whole
            headers = {'If-Range': next(iter(validators.values()))} if validators else {}
    os.replace(partial, path)
    return validators


def _cached_validators(path: str) -> Optional[Dict[str, str]]:
    meta = path + '.validators.json'
    if osp.exists(path) and osp.exists(meta):
        with open(meta, encoding='utf-8') as f:
            return json.load(f)
    return None


def download_verified(url: str, cache_dir: Optional[str] = None, retries: int = 3,
                      timeout: float = 60.) -> str:
    """Download ``url`` into the cache, verify its SHA-256, return the local path.

    Args:
        url (str): ``http(s)://`` address, with its hash (see the module docstring), or
            without one: then a warning says the file is not verified, and a cached
            copy is used only while the server reports it unchanged.
        cache_dir (str, optional): defaults to ``<torch.hub.get_dir()>/checkpoints``.
        retries (int): attempts for a failing or truncated transfer; each attempt
            resumes from the bytes already received. Client errors (404, 403, ...) are
            not retried. Defaults to 3.
        timeout (float): socket timeout in seconds. Defaults to 60.

    Raises:
        ChecksumError: the digest differs from the expected one (the file is deleted).
        RuntimeError: the download failed (the last error is chained).
    """
    url, expected = expected_sha256(url)
    cache_dir = cache_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(cache_dir, exist_ok=True)
    path = osp.join(cache_dir, osp.basename(urlparse(url).path))
    if expected is None:
        warnings.warn(f'{url} carries no SHA-256 (neither "-<hash>." in the file name nor '
                      f'"{FRAGMENT}<hash>"): it is downloaded unverified', UserWarning)
        if osp.exists(path + '.partial'):
            os.remove(path + '.partial')  # no hash tells which version it belongs to
        conditional = _cached_validators(path)
        validators = _download(url, path, retries, timeout, conditional)
        if validators is not None:
            with open(path + '.validators.json', 'w', encoding='utf-8') as f:
                json.dump(validators, f)
        return path
    if osp.exists(path) and sha256_of(path).startswith(expected):
        return path
    _download(url, path, retries, timeout)
    digest = sha256_of(path)
    if not digest.startswith(expected):
        os.remove(path)
        raise ChecksumError(f'SHA-256 mismatch for {url}: expected {expected}..., got '
                            f'{digest}; the downloaded file was deleted')
    return path


def load_from_http_verified(filename: str, map_location: Any = None) -> Any:
    """mmengine ``CheckpointLoader`` scheme for hashed / ``mmssl_ext+`` URLs: verified,
    weights-only.

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
    """Serve hashed and ``mmssl_ext+`` URLs from this module in mmengine's
    ``CheckpointLoader``; plain ``http(s)://`` URLs stay with mmengine's loader.

    mmengine tries its prefixes (regular expressions) in reverse lexicographic order;
    ``https?://...`` and ``mmssl_ext\\+...`` sort before ``https://`` and ``http://``.
    """
    CheckpointLoader.register_scheme(LOADER_PREFIXES, load_from_http_verified, force=True)
