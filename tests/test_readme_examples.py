"""Every shell example in README.md and docs/*.md runs, and does what it says.

The convention, for whoever writes the documentation:

- Fenced blocks whose info string starts with ``sh`` or ``bash`` are run. Add ``no-run`` after
  the language (```` ```sh no-run ````) for a block that must not run here: the install
  one-liner that creates a venv, commands that need a real terminal, or that run the tests.
  Other fences (``console``, ``text``, ``json``, no language) are never run.
- The runnable blocks of one file are joined, in order, into one script run by
  ``bash -euo pipefail``: a later block can use a variable or a file an earlier one made.
  Any failing command fails the test, which shows the block, its number, and stderr.
- The script runs in an empty temporary directory (also its ``HOME``), with ``kmscli`` on
  ``PATH`` being this checkout, ``KMSCLI_KEYRING`` a keyring path inside the temporary
  directory and ``KMSCLI_PASSPHRASE`` set. Nothing of the developer's own keyring, session or
  home is visible, and stdin is empty, so an example that would prompt fails instead.
- The keyring is created beforehand (cheaply, at scrypt log2 N = 10) unless a runnable block of
  the file runs ``kmscli ... init`` itself, in which case the examples create it: write them
  as a new user would type them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import PASSPHRASE, ROOT, TEST_LOG2_N

RUN_LANGUAGES = ("sh", "bash")
NO_RUN = "no-run"
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_RUNS_INIT = re.compile(r"\bkmscli\b[^\n#|;&]*\binit\b")


@dataclass
class Block:
    number: int  # 1-based, counting every fenced block of the file
    line: int  # where its opening fence is
    info: str
    text: str

    @property
    def runs(self) -> bool:
        words = self.info.split()
        return bool(words) and words[0] in RUN_LANGUAGES and NO_RUN not in words[1:]


def blocks_of(markdown: str) -> list[Block]:
    blocks: list[Block] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, indent, start = m.group("fence"), len(m.group("indent")), i
        body = []
        i += 1
        while i < len(lines) and not re.match(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}\s*$", lines[i]):
            body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
            i += 1
        blocks.append(Block(len(blocks) + 1, start + 1, m.group("info").strip(), "\n".join(body) + "\n"))
        i += 1
    return blocks


def script_of(blocks: list[Block]) -> str:
    """One bash script; before each block it records which block is running, so that a
    failure can name it."""
    parts = ['__block=0\ntrap \'echo "$__block" > "$KMSCLI_EXAMPLES_STATUS"\' EXIT\n']
    for block in blocks:
        if block.runs:
            parts.append(f"__block={block.number}\n{block.text}")
    parts.append("__block=done\n")
    return "\n".join(parts)


def kmscli_wrapper(bin_dir: Path) -> None:
    """`kmscli` on PATH: this checkout, run by the interpreter running the tests."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    wrapper = bin_dir / "kmscli"
    wrapper.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from kmscli.__main__ import run\n"
        "run()\n"
    )
    wrapper.chmod(0o755)


@dataclass
class Outcome:
    status: int
    failed_block: Block | None
    stdout: str
    stderr: str

    def report(self, name: str) -> str:
        if self.failed_block is None:
            return f"{name}: the examples' script failed before its first block\n{self.stderr}"
        b = self.failed_block
        return (
            f"{name}: example block {b.number} (line {b.line}, ```{b.info}) failed with status {self.status}:\n"
            f"{textwrap.indent(b.text.rstrip(), '    ')}\n"
            f"--- stderr ---\n{self.stderr[-4000:]}\n--- stdout (end) ---\n{self.stdout[-1500:]}"
        )


def run_examples(markdown: str, workdir: Path, *, timeout: float = 600) -> Outcome:
    blocks = blocks_of(markdown)
    home = workdir / "home"
    home.mkdir(parents=True)
    bin_dir = workdir / "bin"
    kmscli_wrapper(bin_dir)
    status_file = workdir / "block-status"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KMSCLI_")}
    env.update(
        {
            "HOME": str(home),
            "XDG_DATA_HOME": str(workdir / "xdg-data"),
            "XDG_CONFIG_HOME": str(workdir / "xdg-config"),
            # kmscli of this checkout first, then the Python running the tests (python3 in an
            # example is the one with kmscli's dependencies), then the usual PATH.
            "PATH": os.pathsep.join(
                [str(bin_dir), os.path.dirname(sys.executable), os.environ.get("PATH", "/usr/bin:/bin")]
            ),
            "PYTHONPATH": str(ROOT),
            "KMSCLI_KEYRING": str(workdir / "keyring"),
            "KMSCLI_PASSPHRASE": PASSPHRASE,
            "KMSCLI_EXAMPLES_STATUS": str(status_file),
            "NO_COLOR": "1",
        }
    )
    runnable = [b for b in blocks if b.runs]
    if not any(_RUNS_INIT.search(b.text) for b in runnable):
        subprocess.run(
            [str(bin_dir / "kmscli"), "init", "--scrypt-log2-n", TEST_LOG2_N],
            env=env, cwd=home, check=True, capture_output=True, timeout=60,
        )
    p = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script_of(blocks)],
        cwd=home, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
    )
    reached = status_file.read_text().strip() if status_file.exists() else "0"
    failed = None
    if p.returncode != 0 and reached.isdigit():
        failed = next((b for b in blocks if b.number == int(reached)), None)
    return Outcome(p.returncode, failed, p.stdout, p.stderr)


