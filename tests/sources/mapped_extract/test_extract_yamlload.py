"""The mapping file reader: line numbers, duplicate keys, scalars kept as written."""

import pytest

from child_mdh.sources.mapped_extract.yamlload import (
    LineDict,
    LineList,
    YamlSyntaxError,
    load_yaml_with_lines,
)


def test_lines_of_keys_and_list_items(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("a: 1\nb:\n  c: x\n  d:\n    - p\n    - q\n")
    doc, dups = load_yaml_with_lines(path)
    assert isinstance(doc, LineDict) and isinstance(doc["b"]["d"], LineList)
    assert doc.line_of("a") == 1
    assert doc.line_of("b") == 2
    assert doc["b"].line_of("c") == 3
    assert doc["b"]["d"].item_lines == [5, 6]
    assert dups == []


def test_scalars_stay_as_written_except_null(tmp_path):
    # YAML 1.1 would read 01 as 1, yes/on as True and 2021-01-21 as a date.
    path = tmp_path / "m.yaml"
    path.write_text('v: [01, -8, yes, on, 2021-01-21, 1.0, ~, null, "", "null"]\n')
    doc, _ = load_yaml_with_lines(path)
    assert doc["v"] == ["01", "-8", "yes", "on", "2021-01-21", "1.0", None, None, "", "null"]


def test_true_false_keys_are_text(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("spec:\n  true: [1]\n  false: [0]\n")
    doc, _ = load_yaml_with_lines(path)
    assert set(doc["spec"]) == {"true", "false"}


def test_duplicate_key_is_reported_with_both_lines(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("cols:\n  sex: a\n  age: b\n  sex: c\n")
    _, dups = load_yaml_with_lines(path)
    assert dups == [(4, "sex", 2)]


def test_overriding_a_merged_key_is_not_a_duplicate(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("base: &b {k: 1, j: 2}\nuse:\n  <<: *b\n  k: 3\n")
    doc, dups = load_yaml_with_lines(path)
    assert doc["use"] == {"k": "3", "j": "2"}
    assert dups == []


def test_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("a: 1\nb: [1, 2\nc: 3\n")
    with pytest.raises(YamlSyntaxError) as err:
        load_yaml_with_lines(path)
    assert err.value.line == 3
    assert "m.yaml line 3" in str(err.value)
