"""A third-party WebSocket client (Python's websockets, from Debian's
python3-websockets) against the wsconn server: upgrade, binary messages of
every length class echoed back, a fragmented message, a ping, then a text
message that the server must refuse with close code 1003.

Usage: client.py ws://host:port/path
Prints one line per check and "OK" at the end; exits non-zero on failure.
"""
import asyncio
import sys

import websockets


async def main(url):
    async with websockets.connect(url, max_size=1 << 20, compression=None) as ws:
        for n in (0, 1, 125, 126, 127, 1200, 65535 % 16384, 16384):
            msg = bytes((i * 7 + n) & 0xFF for i in range(n))
            await ws.send(msg)
            got = await ws.recv()
            assert got == msg, f"echo of {n} bytes differs ({len(got)} bytes)"
            print(f"echo {n} bytes ok")
        # A message in three fragments arrives whole.
        await ws.send([b"frag-", b"ment", b"ed"])
        got = await ws.recv()
        assert got == b"frag-mented", got
        print("fragmented ok")
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 5)
        print("ping ok")
        await ws.send("text is refused")
        try:
            await asyncio.wait_for(ws.recv(), 5)
            raise AssertionError("text message not refused")
        except websockets.exceptions.ConnectionClosed as e:
            code = e.rcvd.code if e.rcvd else None
            assert code == 1003, f"closed with {code}, want 1003"
            print("text refused with 1003 ok")
    print("OK")


asyncio.run(main(sys.argv[1]))
