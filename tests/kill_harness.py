"""Kill trials for the streamed commands: SIGTERM (or SIGINT) at a random moment.

One trial runs ``python -X faulthandler -m kmscli encrypt-file`` or ``decrypt-file`` with
an input from a regular file or from a pipe (fed by a writer process: fast, slow, or
quiet: it writes a part and then keeps the pipe open without writing), of 0 to ~40 MiB,
and an --out that exists already (with known content) or not; it sends SIGTERM (or SIGINT)
at a random moment: at once, early, in the middle, late, or after the command may have
finished. Then it checks:

- the process ends within a few seconds (on a hang: SIGABRT, whose faulthandler stacks
  are put into the failure);
- the exit status is 0 (finished first), 130 (interrupted), or death by the very signal
  sent (it came before kmscli installed its handler, or after the output was committed);
- no ``.kmscli-*.tmp`` file is left beside --out;
- exit 0: --out is the complete, correct result (decrypted and compared, for
  encrypt-file); exit 130: --out has exactly its old content, or is absent; death by the
  signal: one or the other (the process could not say which).

tests/test_kill_campaign.py runs a seeded sample; bench/kill_campaign.py runs hundreds.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSPHRASE = "kill campaign passphrase"
MAX_SIZE = 40 << 20
CHUNK = 1 << 20
HANG_SECONDS = 10.0  # a signalled process must be gone by then (with CPU load, too)
OLD_CONTENT = b"the old content of --out, which an interrupted command must leave alone\n"

# The writer process behind a pipe: MODE PATH [PREFIX]. fast: everything at once; slow:
# 64 KiB every few ms; quiet: PREFIX bytes, then the pipe stays open and silent.
WRITER = r"""
import os, sys, time
mode, path = sys.argv[1], sys.argv[2]
data = open(path, 'rb').read()
try:
    if mode == 'fast':
        os.write(1, data) if len(data) < 65536 else sys.stdout.buffer.write(data)
    elif mode == 'slow':
        for i in range(0, len(data), 65536):
            sys.stdout.buffer.write(data[i:i + 65536]); sys.stdout.buffer.flush(); time.sleep(0.004)
    else:
        sys.stdout.buffer.write(data[:int(sys.argv[3])]); sys.stdout.buffer.flush()
        time.sleep(3600)
    sys.stdout.buffer.flush()
except BrokenPipeError:
    os._exit(0)
