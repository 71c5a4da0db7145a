"""
Installing (docs/operator.md, "Installing as a service"): `make install`
puts parleyd and parleyctl in PREFIX/sbin and the children in
PREFIX/lib/parley, where parleyd finds them; the configuration is written
only when there is none; `make uninstall` takes the files back. The
Debian package built from such an install (scripts/mkdeb.sh, `make deb`)
has the control fields, dependencies, conffile, unit and maintainer
scripts it should; installed for real (dpkg -i, the server started as
the unit starts it, a login, dpkg --purge) it works. Nothing is
installed on this machine: the package is unpacked with dpkg-deb into
temporary directories, and installed only inside an overlay of / in
namespaces of its own (deb_overlay.sh).
"""
import os
import re
import shutil
import subprocess

import pytest

from conftest import BIN, ROOT, SLOW

HELPERS = ["parley-router", "parley-c2s", "parley-s2s", "parley-proxy"]


def sanitized():
    """Whether BIN holds an ASan build (make asan runs this file too)."""
    with open(os.path.join(BIN, "parleyd"), "rb") as f:
        return b"__asan_init" in f.read()


def make(*args):
    # -o all: the binaries of PARLEY_BIN as they are, never rebuilt here
    # not the jobserver of a `make e2e` this may run under
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    cp = subprocess.run(["make", "--no-print-directory", "-o", "all",
                         "BIN=" + BIN] + list(args), cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    return cp.stdout


def version():
    with open(os.path.join(ROOT, "common", "version.h")) as f:
        return re.search(r'PARLEY_VERSION\s+"([^"]+)"', f.read()).group(1)


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    """The package built from a staged install (what `make deb` does)."""
    d = tmp_path_factory.mktemp("deb")
    stage = d / "root"
    make("install", "PREFIX=/usr", "DESTDIR=%s" % stage)
    cp = subprocess.run([os.path.join(ROOT, "scripts", "mkdeb.sh"),
                         str(stage), str(d)], capture_output=True,
                        text=True, timeout=60)
    assert cp.returncode == 0, cp.stderr
    path = cp.stdout.strip()
    assert os.path.basename(path).startswith("parley_%s-1_" % version())
    return path


def test_install_layout_and_uninstall(tmp_path):
    dest = tmp_path / "dest"
    make("install", "PREFIX=/opt/p", "DESTDIR=%s" % dest)
    for name in ["parleyd", "parleyctl"]:
        assert os.access(dest / "opt/p/sbin" / name, os.X_OK)
    for name in HELPERS + ["mkcert"]:
        assert os.access(dest / "opt/p/lib/parley" / name, os.X_OK)
    unit = (dest / "opt/p/lib/systemd/system/parley.service").read_text()
    assert "ExecStart=/opt/p/sbin/parleyd -c /etc/parley/parley.conf" \
        in unit
    conf = dest / "etc/parley/parley.conf"
    text = conf.read_text()
    assert "datadir /var/lib/parley\n" in text
    assert "rundir /run/parley\n" in text
    assert "\tcertificate /etc/parley/certs/localhost.crt\n" in text
    # an operator's file is never overwritten
    conf.write_text(text + "# mine\n")
    make("install", "PREFIX=/opt/p", "DESTDIR=%s" % dest)
    assert conf.read_text().endswith("# mine\n")
    make("uninstall", "PREFIX=/opt/p", "DESTDIR=%s" % dest)
    assert not (dest / "opt/p/sbin/parleyd").exists()
    assert not (dest / "opt/p/lib/parley").exists()
    assert not (dest / "opt/p/lib/systemd/system/parley.service").exists()
    assert conf.read_text().endswith("# mine\n")


def dep5(text):
    """The paragraphs of a machine-readable copyright file (DEP-5):
    fields of RFC 822 style, continuation lines start with a space."""
    paras = []
    for block in text.strip("\n").split("\n\n"):
        fields, name = {}, None
        for line in block.split("\n"):
            if line.startswith((" ", "\t")):
                assert name is not None, line
                fields[name] += "\n" + line.strip()
                continue
            name, sep, value = line.partition(":")
            assert sep and name and " " not in name, line
            assert name not in fields, name
            fields[name] = value.strip()
        paras.append(fields)
    return paras


def copyright_file(deb, files, tmp_path):
    """Debian policy 12.5: /usr/share/doc/parley/copyright, in the
    machine-readable format; no licence has been chosen, and the file
    must say that rather than name one."""
    path = "./usr/share/doc/parley/copyright"
    assert re.search(r"^-rw-r--r-- root/root .* %s$" % re.escape(path),
                     files, re.M), files
    root = tmp_path / "copyright-root"
    subprocess.run(["dpkg-deb", "-x", deb, str(root)], check=True)
    paras = dep5((root / path).read_text())
    assert paras[0]["Format"] == \
        "https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
    assert paras[0]["Upstream-Name"] == "Parley"
    body = [p for p in paras[1:] if "Files" in p]
    assert body and body[0]["Files"] == "*", paras
    assert "Parley authors" in body[0]["Copyright"]
    lic = body[0]["License"].split("\n")
    assert lic[0] == "none" and len(lic) > 1, lic
    assert "All rights reserved" in body[0]["License"]


def test_deb_control_and_contents(deb, tmp_path):
    def field(name):
        return subprocess.run(["dpkg-deb", "-f", deb, name],
                              capture_output=True, text=True,
                              check=True).stdout.strip()

    assert field("Package") == "parley"
    assert field("Version") == version() + "-1"
    arch = subprocess.run(["dpkg", "--print-architecture"],
                          capture_output=True, text=True).stdout.strip()
    assert field("Architecture") == arch
    deps = [d.split()[0] for d in field("Depends").split(", ")]
    for lib in ["libc6", "libev4", "libexpat1", "libgnutls30", "libc-ares2",
                "liblmdb0", "libidn12", "adduser"]:
        assert lib in deps, deps
    files = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True,
                           text=True, check=True).stdout
    for path in ["./usr/sbin/parleyd", "./usr/sbin/parleyctl",
                 "./usr/lib/systemd/system/parley.service",
                 "./etc/parley/parley.conf"] + \
            ["./usr/lib/parley/" + h for h in HELPERS]:
        assert re.search(r"^\S+ root/root .* %s$" % re.escape(path), files,
                         re.M), path
    copyright_file(deb, files, tmp_path)
    ctl = tmp_path / "ctl"
    subprocess.run(["dpkg-deb", "-e", deb, str(ctl)], check=True)
    assert (ctl / "conffiles").read_text() == "/etc/parley/parley.conf\n"
    for script in ["postinst", "prerm", "postrm"]:
        assert os.access(ctl / script, os.X_OK)
        subprocess.run(["sh", "-n", str(ctl / script)], check=True)
    postinst = (ctl / "postinst").read_text()
    assert "adduser --system" in postinst
    assert "deb-systemd-helper enable parley.service" in postinst
    assert "deb-systemd-invoke restart parley.service" in postinst


