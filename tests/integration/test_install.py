#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Installation tests: `cmake --install` into a DESTDIR, and the systemd unit
under `systemd-analyze verify`. Python stdlib only; exit 77 = skipped.

  test_install.py --build-dir BUILD --test NAME
"""

import argparse
import os
import shutil
import stat
import subprocess
import sys
import tempfile

SKIP = 77


class Skip(Exception):
    pass


def install(build, destdir, prefix="/usr"):
    env = dict(os.environ, DESTDIR=destdir)
    p = subprocess.run(["cmake", "--install", build, "--prefix", prefix], env=env,
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"cmake --install failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p.stdout


def check_mode(path, exe):
    st = os.stat(path)
    assert stat.S_ISREG(st.st_mode), f"{path}: not a regular file"
    if exe:
        assert st.st_mode & stat.S_IXUSR, f"{path}: not executable"


def install_puts_every_file_in_place_and_keeps_etc_conf(build, tmp):
    dest = os.path.join(tmp, "root")
    install(build, dest)
    files = {
        "usr/sbin/targetd": True,
        "usr/sbin/targetctl": True,
        "usr/lib/systemd/system/targetd.service": False,
        "usr/share/man/man8/targetd.8": False,
        "usr/share/man/man8/targetctl.8": False,
        "usr/share/man/man5/targetd.conf.5": False,
        "etc/targetd.conf": False,
    }
    for rel, exe in files.items():
        path = os.path.join(dest, rel)
        assert os.path.exists(path), f"missing after install: /{rel}"
        check_mode(path, exe)
    # the configuration may hold CHAP secrets: not world-readable
    mode = stat.S_IMODE(os.stat(os.path.join(dest, "etc/targetd.conf")).st_mode)
    assert not mode & 0o007, f"/etc/targetd.conf is world-accessible ({mode:o})"
    unit = open(os.path.join(dest, "usr/lib/systemd/system/targetd.service")).read()
    assert "ExecStart=/usr/sbin/targetd " in unit, unit
    assert "ExecReload=/usr/sbin/targetctl reload" in unit, unit
    assert "-c /etc/targetd.conf" in unit, unit
    # an administrator's file survives a second install
    conf = os.path.join(dest, "etc/targetd.conf")
    with open(conf, "a") as f:
        f.write("# edited by the administrator\n")
    out = install(build, dest)
    assert "Keeping existing" in out, out
    assert open(conf).read().endswith("# edited by the administrator\n"), \
        "install overwrote an existing /etc/targetd.conf"
    # another prefix: paths in the unit follow it
    dest2 = os.path.join(tmp, "root2")
    install(build, dest2, prefix="/opt/targetd")
    unit = open(os.path.join(dest2, "opt/targetd/lib/systemd/system/targetd.service")).read()
    assert "ExecStart=/opt/targetd/sbin/targetd " in unit, unit
    assert "ExecReload=/opt/targetd/sbin/targetctl reload" in unit, unit
    assert "-c /opt/targetd/etc/targetd.conf" in unit, unit
    assert os.path.exists(os.path.join(dest2, "opt/targetd/etc/targetd.conf"))
    # the installed man pages render (man -l), when man is installed
    if shutil.which("man"):
        for page in ("man8/targetd.8", "man8/targetctl.8", "man5/targetd.conf.5"):
            p = subprocess.run(["man", "-l", os.path.join(dest, "usr/share/man", page)],
                               capture_output=True, text=True,
                               env=dict(os.environ, MANPAGER="cat", PAGER="cat",
                                        MANWIDTH="80"))
            assert p.returncode == 0 and "NAME" in p.stdout, \
                f"man -l {page} failed ({p.returncode}):\n{p.stderr}"


def systemd_analyze_verify_unit_is_clean(build, tmp):
    sa = shutil.which("systemd-analyze")
    if not sa:
        raise Skip("systemd-analyze not installed (package systemd)")
    dest = os.path.join(tmp, "root")
    install(build, dest)
    # verify checks that the ExecStart= binaries exist: point them at the
    # installed copies (everything else is the unit exactly as installed)
    unit = open(os.path.join(dest, "usr/lib/systemd/system/targetd.service")).read()
    unit = unit.replace("/usr/sbin/", os.path.join(dest, "usr/sbin/"))
    vdir = os.path.join(tmp, "verify")
    os.makedirs(vdir)
    path = os.path.join(vdir, "targetd.service")
    with open(path, "w") as f:
        f.write(unit)
    # --man=no: the pages are not in the host's MANPATH; the install test
    # renders them with man -l
    p = subprocess.run([sa, "verify", "--man=no", path], capture_output=True, text=True,
                       cwd=vdir)
    out = (p.stdout + p.stderr).strip()
    assert p.returncode == 0, f"systemd-analyze verify failed ({p.returncode}):\n{out}"
    lines = [l for l in out.splitlines() if "targetd.service" in l]
    assert not lines, "systemd-analyze verify complained:\n" + "\n".join(lines)


TESTS = {f.__name__: f for f in (install_puts_every_file_in_place_and_keeps_etc_conf,
                                 systemd_analyze_verify_unit_is_clean)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--test", required=True, choices=sorted(TESTS))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="targetd-install-")
    try:
        TESTS[a.test](a.build_dir, tmp)
    except Skip as e:
        print(f"SKIP: {e}")
        return SKIP
    finally:
        if not os.environ.get("TARGETD_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"PASS: {a.test}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
