#!/usr/bin/python3
"""Run nghttpx on a loopback port the kernel chooses, for the TLS tests.

Usage: tls-front.py --port-file F [--parent PID] -- nghttpx ARGS...

nghttpx refuses port 0, so this binds 127.0.0.1:0 itself, keeps the
listening socket open and hands it to nghttpx the way nghttpx hands its
sockets to a new binary on a hot upgrade (NGHTTPX_ACCEPT_1=tcp,FD; nghttpx
takes an inherited socket whose address equals a --frontend's). In ARGS,
@PORT@ is replaced by the port. No port is ever picked and released.

The port goes to the port file (atomically) once nghttpx completes a TLS
handshake on it. The
launcher stays as nghttpx's parent and stops it when the process --parent
(default: the one that started the launcher) is gone, or on SIGTERM or
SIGINT; it exits with nghttpx's status when nghttpx exits.
"""
import argparse
import os
import signal
import socket
import ssl
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port-file', required=True)
    ap.add_argument('--parent', type=int, default=os.getppid())
    ap.add_argument('cmd', nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ['--'] else args.cmd
    if not cmd:
        ap.error('no command')

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(('127.0.0.1', 0))
    lsock.listen(512)
    port = lsock.getsockname()[1]
    fd = lsock.fileno()
    env = dict(os.environ, NGHTTPX_ACCEPT_1='tcp,%d' % fd)
    # nghttpx cannot start under libfaketime (make check-time); it needs no
    # date (the clients check the certificates, on the faked clock)
    if 'faketime' in env.get('LD_PRELOAD', ''):
        del env['LD_PRELOAD']
    cmd = [a.replace('@PORT@', str(port)) for a in cmd]
    child = subprocess.Popen(cmd, env=env, pass_fds=(fd,))
    lsock.close()

    def stop(*_):
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(5)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    # Report the port once nghttpx completes a TLS handshake on it (a
    # connection to the socket alone would only sit in its backlog).
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + 20
    while True:
        if child.poll() is not None:
            print('tls-front: %s exited with status %d before serving'
                  % (cmd[0], child.returncode), file=sys.stderr)
            return 1
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=1) as s:
                with ctx.wrap_socket(s):
                    break
        except (OSError, ssl.SSLError):
            if time.monotonic() > deadline:
                print('tls-front: no TLS handshake on port %d after 20 s' % port,
                      file=sys.stderr)
                stop()
            time.sleep(0.05)
    tmp = args.port_file + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d\n' % port)
    os.rename(tmp, args.port_file)

    while True:
        try:
            rc = child.wait(0.2)
            return rc if rc >= 0 else 128 - rc
        except subprocess.TimeoutExpired:
            pass
        try:
            os.kill(args.parent, 0)
        except ProcessLookupError:
            stop()
        except PermissionError:
            pass


if __name__ == '__main__':
    sys.exit(main())
