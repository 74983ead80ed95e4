"""YAML parsing that remembers where every key, value and list item was written.

PyYAML's constructors drop source marks and silently keep the last of two duplicate keys, so the
loader composes the node graph and builds plain Python values itself, recording a 1-based
(line, column) for every mapping key and every value in a :class:`SourceMap`. Keys are always the
text as written (so a logical name ``yes`` or ``2024`` stays a string), and only ``true``/``false``
are booleans (YAML 1.2 style): ``country: NO`` means Norway, not ``False``.
String values are expanded from the environment (see :mod:`reconciler.manifest.expand`) here,
because only here is the exact column of a ``${VAR}`` still known.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.manifest.diagnostics import SECRET_PATTERN, DataPath, Diagnostic, format_path
from reconciler.manifest.expand import EnvScalar, expand, is_single_reference

#: Walking more nodes than this means an alias bomb ("billion laughs"), not a manifest.
MAX_NODES = 100_000


class _Loader(yaml.SafeLoader):
    """SafeLoader whose implicit booleans are only true/false (YAML 1.2), not yes/no/on/off."""


_RESOLVERS = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.yaml_implicit_resolvers = _RESOLVERS
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)

_FastLoader: Any = None
if getattr(yaml, "__with_libyaml__", False):

    class _CLoader(yaml.CSafeLoader):
        """libyaml's parser (about 10x faster, same marks) with the same resolvers."""

    _CLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
    _FastLoader = _CLoader


def _compose_fast(text: str) -> tuple[Any, Node | None] | None:
    """Compose with libyaml when available; None means "use the pure-Python loader", whose error
    messages and marks the diagnostics are written for."""
    if _FastLoader is None:
        return None
    loader = _FastLoader(text)
    try:
        return loader, loader.get_single_node()
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()


@dataclass
class SourceMap:
    """Marks for one file: ``keys[path]`` is where the key of ``path`` was written, ``values[path]``
    where its value starts. ``tainted`` holds paths whose value is already reported (a failed
    ``${VAR}`` expansion, a pasted secret), so later checks don't pile on a second error."""

    file: str
    keys: dict[DataPath, tuple[int, int]] = field(default_factory=dict)
    values: dict[DataPath, tuple[int, int]] = field(default_factory=dict)
    tainted: set[DataPath] = field(default_factory=set)

    def locate(self, path: DataPath, *, key: bool = False) -> tuple[int, int]:
        """Line and column of ``path``, falling back to its nearest recorded ancestor."""
        probe = path
        while True:
            table = self.keys if key else self.values
            if probe in table:
                return table[probe]
            if key and probe in self.values:
                return self.values[probe]
            if not probe:
                return (1, 1)
            probe = probe[:-1]
            key = True  # an ancestor is best shown where its key was written

    def diagnostic(
        self,
        path: DataPath,
        message: str,
        *,
        key: bool = False,
        severity: str = "error",
        label: DataPath | None = None,
    ) -> Diagnostic:
        line, column = self.locate(path, key=key)
        shown = format_path(path if label is None else label)
        return Diagnostic(
            self.file, line, column, shown, message, "warning" if severity == "warning" else "error"
        )


