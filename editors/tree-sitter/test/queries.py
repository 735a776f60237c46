"""Checks the folds and injections queries on every-construct.flow: the
blocks a reader folds fold, nothing folds on one line, an email's body is
Markdown and an http body JSON.

Usage: python3 test/queries.py TREE_SITTER   (from editors/tree-sitter)
"""

import re
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "../../tests/every-construct.flow"
LINE = re.compile(
    r"capture: (?:\d+ - )?([\w.]+), start: \((\d+), (\d+)\), end: \((\d+), (\d+)\)(?:, text: `(.*)`)?"
)


def captures(tree_sitter, query):
    out = subprocess.run(
        [tree_sitter, "query", "-p", ".", f"queries/{query}", str(SOURCE)],
        capture_output=True, text=True, check=True,
    ).stdout
    return [
        (m[1], int(m[2]), int(m[4]), m[6] or "")
        for m in (LINE.search(line) for line in out.splitlines())
        if m
    ]


def main():
    tree_sitter = sys.argv[1]
    lines = SOURCE.read_text().splitlines()
    row = lambda text: next(i for i, line in enumerate(lines) if line.strip() == text)
    folds = {(start, end) for name, start, end, _ in captures(tree_sitter, "folds.scm")}
    problems = [f"a fold on one line: {start + 1}" for start, end in folds if end <= start]
    # (first line, the line after the last): a node ends where the next begins.
    call, http = row("call phone"), row('http post "https://api.example/{{ email }}?x=1"')
    for wanted in [(call, http), (row("on answered"), row("on voicemail")), (row("condition"), row("split"))]:
        if wanted not in folds:
            problems.append(f"lines {wanted[0] + 1}-{wanted[1]} do not fold: {sorted(folds)}")
    injected = [(name, start) for name, start, _, _ in captures(tree_sitter, "injections.scm")]
    if ("injection.content", row('body """') ) not in injected:
        problems.append(f"the email body is not injected: {injected}")
    if ("injection.content", row('body """{"email": "{{ email }}"}"""')) not in injected:
        problems.append(f"the http body is not injected: {injected}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"tree-sitter: {len(folds)} folds, bodies injected as Markdown and JSON")


main()
