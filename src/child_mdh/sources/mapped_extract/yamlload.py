"""Read a YAML mapping file keeping the line of every key and list item.

A mapping file is read with a PyYAML ``SafeLoader`` that

- records, for every mapping, the line of each key (``LineDict.key_lines``) and, for
  every list, the line of each item (``LineList.item_lines``), so errors can say
  "mapping.yaml line 42";
- reports a key given twice in the same mapping (PyYAML would silently keep the last);
- reads every scalar as text, except ``null``/``~``/empty which read as ``None``.
  Codes such as ``01`` or ``-8`` and words such as ``yes``, ``no``, ``on`` therefore
  stay exactly as written (YAML 1.1 would turn them into 1, -8, True...). Values are
  converted later, to the type of the contract column they fill.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from child_mdh.errors import UserError


class LineDict(dict):
    """A dict from YAML with ``line`` (where it starts) and ``key_lines`` (line per key)."""

    line: int = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.key_lines: dict = {}

    def line_of(self, key) -> int:
        """Line of ``key`` (or of the mapping itself when the key is absent)."""
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A list from YAML with ``line`` (where it starts) and ``item_lines`` (line per item)."""

    line: int = 0

    def __init__(self, *args):
        super().__init__(*args)
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int:
        """Line of item ``index``."""
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _TextLoader(yaml.SafeLoader):
    """SafeLoader reading scalars as text and keeping line numbers."""

    duplicate_keys: list


# Only null and the merge key are recognised implicitly; everything else stays text.
_TextLoader.yaml_implicit_resolvers = {}
_TextLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_TextLoader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


def _construct_mapping(loader: _TextLoader, node: yaml.MappingNode) -> LineDict:
    own = sum(1 for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge")
    loader.flatten_mapping(node)
    n_merged = len(node.value) - own
    out = LineDict()
    out.line = node.start_mark.line + 1
    merged_keys = set()
    for i, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = "" if key is None else str(key)
        line = key_node.start_mark.line + 1
        if i < n_merged:
            merged_keys.add(key)
        elif key in out and key not in merged_keys:
            # a key given twice in the same mapping (overriding a merged key is fine)
            loader.duplicate_keys.append((line, key, out.key_lines[key]))
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = line
    return out


def _construct_sequence(loader: _TextLoader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


def _construct_text(loader: _TextLoader, node: yaml.ScalarNode) -> str:
    return str(node.value)


_TextLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_TextLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
_TextLoader.add_constructor("tag:yaml.org,2002:str", _construct_text)
# Explicitly tagged scalars (!!int 5, !!bool true) are read as text as well.
for _tag in ("int", "float", "bool", "timestamp", "binary"):
    _TextLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _construct_text)


class YamlSyntaxError(UserError):
    """The mapping file is not valid YAML; ``line`` and ``detail`` say where and what."""

    def __init__(self, file_name: str, line: int, detail: str):
        self.line = line
        self.detail = detail
        super().__init__(f"{file_name} line {line}: {detail}")


def load_yaml_with_lines(path: str | Path) -> tuple[object, list[tuple[int, str, int]]]:
    """Read the YAML file at ``path``: (document, duplicate keys as (line, key, first line)).

    The document is built from :class:`LineDict` and :class:`LineList` with text
    scalars (see the module docstring). Raises :class:`YamlSyntaxError` naming the file
    and line when the text is not valid YAML.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    loader = _TextLoader(text)
    loader.duplicate_keys = []
    try:
        doc = loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 0
        raise YamlSyntaxError(
            path.name,
            line,
            f"not valid YAML ({err.problem or err}); check the indentation (spaces, not "
            "tabs) and quote values holding ': ' or ' #'",
        ) from err
    finally:
        loader.dispose()
    return doc, loader.duplicate_keys
