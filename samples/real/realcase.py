#!/usr/bin/env python3
"""Runs one real-program case of samples/real/make-real-cores.sh and checks its core.

usage:
  realcase.py run --name CASE --out OUTDIR --rundir RUNDIR --exe TARGET_EXE --signal ABRT|QUIT
                  --delay SECONDS [--after-gc] [--gc-wait SECONDS] [--timeout SECONDS]
                  [--child-match REGEX] [--meta KEY=VALUE ...] -- COMMAND...
  realcase.py inspect CORE [EXE]      print what the core says about its process (JSON)

run:
  Starts COMMAND in RUNDIR in a new session (its own process group), finds the target process,
  waits DELAY seconds from the target's start, then (with --after-gc) waits for the next
  `gc N @...` line the target writes to its stderr (GODEBUG=gctrace=1 must be in the
  environment of the target), sends the signal to exactly that process, waits for it to die,
  kills whatever is left of the process group, and stores OUTDIR/CASE.core, CASE.stderr and
  CASE.json. It fails (exit status 1, nothing stored) if the target ends before the signal, or
  the core does not come from TARGET_EXE (NT_PRPSINFO pr_fname/pr_pid and NT_FILE are checked).

  Without --child-match the target is COMMAND itself (exec'd; its stderr is RUNDIR/stderr).
  With --child-match the target is a descendant started through samples/real's toolexec wrapper
  (toolexec.sh), which records each process it starts in RUNDIR/procs/PID.info (the directory
  the go command started it in, then its arguments, one a line), sends its stderr to
  RUNDIR/procs/PID.stderr and runs it in RUNDIR/procs/PID/ so that its core lands there; the
  first such process whose executable is TARGET_EXE and whose record matches REGEX (Python re,
  multiline: ^ and $ match at each line) is the target.
"""

import argparse
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time

GC_LINE = re.compile(rb'^gc \d+ @[0-9.]+s ', re.M)

NT_PRSTATUS = 1
NT_PRPSINFO = 3
NT_SIGINFO = 0x53494749
NT_FILE = 0x46494c45


def read_notes(path):
    """Yields (type, name, desc) of every note in the PT_NOTE segments of an ELF64 LE core."""
    with open(path, 'rb') as f:
        eh = f.read(64)
        if eh[:4] != b'\x7fELF' or eh[4] != 2 or eh[5] != 1:
            raise ValueError(f'{path}: not a little-endian ELF64 file')
        e_type, = struct.unpack_from('<H', eh, 16)
        if e_type != 4:
            raise ValueError(f'{path}: ELF type {e_type}, not a core (4)')
        e_phoff, = struct.unpack_from('<Q', eh, 32)
        e_phentsize, e_phnum = struct.unpack_from('<HH', eh, 54)
        f.seek(e_phoff)
        phs = f.read(e_phentsize * e_phnum)
        for i in range(e_phnum):
            p_type, _flags, p_offset, _va, _pa, p_filesz = struct.unpack_from('<IIQQQQ', phs, i * e_phentsize)
            if p_type != 4:  # PT_NOTE
                continue
            f.seek(p_offset)
            data = f.read(p_filesz)
            off = 0
            while off + 12 <= len(data):
                namesz, descsz, ntype = struct.unpack_from('<III', data, off)
                off += 12
                name = data[off:off + namesz].rstrip(b'\0')
                off += (namesz + 3) & ~3
                desc = data[off:off + descsz]
                off += (descsz + 3) & ~3
                yield ntype, name, desc


