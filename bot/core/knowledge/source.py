"""Reading YAML while remembering where every value came from.

Knowledge files are written by content editors, so every problem must point at
the file, the line and the field. ``read_yaml`` returns plain dicts and lists
(``LocatedDict`` / ``LocatedList``) that also know the line of each entry, and
``Problems`` collects errors so one run of ``kb check`` reports all of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

try:  # Python 3.11 keeps the regex parser here; it is internal but stable
    import re._parser as _sre_parse  # type: ignore[import-not-found]
    from re._constants import MAX_REPEAT, MAXREPEAT, MIN_REPEAT, SUBPATTERN  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - older layouts
    import sre_parse as _sre_parse  # type: ignore[no-redef]
    from sre_constants import MAX_REPEAT, MAXREPEAT, MIN_REPEAT, SUBPATTERN  # type: ignore[no-redef]

# A knowledge file is a few hundred kilobytes at most; anything far larger is a
# mistake or an attack, and parsing it would only waste memory.
MAX_FILE_BYTES = 2_000_000
# The deepest real structure is a handful of levels; the limit stops a
# 100,000-deep document before Python's recursion gives out.
MAX_DEPTH = 40


@dataclass(frozen=True)
class Problem:
    """One error in a knowledge file."""

    path: Path
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.message}"


class KnowledgeError(Exception):
    """The knowledge base is broken; ``problems`` lists every error found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class LocatedDict(dict):  # type: ignore[type-arg]
    """A mapping that remembers its own line and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LocatedList(list):  # type: ignore[type-arg]
    """A sequence that remembers its own line and the line of each item."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


class Problems:
    """Collects problems for one file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[Problem] = []

    def add(self, line: int, field: str, message: str) -> None:
        self.items.append(Problem(self.path, line, field, message))

    def __bool__(self) -> bool:
        return bool(self.items)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _convert(node: yaml.Node, loader: yaml.SafeLoader, problems: Problems, where: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        result = LocatedDict()
        result.line = _line(node)
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            name = f"{where}.{key}" if where else str(key)
            if not isinstance(key, str):
                problems.add(_line(key_node), name, "keys must be text")
                continue
            if key in result:
                problems.add(_line(key_node), name, f"duplicate key {key!r}")
                continue
            result[key] = _convert(value_node, loader, problems, name)
            result.key_lines[key] = _line(key_node)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = LocatedList()
        items.line = _line(node)
        items.item_lines = []
        for index, item in enumerate(node.value):
            items.append(_convert(item, loader, problems, f"{where}[{index}]"))
            items.item_lines.append(_line(item))
        return items
    return loader.construct_object(node, deep=True)


class _Strict:
    """Refuses anchors, aliases and deep nesting while composing a YAML document.

    Editors never need anchors; refusing them rules out "billion laughs" alias
    bombs, and the depth limit keeps a hostile file from exhausting the stack.
    """

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[attr-defined]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (&name, *name) are not allowed", event.start_mark
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_DEPTH} levels", event.start_mark
                )
            return yaml.composer.Composer.compose_node(self, parent, index)  # type: ignore[arg-type]
        finally:
            self._depth -= 1


class _StrictLoader(_Strict, yaml.SafeLoader):
    """The pure-Python strict loader (used when PyYAML was built without libyaml)."""


if getattr(yaml, "__with_libyaml__", False):
    from yaml._yaml import CParser

    class _FastStrictLoader(  # type: ignore[misc]
        _Strict,
        yaml.composer.Composer,
        yaml.constructor.SafeConstructor,
        yaml.resolver.Resolver,
        CParser,
    ):
        """libyaml scans and parses (six times faster on the knowledge base); the
        composing, with the strict checks and the line numbers, stays in Python."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

    _LOADER: type[Any] = _FastStrictLoader
else:  # pragma: no cover - PyYAML wheels ship libyaml
    _LOADER = _StrictLoader


