"""Verified downloads against a local HTTP server: good hash, bad hash, truncated
transfer resumed, explicit #sha256, no hash (warned, revalidated), 404 not retried,
mmengine's loader going through it for hashed URLs only."""
import hashlib
import http.server
import io
import threading

import pytest
import torch
from mmengine.runner.checkpoint import CheckpointLoader, load_from_http

import mmssl_ext  # noqa: F401  (registers the loader)
from mmssl_ext.utils.download import (ChecksumError, download_verified, expected_sha256,
                                      load_from_http_verified)


def _payload():
    buffer = io.BytesIO()
    torch.save({'state_dict': {'weight': torch.arange(4000.)}}, buffer)
    return buffer.getvalue()


PAYLOAD = _payload()
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD (or ``Handler.files[path]``) with an ETag; '/flaky-*' cuts the first
    response in half (Range supported); '/missing*' answers 404."""
    requests = []
    files = {}

    def do_GET(self):  # noqa: N802 (http.server's name)
        Handler.requests.append((self.path, self.headers.get('Range')))
        if self.path.startswith('/missing'):
            self.send_error(404)
            return
        payload = Handler.files.get(self.path, PAYLOAD)
        etag = '"' + hashlib.sha256(payload).hexdigest()[:16] + '"'
        if self.headers.get('If-None-Match') == etag:
            self.send_response(304)
            self.end_headers()
            return
        start = 0
        if self.headers.get('Range'):
            start = int(self.headers['Range'].split('=')[1].split('-')[0])
        body = payload[start:]
        self.send_response(206 if start else 200)
        self.send_header('Content-Length', str(len(body)))
        self.send_header('ETag', etag)
        self.end_headers()
        first_flaky = self.path.startswith('/flaky') and sum(
            path == self.path for path, _ in Handler.requests) == 1
        self.wfile.write(body[:len(body) // 2] if first_flaky else body)
        if first_flaky:
            self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    for name in ('http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy',
                 'ALL_PROXY'):
        monkeypatch.delenv(name, raising=False)
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Handler.requests = []
    Handler.files = {}
    yield f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()


def test_hash_conventions():
    assert expected_sha256('https://h/a/model-1a2b3c4d.pth') == ('https://h/a/model-1a2b3c4d.pth',
                                                                 '1a2b3c4d')
    assert expected_sha256('https://h/model.pth') == ('https://h/model.pth', None)
    assert expected_sha256(f'https://h/model.pth#sha256={DIGEST.upper()}') == (
        'https://h/model.pth', DIGEST)
    with pytest.raises(ValueError, match='64 hex digits'):
        expected_sha256('https://h/model.pth#sha256=abc')


def test_good_hash_downloads_once_into_the_cache(server, tmp_path):
    url = f'{server}/model-{DIGEST[:8]}.pth'
    path = download_verified(url, str(tmp_path))
    assert open(path, 'rb').read() == PAYLOAD
    download_verified(url, str(tmp_path))
    assert len(Handler.requests) == 1  # the second call used the verified cache


def test_bad_hash_is_refused_and_deleted(server, tmp_path):
    with pytest.raises(ChecksumError, match='SHA-256 mismatch'):
        download_verified(f'{server}/model-deadbeef.pth', str(tmp_path))
    assert not (tmp_path / 'model-deadbeef.pth').exists()
    with pytest.raises(ChecksumError):
        download_verified(f'{server}/other.pth#sha256={"0" * 64}', str(tmp_path))


def test_truncated_transfer_is_resumed(server, tmp_path):
    path = download_verified(f'{server}/flaky-{DIGEST[:8]}.pth', str(tmp_path))
    assert open(path, 'rb').read() == PAYLOAD
    (first, first_range), (second, second_range) = Handler.requests
    assert first == second and first_range is None
    assert second_range == f'bytes={len(PAYLOAD) // 2}-'


def test_retries_give_up_with_the_url_in_the_message(tmp_path):
    with pytest.raises(RuntimeError, match='127.0.0.1:9/none.pth'):
        download_verified('http://127.0.0.1:9/none.pth', str(tmp_path), retries=2, timeout=2)


def test_mmengine_pretrained_loads_through_the_verified_loader(server, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path))
    url = f'{server}/model.pth#sha256={DIGEST}'
    assert CheckpointLoader._get_checkpoint_loader(url) is load_from_http_verified
    checkpoint = CheckpointLoader.load_checkpoint(url, map_location='cpu')
    torch.testing.assert_close(checkpoint['state_dict']['weight'], torch.arange(4000.))
    assert (tmp_path / 'checkpoints' / 'model.pth').exists()


def test_a_stale_cache_copy_of_a_hashed_url_is_downloaded_again(server, tmp_path):
    (tmp_path / f'model-{DIGEST[:8]}.pth').write_bytes(b'an older file of the same name')
    path = download_verified(f'{server}/model-{DIGEST[:8]}.pth', str(tmp_path))
    assert open(path, 'rb').read() == PAYLOAD
    assert len(Handler.requests) == 1


def test_url_without_hash_warns_and_follows_server_changes(server, tmp_path):
    url = f'{server}/nohash.pth'
    with pytest.warns(UserWarning, match='no SHA-256.*unverified'):
        path = download_verified(url, str(tmp_path))
    assert open(path, 'rb').read() == PAYLOAD
    with pytest.warns(UserWarning):
        download_verified(url, str(tmp_path))  # unchanged: the server answers 304
    assert len(Handler.requests) == 2 and open(path, 'rb').read() == PAYLOAD

    Handler.files['/nohash.pth'] = b'a new release'
    with pytest.warns(UserWarning):
        download_verified(url, str(tmp_path))
    assert open(path, 'rb').read() == b'a new release'


def test_404_fails_at_once_without_a_partial_file(server, tmp_path):
    with pytest.raises(RuntimeError) as error:
        download_verified(f'{server}/missing-{DIGEST[:8]}.pth', str(tmp_path), retries=3)
    assert len(Handler.requests) == 1
    assert '404' in str(error.value) and 'tried once' in str(error.value)
    assert 'partial' not in str(error.value)
    assert not list(tmp_path.iterdir())


def test_plain_urls_stay_with_mmengine(server, tmp_path, monkeypatch):
    """Importing mmssl_ext leaves mmengine's loader in charge of URLs without a hash."""
    assert CheckpointLoader._schemes['https://'] is load_from_http
    assert CheckpointLoader._schemes['http://'] is load_from_http
    url = f'{server}/plain.pth'
    assert CheckpointLoader._get_checkpoint_loader(url) is load_from_http
    assert CheckpointLoader._get_checkpoint_loader(
        f'{server}/model-{DIGEST[:8]}.pth') is load_from_http_verified
    assert CheckpointLoader._get_checkpoint_loader(
        f'mmssl_ext+{server}/plain.pth') is load_from_http_verified
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path))
    checkpoint = CheckpointLoader.load_checkpoint(url, map_location='cpu')
    torch.testing.assert_close(checkpoint['state_dict']['weight'], torch.arange(4000.))
    assert [path for path, _ in Handler.requests] == ['/plain.pth']


def test_own_scheme_loads_unhashed_urls_weights_only_with_a_warning(server, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path))
    with pytest.warns(UserWarning, match='unverified'):
        checkpoint = CheckpointLoader.load_checkpoint(f'mmssl_ext+{server}/dalle.pth',
                                                      map_location='cpu')
    torch.testing.assert_close(checkpoint['state_dict']['weight'], torch.arange(4000.))
    assert (tmp_path / 'checkpoints' / 'dalle.pth').exists()
