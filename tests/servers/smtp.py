"""A real SMTP server for tests/email.rs: aiosmtpd on a free loopback port
it picks itself (so tests running at once never share one), storing every
message in a maildir. Prints its port, then serves until killed.

    python3 smtp.py MAILDIR [refusing]

With `refusing`, any recipient at nobody@... is refused with 550, as a
server does for an unknown mailbox."""

import asyncio
import sys

from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP


class Refusing(Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 <%s>: no such user" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"


async def serve():
    handler = (Refusing if sys.argv[2:] == ["refusing"] else Mailbox)(sys.argv[1])
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(serve())
