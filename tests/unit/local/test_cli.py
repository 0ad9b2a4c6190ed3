"""The `gears` command finds the running shop wherever it is run from, and says so when there is none."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gears.cli import main
from gears.local.cloud import Mailbox


def test_a_command_that_needs_a_shop_says_none_is_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--state-dir", str(tmp_path), "mail"])
    assert "no running shop found" in str(stopped.value)
    assert str(tmp_path) in str(stopped.value)
    assert capsys.readouterr().out == ""  # not "(no mail)": that would read as an empty mailbox


def _running_shop(state_dir: Path) -> Path:
    mailbox = state_dir / "mailbox.jsonl"
    (state_dir / "runtime.json").write_text(json.dumps({"pid": os.getpid(), "mailbox": str(mailbox)}))
    return mailbox


def test_mail_code_prints_the_newest_code_for_an_address(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    box = Mailbox(_running_shop(tmp_path))
    box.deliver(["ann@example.com"], "Your verification code", "Your verification code is 111111", sender="x", via="t")
    box.deliver(["bob@example.com"], "Your verification code", "Your verification code is 222222", sender="x", via="t")
    box.deliver(["ann@example.com"], "Your password reset code", "Your reset code is 333333", sender="x", via="t")
    assert main(["--state-dir", str(tmp_path), "mail", "--to", "ann@example.com", "--code"]) == 0
    assert capsys.readouterr().out.strip() == "333333"
    assert main(["--state-dir", str(tmp_path), "mail", "--to", "nobody@example.com", "--code"]) == 1


def test_the_state_folder_is_found_from_a_subfolder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / ".gears"
    state.mkdir()
    Mailbox(_running_shop(state)).deliver(["a@example.com"], "Hi", "code 123456", sender="x", via="t")
    below = tmp_path / "a" / "b"
    below.mkdir(parents=True)
    monkeypatch.chdir(below)
    monkeypatch.delenv("GEARS_STATE_DIR", raising=False)
    assert main(["mail", "--code"]) == 0
    assert capsys.readouterr().out.strip() == "123456"