def test_deb_unit_verifies(deb, tmp_path):
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", deb, str(root)], check=True)
    unit = (root / "usr/lib/systemd/system/parley.service").read_text()
    for directive in ["Type=notify", "User=parley",
                      "ExecReload=/bin/kill -HUP $MAINPID",
                      "AmbientCapabilities=CAP_NET_BIND_SERVICE",
                      "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
                      "ProtectSystem=strict", "PrivateTmp=yes",
                      "NoNewPrivileges=yes", "StateDirectory=parley",
                      "RuntimeDirectory=parley",
                      "ConfigurationDirectory=parley"]:
        assert directive + "\n" in unit, directive
    if shutil.which("systemd-analyze") is None:
        return
    # verify checks that the commands exist: point them at the unpacked
    test_unit = tmp_path / "parley.service"
    test_unit.write_text(unit.replace("/usr/sbin/",
                                      str(root / "usr/sbin") + "/"))
    cp = subprocess.run(["systemd-analyze", "verify", str(test_unit)],
                        capture_output=True, text=True, timeout=30)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert cp.stderr == "", cp.stderr


STUBS = ["adduser", "getent", "deb-systemd-helper", "deb-systemd-invoke",
         "systemctl", "install", "chgrp"]


def maint_env(tmp_path, root, user_exists):
    """The package's scripts run against root (DPKG_ROOT, as dpkg sets
    it for an install elsewhere) with the commands that would change this
    machine replaced by stubs that log their arguments."""
    stubs = tmp_path / "stubs"
    stubs.mkdir(exist_ok=True)
    log = tmp_path / "calls"
    for name in STUBS:
        body = 'echo "%s $*" >>%s\n' % (name, log)
        if name == "getent":
            body += "exit %d\n" % (0 if user_exists else 2)
        if name == "install":
            # install -d -o U -g G -m M DIR: the directory, no owner
            body += 'for a; do :; done\nmkdir -p "$a"\n'
        (stubs / name).write_text("#!/bin/sh\n" + body)
        os.chmod(stubs / name, 0o755)
    env = dict(os.environ, DPKG_ROOT=str(root),
               PATH="%s:%s" % (stubs, os.environ["PATH"]))
    return env, log


