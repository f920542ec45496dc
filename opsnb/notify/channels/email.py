"""Email, through the standard library: ``smtplib`` and ``email.message.EmailMessage``.

Subject = title, a plain-text body with an HTML alternative, the PDF attached. SMTP 4xx replies, timeouts and
dropped connections pass (they are retried); 5xx is final. The password comes from ``password_env``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsnb.notify.channels.base import BaseChannel, Outcome, Undeliverable
from opsnb.notify.channels.text import BOLD, LINK, Message

if TYPE_CHECKING:
    from email.message import EmailMessage

    from opsnb.params import Channel

# smtplib, ssl and email.* are imported where they are used: params loads this module to validate a channel.


def _plain(line: str) -> str:
    """Markdown-ish → plain text: bold markers dropped, ``[text](url)`` → ``text (url)``."""
    return LINK.sub(r"\1 (\2)", BOLD.sub(r"\1", line))


def _html(title: str, markdown: str) -> str:
    """The HTML alternative: the title escaped, the body through markdown-it with raw HTML disabled."""
    from markdown_it import MarkdownIt

    from opsnb.render.ui import esc

    lines: list[str] = []
    for ln in markdown.split("\n"):  # a plain line after a bullet starts a paragraph, not a lazy continuation
        if lines and lines[-1].startswith(("- ", "* ")) and ln and not ln.startswith(("- ", "* ")):
            lines.append("")
        lines.append(ln)
    body = MarkdownIt("commonmark", {"html": False, "breaks": True}).disable("image").render("\n".join(lines))
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{esc(title)}</title></head>'
            f'<body style="font-family: sans-serif"><h2>{esc(title)}</h2>{body}</body></html>')


def _mail(desc: dict[str, Any], attachments: tuple[Path, ...], now: float) -> EmailMessage:
    import mimetypes
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    mail = EmailMessage()
    mail["Subject"] = desc["subject"]
    mail["From"] = desc["from"]
    mail["To"] = ", ".join(desc["to"])
    mail["Date"] = formatdate(now, usegmt=True)
    mail["Message-ID"] = make_msgid(domain=str(desc["from"]).rpartition("@")[2] or None)
    mail.set_content(desc["text"], charset="utf-8")
    mail.add_alternative(desc["html"], subtype="html", charset="utf-8")
    for path in attachments:
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, subtype = ctype.split("/", 1)
        mail.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return mail


def _reply(code: int, text: bytes | str) -> str:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {said}".strip()


def _refused(refused: Mapping[str, tuple[int, bytes | str]]) -> str:
    return "; ".join(f"{rcpt}: {_reply(code, text)}" for rcpt, (code, text) in refused.items())


class Email(BaseChannel):
    """Mailboxes through an SMTP server (ssl, starttls or none; a login when ``smtp_user`` is set)."""

    limit = 10_000_000  # no practical limit
    attachments = True
    reads = (("secret_env", "signing secret"), ("password_env", "SMTP password"))

    def __init__(self, channel: Channel) -> None:
        super().__init__(channel)
        self._mail: EmailMessage | None = None
        self._size = 0

    @classmethod
    def settings_problem(cls, channel: Channel) -> str | None:
        """What every kind checks, then a sender and at least one recipient."""
        problem = super().settings_problem(channel)
        if problem is None and (not channel.sender or not channel.to):
            problem = "an email channel needs sender and to (a list of addresses)"
        return problem

    @classmethod
    def text(cls, msg: Message) -> str:
        """The plain-text body (the title is the subject)."""
        r = cls.render(msg)
        return "\n".join(_plain(ln) for ln in r.body + r.foot)

    def payload(self, msg: Message, *, now_ms: int, secret: str | None) -> tuple[str, dict[str, Any], dict[str, str]]:
        """``body`` describes the message (subject, from, to, text, html, attachment file names); no query or
        headers. The HTML is rendered from the Markdown-ish lines (the plain text is never longer than them)."""
        return "", {
            "subject": msg.title,
            "from": self.channel.sender,
            "to": list(self.channel.to),
            "text": self.text(msg),
            "html": _html(msg.title, self.render(msg).text),
            "attachments": [p.name for p in msg.attachments],
        }, {}

    def attempt(self, msg: Message, values: Mapping[str, str | None], *, t0: float,
                timeout: float) -> tuple[Outcome, int]:
        """One SMTP session; the message is built once, so a retry resends it as it was (same Message-ID)."""
        if self._mail is None:
            desc = self.payload(msg, now_ms=int(t0 * 1000), secret=values.get("secret_env"))[1]
            try:
                self._mail = _mail(desc, msg.attachments, t0)
            except OSError as exc:
                raise Undeliverable(f"{self.kind}: cannot read attachment "
                                    f"({exc.strerror or type(exc).__name__})") from None
            self._size = len(self._mail.as_bytes())
        return self.smtp(self._mail, values.get("password_env"), timeout), self._size

    def smtp(self, mail: EmailMessage, password: str | None, timeout: float) -> Outcome:
        """One SMTP session: connect (ssl / starttls / none), log in if a user is set, send, quit."""
        import smtplib
        import ssl

        channel = self.channel
        server: smtplib.SMTP | None = None
        try:
            if channel.smtp_security == "ssl":
                server = smtplib.SMTP_SSL(channel.smtp_host, channel.smtp_port, timeout=timeout,
                                          context=ssl.create_default_context())
            else:
                server = smtplib.SMTP(channel.smtp_host, channel.smtp_port, timeout=timeout)
            if channel.smtp_security == "starttls":
                server.starttls(context=ssl.create_default_context())
            if channel.smtp_user:
                server.login(channel.smtp_user, password or "")
            refused = server.send_message(mail)
            try:
                server.quit()
            except (smtplib.SMTPException, OSError):
                pass  # the message was accepted (250 to DATA); a failed goodbye does not undo that
            if refused:
                return self._failed(250, f"refused {_refused(refused)}", False)
            return Outcome(True, 250, None, None, False)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            transient = all(400 <= c < 500 for c in codes)
            return self._failed(codes[0] if codes else None, _refused(exc.recipients), transient)
        except smtplib.SMTPResponseException as exc:  # auth, sender, data refusals: the server's reply code
            return self._failed(exc.smtp_code, _reply(exc.smtp_code, exc.smtp_error), 400 <= exc.smtp_code < 500)
        except smtplib.SMTPNotSupportedError as exc:  # e.g. STARTTLS or AUTH not offered: a settings problem
            return self._failed(None, f"not supported by the server: {exc}", False)
        except ssl.SSLError as exc:
            return self._failed(None, f"TLS failed ({exc.reason or type(exc).__name__})", False)
        except TimeoutError:
            return self._failed(None, f"timeout after {timeout:g} s", True)
        except smtplib.SMTPServerDisconnected:
            return self._failed(None, "the server closed the connection", True)
        except smtplib.SMTPException as exc:
            return self._failed(None, f"{type(exc).__name__}: {exc}", False)
        except OSError as exc:  # refused, unreachable, name not resolved
            return self._failed(None, f"connection error ({exc.strerror or type(exc).__name__})", True)
        finally:
            if server is not None:
                try:
                    server.close()
                except OSError:
                    pass

    def _failed(self, status: int | None, said: str, transient: bool) -> Outcome:
        host = f"{self.channel.smtp_host}:{self.channel.smtp_port}"
        return Outcome(False, status, said, f"{self.kind} {host}: {said}", transient)
