"""Start refusals: Latchkey must not half-start on a data directory it cannot use.

Cases: a full file system (a 1 MiB tmpfs, filled; when mount is not allowed, the faultfs shim answering ENOSPC),
a read-only data directory (chmod 0500 and a non-root user through setpriv, since root ignores permissions; plus a
read-only tmpfs when mount is allowed), a directory locked by another running Latchkey, and a journal damaged in
the middle. Each must exit non-zero with a message naming the directory, and never listen on its port.
Also: the data directory is 0700 (an existing 0755 one is tightened) and every data file is 0600.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402


def run_refused(tally: h.Tally, what: str, config: str, port: int, needle: str, env=None, prefix=(),
                binary: str | None = None) -> None:
    """Starts `serve`, watches the port while it lives, and checks the exit and the message."""
    proc = h._spawn([*prefix, binary or h.LATCHKEY_BIN, "serve", "--config", config], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=dict(os.environ, **(env or {})))
    listened = False
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        listened |= h.port_is_listening(port)
        time.sleep(0.01)
    if proc.poll() is None:
        proc.kill()
    out = proc.communicate()[0].decode(errors="replace")
    last = [line for line in out.splitlines() if "cannot start" in line or "latchkey:" in line]
    message = last[-1] if last else out.strip().splitlines()[-1:]
    print(f"  {what}: exit {proc.returncode}: {message}")
    tally.check(proc.returncode not in (0, None), f"{what}: exits non-zero ({proc.returncode})")
    tally.check(needle in out, f"{what}: the message names {needle}")
    tally.check(not listened and not h.port_is_listening(port), f"{what}: never listened on its port")


def main() -> int:
    tally = h.Tally()
    started = time.monotonic()
    work = h.workdir("refusals")
    os.chmod(work, 0o755)
    world = h.World(properties=2)
    fake = h.FakeSeam(work, world)

    def config_for(data_dir: str) -> tuple[str, int]:
        port = h.free_port()
        path = os.path.join(work, f"config-{port}.yaml")
        h.write_config(path, port=port, data_dir=data_dir, seam_port=fake.port, world=world)
        os.chmod(path, 0o644)
        return path, port

    # 1. A full file system.
    full = os.path.join(work, "full")
    os.makedirs(full)
    use_mount = os.environ.get("REFUSALS_NO_MOUNT") != "1"  # 1: exercise the fallback used where mount is denied
    mounted = use_mount and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", full],
                                           capture_output=True).returncode == 0
    try:
        if mounted:
            with open(os.path.join(full, "filler"), "wb") as f:
                try:
                    f.write(b"\0" * (2 << 20))
                except OSError:
                    pass
            data = os.path.join(full, "data")
            config, port = config_for(data)
            run_refused(tally, "full disk (1 MiB tmpfs, filled)", config, port, data)
        else:
            shim = h.compile_shim(work)
            control = os.path.join(work, "control")
            with open(control, "w") as f:
                f.write("enospc\n")
            data = os.path.join(full, "data")
            config, port = config_for(data)
            run_refused(tally, "full disk (faultfs ENOSPC; mount not allowed here)", config, port, data,
                        env={"LD_PRELOAD": shim, "FAULTFS_DIR": data, "FAULTFS_CONTROL": control})
    finally:
        if mounted:
            subprocess.run(["umount", full])

    # 2. A read-only data directory, for a user who is not root (root ignores permissions).
    nobody = pwd.getpwnam("nobody")
    readonly = os.path.join(work, "readonly")
    os.makedirs(readonly)
    os.chmod(readonly, 0o500)
    config, port = config_for(readonly)
    if os.geteuid() == 0:
        os.chown(readonly, nobody.pw_uid, nobody.pw_gid)
        # A copy of the binary the user can reach (the checkout may sit under a 0700 home directory).
        binary = os.path.join(work, "latchkey")
        shutil.copy2(h.LATCHKEY_BIN, binary)
        os.chmod(binary, 0o755)
        if shutil.which("setpriv"):
            as_nobody = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"]
        else:
            as_nobody = ["runuser", "-u", "nobody", "--"]
        runs = subprocess.run([*as_nobody, binary, "--help"], capture_output=True).returncode == 0
        if tally.check(runs, f"the binary runs as nobody ({as_nobody[0]})"):
            run_refused(tally, "read-only data directory (0500, user nobody)", config, port, readonly,
                        prefix=as_nobody, binary=binary)
    else:
        run_refused(tally, "read-only data directory (0500)", config, port, readonly)
    ro_mount = os.path.join(work, "ro-mount")
    os.makedirs(ro_mount)
    if use_mount and subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", ro_mount],
                                    capture_output=True).returncode == 0:
        try:
            data = os.path.join(ro_mount, "data")
            config, port = config_for(data)
            run_refused(tally, "read-only file system (ro tmpfs, root)", config, port, data)
        finally:
            subprocess.run(["umount", ro_mount])

    # 3. Permissions of what Latchkey creates, and a directory another Latchkey holds.
    data = os.path.join(work, "normal")
    os.makedirs(data, mode=0o755)
    os.chmod(data, 0o755)
    config, port = config_for(data)
    lk = h.Latchkey(config, port, work)
    lk.start()
    reservations, deliveries = h.make_bookings(world, 3, __import__("random").Random(3), updates=(0, 0), cancel_rate=0)
    import requests
    s = requests.Session()
    statuses = [h.post_delivery(s, port, d).status_code for d in deliveries]
    tally.check(statuses == [202] * len(deliveries), f"deliveries accepted {statuses}")
    second, second_port = config_for(data)
    run_refused(tally, "data directory locked by a running Latchkey", second, second_port, data)
    lk.stop()
    modes = []
    for root, dirs, files in os.walk(data):
        for d in dirs:
            modes.append((os.path.join(root, d), stat.S_IMODE(os.stat(os.path.join(root, d)).st_mode), 0o700))
        for f in files:
            modes.append((os.path.join(root, f), stat.S_IMODE(os.stat(os.path.join(root, f)).st_mode), 0o600))
    top = stat.S_IMODE(os.stat(data).st_mode)
    tally.check(top == 0o700, f"the data directory is 0700 (was created 0755), found {oct(top)}")
    wrong = [f"{p} {oct(m)}" for p, m, want in modes if m != want]
    files = [p for p, _, want in modes if want == 0o600]
    tally.check(files and not wrong, f"{len(files)} data files 0600 and sub-directories 0700 {wrong[:3]}")

    # 4. A journal damaged in the middle (valid records after the damage).
    segments = sorted(os.listdir(os.path.join(data, "journal")))
    segment = os.path.join(data, "journal", segments[0])
    with open(segment, "r+b") as f:
        f.seek(20)
        byte = f.read(1)
        f.seek(20)
        f.write(bytes([byte[0] ^ 0xFF]))
    config, port = config_for(data)
    run_refused(tally, "journal damaged in the middle", config, port, segment)
    ok, text = h.store_verify(data)
    tally.check(not ok and segments[0] in text, f"store verify reports the damage: {text.splitlines()[:2]}")

    fake.stop()
    print(f"duration: {time.monotonic() - started:.0f} s")
    return tally.finish()


if __name__ == "__main__":
    h.run(main)
