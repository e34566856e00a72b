"""Reading people's files and telling them, in French, what is wrong with them.

One loader for every user file (applications, score sheets, programme files, demo scripts):
`load_model(path, Model, what)` reads bounded UTF-8 text, parses YAML or JSON and validates it,
and refuses with every problem at once, each with its field path and line. Writing a file for
a person (`write_text`) is refused the same way.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from models.errors import InvalidInput
from models.problems import describe, field_path
from models.text import visible
from models.wording import os_reason

M = TypeVar("M", bound=BaseModel)

MAX_TEXT_FILE = 512 * 1024
"""A programme, an application or a score sheet is text: 512 KiB is far beyond any real one."""
MAX_DEPTH = 50
"""Nesting of lists and mappings: a real file goes 5 levels deep."""
MAX_INT_DIGITS = 18
"""Integers in a user's file: a score, a weight, a count; nothing needs more digits."""


class _Refusal(yaml.YAMLError):
    """A well-formed YAML document that the rules refuse (alias, tag, duplicate key, depth...)."""

    def __init__(self, message: str, mark: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.problem_mark = mark


def _where(mark: Any) -> str:
    return f" (ligne {mark.line + 1}, colonne {mark.column + 1})" if mark is not None else ""


_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?=[eE]))(?:[eE][-+]?[0-9]+)?$"
                    r"|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$")
_RESOLVED_ELSEWHERE = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
                       "tag:yaml.org,2002:float", "tag:yaml.org,2002:value"}
_MERGE = "tag:yaml.org,2002:merge"


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader for people's files: dates stay text (pydantic reads them and their zone); only
    YAML 1.2 spellings of booleans and numbers (`yes`, `0x5`, `05`, `1:0` stay text); and it refuses
    anchors and aliases (no alias bomb), merge keys, explicit tags (`!!binary`, `!!python/...`, `!x`),
    duplicate keys, nesting deeper than MAX_DEPTH, integers longer than MAX_INT_DIGITS, infinities
    and NaN. Every refusal is a `_Refusal` with a French message and its position."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refusal("les alias YAML (*nom) ne sont pas permis : écrivez la valeur en entier", event.start_mark)
        if getattr(event, "anchor", None) is not None:
            raise _Refusal("les ancres YAML (&nom) ne sont pas permises", event.start_mark)
        if getattr(event, "tag", None) is not None:
            raise _Refusal(f"les étiquettes YAML explicites ({visible(str(event.tag))[:40]}) ne sont pas permises",
                           event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refusal(f"le fichier est imbriqué sur plus de {MAX_DEPTH} niveaux", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):
            raise _Refusal("un ensemble de champs est attendu", node.start_mark)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                raise _Refusal("les clés de fusion YAML (<<) ne sont pas permises", key_node.start_mark)
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise _Refusal("une clé doit être un texte", key_node.start_mark)
            if key in mapping:
                raise _Refusal(f"la clé « {visible(str(key))[:60]} » apparaît deux fois", key_node.start_mark)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_yaml_int(self, node: Any) -> int:
        text = str(self.construct_scalar(node))
        if len(text.lstrip("+-")) > MAX_INT_DIGITS:
            raise _Refusal(f"nombre trop grand (plus de {MAX_INT_DIGITS} chiffres)", node.start_mark)
        return int(text)

    def construct_yaml_float(self, node: Any) -> float:
        text = str(self.construct_scalar(node)).lower()
        if text.lstrip("+-") in (".inf", ".nan"):
            raise _Refusal("les nombres infinis ou indéterminés (.inf, .nan) ne sont pas permis", node.start_mark)
        value = float(text)
        if not math.isfinite(value):
            raise _Refusal("nombre hors limites", node.start_mark)
        return value


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _RESOLVED_ELSEWHERE]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))
_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_yaml_float)


def read_bytes(path: Path, what: str, limit: int, *, hidden: bool = False) -> bytes:
    """A regular file's bytes, at most `limit` of them, checked before reading: FIFOs, devices
    and folders are refused without being read. `hidden`: one message whatever the reason, so that
    the answer never tells whether something exists (files read on someone else's behalf)."""
    shown = path.name if hidden else str(path)

    def refuse(reason: str) -> InvalidInput:
        return InvalidInput(f"Le fichier {what} {shown} est inaccessible." if hidden else reason)

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
                     | (getattr(os, "O_NOFOLLOW", 0) if hidden else 0))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise refuse(f"Le fichier {what} {shown} n'existe pas.") from None
        raise refuse(f"Le fichier {what} {shown} est illisible : {os_reason(exc)}.") from None
    except ValueError:  # a NUL character in the name
        raise refuse(f"Le nom du fichier {what} contient un caractère nul.") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise refuse(f"{shown} est un dossier, pas un fichier {what}.")
        if not stat.S_ISREG(info.st_mode):
            raise refuse(f"{shown} n'est pas un fichier ordinaire (tube, périphérique…) : il n'est pas lu.")
        if info.st_size > limit:
            raise refuse(f"Le fichier {what} {shown} est trop volumineux ({info.st_size // 1024} Ko ; "
                         f"limite {limit // 1024} Ko).")
        data = _read_at_most(fd, limit + 1)
        if len(data) > limit:
            raise refuse(f"Le fichier {what} {shown} est trop volumineux (limite {limit // 1024} Ko).")
        return data
    except OSError as exc:
        raise refuse(f"Le fichier {what} {shown} est illisible : {os_reason(exc)}.") from None
    finally:
        os.close(fd)


