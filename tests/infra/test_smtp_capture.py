"""SMTP capture: one .eml per message, bytes intact, fault modes, standalone process."""

from __future__ import annotations

import smtplib
import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
from palmares_stack.process import ManagedProcess, start_process
from palmares_stack.smtp import SmtpCapture, list_messages, read_message, wait_for_messages


def _award(n: int) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "label@villes-internet.example"
    message["To"] = "mairie@saint-étienne.example"
    message["Subject"] = f"Palmarès 2018 — vous obtenez @@@@ ({n})"
    message["Message-ID"] = f"<award-{n}@palmares.example>"
    message.set_content("Félicitations ! Ça mérite 4 arobases.\n.ligne qui commence par un point\n")
    return message


@pytest.fixture
def capture(tmp_path: Path) -> Iterator[SmtpCapture]:
    with SmtpCapture(tmp_path / "mail") as smtp:
        yield smtp


@pytest.mark.asyncio
async def test_one_eml_per_message_with_utf8_intact(capture: SmtpCapture) -> None:
    for n in range(3):
        await aiosmtplib.send(_award(n), hostname=capture.host, port=capture.port)
    files = capture.wait_for_messages(3)
    assert len(files) == 3 and len({f.name for f in files}) == 3
    assert not list(capture.mail_dir.glob(".*"))  # no temp files left behind
    first = read_message(files[0])
    assert first["Subject"] == "Palmarès 2018 — vous obtenez @@@@ (0)"
    assert first["To"] == "mairie@saint-étienne.example"
    assert first["Message-ID"] == "<award-0@palmares.example>"
    assert ".ligne qui commence par un point" in first.get_content()  # dot un-stuffed once
    assert "Ça mérite".encode() in files[0].read_bytes()  # raw 8-bit UTF-8 kept as sent


def test_stdlib_smtplib_and_8bitmime(capture: SmtpCapture) -> None:
    with smtplib.SMTP(capture.host, capture.port) as client:
        client.ehlo()
        assert client.has_extn("8bitmime") and client.has_extn("smtputf8")
        client.send_message(_award(7))
    assert read_message(capture.wait_for_messages(1)[0])["Message-ID"] == ("<award-7@palmares.example>")


@pytest.mark.asyncio
@pytest.mark.parametrize("code", [421, 451])
async def test_refuse_mode_returns_4xx_and_stores_nothing(capture: SmtpCapture, code: int) -> None:
    capture.refuse(code)
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await aiosmtplib.send(_award(1), hostname=capture.host, port=capture.port)
    assert refused.value.code == code
    assert capture.messages() == []

    capture.clear_faults()
    await aiosmtplib.send(_award(2), hostname=capture.host, port=capture.port)
    assert len(capture.wait_for_messages(1)) == 1


@pytest.mark.asyncio
async def test_drop_mode_stores_but_client_sees_no_reply(capture: SmtpCapture) -> None:
    capture.drop_after_data()
    with pytest.raises(aiosmtplib.SMTPServerDisconnected):
        await aiosmtplib.send(_award(1), hostname=capture.host, port=capture.port)
    assert len(capture.wait_for_messages(1)) == 1  # delivered although the client thinks not


@pytest.fixture
def standalone(tmp_path: Path) -> Iterator[tuple[ManagedProcess, Path, int]]:
    port_file = tmp_path / "smtp.port"
    process = start_process(
        "smtp-test",
        [
            sys.executable,
            "-m",
            "palmares_stack.smtp_capture",
            "--mail-dir",
            str(tmp_path / "mail"),
            "--port",
            "0",
            "--port-file",
            str(port_file),
        ],
        log_path=tmp_path / "smtp.log",
        ready=port_file.is_file,
        timeout=20,
        tie_to_parent=True,
    )
    try:
        yield process, tmp_path, int(port_file.read_text())
    finally:
        process.stop(timeout=5)


@pytest.mark.asyncio
async def test_standalone_process_and_refuse_file(
    standalone: tuple[ManagedProcess, Path, int],
) -> None:
    process, state_dir, port = standalone
    await aiosmtplib.send(_award(1), hostname="127.0.0.1", port=port)
    assert len(wait_for_messages(state_dir / "mail", 1)) == 1

    (state_dir / "smtp.refuse").write_text("451\n")  # <mail_dir>/../smtp.refuse
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await aiosmtplib.send(_award(2), hostname="127.0.0.1", port=port)
    assert refused.value.code == 451
    (state_dir / "smtp.refuse").unlink()

    await aiosmtplib.send(_award(3), hostname="127.0.0.1", port=port)
    assert len(wait_for_messages(state_dir / "mail", 2)) == 2

    process.stop(timeout=5)
    assert not process.is_alive() and process.returncode == 0
    assert "stopped after storing 2 message(s)" in process.log_tail()


def test_standalone_help_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "palmares_stack.smtp_capture", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and "--mail-dir" in result.stdout
    assert list_messages(Path("/nonexistent")) == []
