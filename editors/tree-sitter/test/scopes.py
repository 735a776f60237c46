"""Checks the tree-sitter highlight query against flowc's own reading.

Runs `tree-sitter query` with queries/highlights.scm over
editors/tests/every-construct.flow, then checks that no node is captured
twice, and that every token of every-construct.tokens gets a capture of its
class at its first and last character: keywords a keyword capture, names
never one, text a string, and so on.

Usage: python3 test/scopes.py TREE_SITTER   (from editors/tree-sitter)
"""

import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "../../tests/every-construct.flow"
TABLE = HERE / "../../tests/every-construct.tokens"

KEYWORD = re.compile(
    r"^(keyword|type\.builtin|property|constant|variable\.builtin|function\.builtin|boolean)"
)
FITS = {
    "keyword": lambda c: c is not None and bool(KEYWORD.match(c)),
    "name": lambda c: c is None
    or not (KEYWORD.match(c) or c.startswith(("string", "comment", "number"))),
    "text": lambda c: c is not None and c.startswith("string"),
    "number": lambda c: c == "number",
    "operator": lambda c: c is not None and c.startswith(("operator", "punctuation", "keyword")),
    "filter": lambda c: c == "function",
    "comment": lambda c: c == "comment",
}

LINE = re.compile(
    r"capture: (?:\d+ - )?([\w.]+), start: \((\d+), (\d+)\), end: \((\d+), (\d+)\)"
)


def captures(tree_sitter):
    """Every capture: (name, start, end) with (row, column) positions."""
    out = subprocess.run(
        [tree_sitter, "query", "-p", ".", "queries/highlights.scm", str(SOURCE)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = []
    for match in LINE.finditer(out):
        name, r0, c0, r1, c1 = match.groups()
        found.append((name, (int(r0), int(c0)), (int(r1), int(c1))))
    return found


def main():
    found = captures(sys.argv[1])
    failures = []
    by_node = {}
    for name, start, end in found:
        by_node.setdefault((start, end), set()).add(name)
    for (start, end), names in sorted(by_node.items()):
        if len(names) > 1:
            failures.append(
                f"line {start[0] + 1}, column {start[1] + 1}: captured as {', '.join(sorted(names))}"
            )

    def capture_at(row, column):
        """The innermost capture holding the character at (row, column)."""
        holding = [
            (name, start, end)
            for name, start, end in found
            if start <= (row, column) < end
        ]
        if not holding:
            return None
        return min(holding, key=lambda c: (c[2][0] - c[1][0], c[2][1] - c[1][1]))[0]

    rows = TABLE.read_text().strip().split("\n")
    for row in rows:
        line, start, end, kind, *text = row.split(" ")
        for column in (int(start), int(end) - 1):
            capture = capture_at(int(line), column)
            if not FITS[kind](capture):
                failures.append(
                    f"line {int(line) + 1}, column {column + 1}: `{' '.join(text)}` is a {kind} "
                    f"but gets {capture or 'no capture'}"
                )
                break
    if failures:
        print("\n".join(failures))
        print(f"{len(failures)} problems over {len(rows)} tokens")
        sys.exit(1)
    print(f"tree-sitter: all {len(rows)} tokens of every-construct.flow get a capture of their class, none twice")


main()