def run_maint(ctl, script, env, log, *args):
    if log.exists():
        log.unlink()
    cp = subprocess.run(["sh", str(ctl / script)] + list(args), env=env,
                        capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    return log.read_text().splitlines() if log.exists() else []


def test_deb_maintainer_scripts(deb, tmp_path):
    root, ctl = tmp_path / "root", tmp_path / "ctl"
    subprocess.run(["dpkg-deb", "-x", deb, str(root)], check=True)
    subprocess.run(["dpkg-deb", "-e", deb, str(ctl)], check=True)
    certs = root / "etc/parley/certs"

    # a first install, no systemd running (an image being built)
    env, log = maint_env(tmp_path, root, user_exists=False)
    calls = run_maint(ctl, "postinst", env, log, "configure")
    assert "adduser --system --group --quiet --home /var/lib/parley " \
        "--no-create-home --gecos Parley XMPP server parley" in calls, calls
    assert "deb-systemd-helper enable parley.service" in calls, calls
    assert not [c for c in calls if c.startswith(("systemctl",
                                                  "deb-systemd-invoke"))]
    assert (root / "var/lib/parley").is_dir()
    key = certs / "localhost.key"
    assert (certs / "localhost.crt").exists()
    assert os.stat(key).st_mode & 0o777 == 0o640
    made = key.read_bytes()

    # an upgrade with systemd running: the user and the certificate stay
    (root / "run/systemd/system").mkdir(parents=True)
    env, log = maint_env(tmp_path, root, user_exists=True)
    calls = run_maint(ctl, "postinst", env, log, "configure", "0.0.9-1")
    assert not [c for c in calls if c.startswith("adduser")], calls
    assert "systemctl --system daemon-reload" in calls, calls
    assert "deb-systemd-invoke restart parley.service" in calls, calls
    assert key.read_bytes() == made

    assert "deb-systemd-invoke stop parley.service" in \
        run_maint(ctl, "prerm", env, log, "remove")
    calls = run_maint(ctl, "postrm", env, log, "remove")
    assert "deb-systemd-helper mask parley.service" in calls, calls
    assert (root / "var/lib/parley").is_dir() and key.exists()
    calls = run_maint(ctl, "postrm", env, log, "purge")
    assert "deb-systemd-helper purge parley.service" in calls, calls
    assert not (root / "var/lib/parley").exists()
    assert not certs.exists()
    assert not [c for c in calls if c.startswith(("adduser", "deluser"))]


def test_deb_install_login_purge(deb, tmp_path):
    # a suite that cannot run here fails loudly (make test runs as root)
    assert os.geteuid() == 0, "mounting the overlay needs root"
    here = os.path.dirname(os.path.abspath(__file__))
    cp = subprocess.run(["unshare", "--mount", "--net", "--propagation",
                         "private", "bash",
                         os.path.join(here, "deb_overlay.sh"), deb,
                         str(tmp_path / "overlay"),
                         os.path.join(here, "deb_login.py")],
                        capture_output=True, text=True, timeout=90 * SLOW)
    out = cp.stdout + cp.stderr
    assert cp.returncode == 0, out
    assert "login: session" in out, out
    assert "deb_overlay: ok" in out, out
    # a clean first start: every Landlock rule made, nothing fatal
    assert "landlock" not in out and "fatal" not in out, out
    # the overlay went with its namespace: the package was never here
    assert subprocess.run(["findmnt", str(tmp_path / "overlay/merged")],
                          capture_output=True).returncode != 0
    # what it wrote is in the overlay's upper layer: the user, kept
    passwd = (tmp_path / "overlay/upper/etc/passwd").read_text()
    assert re.search(r"^parley:x:\d+:\d+:", passwd, re.M), passwd


@pytest.mark.skipif(not os.access("/lib/systemd/systemd", os.X_OK),
                    reason="systemd is not installed here")
# LeakSanitizer's exit check cannot run inside the unit's sandbox (the
# journal says "LeakSanitizer has encountered a fatal error" and
# parleyd -n exits 1); a package never holds a sanitizer build, and the
# normal build runs this test
@pytest.mark.skipif(sanitized(), reason="an ASan build: LeakSanitizer "
                    "cannot run inside the unit's sandbox")
def test_deb_under_systemd(deb, tmp_path):
    """The unit under a real systemd (deb_systemd.sh): systemd as PID 1
    of namespaces of its own, on an overlay of / with the package
    installed, boots to parley.service; Type=notify readiness, the parley
    user, an account added and a login, a reload that keeps the main
    process, no warning in the journal, a clean stop."""
    assert os.geteuid() == 0, "namespaces and cgroups need root"
    here = os.path.dirname(os.path.abspath(__file__))
    cp = subprocess.run(["bash", os.path.join(here, "deb_systemd.sh"), deb,
                         str(tmp_path / "sd"),
                         os.path.join(here, "deb_login.py")],
                        capture_output=True, text=True, timeout=120 * SLOW)
    out = cp.stdout + cp.stderr
    assert cp.returncode == 0, out
    assert "Status: \"every process is up\"" in out, out
    assert "login: session" in out and "deb_systemd: ok" in out, out
    # systemd and its cgroups went with the test
    assert not [d for d in os.listdir(cgroup2()) if
                d.startswith("parley-test-")], os.listdir(cgroup2())


def cgroup2():
    return subprocess.run(["findmnt", "-n", "-o", "TARGET", "-t", "cgroup2"],
                          capture_output=True, text=True,
                          check=True).stdout.split("\n")[0]
