"""`assistant ui`: local by default; any other address needs credentials, checked before start."""

from __future__ import annotations

import pytest

from assistant.cli import main
from assistant.settings import Settings
from corpus.errors import AssistantError
from ui.app import check_bind, is_local, launch_options


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.1.1", "localhost", "::1", "[::1]"])
def test_is_local_with_loopback_is_true(host):
    assert is_local(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.org"])
def test_is_local_with_network_address_is_false(host):
    assert not is_local(host)


def test_check_bind_with_default_settings_says_local_only():
    assert check_bind(Settings()) == "Chat window on http://127.0.0.1:7860 — this machine only. Ctrl-C to stop."


def test_check_bind_with_network_host_and_auth_says_password_protected():
    message = check_bind(Settings(host="0.0.0.0", port=8080, auth=("alice", "s3cret-horse-battery")))
    assert "http://0.0.0.0:8080" in message and "password protected (user alice)" in message
    assert "s3cret" not in message


def test_check_bind_with_network_host_without_auth_refuses():
    with pytest.raises(AssistantError, match="refusing to serve on 0.0.0.0 without a password"):
        check_bind(Settings(host="0.0.0.0"))


def test_ui_command_with_network_host_without_auth_exits_with_one_line(monkeypatch, capsys, tmp_path):
    for var in ("ASSISTANT_AUTH_USER", "ASSISTANT_AUTH_PASSWORD", "ASSISTANT_HOST"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(SystemExit) as exc:
        main(["ui", "--host", "0.0.0.0", "--data", str(tmp_path / "data")])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: refusing to serve on 0.0.0.0 without a password") and err.count("\n") == 1
    assert not (tmp_path / "data").exists()  # refused before anything was loaded or created


def test_launch_options_with_settings_bind_and_protect_as_configured():
    options = launch_options(Settings(host="0.0.0.0", port=9000, auth=("alice", "pw"), max_file_bytes=1234))
    assert (options["server_name"], options["server_port"], options["auth"]) == ("0.0.0.0", 9000, ("alice", "pw"))
    assert options["max_file_size"] == 1234 and options["ssr_mode"] is False
    assert ".reply.refusal" in options["css"]
