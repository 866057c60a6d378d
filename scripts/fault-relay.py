#!/usr/bin/env python3
"""A fault-injecting relay for the demo: listens on LISTEN, forwards each
client to TARGET (both Unix sockets), and gets in the way the way a dirty
serial channel does:

- before the client's first bytes it sends the agent half a request (as if
  an earlier client had died mid-write);
- it forwards the client's bytes in small random pieces;
- before each line from the agent it injects a stale reply with a foreign
  id, and before the first line, garbage and half a message.

A client that resynchronises (0xFF + guest-sync-delimited) and matches
replies by id gets every answer right anyway. Deterministic for a seed.

usage: fault-relay.py LISTEN TARGET [SEED]
"""
import os
import random
import select
import socket
import sys


def relay(client, target_path, rng):
    agent = socket.socket(socket.AF_UNIX)
    agent.connect(target_path)
    agent.sendall(b'{"execute": "guest-file-op')  # half a request, left behind
    first_line = True
    pending = b""
    try:
        while True:
            ready, _, _ = select.select([client, agent], [], [], 30)
            if not ready:
                return
            if client in ready:
                data = client.recv(4096)
                if not data:
                    return
                while data:  # small random pieces
                    n = rng.randint(1, 7)
                    agent.sendall(data[:n])
                    data = data[n:]
            if agent in ready:
                data = agent.recv(4096)
                if not data:
                    return
                pending += data
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    junk = b'{"return": 4242, "id": 999999}\n'
                    if first_line:
                        junk = b'garbage \x01 {"return": {"half' + b"\n" + junk
                        first_line = False
                    client.sendall(junk + line + b"\n")
    finally:
        agent.close()
        client.close()


def main():
    listen_path, target_path = sys.argv[1], sys.argv[2]
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    if os.path.exists(listen_path):
        os.unlink(listen_path)
    server = socket.socket(socket.AF_UNIX)
    server.bind(listen_path)
    server.listen(1)
    while True:
        client, _ = server.accept()
        relay(client, target_path, rng)


if __name__ == "__main__":
    main()
