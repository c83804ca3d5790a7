#!/usr/bin/env python3
"""Run moto's own KMS test suite (tests/test_kms of moto's source) against ``kmscli serve``.

    .venv/bin/pip install -e '.[test,suites]'            # moto, and freezegun, which its tests import
    .venv/bin/python tools/foreign_suites/run_moto_kms.py  [--moto-source DIR] [-- PYTEST ARGS]

Without --moto-source, the source distribution of the installed moto version is fetched from
PyPI with pip (it carries moto's tests). Only the files that talk to KMS through boto3 are run;
moto's unit tests of its own internals (test_model.py, test_utils.py, test_server.py) and the
CloudFormation test (another service) are not. The per-test outcomes go to a JUnit XML file
(--junit, default moto-kms.xml) for triage; docs/serve-tests.md has the last triage.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FILES = [
    "test_kms.py",
    "test_kms_encrypt.py",
    "test_kms_grants.py",
    "test_kms_key_rotation.py",
    "test_kms_mac.py",
    "test_kms_policy_enforcement.py",
]
# moto's account_id fixture asks STS, which kmscli does not serve; its keyrings use moto's account.
CONFTEST = '''import pytest


@pytest.fixture
def account_id():
    return "123456789012"
'''


def moto_source(work: Path) -> Path:
    from importlib.metadata import version

    v = version("moto")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", f"moto=={v}", "--no-binary", ":all:", "--no-deps", "-q", "-d", str(work)],
        check=True,
    )
    with tarfile.open(next(work.glob("moto-*.tar.gz"))) as tar:
        tar.extractall(work, filter="data")
    return work / f"moto-{v}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--moto-source", type=Path, help="a moto source tree (default: fetch the installed version's)")
    parser.add_argument("--junit", type=Path, default=Path("moto-kms.xml"))
    parser.add_argument("--without-policies", action="store_true",
                        help="leave out CreateKey's Policy member (which kmscli refuses), to see what else the tests check")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="moto-src-") as tmp:
        source = args.moto_source or moto_source(Path(tmp))
        run = Path(tmp) / "run"
        (run / "tests" / "test_kms").mkdir(parents=True)
        for name in ("__init__.py", "conftest.py", "markers.py"):
            shutil.copy(source / "tests" / name, run / "tests" / name)
        shutil.copy(source / "tests" / "test_kms" / "__init__.py", run / "tests" / "test_kms" / "__init__.py")
        for name in FILES:
            shutil.copy(source / "tests" / "test_kms" / name, run / "tests" / "test_kms" / name)
        (run / "tests" / "test_kms" / "conftest.py").write_text(CONFTEST)
        env = dict(os.environ, TEST_SERVER_MODE="true", KMSCLI_SOURCE=str(ROOT))
        env["KMSCLI_MOTO_WITHOUT_POLICIES"] = "1" if args.without_policies else "0"
        env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT), str(run)])
        for name in list(env):
            if name.startswith("AWS_") or name.startswith("KMSCLI_") and name not in ("KMSCLI_SOURCE", "KMSCLI_MOTO_WITHOUT_POLICIES"):
                del env[name]
        command = [sys.executable, "-m", "pytest", "-p", "kmscli_moto_plugin", "-p", "no:randomly", "-p", "no:cacheprovider",
                   "-q", "-rfE", "--tb=line", f"--junitxml={args.junit.resolve()}", "tests/test_kms", *args.pytest_args]
        status = subprocess.run(command, cwd=run, env=env).returncode
    # Many of moto's tests expect moto's own answers, so pytest's status says little: the
    # triage says whether any failure is new (untriaged), which is this script's status.
    sys.path.insert(0, str(HERE))
    import moto_triage

    argv = [str(args.junit)] + (["--without-policies"] if args.without_policies else [])
    sys.argv[1:] = argv
    return moto_triage.main() if status in (0, 1) else status


if __name__ == "__main__":
    sys.exit(main())