def read_text_file(path: Path, what: str, *, hidden: bool = False) -> str:
    """Read a user's file as UTF-8 text, refusing in French what is not (missing, a folder, not a
    regular file, too large, empty, binary, not UTF-8)."""
    data = read_bytes(path, what, MAX_TEXT_FILE, hidden=hidden)
    name = path.name if hidden else str(path)
    if not data.strip():
        raise InvalidInput(f"Le fichier {what} {name} est vide.")
    if b"\x00" in data:
        raise InvalidInput(f"Le fichier {what} {name} est un fichier binaire, pas du texte.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"Le fichier {what} {name} n'est pas encodé en UTF-8 (octet invalide en position "
            f"{exc.start}) : enregistrez-le en UTF-8."
        ) from None


def read_confined(folder: Path, relative: str, limit: int, *, base: Path | None = None) -> bytes | None:
    """A file named by a person, read on their behalf: `relative` must lead, once every symbolic
    link is resolved, to a regular file inside `folder`. Returns at most `limit + 1` bytes (the
    caller tells « too large » from the length); `relative` is read from `base` (default:
    `folder`). None whatever the reason it cannot be read
    (outside, missing, a folder, a FIFO or a device, a name too long...): the answer never tells
    whether something exists outside `folder`."""
    if not relative or "\x00" in relative or relative.startswith(("/", "\\", "~")) or ":" in relative[:3]:
        return None
    try:
        root = Path(os.path.realpath(folder))
        target = Path(os.path.realpath((base or folder) / relative))
        if target == root or not target.is_relative_to(root):
            return None
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_NOCTTY", 0))
    except (OSError, ValueError):
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return _read_at_most(fd, limit + 1)
    except OSError:
        return None
    finally:
        os.close(fd)