"""


class TrialFailure(AssertionError):
    pass


@dataclass
class Sample:
    plaintext: Path
    ciphertext: Path
    size: int


@dataclass
class Campaign:
    workdir: Path
    samples: list = field(default_factory=list)
    env: dict = field(default_factory=dict)
    key_id: str = ""


def kmscli(env, *args, **kw):
    return subprocess.run([sys.executable, "-m", "kmscli", *map(str, args)], env=env, cwd=ROOT, capture_output=True, **kw)


def setup(workdir: Path, rng: random.Random, sizes=None) -> Campaign:
    """A keyring with one key, and plaintexts (with their encryptions) of assorted sizes."""
    c = Campaign(workdir)
    c.env = {**os.environ, "PYTHONPATH": str(ROOT), "KMSCLI_KEYRING": str(workdir / "keyring"), "KMSCLI_PASSPHRASE": PASSPHRASE}
    c.env.pop("KMSCLI_SESSION", None)
    for args in (["init", "--scrypt-log2-n", "10"], ["create-key", "--query", "KeyMetadata.KeyId", "--output", "text"]):
        r = kmscli(c.env, *args)
        if r.returncode != 0:
            raise RuntimeError(f"setup: kmscli {' '.join(args)}: {r.stderr.decode()}")
    c.key_id = r.stdout.decode().strip()
    if sizes is None:
        sizes = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, rng.randrange(8 << 20), rng.randrange(16 << 20, MAX_SIZE), MAX_SIZE]
    blob = rng.randbytes(max(sizes) + 64) if sizes else b""
    for i, size in enumerate(sizes):
        offset = rng.randrange(64)
        plain = workdir / f"plain-{i}"
        plain.write_bytes(blob[offset : offset + size])
        cipher = workdir / f"cipher-{i}"
        r = kmscli(c.env, "encrypt-file", "--key-id", c.key_id, "--in", plain, "--out", cipher)
        if r.returncode != 0:
            raise RuntimeError(f"setup: encrypt-file: {r.stderr.decode()}")
        c.samples.append(Sample(plain, cipher, size))
    return c


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _temps(directory: Path) -> list:
    return sorted(n for n in os.listdir(directory) if n.startswith(".kmscli-"))


def run_trial(c: Campaign, rng: random.Random, n: int, time_scale: float = 1.0) -> str:
    """One trial; returns its outcome kind, or raises TrialFailure."""
    command = rng.choice(["encrypt-file", "decrypt-file"])
    sample = rng.choice(c.samples)
    source = sample.plaintext if command == "encrypt-file" else sample.ciphertext
    source_size = source.stat().st_size
    feed = rng.choice(["file", "pipe-fast", "pipe-slow", "pipe-quiet"])
    signum = signal.SIGINT if rng.random() < 0.25 else signal.SIGTERM
    timing = rng.choice(["at-once", "early", "middle", "late", "after"])
    delay = {
        "at-once": 0.0,
        "early": rng.uniform(0, 0.15),
        "middle": rng.uniform(0.15, 1.0),
        "late": rng.uniform(1.0, 2.5),
        "after": rng.uniform(2.5, 4.0),
    }[timing] * time_scale
    trial_dir = c.workdir / f"trial-{n}"
    trial_dir.mkdir()
    out = trial_dir / "out"
    existed = rng.random() < 0.5
    if existed:
        out.write_bytes(OLD_CONTENT)
    args = [command, "--in", "-" if feed != "file" else source, "--out", out]
    if command == "encrypt-file":
        args[1:1] = ["--key-id", c.key_id]
    stderr_path = trial_dir / "stderr"
    writer = None
    with open(stderr_path, "wb") as stderr:
        if feed == "file":
            stdin = subprocess.DEVNULL
        else:
            r, w = os.pipe()
            mode = feed.split("-")[1]
            prefix = str(rng.randrange(source_size + 1)) if mode == "quiet" else "0"
            writer = subprocess.Popen([sys.executable, "-c", WRITER, mode, str(source), prefix], stdout=w, stderr=subprocess.DEVNULL)
            os.close(w)
            stdin = r
        started = time.monotonic()
        p = subprocess.Popen(
            [sys.executable, "-X", "faulthandler", "-m", "kmscli", *map(str, args)],
            stdin=stdin,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=c.env,
            cwd=ROOT,
            # A shell without job control starts a background job (`campaign &`) with SIGINT
            # ignored, and an ignored signal stays ignored across exec: kmscli would never
            # see the SIGINT we send. Give it the disposition a terminal's command has.
            preexec_fn=_default_sigint,
        )
        if feed != "file":
            os.close(stdin)
    what = f"trial {n}: {command} {feed} {sample.size} bytes, --out {'existing' if existed else 'absent'}, {signal.Signals(signum).name} {timing} ({delay:.3f}s)"
    try:
        time.sleep(delay)
        sent = p.poll() is None
        had_temp = bool(_temps(trial_dir))
        if sent:
            p.send_signal(signum)
            sent_at = time.monotonic()
        try:
            status = p.wait(timeout=HANG_SECONDS)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGABRT)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            raise TrialFailure(f"{what}: HANG, still running {HANG_SECONDS:.0f}s after the signal; stacks:\n{stderr_path.read_text(errors='replace')}")
    finally:
        if writer is not None:
            writer.kill()
            writer.wait()
        if p.poll() is None:
            p.kill()
            p.wait()
    err = stderr_path.read_text(errors="replace")
    elapsed = time.monotonic() - (sent_at if sent else started)

    def fail(why):
        raise TrialFailure(f"{what}: exit status {status}: {why}\nstderr:\n{err}")

    temps = _temps(trial_dir)
    if temps:
        fail(f"temp files left: {temps}")
    if "Traceback" in err:
        # Ctrl-C while the interpreter itself starts (importing site, before any kmscli code
        # runs) is Python's to report; anywhere in kmscli it must not give a traceback.
        if not (signum == signal.SIGINT and f"{os.sep}kmscli{os.sep}" not in err and err.rstrip().endswith("KeyboardInterrupt")):
            fail("a traceback on standard error")
        return f"{command:12} SIGINT while Python started, before kmscli ran (exit {status}): Python's traceback"
    old = OLD_CONTENT if existed else None
    now = out.read_bytes() if out.exists() else None
    complete = now is not None and now != old and _is_result(c, command, sample, out)
    if status == 0:
        if not complete:
            fail("exit status 0 but --out is not the complete, correct result")
        kind = "finished first (0), --out complete and correct"
    elif status == 130:
        if not sent:
            fail("interrupted, but no signal was sent")
        if now != old:
            fail(f"interrupted, but --out {'was changed' if now is not None else 'was removed'}" + (" (to the complete result)" if complete else ""))
        kind = f"interrupted (130), --out {'untouched' if existed else 'absent'}{', temp file removed' if had_temp else ''}"
    elif status == -signum:
        if now != old and not complete:
            fail("killed by the signal, and --out is neither its old content nor the complete result")
        kind = f"killed by {signal.Signals(signum).name} (before the handler or after the commit), --out {'old' if now == old else 'complete'}"
    elif status in (3, 4) and feed == "pipe-quiet" and command == "decrypt-file":
        fail("a documented error on a quiet pipe that was never closed")
    else:
        fail("unexpected exit status")
    if sent and elapsed > HANG_SECONDS:
        fail(f"ended {elapsed:.1f}s after the signal")
    return f"{command:12} {kind}"


def _is_result(c: Campaign, command: str, sample: Sample, out: Path) -> bool:
    if command == "decrypt-file":
        return out.read_bytes() == sample.plaintext.read_bytes()
    r = kmscli(c.env, "decrypt-file", "--in", out, "--out", "-")
    return r.returncode == 0 and r.stdout == sample.plaintext.read_bytes()


def run_trials(trials: int, *, seed: int, workdir: Path | None = None, sizes=None, time_scale: float = 1.0, report=None) -> dict:
    """``trials`` trials; {outcome kind: count}. Raises TrialFailure at the first violation."""
    rng = random.Random(seed)
    workdir = Path(workdir or tempfile.mkdtemp(prefix="kmscli-kill-"))
    c = setup(workdir, rng, sizes)
    outcomes: dict = {}
    for n in range(trials):
        kind = run_trial(c, rng, n, time_scale)
        outcomes[kind] = outcomes.get(kind, 0) + 1
        if report:
            report(n, kind)
        import shutil

        shutil.rmtree(workdir / f"trial-{n}", ignore_errors=True)
    return outcomes
