"""`make run`'s email backend: each message as readable text in a file under var/mail/, and the
same text printed (not MIME, not quoted-printable inside a worker's log line)."""

from __future__ import annotations

import datetime as dt
import itertools
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

_counter = itertools.count(1)
_lock = threading.Lock()


def readable(message: EmailMessage) -> str:
    lines = [
        f"From:    {message.from_email}",
        f"To:      {', '.join(message.to)}",
    ]
    if message.cc:
        lines.append(f"Cc:      {', '.join(message.cc)}")
    lines += [f"Subject: {message.subject}", "", message.body.rstrip()]
    for alternative in getattr(message, "alternatives", []) or []:
        mimetype = alternative[1] if isinstance(alternative, tuple) else getattr(alternative, "mimetype", "")
        lines.append(f"[alternative part: {mimetype}]")
    for attachment in message.attachments:
        name = attachment[0] if isinstance(attachment, tuple) else getattr(attachment, "get_filename", lambda: "")()
        lines.append(f"[attachment: {name or 'unnamed'}]")
    return "\n".join(lines) + "\n"


class ReadableFileBackend(BaseEmailBackend):
    def __init__(self, *args: Any, file_path: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.directory = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            text = readable(message)
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
            with _lock:
                path = self.directory / f"{stamp}-{next(_counter):04d}.txt"
                path.write_text(text, encoding="utf-8")
                rule = "-" * 72
                sys.stdout.write(f"\n{rule}\nmail -> {path}\n{text}{rule}\n")
                sys.stdout.flush()
            sent += 1
        return sent