def inspect_core(path):
    """What the core says about its process: pid, fname, psargs, signal, threads, mapped files."""
    info = {'threads': 0, 'files': []}
    for ntype, name, desc in read_notes(path):
        if name != b'CORE':
            continue
        if ntype == NT_PRPSINFO and len(desc) >= 136:
            # struct elf_prpsinfo (x86-64): state, sname, zomb, nice (4 chars), pad to 8, flag (8),
            # uid, gid (4+4), pid, ppid, pgrp, sid (4 each), fname[16], psargs[80]
            pid, ppid, pgrp, sid = struct.unpack_from('<iiii', desc, 24)
            info['pid'] = pid
            info['ppid'] = ppid
            info['pgrp'] = pgrp
            info['fname'] = desc[40:56].split(b'\0')[0].decode('utf-8', 'replace')
            info['psargs'] = desc[56:136].split(b'\0')[0].decode('utf-8', 'replace').rstrip()
        elif ntype == NT_PRSTATUS:
            info['threads'] += 1
            if info['threads'] == 1:
                # elf_siginfo (si_signo, si_code, si_errno), cursig (short) at 12
                info['prstatus_cursig'], = struct.unpack_from('<h', desc, 12)
        elif ntype == NT_SIGINFO and len(desc) >= 24:
            signo, errno_, code = struct.unpack_from('<iii', desc, 0)
            si = {'si_signo': signo, 'si_code': code, 'si_errno': errno_}
            if code <= 0:  # SI_USER, SI_TKILL, SI_QUEUE...: sent by a process (pid, uid)
                si['si_pid'], si['si_uid'] = struct.unpack_from('<iI', desc, 16)
            elif signo in (signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE):  # a fault
                si['si_addr'] = hex(struct.unpack_from('<Q', desc, 16)[0])
            info['siginfo'] = si
        elif ntype == NT_FILE:
            count, _page = struct.unpack_from('<QQ', desc, 0)
            names = desc[16 + 24 * count:].split(b'\0')[:count]
            seen = []
            for n in names:
                s = n.decode('utf-8', 'replace')
                if s not in seen:
                    seen.append(s)
            info['files'] = seen
    return info


def traceback_head(stderr_bytes):
    """The runtime's first lines about the signal and the first goroutine it names."""
    text = stderr_bytes.decode('utf-8', 'replace').splitlines()
    head = {}
    for i, line in enumerate(text):
        if 'signal' not in head and re.match(r'^SIG[A-Z]+: ', line):
            head['signal'] = line
            if i + 1 < len(text) and text[i + 1].startswith('PC='):
                head['pc'] = text[i + 1]
        if re.match(r'^goroutine \d+ ', line):
            head['first_goroutine'] = line
            head['first_goroutine_frame'] = text[i + 1] if i + 1 < len(text) else ''
            break
    head['goroutines'] = sum(1 for line in text if re.match(r'^goroutine \d+ ', line))
    # With GOTRACEBACK=crash the runtime's output ends with the registers of the last thread it
    # printed (rip ... gs); output that stops elsewhere was cut short.
    last = [line for line in text if line.strip()][-1:] or ['']
    head['ends_with_registers'] = last[0].startswith('gs ')
    gcs = [line for line in text if GC_LINE.match(line.encode())]
    head['gc_lines'] = len(gcs)
    if gcs:
        head['last_gc_line'] = gcs[-1]
    return head


def exe_of(pid):
    try:
        return os.readlink(f'/proc/{pid}/exe')
    except OSError:
        return None


