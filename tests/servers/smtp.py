"""A real SMTP server for tests/email.rs: aiosmtpd on a free loopback port
it picks itself (so tests running at once never share one), storing every
message in a maildir. Prints its port, then serves until killed.

    python3 smtp.py MAILDIR [refusing|flaky]

With `refusing`, any recipient at nobody@... is refused with 550, as a
server does for an unknown mailbox. With `flaky`, the first delivery of
each message (by its Message-ID) is answered 451 (try again later), and
every attempt's Message-ID is logged to MAILDIR/attempts.log."""

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


class Flaky(Mailbox):
    seen = set()

    async def handle_DATA(self, server, session, envelope):
        text = envelope.content.decode("utf-8", "replace")
        ids = [line.split(":", 1)[1].strip() for line in text.splitlines()
               if line.lower().startswith("message-id:")]
        key = ids[0] if ids else ""
        with open(sys.argv[1] + "/attempts.log", "a") as log:
            log.write(key + "\n")
        if key not in self.seen:
            self.seen.add(key)
            return "451 4.3.0 try again later"
        return await super().handle_DATA(server, session, envelope)


async def serve():
    kinds = {"refusing": Refusing, "flaky": Flaky}
    handler = kinds.get(sys.argv[2] if len(sys.argv) > 2 else "", Mailbox)(sys.argv[1])
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(serve())
