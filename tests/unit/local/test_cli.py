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


def _fill_across_channels(state_dir: Path) -> None:
    box = Mailbox(_running_shop(state_dir))
    box.deliver(["ann@example.com"], "Your Gears confirmation code", "Your code is 111111", sender="c", via="cognito")
    box.deliver(["+447700900123"], "", "Your Gears phone code is 222222", sender="sns", via="sns", channel="sms")
    box.deliver(
        ["ann@example.com"],
        "Order placed",
        "Order 333333 is placed: total 12.00 GBP",
        sender="shop@gears.example",
        via="ses",
        html="<p>Order 333333</p>",
        headers={"List-Unsubscribe": "<http://127.0.0.1:3000/notifications/unsubscribe?token=t>"},
        message_id="ses-1",
        tags={"notificationId": "n-1"},
    )
    box.deliver(
        ["arn:aws:sns:us-east-1:1:endpoint/GCM/app/e1"], "Shipped", "On its way", sender="a", via="sns", channel="push"
    )


def test_mail_shows_email_sms_and_push_and_filters_by_channel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill_across_channels(tmp_path)
    assert main(["--state-dir", str(tmp_path), "mail"]) == 0
    out = capsys.readouterr().out
    assert "sms to +447700900123" in out
    assert "push to arn:aws:sns:us-east-1:1:endpoint/GCM/app/e1  [sns]  Shipped" in out
    assert "List-Unsubscribe: <http://127.0.0.1:3000/notifications/unsubscribe?token=t>" in out

    assert main(["--state-dir", str(tmp_path), "mail", "--channel", "sms", "--json"]) == 0
    [sms] = json.loads(capsys.readouterr().out)
    assert sms["to"] == ["+447700900123"]
    assert sms["channel"] == "sms"

    assert main(["--state-dir", str(tmp_path), "mail", "--to", "ann@example.com", "--channel", "email", "--json"]) == 0
    mails = json.loads(capsys.readouterr().out)
    assert [m["via"] for m in mails] == ["cognito", "ses"]
    assert mails[1]["html"] == "<p>Order 333333</p>"
    assert mails[1]["tags"] == {"notificationId": "n-1"}
    assert mails[1]["messageId"] == "ses-1"


def test_mail_code_reads_sms_codes_and_never_a_notification_email(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill_across_channels(tmp_path)
    assert main(["--state-dir", str(tmp_path), "mail", "--to", "+447700900123", "--code"]) == 0
    assert capsys.readouterr().out.strip() == "222222"
    # the order e-mail came last and carries a six-digit number: the code is still the confirmation's
    assert main(["--state-dir", str(tmp_path), "mail", "--to", "ann@example.com", "--code"]) == 0
    assert capsys.readouterr().out.strip() == "111111"


def test_mail_reads_a_mailbox_written_before_channels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = {
        "time": "2026-01-01T00:00:00Z",
        "to": ["a@example.com"],
        "from": "x",
        "subject": "Hi",
        "body": "b",
        "via": "t",
    }
    _running_shop(tmp_path).write_text(json.dumps(old) + "\n")
    assert main(["--state-dir", str(tmp_path), "mail", "--channel", "email"]) == 0
    assert "email to a@example.com  [t]  Hi" in capsys.readouterr().out
    assert main(["--state-dir", str(tmp_path), "mail", "--channel", "sms"]) == 0
    assert capsys.readouterr().out.strip() == "(no mail)"


def test_fault_paypal_arms_the_local_paypal_and_refuses_a_real_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gears.local.paypal_emulator import PayPalControl, start_paypal_emulator

    server, base = start_paypal_emulator()
    try:
        (tmp_path / "runtime.json").write_text(json.dumps({"pid": os.getpid(), "paypal": base}))
        assert main(["--state-dir", str(tmp_path), "fault", "paypal", "timeout", "--count", "2", "--delay", "3"]) == 0
        assert json.loads(capsys.readouterr().out) == {"mode": "timeout", "count": 2, "delay": 3.0}
        assert PayPalControl(base).set_fault("error", 0) == {"mode": None, "count": 0, "delay": 3.0}
    finally:
        server.shutdown()
        server.server_close()
    (tmp_path / "runtime.json").write_text(json.dumps({"pid": os.getpid(), "paypal": None}))
    assert main(["--state-dir", str(tmp_path), "fault", "paypal", "error"]) == 1
    assert "real PayPal" in capsys.readouterr().err


def test_local_takes_the_paypal_endpoints_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gears.local import runtime

    seen: list[runtime.Options] = []

    class Runtime:
        def __init__(self, options: runtime.Options) -> None:
            seen.append(options)

        def start(self) -> None:
            raise RuntimeError("not started in a unit test")

        def stop(self) -> None:
            pass

    monkeypatch.setattr(runtime, "LocalRuntime", Runtime)
    assert main(["--state-dir", str(tmp_path), "local", "--paypal-port", "12112", "--stripe-port", "12111"]) == 1
    assert (seen[0].paypal_port, seen[0].stripe_port) == (12112, 12111)