class _JsonRefusal(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _JsonRefusal(f"nombre trop grand (plus de {MAX_INT_DIGITS} chiffres)")
    return int(text)


def _json_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _JsonRefusal("nombre hors limites")
    return value


def _json_constant(text: str) -> Any:
    raise _JsonRefusal(f"{text} n'est pas un nombre permis")


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for key, value in pairs:
        if key in mapping:
            raise _JsonRefusal(f"la clé « {visible(key)[:60]} » apparaît deux fois")
        mapping[key] = value
    return mapping


_JSON_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKETS = re.compile(r"[\[\]{}]")


def _bracket_depth(text: str) -> int:
    """The deepest nesting of brackets in a JSON or YAML text, without parsing it (double-quoted
    strings left out). For YAML it may overestimate (a bracket in plain text counts), which only
    matters past MAX_DEPTH unclosed brackets; it spares the parser's slow scan of deep flows."""
    depth = deepest = 0
    for bracket in _JSON_BRACKETS.findall(_JSON_STRINGS.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_strings(tree: Any) -> str | None:
    """The first problem with a text in the parsed tree (lone surrogates), or None."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                return "un texte contient un caractère Unicode invalide (demi-paire de substitution)"
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


def parse_document(text: str, name: str, what: str) -> tuple[dict[str, Any], dict[tuple[Any, ...], int] | None]:
    """Parse YAML, or JSON for a `.json` name, under the rules of `_StrictLoader` (JSON alike); a
    mapping is required. Returns it with the line of each path (YAML; None for JSON)."""
    head = f"Fichier {what} {visible(name)} refusé"
    lines: dict[tuple[Any, ...], int] | None = None
    if name.lower().endswith(".json"):
        if _bracket_depth(text) > MAX_DEPTH:
            raise InvalidInput(f"{head} : le fichier est imbriqué sur plus de {MAX_DEPTH} niveaux.")
        try:
            raw: Any = json.loads(text, object_pairs_hook=_json_object, parse_int=_json_int,
                                  parse_float=_json_float, parse_constant=_json_constant)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{head} : le JSON est mal formé (ligne {exc.lineno}, colonne {exc.colno}).") from None
        except _JsonRefusal as exc:
            raise InvalidInput(f"{head} : {exc.message}.") from None
        except (RecursionError, ValueError):
            raise InvalidInput(f"{head} : le JSON est mal formé.") from None
    else:
        if _bracket_depth(text) > MAX_DEPTH:
            raise InvalidInput(f"{head} : le fichier est imbriqué sur plus de {MAX_DEPTH} niveaux.")
        loader = None
        try:
            loader = _StrictLoader(text)
            node = loader.get_single_node()
            raw = loader.construct_document(node) if node is not None else None
        except yaml.YAMLError as exc:
            raise InvalidInput(f"{head} : {yaml_problem(exc)}.") from None
        except (RecursionError, ValueError, TypeError):
            raise InvalidInput(f"{head} : le YAML est mal formé.") from None
        finally:
            if loader is not None:
                loader.dispose()
        lines = _node_lines(node) if node is not None else {}
    if not isinstance(raw, dict):
        raise InvalidInput(f"{head} : le fichier doit décrire un ensemble de champs.")
    problem = _check_strings(raw)
    if problem:
        raise InvalidInput(f"{head} : {problem}.")
    return raw, lines


def load_model(path: Path, model: type[M], what: str, *, refusal: str | None = None) -> tuple[M, str]:
    """Read, parse and validate a user's file: the model and the file's text.

    Raises InvalidInput listing every problem (`chemin (ligne N) : message`); `refusal` is the
    message's first sentence (default: « Fichier <what> <name> refusé »)."""
    text = read_text_file(path, what)
    return validate_text(text, path.name, model, what, refusal=refusal), text


def validate_text(text: str, name: str, model: type[M], what: str, *, refusal: str | None = None) -> M:
    """Parse and validate a user's document already in memory (an upload, a file's text)."""
    raw, lines = parse_document(text, name, what)
    head = refusal or f"Fichier {what} {visible(name)} refusé"
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = french_errors(exc, lines)
        raise InvalidInput(f"{head} : {len(problems)} problème(s).", problems) from None
    except (ValueError, OverflowError, RecursionError):  # a conversion the rules did not foresee
        raise InvalidInput(f"{head} : une valeur est hors limites.") from None


def write_text(path: Path, text: str) -> None:
    """Write a file for the user, refusing in French when the system does."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"Impossible d'écrire {path} : {os_reason(exc)}.") from None


def write_new(path: Path, data: bytes, replace: bool) -> None:
    """Write a new file for the user, or overwrite one only when asked (`replace`, the commands'
    `--remplacer`): InvalidInput in French otherwise, or when the system refuses."""
    try:
        with path.open("wb" if replace else "xb") as handle:
            handle.write(data)
    except FileExistsError:
        raise _exists(path) from None
    except OSError as exc:
        raise InvalidInput(f"Impossible d'écrire {path} : {os_reason(exc)}.") from None


def check_new(path: Path, replace: bool) -> None:
    """Refuse ahead (InvalidInput) the file `write_new` would refuse, before any work is done."""
    if not replace and path.exists():
        raise _exists(path)


def _exists(path: Path) -> InvalidInput:
    return InvalidInput(f"Le fichier {path} existe déjà : choisissez un autre nom, ou ajoutez --remplacer pour "
                        "l'écraser.")


def french_errors(exc: ValidationError, lines: dict[tuple[Any, ...], int] | None = None) -> list[str]:
    """One French line per problem: `chemin (ligne N) : message`."""
    out = []
    for error in exc.errors(include_url=False):
        loc = tuple(p for p in error["loc"] if not str(p).startswith("function-"))
        where = field_path(loc)
        line = _nearest_line(lines, loc) if lines else None
        suffix = f" (ligne {line})" if line else ""
        out.append(f"{where}{suffix} : {describe(error)}")
    return out


def _nearest_line(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int | None:
    for size in range(len(loc), -1, -1):
        if loc[:size] in lines:
            return lines[loc[:size]]
    return None


def _node_lines(root: yaml.Node) -> dict[tuple[Any, ...], int]:
    lines: dict[tuple[Any, ...], int] = {}
    stack: list[tuple[yaml.Node, tuple[Any, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                lines[(*path, key.value)] = key.start_mark.line + 1
                stack.append((value, (*path, key.value)))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                stack.append((item, (*path, index)))
    return lines


def yaml_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, _Refusal):
        return exc.message + _where(exc.problem_mark)
    if isinstance(exc, yaml.reader.ReaderError):
        return f"caractère non permis (U+{exc.character:04X}) en position {exc.position}" if isinstance(
            exc.character, int) else "le fichier contient un caractère non permis"
    mark = getattr(exc, "problem_mark", None)
    where = f" (ligne {mark.line + 1}, colonne {mark.column + 1})" if mark else ""
    return f"le YAML est mal formé{where}"


def _read_at_most(fd: int, count: int) -> bytes:
    """Up to `count` bytes of an open file, read by chunks of 1 MiB whatever size it claims (a file
    that grows while read, or a /proc file that says 0, is bounded all the same)."""
    chunks, size = [], 0
    while size < count:
        chunk = os.read(fd, min(1 << 20, count - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
