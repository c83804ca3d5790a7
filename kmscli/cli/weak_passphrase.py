"""Whether a new passphrase is very weak, and what to say about it.

The rule is simple on purpose (no dictionary, no dependency), and it only warns: a
passphrase is *very weak* when it is

- shorter than 8 characters; or
- one of the most common passwords below (compared without case); or
- shorter than 12 characters and of one character class only (all digits, or all letters
  of one case).

Longer passphrases can be weak too; this catches the ones any guessing attack tries in its
first minutes, whatever scrypt's cost. docs/security.md explains what scrypt does."""

from __future__ import annotations

MIN_LENGTH = 8
ONE_CLASS_MIN_LENGTH = 12

# The head of the published lists of leaked passwords (SecLists, Have I Been Pwned): what an
# attacker tries first. Only a few dozen: the length rule catches most of the rest.
COMMON = frozenset(
    """
    password password1 password123 passw0rd p@ssw0rd 12345678 123456789 1234567890
    qwerty123 qwertyuiop 1q2w3e4r 1q2w3e4r5t qwerty12 iloveyou sunshine princess football
    baseball superman starwars trustno1 whatever welcome1 letmein1 changeme secret123
    administrator zaq12wsx asdfghjkl 11111111 00000000 12341234 abcd1234 abc12345
    password! welcome123 dragon123 monkey123 master123 qazwsxedc 1qaz2wsx
    """.split()
)


def weakness(secret: bytes) -> str | None:
    """Why ``secret`` is very weak (a phrase for the warning), or None."""
    text = secret.decode("utf-8", "replace")
    if len(text) < MIN_LENGTH:
        return f"it is shorter than {MIN_LENGTH} characters"
    if text.lower() in COMMON:
        return "it is one of the most common passwords"
    if len(text) < ONE_CLASS_MIN_LENGTH and (text.isdigit() or (text.isalpha() and (text.islower() or text.isupper()))):
        return f"it is shorter than {ONE_CLASS_MIN_LENGTH} characters and all {'digits' if text.isdigit() else 'letters of one case'}"
    return None


def warning_lines(reason: str, log2_n: int, r: int) -> list[str]:
    """The warning: what scrypt does for this passphrase and what it cannot do."""
    mib = (128 * r << log2_n) >> 20
    return [
        f"warning: this passphrase is very weak: {reason}",
        f"warning: scrypt (N=2^{log2_n}, r={r}) makes every guess at it cost {mib} MiB of memory and as "
        "much time as one unlock takes here, which slows a guessing attack on a copy of the keyring; "
        "it cannot save a passphrase that is short or common: such passphrases are among the first "
        "guesses, and fall anyway",
        "hint: choose a longer one, e.g. four or more random words; to choose again now, type "
        "something else at the next prompt",
    ]