def alive(pid):
    """True while the process exists and is not a zombie."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(')') + 2] not in 'ZX'


def proc_start_ticks(pid):
    with open(f'/proc/{pid}/stat') as f:
        stat = f.read()
    return int(stat[stat.rindex(')') + 2:].split()[19])


def cmd_run(a):
    exe = os.path.realpath(a.exe)
    sig = {'ABRT': signal.SIGABRT, 'QUIT': signal.SIGQUIT}[a.signal]
    os.makedirs(a.out, exist_ok=True)
    if os.path.exists(a.rundir):
        shutil.rmtree(a.rundir)
    os.makedirs(a.rundir)
    procs = os.path.join(a.rundir, 'procs')
    os.makedirs(procs)
    meta = dict(kv.split('=', 1) for kv in a.meta)

    def log(msg):
        print(f'   [{a.name}] {msg}', flush=True)

    t0 = time.monotonic()
    started_utc = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())
    stdout = open(os.path.join(a.rundir, 'stdout'), 'wb')
    stderr_path = os.path.join(a.rundir, 'stderr')
    stderr = open(stderr_path, 'wb')
    env = dict(os.environ, GOMAPCORE_REAL_PROCS=procs)
    proc = subprocess.Popen(a.command, cwd=a.rundir, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                            env=env, start_new_session=True)
    stdout.close()
    stderr.close()
    pgid = proc.pid
    status = None  # wait status of the direct child, once reaped

    def reap(block=False):
        nonlocal status
        if status is None:
            pid, st = os.waitpid(proc.pid, 0 if block else os.WNOHANG)
            if pid:
                status = st
        return status

    def cleanup():
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        reap(block=True)

    def fail(msg):
        log('FAILED: ' + msg)
        cleanup()
        return 1

    deadline = t0 + a.timeout
    # 1. The target.
    if a.child_match:
        match = re.compile(a.child_match, re.M)
        rejected = set()
        target = None
        while target is None:
            if time.monotonic() > deadline:
                return fail(f'no process of {exe} whose record matches {a.child_match!r}')
            if reap() is not None:
                return fail(f'the command ended (status {status:#x}) before the target started')
            for fn in sorted(os.listdir(procs)):
                if not fn.endswith('.info') or int(fn[:-5]) in rejected:
                    continue
                pid = int(fn[:-5])
                with open(os.path.join(procs, fn)) as f:
                    record = f.read()
                if not match.search(record):
                    rejected.add(pid)
                    continue
                # The wrapper wrote the file before it exec'd the tool: wait for the exec.
                for _ in range(2000):
                    if exe_of(pid) == exe or not alive(pid):
                        break
                    time.sleep(0.001)
                if exe_of(pid) == exe:
                    target = pid
                    break
            time.sleep(0.005)
        target_stderr = os.path.join(procs, f'{target}.stderr')
        core_dir = os.path.join(procs, str(target))
        with open(os.path.join(procs, f'{target}.info')) as f:
            target_started_in = f.readline().strip()
    else:
        target = proc.pid
        for _ in range(2000):  # until the exec is visible
            if exe_of(target) == exe or reap() is not None:
                break
            time.sleep(0.001)
        if exe_of(target) != exe:
            return fail(f'pid {target} runs {exe_of(target)}, not {exe}')
        target_stderr = stderr_path
        core_dir = a.rundir
        target_started_in = a.rundir
    t_target = time.monotonic()
    with open(f'/proc/{target}/cmdline', 'rb') as f:
        target_cmdline = [s.decode('utf-8', 'replace') for s in f.read().split(b'\0')[:-1]]
    log(f'target pid {target} ({os.path.basename(exe)}) found after {t_target - t0:.2f} s')

    # 2. The moment.
    def gc_count():
        try:
            with open(target_stderr, 'rb') as f:
                return len(GC_LINE.findall(f.read()))
        except OSError:
            return 0

    while time.monotonic() < t_target + a.delay:
        if not alive(target):
            return fail(f'the target ended {time.monotonic() - t_target:.2f} s in, before the signal (delay {a.delay} s)')
        time.sleep(0.005)
    gc_just_appeared = False
    gc_wait = None
    if a.after_gc:
        before = gc_count()
        w0 = time.monotonic()
        while True:
            # stderr only grows; reading it whole every 2 ms is cheap next to a compiler run
            if gc_count() > before:
                gc_just_appeared = True
                break
            if not alive(target):
                return fail('the target ended while waiting for a gc line')
            if time.monotonic() - w0 > a.gc_wait:
                log(f'no gc line within {a.gc_wait} s: sending the signal anyway')
                break
            time.sleep(0.002)
        gc_wait = round(time.monotonic() - w0, 3)
    if exe_of(target) != exe:
        return fail(f'pid {target} no longer runs {exe}')
    t_sig = time.monotonic()
    os.kill(target, sig)
    sent_utc = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())
    gc_at_signal = gc_count()
    log(f'SIG{a.signal} sent to {target} {t_sig - t_target:.3f} s after it started'
        + (f' (gc line just appeared: {gc_just_appeared}, waited {gc_wait} s)' if a.after_gc else ''))

    # 3. Its death.
    while True:
        if a.child_match:
            if not alive(target):
                break
        elif reap() is not None:
            break
        if time.monotonic() > t_sig + 120:
            return fail('the target did not die within 120 s of the signal')
        time.sleep(0.01)
    t_dead = time.monotonic()
    exit_desc = None
    if status is not None and not a.child_match:
        if os.WIFSIGNALED(status):
            exit_desc = {'signal': os.WTERMSIG(status), 'core_dumped': os.WCOREDUMP(status)}
        else:
            exit_desc = {'exit_status': os.WEXITSTATUS(status)}
    cleanup()

    # 4. The core.
    core = None
    for fn in ('core', f'core.{target}'):
        if os.path.exists(os.path.join(core_dir, fn)):
            core = os.path.join(core_dir, fn)
    if core is None:
        return fail(f'no core in {core_dir} (exit {exit_desc}); see {target_stderr}')
    info = inspect_core(core)
    problems = []
    if info.get('pid') != target:
        problems.append(f"core pid {info.get('pid')} is not the target's {target}")
    if info.get('fname') != os.path.basename(exe)[:15]:
        problems.append(f"core pr_fname {info.get('fname')!r} is not {os.path.basename(exe)[:15]!r}")
    if exe not in info['files']:
        problems.append(f'{exe} is not among the files mapped in the core (NT_FILE)')
    if problems:
        return fail('; '.join(problems))
    # Under GOTRACEBACK=crash the runtime ends with SIGABRT to itself (si_code SI_TKILL, from its
    # own pid). Anything else means it died some other way while crashing, e.g. a fault in the
    # traceback printer; the core is kept (it is real), and the JSON says so.
    si = info.get('siginfo') or {}
    died_of = signal.Signals(si['si_signo']).name if si.get('si_signo') in signal.valid_signals() else si.get('si_signo')
    died_normally = si.get('si_signo') == signal.SIGABRT and si.get('si_code') == -6 and si.get('si_pid') == target
    if not died_normally:
        log(f'note: the process died of {died_of} {si} rather than its own SIGABRT')
    out_core = os.path.join(a.out, f'{a.name}.core')
    out_stderr = os.path.join(a.out, f'{a.name}.stderr')
    shutil.move(core, out_core)
    shutil.copyfile(target_stderr, out_stderr)
    with open(out_stderr, 'rb') as f:
        head = traceback_head(f.read())
    st = os.stat(out_core)
    record = {
        'case': a.name,
        **meta,
        'executable': exe,
        'command': a.command,
        'target_cmdline': target_cmdline,
        'target_pid': target,
        'target_started_in': target_started_in,
        'signal_sent': f'SIG{a.signal}',
        'sender_pid': os.getpid(),
        'delay_requested_s': a.delay,
        'after_gc_requested': a.after_gc,
        'gc_line_just_appeared': gc_just_appeared if a.after_gc else None,
        'gc_wait_s': gc_wait,
        'gc_lines_before_signal': gc_at_signal,
        'signal_after_s': round(t_sig - t_target, 3),
        'target_found_after_s': round(t_target - t0, 3),
        'died_after_signal_s': round(t_dead - t_sig, 3),
        'started_utc': started_utc,
        'signal_utc': sent_utc,
        'exit': exit_desc,
        'died_of': died_of,
        'died_of_own_sigabrt': died_normally,
        'core': {'path': os.path.abspath(out_core), 'size': st.st_size, 'disk_bytes': st.st_blocks * 512},
        'core_says': {k: info.get(k) for k in ('pid', 'ppid', 'fname', 'psargs', 'threads', 'siginfo',
                                                'prstatus_cursig')},
        'stderr': os.path.abspath(out_stderr),
        'traceback': head,
    }
    with open(os.path.join(a.out, f'{a.name}.json'), 'w') as f:
        json.dump(record, f, indent=1)
        f.write('\n')
    log(f"core {st.st_size / 2**20:.1f} MiB ({st.st_blocks * 512 / 2**20:.1f} MiB on disk), "
        f"{info['threads']} threads, pr_fname {info['fname']}; {head.get('signal', '?')}; "
        f"{head.get('first_goroutine', '?')}")
    shutil.rmtree(a.rundir, ignore_errors=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    r = sub.add_parser('run')
    r.add_argument('--name', required=True)
    r.add_argument('--out', required=True)
    r.add_argument('--rundir', required=True)
    r.add_argument('--exe', required=True)
    r.add_argument('--signal', choices=['ABRT', 'QUIT'], required=True)
    r.add_argument('--delay', type=float, default=1.0)
    r.add_argument('--after-gc', action='store_true')
    r.add_argument('--gc-wait', type=float, default=30.0)
    r.add_argument('--timeout', type=float, default=900.0)
    r.add_argument('--child-match')
    r.add_argument('--meta', action='append', default=[])
    r.add_argument('command', nargs='+')
    i = sub.add_parser('inspect')
    i.add_argument('core')
    a = ap.parse_args()
    if a.cmd == 'run':
        sys.exit(cmd_run(a))
    json.dump(inspect_core(a.core), sys.stdout, indent=1)
    print()


if __name__ == '__main__':
    main()