def read_yaml(path: Path, problems: Problems) -> Any:
    """Parse ``path``; syntax errors and duplicate keys go to ``problems``.

    The top level must be a mapping: an empty file, ``~``, ``null`` or a bare
    ``---`` would otherwise load as "nothing" and silently switch a feature off.
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            problems.add(0, "(file)", f"too large ({size} bytes; the limit is {MAX_FILE_BYTES})")
            return None
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(0, "(file)", f"cannot read: {exc}")
        return None
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            problems.add(1, "(file)", "the file is empty")
            return None
        if not isinstance(node, yaml.MappingNode):
            found = "null" if node.tag.endswith(":null") else node.tag.rsplit(":", 1)[-1]
            problems.add(_line(node), "(file)", f"expected a mapping of fields, found {found}")
            return None
        return _convert(node, loader, problems, "")
    except RecursionError:
        problems.add(0, "(file)", "nested too deeply")
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = str(getattr(exc, "problem", exc))
        if "maximum nesting depth" in problem:  # libyaml's own limit, said as ours is
            problem = f"nested deeper than {MAX_DEPTH} levels"
        problems.add(line, "(syntax)", problem)
        return None
    finally:
        loader.dispose()


def backtracking_risk(pattern: str) -> str | None:
    """Why ``pattern`` could backtrack catastrophically, or None.

    A repeat that is unbounded and holds another unbounded repeat (``(a+)+``,
    ``(\\w+ ?)*``) can take exponential time on a short message that almost
    matches, which would freeze the bot; bounded repeats such as ``(?:\\w+ ){0,6}``
    stay cheap and are allowed.
    """
    try:
        parsed = _sre_parse.parse(pattern)
    except re.error:
        return None  # compiling reports it

    def walk(items: Any, inside_unbounded: bool) -> str | None:
        for op, arg in items:
            if op in (MAX_REPEAT, MIN_REPEAT):
                _low, high, body = arg
                unbounded = high == MAXREPEAT
                if unbounded and inside_unbounded:
                    return "an unbounded repeat inside another (e.g. (a+)+) can hang the bot"
                found = walk(body, inside_unbounded or unbounded)
                if found:
                    return found
            elif op == SUBPATTERN:
                found = walk(arg[-1], inside_unbounded)
                if found:
                    return found
            elif isinstance(arg, (list, tuple)):
                for part in arg:
                    if isinstance(part, _sre_parse.SubPattern):
                        found = walk(part, inside_unbounded)
                        if found:
                            return found
                    elif isinstance(part, (list, tuple)):
                        for sub in part:
                            if isinstance(sub, _sre_parse.SubPattern):
                                found = walk(sub, inside_unbounded)
                                if found:
                                    return found
        return None

    return walk(parsed, False)


# ---------------------------------------------------------------------------
# Field checks shared by every file's validator.


def join(where: str, name: str) -> str:
    """The dotted name of a field, for messages."""
    return f"{where}.{name}" if where else name


def first_use_of_id(
    entry: LocatedDict, value: str, seen: dict[str, int], problems: Problems, where: str
) -> bool:
    """Record ``value`` as an id; report a duplicate (with the first line) and return False."""
    if not value:
        return True
    line = entry.line_of("id")
    if value in seen:
        first = seen[value]
        problems.add(line, join(where, "id"), f"duplicate id {value!r} (first at line {first})")
        return False
    seen[value] = line
    return True


def check_fields(
    entry: Any,
    problems: Problems,
    where: str,
    required: set[str],
    optional: set[str] = frozenset(),  # type: ignore[assignment]
) -> bool:
    """Report missing and unknown fields; False when ``entry`` is not a mapping."""
    if not isinstance(entry, LocatedDict):
        problems.add(getattr(entry, "line", 0), where, "expected a mapping of fields")
        return False
    for name in sorted(required - entry.keys()):
        problems.add(entry.line, join(where, name), "missing field")
    for name in sorted(entry.keys() - required - optional):
        allowed = ", ".join(sorted(required | optional))
        problems.add(entry.line_of(name), join(where, name), f"unknown field (allowed: {allowed})")
    return True


def text_field(
    entry: LocatedDict, name: str, problems: Problems, where: str, default: str | None = None
) -> str:
    """A non-empty text field, stripped; reports wrong types and empty text."""
    if name not in entry:
        return default or ""
    value = entry[name]
    if not isinstance(value, str) or not value.strip():
        problems.add(entry.line_of(name), join(where, name), "must be non-empty text")
        return ""
    return value.strip()


def text_list_field(
    entry: LocatedDict, name: str, problems: Problems, where: str, min_items: int = 0
) -> list[tuple[str, int]]:
    """A list of non-empty texts as (text, line) pairs."""
    if name not in entry:
        return []
    value = entry[name]
    if not isinstance(value, LocatedList):
        problems.add(entry.line_of(name), join(where, name), "must be a list of texts")
        return []
    result: list[tuple[str, int]] = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            problems.add(
                value.line_of(index), f"{join(where, name)}[{index}]", "must be non-empty text"
            )
            continue
        result.append((item.strip(), value.line_of(index)))
    if len(result) < min_items:
        problems.add(
            entry.line_of(name),
            join(where, name),
            f"needs at least {min_items} entries (has {len(result)})",
        )
    return result


def number_field(
    entry: LocatedDict,
    name: str,
    problems: Problems,
    where: str,
    minimum: float = 0,
    maximum: float = float("inf"),
) -> float:
    """A number within [minimum, maximum]."""
    if name not in entry:
        return 0
    value = entry[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.add(entry.line_of(name), join(where, name), "must be a number")
        return 0
    if not minimum <= value <= maximum:
        problems.add(
            entry.line_of(name), join(where, name), f"must be between {minimum} and {maximum}"
        )
    return value


def top_level_list(
    data: Any,
    key: str,
    problems: Problems,
    optional: set[str] = frozenset(),  # type: ignore[assignment]
) -> LocatedList:
    """The top-level ``key:`` list of a file, checking the file's own fields."""
    if not isinstance(data, LocatedDict):
        if data is not None:
            problems.add(getattr(data, "line", 1), "(file)", "expected a mapping at the top level")
        return LocatedList()
    check_fields(data, problems, "", {key}, optional)
    value = data.get(key)
    if value is None:
        return LocatedList()
    if not isinstance(value, LocatedList):
        problems.add(data.line_of(key), key, "must be a list")
        return LocatedList()
    return value
