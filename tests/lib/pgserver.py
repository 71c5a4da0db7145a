"""A throwaway PostgreSQL server for the tests (docs/internals.md,
"Storage: PostgreSQL"): initdb into a temporary directory as the postgres
system user (the server refuses to run as root), listening only on a unix
socket in that directory under a free port number, stopped by its PID.

As a library: PgServer().start() gives conninfo; fresh_db() makes an empty
database and returns its conninfo. As a program, for make pg:
    pgserver.py start DIR    prints the conninfo (the server runs on)
    pgserver.py stop DIR     stops it and removes DIR
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PG_USER = 'postgres'


def pg_bindir():
    """Debian's server binaries: the newest /usr/lib/postgresql/N/bin."""
    base = '/usr/lib/postgresql'
    try:
        versions = sorted((int(v) for v in os.listdir(base) if v.isdigit()),
                          reverse=True)
    except FileNotFoundError:
        versions = []
    for v in versions:
        d = os.path.join(base, str(v), 'bin')
        if os.path.exists(os.path.join(d, 'initdb')):
            return d
    raise RuntimeError('no PostgreSQL server installed '
                       '(apt-get install postgresql)')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def as_postgres(argv, **kw):
    """argv run as the postgres user (we run as root)."""
    if os.geteuid() == 0:
        argv = ['runuser', '-u', PG_USER, '--'] + argv
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, **kw)


class PgServer:
    def __init__(self, top=None):
        self.top = top
        self.port = None
        self.pid = None
        self.bindir = pg_bindir()
        self.serial = 0

    @property
    def data(self):
        return os.path.join(self.top, 'data')

    @property
    def conninfo(self):
        return 'host=%s port=%d user=%s dbname=postgres' % (
            self.top, self.port, PG_USER)

    def start(self):
        """initdb (first time only) and start; returns the conninfo."""
        if self.top is None:
            self.top = tempfile.mkdtemp(prefix='parley-pg.')
        os.chmod(self.top, 0o755)
        if os.geteuid() == 0:
            pw = pwd.getpwnam(PG_USER)
            os.chown(self.top, pw.pw_uid, pw.pw_gid)
        if not os.path.exists(self.data):
            # --no-sync and fsync off: a test server, rebuilt every run
            as_postgres([os.path.join(self.bindir, 'initdb'), '-D',
                         self.data, '-U', PG_USER, '--auth=trust',
                         '-E', 'UTF8', '--locale=C', '--no-sync'])
        if self.port is None:
            self.port = free_port()
        # PG_FSYNC=on (the benchmark's BENCH_PG_FSYNC): a server that
        # syncs its WAL as a production one does
        sync = "on" if os.environ.get("PG_FSYNC") == "on" else "off"
        opts = ("-k %s -p %d -c listen_addresses='' -c fsync=%s "
                "-c full_page_writes=%s -c max_connections=200"
                % (self.top, self.port, sync, sync))
        as_postgres([os.path.join(self.bindir, 'pg_ctl'), '-D', self.data,
                     '-w', '-t', '60', '-o', opts, '-l',
                     os.path.join(self.top, 'log'), 'start'])
        with open(os.path.join(self.data, 'postmaster.pid')) as f:
            self.pid = int(f.readline())
        return self.conninfo

    def stop(self):
        """Fast shutdown by PID (SIGINT), waiting for it to be gone."""
        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self.pid = None

    def remove(self):
        self.stop()
        if self.top is not None:
            shutil.rmtree(self.top, ignore_errors=True)
            self.top = None


def psql(conninfo, sql):
    subprocess.run(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d',
                    conninfo, '-c', sql], check=True,
                   stdout=subprocess.DEVNULL)


_serial = [0]


def fresh_db(conninfo, prefix='parley_e2e'):
    """A new empty database on the server of conninfo: its conninfo."""
    _serial[0] += 1
    name = '%s_%d_%d' % (prefix, os.getpid(), _serial[0])
    psql(conninfo, 'CREATE DATABASE %s TEMPLATE template0' % name)
    return '%s dbname=%s' % (conninfo, name)


def main(argv):
    if len(argv) != 3 or argv[1] not in ('start', 'stop'):
        print('usage: pgserver.py start|stop DIR', file=sys.stderr)
        return 2
    top = argv[2]
    if argv[1] == 'start':
        os.makedirs(top, exist_ok=True)
        srv = PgServer(top)
        print(srv.start())
        return 0
    try:
        with open(os.path.join(top, 'data', 'postmaster.pid')) as f:
            pid = int(f.readline())
    except FileNotFoundError:
        pid = None
    srv = PgServer(top)
    srv.pid = pid
    srv.remove()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