class YamlDocumentError(Exception):
    """Raised by :func:`parse_yaml` with the diagnostics that made the document unusable."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("\n".join(str(d) for d in diagnostics))


def _describe_yaml_error(error: yaml.MarkedYAMLError) -> str:
    problem = error.problem or "invalid YAML"
    if "'\\t'" in problem or "\t" in problem:
        return "tab character in indentation; YAML allows only spaces"
    if "quoted scalar" in (error.context or "") and "end of stream" in problem:
        return "unclosed quote: the string has no closing quotation mark"
    if "another document" in problem:
        return "a manifest file holds one YAML document; found a second one (after '---')"
    text = problem
    if error.context:
        text = f"{problem} ({error.context})"
    return f"invalid YAML: {text}"


def parse_yaml(
    text: str, file: str, environ: Mapping[str, str]
) -> tuple[Any, SourceMap, list[Diagnostic]]:
    """Parse one YAML document into plain values and marks.

    Returns ``(data, source_map, problems)``; ``problems`` are located, recoverable findings
    (duplicate keys, unset variables). Raises :class:`YamlDocumentError` when the text is not a
    single YAML document at all. An empty document yields ``None``.
    """
    try:
        return _parse(text, file, environ)
    except RecursionError:
        # A few kilobytes nested a thousand levels deep, or an alias inside the node it names
        # (``&e [a, *e]``): no manifest looks like either, and both would exhaust the stack.
        message = "the YAML nests too deeply, or an alias (*name) refers to a node that contains it"
        raise YamlDocumentError([Diagnostic(file, 1, 1, "", message)]) from None


def _parse(
    text: str, file: str, environ: Mapping[str, str]
) -> tuple[Any, SourceMap, list[Diagnostic]]:
    fast = _compose_fast(text)
    if fast is not None:
        return _build(fast[0], fast[1], text, file, environ)
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as error:
        # Raised while the reader checks the whole text for non-printable characters.
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        message = f"control character U+{error.character:04X} is not allowed in YAML text"
        raise YamlDocumentError([Diagnostic(file, line, column, "", message)]) from None
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        if "quoted scalar" in (error.context or "") and error.context_mark is not None:
            mark = error.context_mark  # where the quote was opened, not where the file ended
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlDocumentError(
            [Diagnostic(file, line, column, "", _describe_yaml_error(error))]
        ) from None
    except yaml.YAMLError as error:
        raise YamlDocumentError([Diagnostic(file, 1, 1, "", f"invalid YAML: {error}")]) from None
    finally:
        loader.dispose()
    return _build(loader, root, text, file, environ)


def _build(
    loader: Any, root: Node | None, text: str, file: str, environ: Mapping[str, str]
) -> tuple[Any, SourceMap, list[Diagnostic]]:
    smap = SourceMap(file)
    if root is None:
        return None, smap, []
    builder = _Builder(loader, text, smap, environ)
    data = builder.build(root, ())
    return data, smap, builder.problems


class _Builder:
    def __init__(self, loader: Any, text: str, smap: SourceMap, environ: Mapping[str, str]) -> None:
        self.loader = loader
        self.text = text
        self.smap = smap
        self.environ = environ
        self.problems: list[Diagnostic] = []
        self.visited = 0

    def build(self, node: Node, path: DataPath) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise YamlDocumentError(
                [
                    Diagnostic(
                        self.smap.file,
                        node.start_mark.line + 1,
                        node.start_mark.column + 1,
                        format_path(path),
                        f"document expands to more than {MAX_NODES} nodes (alias bomb?)",
                    )
                ]
            )
        self.smap.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as error:
            self.problems.append(self.smap.diagnostic(path, _describe_yaml_error(error)))
            self.smap.tainted.add(path)
            return node.value
        except (ValueError, OverflowError):
            # A date-like scalar that is no real date (2026-02-30, 2019-13-01): keep the text and
            # let the field decide, so a timestamp field and an api_version field each explain it.
            return node.value
        if isinstance(value, str) and SECRET_PATTERN.search(value):
            # Only the text as written: a sensitive value injected with ${VAR} is the intended way
            # (export writes such references), and diagnostics redact it anyway.
            self.problems.append(
                self.smap.diagnostic(
                    path,
                    "this looks like a Stripe secret key or signing secret; keep secrets out of "
                    "manifest files (use ${VAR}; the API key comes from STRIPE_API_KEY)",
                )
            )
            self.smap.tainted.add(path)
            return value
        if isinstance(value, str) and "$" in value:
            return self._expand(node, value, path)
        return value

    def _mapping(self, node: MappingNode, path: DataPath) -> dict[str, Any]:
        seen: dict[str, Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            if not isinstance(key_node, ScalarNode):
                line, column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                self.problems.append(
                    Diagnostic(
                        self.smap.file,
                        line,
                        column,
                        format_path(path),
                        "mapping keys must be plain strings",
                    )
                )
                continue
            name = str(key_node.value)
            if name in seen:
                first = seen[name].start_mark
                self.problems.append(
                    Diagnostic(
                        self.smap.file,
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                        format_path((*path, name)),
                        f"duplicate key '{name}' (first defined at line {first.line + 1}, "
                        f"column {first.column + 1}); YAML would silently keep only the last one",
                    )
                )
            else:
                seen[name] = key_node
        try:
            # Resolves "<<" merge keys in place; explicit keys then override merged ones.
            self.loader.flatten_mapping(node)
        except yaml.MarkedYAMLError as error:
            self.problems.append(self.smap.diagnostic(path, _describe_yaml_error(error)))
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                continue
            name = str(key_node.value)
            child = (*path, name)
            self.smap.keys[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[name] = self.build(value_node, child)
        return result

    def _expand(self, node: ScalarNode, value: str, path: DataPath) -> str:
        expanded, problems = expand(value, self.environ)
        for problem in problems:
            line, column = self._column_of(node, value, problem.offset)
            self.problems.append(
                Diagnostic(self.smap.file, line, column, format_path(path), problem.message)
            )
        if problems:
            self.smap.tainted.add(path)
            return value
        if not node.style and is_single_reference(value):  # plain: None (PyYAML) or "" (libyaml)
            return EnvScalar(expanded)  # may fill a boolean or integer field (see the model)
        return expanded

    def _column_of(self, node: ScalarNode, value: str, offset: int) -> tuple[int, int]:
        """Find the ``${`` reference in the source text, so the column points at it exactly."""
        start, end = node.start_mark.index, node.end_mark.index
        source = self.text[start:end]
        needle_end = value.find("}", offset)
        needle = value[offset : needle_end + 1] if needle_end != -1 else value[offset:]
        # The n-th occurrence in the value is the n-th in the source when quoting adds nothing
        # inside the reference (references hold no escapes), so count preceding occurrences.
        nth = value.count(needle, 0, offset)
        position = -1
        for _ in range(nth + 1):
            position = source.find(needle, position + 1)
            if position == -1:
                return node.start_mark.line + 1, node.start_mark.column + 1
        before = source[:position]
        newlines = before.count("\n")
        if newlines:
            return node.start_mark.line + 1 + newlines, position - before.rfind("\n")
        return node.start_mark.line + 1, node.start_mark.column + 1 + position
