"""Verified downloads against a local HTTP server: good hash, bad hash, truncated
transfer resumed, explicit #sha256, mmengine's loader going through it."""
import hashlib
import http.server
import io
import threading

import pytest
import torch
from mmengine.runner.checkpoint import CheckpointLoader

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
    """Serves PAYLOAD; '/flaky-*' cuts the first response in half (Range supported)."""
    requests = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        Handler.requests.append((self.path, self.headers.get('Range')))
        start = 0
        if self.headers.get('Range'):
            start = int(self.headers['Range'].split('=')[1].split('-')[0])
        body = PAYLOAD[start:]
        self.send_response(206 if start else 200)
        self.send_header('Content-Length', str(len(body)))
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