# --- the documentation ------------------------------------------------------------------------

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _unmarked_foundation_readme(path: Path) -> bool:
    """README.md as the foundation left it: its install-and-test one-liners are not yet marked
    no-run (running them would create a venv and run this suite inside itself). The
    integrator, who owns README.md, marks them; from then on README.md runs like any file."""
    if path.name != "README.md":
        return False
    text = path.read_text(encoding="utf-8")
    return NO_RUN not in text and "-m pytest" in text


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(
            p,
            id=p.relative_to(ROOT).as_posix(),
            marks=[pytest.mark.xfail(strict=True, reason="README.md's install block is not marked ```sh no-run yet")]
            if _unmarked_foundation_readme(p)
            else [],
        )
        for p in DOCUMENTS
    ],
)
def test_documented_examples_run(path, tmp_path):
    markdown = path.read_text(encoding="utf-8")
    nested = [b.number for b in blocks_of(markdown) if b.runs and "-m pytest" in b.text]
    assert not nested, f"blocks {nested} would run the tests inside the tests: mark them ```sh no-run"
    outcome = run_examples(markdown, tmp_path)
    assert outcome.status == 0, outcome.report(path.relative_to(ROOT).as_posix())


def test_documents_have_examples_to_run():
    counted = {p.relative_to(ROOT).as_posix(): sum(b.runs for b in blocks_of(p.read_text())) for p in DOCUMENTS}
    assert counted.get("docs/shell.md", 0) > 0


# --- the runner itself ----------------------------------------------------------------------------

SAMPLE = """\
# Title

```sh no-run
python3 -m venv .venv && .venv/bin/pip install kmscli
```

```sh
key=$(kmscli create-key --query KeyMetadata.KeyId --output text)
```

Some text.

```console
$ not run
```

- a list item:

  ```bash
  kmscli describe-key --key-id "$key" --query KeyMetadata.KeyState --output text > state.txt
  ```

```sh
test "$(cat state.txt)" = Enabled
```
"""


def test_blocks_are_found_with_their_info_strings():
    blocks = blocks_of(SAMPLE)
    assert [(b.number, b.info, b.runs) for b in blocks] == [
        (1, "sh no-run", False),
        (2, "sh", True),
        (3, "console", False),
        (4, "bash", True),
        (5, "sh", True),
    ]
    assert blocks[3].text.startswith("kmscli describe-key")  # the list's indentation is removed


def test_blocks_share_state_and_the_keyring_is_ready(tmp_path):
    outcome = run_examples(SAMPLE, tmp_path)
    assert outcome.status == 0, outcome.report("SAMPLE")
    assert (tmp_path / "home" / "state.txt").read_text() == "Enabled\n"


def test_a_failing_block_is_named_with_its_text_and_stderr(tmp_path):
    markdown = SAMPLE + "\n```sh\nkmscli describe-key --key-id alias/missing\necho never\n```\n"
    outcome = run_examples(markdown, tmp_path)
    assert outcome.status == 3
    assert outcome.failed_block is not None and outcome.failed_block.number == 6
    report = outcome.report("doc.md")
    assert "example block 6 (line 27, ```sh) failed with status 3" in report
    assert "    kmscli describe-key --key-id alias/missing" in report
    assert "kmscli: error: NotFoundException" in report
    assert "never" not in outcome.stdout


def test_a_failure_inside_a_pipeline_counts(tmp_path):
    outcome = run_examples("```sh\nkmscli describe-key --key-id alias/missing | cat\n```\n", tmp_path)
    assert outcome.status == 3 and outcome.failed_block.number == 1


def test_examples_that_init_their_own_keyring_get_none_made_for_them(tmp_path):
    markdown = "```sh\nkmscli init --scrypt-log2-n 10\nkmscli list-keys\n```\n"
    outcome = run_examples(markdown, tmp_path)
    assert outcome.status == 0, outcome.report("init.md")
    assert '"Keys": []' in outcome.stdout


def test_examples_cannot_prompt(tmp_path):
    # No passphrase from anywhere, and stdin is not a terminal: a locked error, not a hang.
    outcome = run_examples("```sh\nunset KMSCLI_PASSPHRASE\nkmscli create-key\n```\n", tmp_path)
    assert outcome.status == 4
    assert "KeyringLockedException" in outcome.stderr


def test_the_readme_runs_an_example_of_every_command():
    """The README is the manual: every command of the tree appears in a block that runs."""
    from kmscli.cli.main import COMMANDS

    run = "\n".join(b.text for b in blocks_of((ROOT / "README.md").read_text()) if b.runs)
    missing = [c for c in COMMANDS if not re.search(rf"\bkmscli\b[^\n]*\s{re.escape(c)}(\s|$)", run)]
    assert missing == [], f"README.md has no runnable example of: {', '.join(missing)}"
