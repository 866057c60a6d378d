#!/usr/bin/env python3
"""Drive a QMP server with the qemu.qmp library and print what happens,
one line per step, for tests/tests/qmp_python.rs to assert.

usage: qmp_client.py SOCKET
"""
import asyncio
import json
import sys

from qemu.qmp import ExecuteError, QMPClient


def show(value):
    return json.dumps(value, sort_keys=True)


async def main(path):
    qmp = QMPClient('qwire-test')
    await qmp.connect(path)
    greeting = qmp.greeting
    print('greeting', show(greeting.QMP.version), show(greeting.QMP.capabilities))

    print('query-version', show(await qmp.execute('query-version')))
    print('query-status', show(await qmp.execute('query-status')))

    for command, event in (('stop', 'STOP'), ('cont', 'RESUME')):
        with qmp.listener(event) as listener:
            result = await qmp.execute(command)
            got = await asyncio.wait_for(listener.get(), 5)
        print(command, show(result), 'event', got['event'],
              'timestamp', sorted(got['timestamp']))
        print('query-status', show(await qmp.execute('query-status')))

    print('x-ping oob', show(await qmp.execute('x-ping', oob=True)))

    for command, arguments, oob in (('no-such-command', None, False),
                                    ('query-status', {'bogus': 1}, False),
                                    ('stop', None, True)):
        try:
            await qmp.execute(command, arguments, oob=oob)
            print('error', command, 'none')
        except ExecuteError as err:
            print('error', command, err.error_class, err.error.error.desc)

    with qmp.listener('SHUTDOWN') as listener:
        result = await qmp.execute('quit')
        got = await asyncio.wait_for(listener.get(), 5)
    print('quit', show(result), 'event', got['event'], show(got['data']))
    try:
        await qmp.disconnect()
    except EOFError:
        # The server closed first (it exits after quit); qemu.qmp reports
        # the end of stream its reader saw. QEMU closes a little later, so
        # there the race usually goes the other way.
        pass
    print('disconnected')


if __name__ == '__main__':
    asyncio.run(main(sys.argv[1]))
