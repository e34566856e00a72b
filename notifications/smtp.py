"""SMTP delivery: one connection per run, timeouts, STARTTLS or TLS, credentials never logged.

The envelope recipient is the stored address itself (never read back from a header), and a
failure to reach or log in to the server fails the channel once for the run, not each notice."""

from __future__ import annotations

import smtplib
import ssl

from notifications.channels import DeliveryError, email_bytes, recipient_mailbox, sender_mailbox
from notifications.message import Message


class SmtpChannel:
    """Opens its connection at the first message and reuses it for the rest of the run."""

    name = "smtp"

    def __init__(self, *, host: str, port: int, sender: str, timeout: float, user: str | None = None,
                 password: str | None = None, starttls: bool = False, tls: bool = False,
                 ca_file: str | None = None) -> None:
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout
        self.user, self._password, self.starttls, self.tls = user, password, starttls, tls
        self.ca_file = ca_file
        self._client: smtplib.SMTP | None = None

    def __repr__(self) -> str:  # never shows the password
        return f"SmtpChannel({self.host}:{self.port}, user={self.user!r})"

    def _context(self) -> ssl.SSLContext:
        """Only built when TLS is used: a CA file matters to nothing else."""
        return ssl.create_default_context(cafile=self.ca_file)

    def _connect(self) -> smtplib.SMTP:
        client: smtplib.SMTP
        try:
            if self.tls:
                client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._context())
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.starttls:
                    client.starttls(context=self._context())
        except ssl.SSLError as exc:
            raise DeliveryError(f"connexion TLS au serveur SMTP {self.host}:{self.port} impossible : "
                                f"{exc.reason or exc.__class__.__name__}", channel_down=True) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"serveur SMTP {self.host}:{self.port} injoignable : {exc.__class__.__name__} "
                                f"{exc}".strip(), channel_down=True) from None
        if self.user and self._password is not None:
            try:
                client.login(self.user, self._password)
            except smtplib.SMTPAuthenticationError as exc:
                client.close()
                raise DeliveryError(_reply("authentification SMTP refusée", exc.smtp_code, exc.smtp_error),
                                    channel_down=True) from None
            except (TimeoutError, smtplib.SMTPException, OSError) as exc:
                client.close()
                raise DeliveryError(f"authentification SMTP refusée ou interrompue par {self.host}:{self.port} "
                                    f"({exc.__class__.__name__})", channel_down=True) from None
        return client

    def send(self, message: Message) -> None:
        # Serialised once, with the wire's line ends (send_message would copy and flatten the
        # message again); ValueError for an address no channel can carry. The envelope recipient
        # is the stored address (`deliverable_address`), the To mailbox's address.
        to = recipient_mailbox(message)
        data = email_bytes(message, self.sender, linesep="\r\n", to=to)
        envelope_from, envelope_to = sender_mailbox(self.sender).addr_spec, to.addr_spec
        if self._client is None:
            self._client = self._connect()
        try:
            refused = self._client.sendmail(envelope_from, [envelope_to], data)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise DeliveryError(_reply("destinataire refusé", code, reply), permanent=code >= 500) from None
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500 or exc.smtp_code < 400:
                raise DeliveryError(_reply("message refusé", exc.smtp_code, exc.smtp_error), permanent=True) from None
            self._reset()
            raise DeliveryError(_reply("refus temporaire", exc.smtp_code, exc.smtp_error)) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            self._reset()
            raise DeliveryError(f"serveur SMTP {self.host}:{self.port} injoignable : {exc.__class__.__name__} "
                                f"{exc}".strip()) from None
        if refused:  # one recipient only: refused means not delivered
            code, reply = next(iter(refused.values()))
            raise DeliveryError(_reply("destinataire refusé", code, reply), permanent=code >= 500)

    def _reset(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except OSError:
                pass

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def _reply(what: str, code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{what} ({code} {text})"
