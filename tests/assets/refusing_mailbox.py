"""An aiosmtpd handler for the mail tests: a Maildir like aiosmtpd.handlers.Mailbox, except
that it refuses one recipient for good at RCPT TO, as a real server does for an unknown
mailbox (550 5.1.1). Started as
`aiosmtpd -n -l HOST:PORT -c refusing_mailbox.RefusingMailbox DIR ADDRESS`
with this folder on PYTHONPATH."""

from aiosmtpd.handlers import Mailbox


class RefusingMailbox(Mailbox):
    def __init__(self, mail_dir, refused):
        super().__init__(mail_dir)
        self.refused = refused.lower()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() == self.refused:
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 2:
            parser.error("RefusingMailbox takes a Maildir folder and the refused address")
        return cls(args[0], args[1])
