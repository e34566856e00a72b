"""Hypothesis strategies for hostile input: application files, jury score sheets, programme files
and command lines, each derived from the valid examples by mutations.

Every case is bad input: each mutation is labelled `bad` (refused by the rules: README and issue 8)
or not (it may be acceptable, e.g. a deleted optional field); a case with no `bad` mutation gets one
more that is. So a case must always be refused: non-zero exit, nothing stored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml
from hypothesis import strategies as st

from tests.fuzz.harness import EXAMPLES, PROGRAMME_FILE, ROOT, TEMPLATE_AT


@dataclass(frozen=True)
class Case:
    target: str  # application, jury, programme, cli
    template: str  # the prepared database: open, jury, pilots
    argv: tuple[str, ...]
    files: tuple[tuple[str, bytes], ...]
    notes: tuple[str, ...]  # the mutations, for the report
    expect_refusal: bool = True
    read_only: bool = False

    def describe(self, width: int = 300) -> str:
        head = f"[{self.target}] transitions {' '.join(_shell(a) for a in self.argv)}"
        body = "; ".join(self.notes)
        files = "".join(f" | {name}: {content[:width]!r}" for name, content in self.files)
        return _cut(f"{head}  ## {body}{files}", width * 2)


def _shell(arg: str) -> str:
    return arg if re.fullmatch(r"[\w./:@+=,-]+", arg) else repr(arg)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width] + f"… ({len(text)} chars)"


# -- raw values that the serialisers cannot write themselves -------------------------------------


@dataclass(frozen=True)
class Raw:
    """Text put verbatim where a value goes (YAML 1.1 spellings, huge ints, deep nesting, bombs)."""

    yaml: str
    json: str


def huge_int(digits: int) -> Raw:
    text = "9" * digits
    return Raw(text, text)


def deep(depth: int, kind: str) -> Raw:
    text = "[" * depth + "]" * depth if kind == "list" else '{"a": ' * depth + "1" + "}" * depth
    return Raw(text, text)


def alias_bomb(width: int, depth: int) -> Raw:
    levels = ["&a0 [" + ", ".join(["x"] * width) + "]"]
    levels += [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, depth + 1)]
    return Raw("[" + ", ".join(levels) + "]", deep(depth, "list").json)


WEIRD_CHARS = ["\x1b[31m", "\x1b]0;titre\x07", "\x1b[2J", "\x07", "\x08", "\x7f", "\x85", "\x9b", "\u202e",
               "\u200b", "\u00a0", "\u202f", "\u2028", "\ufeff", "\ud7ff", "\U0001f600", "\r", "\t", "\x0c",
               "e\u0301", "\uff10", "\u0663"]
UNICODE_SPACES = ["\u00a0", "\u202f", "\u2009", "\u3000", "\u200b", "\t"]

texts = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)
weird_texts = st.lists(st.one_of(st.sampled_from(WEIRD_CHARS), texts), min_size=1, max_size=4).map("".join)
long_texts = st.integers(300, 20_000).map(lambda n: "é" * n)

# A replacement value, whatever the field: (value, label) where label names it for the report.
any_value = st.one_of(
    st.none().map(lambda v: (v, "null")),
    st.booleans().map(lambda v: (v, f"bool {v}")),
    st.integers(-(2**70), 2**70).map(lambda v: (v, f"int {v}")),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda v: (v, f"float {v}")),
    texts.map(lambda v: (v, f"text {v!r}")),
    weird_texts.map(lambda v: (v, f"control/unicode text {v!r}")),
    long_texts.map(lambda v: (v, f"text of {len(v)} chars")),
    st.lists(texts, max_size=3).map(lambda v: (v, f"list {v!r}")),
    st.dictionaries(texts, texts, max_size=2).map(lambda v: (v, f"mapping {v!r}")),
    st.integers(4300, 20_000).map(lambda n: (huge_int(n), f"integer of {n} digits")),
    st.tuples(st.integers(50, 3000), st.sampled_from(["list", "map"])).map(
        lambda t: (deep(*t), f"{t[1]} nested {t[0]} deep")),
    st.tuples(st.integers(2, 6), st.integers(1, 5)).map(
        lambda t: (alias_bomb(*t), f"alias bomb {t[0]}^{t[1]}")),
    st.sampled_from(["!!python/object/apply:os.getcwd []", "!!binary aGVsbG8=", "!!set {a, b}",
                     "!!timestamp 2015-04-02", "!!float 1e999", "!!str", "!!null ''", "&x 1", "*inconnu"]
                    ).map(lambda v: (Raw(v, v), f"YAML {v}")),
)


def _kind(value: Any) -> str:
    if isinstance(value, Raw):
        return "raw"
    return {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict",
            type(None): "null"}[type(value)]


def is_bad_replacement(old: Any, new: Any, label: str) -> bool:
    """A replacement the rules must refuse: another type (strict types), bounded parsing."""
    old_kind, new_kind = _kind(old), _kind(new)
    if new_kind == "null":
        return False  # an optional field may be left empty
    if new_kind == "raw":
        return not label.startswith(("YAML !!str", "YAML !!null", "YAML &x", "YAML !!timestamp"))
    if {old_kind, new_kind} <= {"int", "float"}:
        return False
    return old_kind != new_kind


# -- walking a document -------------------------------------------------------------------------

Path_ = tuple[Any, ...]


def node_paths(tree: Any, path: Path_ = ()) -> list[Path_]:
    found = [path]
    if isinstance(tree, dict):
        for key, value in tree.items():
            found += node_paths(value, (*path, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found += node_paths(value, (*path, index))
    return found


def get(tree: Any, path: Path_) -> Any:
    for part in path:
        tree = tree[part]
    return tree


def copy(tree: Any) -> Any:
    return json.loads(json.dumps(tree))


def dotted(path: Path_) -> str:
    return ".".join(str(p) for p in path) or "<racine>"


@dataclass
class Doc:
    tree: Any
    notes: list[str]
    bad_paths: list[Path_]  # where a bad mutation is; a later one over it (or its parent) may undo it
    text_edits: list[tuple[str, bool]]  # (edit name, bad) applied after serialisation
    source: Any = None  # the valid document, whose types say what a replacement must respect

    @property
    def bad(self) -> bool:
        return bool(self.bad_paths) or any(bad for _, bad in self.text_edits)

    def mark(self, path: Path_, bad: bool = True) -> None:
        if bad:
            self.bad_paths.append(tuple(path))

    def overwrite(self, path: Path_) -> None:
        """`path` is replaced or deleted: bad mutations under it are gone."""
        self.bad_paths = [p for p in self.bad_paths if p[:len(path)] != tuple(path)]


def mutate_tree(draw: Any, doc: Doc, required: dict[Path_, set[str]], special: Any) -> None:
    """One structural mutation of the document's tree."""
    paths = node_paths(doc.tree)
    op = draw(st.sampled_from(["replace", "replace", "replace", "delete", "unknown_key", "duplicate_item",
                               "rename_key", "special", "special"]))
    if op == "special" and special is not None:
        attempt(draw, doc, special)
        return
    if op == "replace" and len(paths) > 1:
        path = draw(st.sampled_from([p for p in paths if p]))
        new, label = draw(any_value)
        get(doc.tree, path[:-1])[path[-1]] = new
        try:
            bad = is_bad_replacement(get(doc.source, path), new, label)
        except (KeyError, IndexError, TypeError):  # not in the valid document: only what is bad anywhere
            bad = _kind(new) == "raw" and is_bad_replacement("", new, label)
        doc.notes.append(f"{dotted(path)} := {_cut(label, 80)}{'' if bad else ' (peut-être valide)'}")
        doc.overwrite(path)
        doc.mark(path, bad)
    elif op == "delete" and any(p and isinstance(p[-1], str) for p in paths):
        keyed = [p for p in paths if p and isinstance(p[-1], str)]
        path = draw(st.sampled_from(keyed))
        del get(doc.tree, path[:-1])[path[-1]]
        bad = path[-1] in required.get(_generic(path[:-1]), set())
        doc.notes.append(f"{dotted(path)} supprimé{'' if bad else ' (peut-être facultatif)'}")
        doc.overwrite(path)
        doc.mark(path[:-1], bad)
    elif op == "unknown_key":
        maps = [p for p in paths if isinstance(get(doc.tree, p), dict) and _generic(p) in required]
        path = draw(st.sampled_from(maps))
        key = draw(st.sampled_from(["couleur", "SIREN", "siren ", "nom\u200b", "__proto__", "<<", "", "1"]))
        if key in get(doc.tree, path):
            return
        get(doc.tree, path)[key] = "x"
        doc.notes.append(f"{dotted(path)}.{key!r} ajouté (champ inconnu)")
        doc.mark((*path, key))
    elif op == "rename_key" and any(p and isinstance(p[-1], str) and _generic(p[:-1]) in required for p in paths):
        keyed = [p for p in paths if p and isinstance(p[-1], str) and _generic(p[:-1]) in required]
        path = draw(st.sampled_from(keyed))
        parent, key = get(doc.tree, path[:-1]), path[-1]
        new_key = draw(st.sampled_from([key.upper(), key + " ", " " + key, key + "\u00a0", key.replace("e", "é")]))
        if new_key == key or new_key in parent:
            return
        parent[new_key] = parent.pop(key)
        doc.notes.append(f"clé {dotted(path)} renommée {new_key!r}")
        doc.overwrite(path)
        doc.mark((*path[:-1], new_key))
    elif op == "duplicate_item":
        lists = [p for p in paths if isinstance(get(doc.tree, p), list) and get(doc.tree, p)]
        if not lists:
            return
        path = draw(st.sampled_from(lists))
        items = get(doc.tree, path)
        index = draw(st.integers(0, len(items) - 1))
        items.insert(index, copy(items[index]))
        # The same partner twice is merged with a warning (issue 8's decision); the same file, juror
        # or criterion twice is refused.
        bad = path[-1:] in {("formulaire",), ("members",), ("criteria",)}
        doc.notes.append(f"{dotted(path)}[{index}] en double{'' if bad else ' (peut-être valide)'}")
        doc.mark(path, bad)


def attempt(draw: Any, doc: Doc, mutation: Any) -> None:
    """A targeted mutation; where the document no longer has the expected shape, an unknown key instead."""
    try:
        mutation(draw, doc)
    except (TypeError, KeyError, IndexError, AttributeError, ValueError):
        _unknown_top_key(draw, doc)


def _generic(path: Path_) -> Path_:
    """A path with list indexes replaced by '*', to look up which keys a mapping requires."""
    return tuple("*" if isinstance(p, int) else p for p in path)


TEXT_EDITS = ["duplicate_key", "control_char", "bom", "crlf", "tabs", "truncate", "alias", "merge_key",
              "latin1", "huge_int_text", "deep_text"]


BAD_TEXT_EDITS = {"duplicate_key", "latin1", "deep_text", "huge_int_text"}
DESTRUCTIVE_TEXT_EDITS = {"truncate", "control_char"}  # they may cut or split what made the tree bad


def text_edit(draw: Any, doc: Doc, fmt: str) -> None:
    edit = draw(st.sampled_from(TEXT_EDITS))
    doc.text_edits.append((edit, edit in BAD_TEXT_EDITS))


def apply_text_edit(draw: Any, text: str, edit: str, fmt: str, tree: Any) -> tuple[bytes | str, str]:
    """Edits of the file's text that the tree cannot express; returns the text and a note."""
    keys = list(tree) if isinstance(tree, dict) else ["x"]
    key = draw(st.sampled_from(keys or ["x"]))
    if edit == "duplicate_key":
        if fmt == "json":
            pair = json.dumps(key) + ': "doublon", '
            return "{" + pair * 2 + text.lstrip()[1:], f"clé {key!r} en double"
        return text + f"\n{key}: doublon\n{key}: doublon\n", f"clé {key!r} en double"
    if edit == "control_char":
        position = draw(st.integers(0, len(text)))
        char = draw(st.sampled_from(WEIRD_CHARS + ["\x01", "\x1b", "\ud800"]))
        return text[:position] + char + text[position:], f"caractère {char!r} inséré en position {position}"
    if edit == "bom":
        return "\ufeff" + text, "BOM en tête"
    if edit == "crlf":
        return text.replace("\n", "\r\n"), "fins de ligne CRLF"
    if edit == "tabs":
        return text.replace("  ", "\t"), "indentation par tabulations"
    if edit == "truncate":
        position = draw(st.integers(0, len(text)))
        return text[:position], f"tronqué à {position} caractères"
    if edit == "alias" and fmt == "yaml":
        return text + f"\nancre_fuzz: &ancre {json.dumps(key)}\nusage_fuzz: *ancre\n", "ancre et alias ajoutés"
    if edit == "merge_key" and fmt == "yaml":
        return text + "\nbase_fuzz: &base {a: 1}\nfusion_fuzz:\n  <<: *base\n", "clé de fusion << ajoutée"
    if edit == "latin1":
        return b"# \xe9t\xe9\n" + text.encode("utf-8", "surrogatepass").decode("utf-8", "replace").encode(
            "latin-1", "replace"), "encodé en Latin-1"
    if edit == "huge_int_text":
        n = draw(st.integers(4300, 50_000))
        if fmt == "json":
            return "{" + json.dumps(key) + f": {'1' * n}, " + text.lstrip()[1:], \
                f"{key} := entier de {n} chiffres (clé en double en JSON)"
        return text + f"\n{key}: {'1' * n}\n", f"{key} := entier de {n} chiffres"
    if edit == "deep_text":
        n = draw(st.integers(500, 5000))
        if fmt == "json":
            return "{" + json.dumps(key) + f": {'[' * n}{']' * n}, " + text.lstrip()[1:], \
                f"{key} := liste imbriquée {n} fois (clé en double en JSON)"
        return text + f"\n{key}: {'[' * n}{']' * n}\n", f"{key} := liste imbriquée {n} fois"
    return text, f"{edit} (sans effet en {fmt})"


def serialise(draw: Any, tree: Any, fmt: str) -> str:
    """YAML (block or flow style) or JSON, with Raw values put in verbatim."""
    raws: dict[str, Raw] = {}

    def swap(node: Any) -> Any:
        if isinstance(node, Raw):
            token = f"zzraw{len(raws)}zz"
            raws[token] = node
            return token
        if isinstance(node, dict):
            return {k: swap(v) for k, v in node.items()}
        if isinstance(node, list):
            return [swap(v) for v in node]
        return node

    plain = swap(tree)
    if fmt == "json":
        text = json.dumps(plain, ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, 2])))
        for token, raw in raws.items():
            text = text.replace(f'"{token}"', raw.json)
    else:
        text = yaml.safe_dump(plain, allow_unicode=draw(st.booleans()), sort_keys=False,
                              default_flow_style=draw(st.sampled_from([False, None])), width=10_000)
        for token, raw in raws.items():
            text = text.replace(token, raw.yaml)
    return text


@st.composite
def mutated_document(draw: Any, source: Any, required: dict[Path_, set[str]], fmt: str, special: Any,
                     anchor: Any) -> tuple[bytes, list[str]]:
    """The source mutated 1 to 3 times (tree and text); always bad."""
    doc = Doc(copy(source), [], [], [], source)
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.integers(0, 4)) == 0:
            text_edit(draw, doc, fmt)
        else:
            mutate_tree(draw, doc, required, special)
    if not doc.bad:
        attempt(draw, doc, anchor)
    if any(e in DESTRUCTIVE_TEXT_EDITS for e, _ in doc.text_edits) and not any(b for _, b in doc.text_edits):
        doc.text_edits.append(("duplicate_key", True))
    text: bytes | str = serialise(draw, doc.tree, fmt)
    for edit, _bad in sorted(doc.text_edits, key=lambda e: (e[1], e[0] == "latin1")):  # the bad ones last
        if isinstance(text, bytes):
            break
        text, note = apply_text_edit(draw, text, edit, fmt, doc.tree)
        doc.notes.append(note)
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    return data, doc.notes


# -- applications -------------------------------------------------------------------------------


class _TextDates(yaml.SafeLoader):
    """Dates stay text, as the product reads them."""


_TextDates.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load(path: Any) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_TextDates)  # noqa: S506  (a SafeLoader)


def _required_from_schema(schema: dict[str, Any]) -> dict[Path_, set[str]]:
    """For each mapping of the form (generic path), the keys it requires, from the JSON Schema."""
    defs = schema.get("$defs", {})
    found: dict[Path_, set[str]] = {}

    def visit(node: dict[str, Any], path: Path_) -> None:
        if "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[1]]
        for option in node.get("anyOf", []):
            visit(option, path)
        if node.get("type") == "object" and "properties" in node:
            found[path] = set(node.get("required", []))
            for key, sub in node["properties"].items():
                visit(sub, (*path, key))
        if node.get("type") == "array" and isinstance(node.get("items"), dict):
            visit(node["items"], (*path, "*"))

    visit(schema, ())
    return found


APPLICATIONS = sorted(p.name for p in EXAMPLES.glob("candidature-*.yaml"))
_APPLICATION_SOURCES = {name: _load(EXAMPLES / name) for name in APPLICATIONS}
_APPLICATION_REQUIRED: dict[Path_, set[str]] | None = None


def application_required() -> dict[Path_, set[str]]:
    global _APPLICATION_REQUIRED
    if _APPLICATION_REQUIRED is None:
        from models.forms import ApplicationForm

        _APPLICATION_REQUIRED = _required_from_schema(ApplicationForm.model_json_schema())
    return _APPLICATION_REQUIRED


BAD_SIRENS = ["200033578", "", " ", "20003357", "2000335790", "abcdefghi", "000000000", "2OOO33579",
              "200-033-579", "+200033579", "２０００３３５７９", "200033579\n", "200033579\x1b[0m", "0" * 4301]


def _siren_special(draw: Any, doc: Doc) -> None:
    """SIREN of the lead or a partner: wrong digits, unicode spaces, zeros; or the same partner twice."""
    tree = doc.tree
    choice = draw(st.sampled_from(["lead", "partner", "spaces", "same_partner"]))
    if choice == "spaces":
        space = draw(st.sampled_from(UNICODE_SPACES))
        siren = tree["collectivite_chef_de_file"].get("siren", "200033579")
        spaced = space.join([siren[:3], siren[3:6], siren[6:]])
        tree["collectivite_chef_de_file"]["siren"] = spaced
        doc.notes.append(f"collectivite_chef_de_file.siren := {spaced!r} (peut-être valide)")
        return
    partners = [p for p in tree.get("partenaires") or [] if isinstance(p, dict)]
    if choice == "same_partner" and partners:  # merged, with a warning in the acknowledgement
        tree["partenaires"].append(copy(partners[0]))
        doc.notes.append("partenaires : le premier partenaire en double (fusionné avec un avertissement)")
        return
    value = draw(st.sampled_from(BAD_SIRENS))
    if choice == "partner" and partners:
        partners[0]["siren"] = value
        doc.notes.append(f"partenaires[0].siren := {value[:20]!r}")
        doc.mark(("partenaires", tree["partenaires"].index(partners[0]), "siren"))
    else:
        tree["collectivite_chef_de_file"]["siren"] = value
        doc.notes.append(f"collectivite_chef_de_file.siren := {value[:20]!r}")
        doc.mark(("collectivite_chef_de_file", "siren"))


def _attachment_special(draw: Any, doc: Doc) -> None:
    """Attachments outside the application's folder, missing, a folder, or of the wrong kind."""
    files = doc.tree.get("formulaire")
    if not isinstance(files, list) or not files or not isinstance(files[0], dict):
        doc.tree["formulaire"] = []
        doc.notes.append("formulaire := []")
        doc.overwrite(("formulaire",))
        doc.mark(("formulaire",))
        return
    target = draw(st.sampled_from(["../../../../../etc/hostname", "/etc/hostname", "/tmp", "pieces", "",
                                   "pieces/../pieces/absente.pdf", "binaire.yaml", "notes.txt", "/dev/null",
                                   "pieces/" + "x" * 300 + ".pdf", "pieces/formulaire-cu-arras.pdf\x00",
                                   "C:\\formulaire.pdf", "~/formulaire.pdf", "dossier"]))
    files[0]["fichier"] = target
    doc.notes.append(f"formulaire[0].fichier := {target[:40]!r}")
    doc.mark(("formulaire", 0, "fichier"))


def _application_special(draw: Any, doc: Doc) -> None:
    draw(st.sampled_from([_siren_special, _attachment_special]))(draw, doc)


def _application_anchor(draw: Any, doc: Doc) -> None:
    draw(st.sampled_from([_siren_special, _attachment_special, _unknown_top_key]))(draw, doc)
    if not doc.bad:
        _unknown_top_key(draw, doc)


def _unknown_top_key(draw: Any, doc: Doc) -> None:
    if isinstance(doc.tree, dict):
        doc.tree["champ_inconnu_fuzz"] = "x"
        doc.notes.append("champ inconnu « champ_inconnu_fuzz » ajouté")
        doc.mark(("champ_inconnu_fuzz",))


@st.composite
def application_cases(draw: Any) -> Case:
    name = draw(st.sampled_from(APPLICATIONS))
    fmt = draw(st.sampled_from(["yaml", "yaml", "json"]))
    data, notes = draw(mutated_document(_APPLICATION_SOURCES[name], application_required(), fmt,
                                        _application_special, _application_anchor))
    file = f"candidature.{fmt}"
    argv = ("submit", file, "--at", TEMPLATE_AT["open"], "--no-send")
    return Case("application", "open", argv, ((file, data),), (name, *notes))


# -- jury score sheets --------------------------------------------------------------------------

SHEETS = sorted(p.name for p in (EXAMPLES / "jury").glob("*.yaml"))
_SHEET_SOURCES = {name: _load(EXAMPLES / "jury" / name) for name in SHEETS}
_SHEET_REQUIRED: dict[Path_, set[str]] = {(): {"juror", "notes"}, ("notes",): set()}
BAD_SCORES = ["true", "false", "yes", "no", "on", "off", "0x5", "0o5", "0b101", "05", "5_0", "1:0", "6", "-1",
              "5.5", "'5'", ".nan", ".inf", "-.inf", "1e400", "null", "~", "[5]", "{a: 5}", "99999999999999999999",
              "9" * 4400, "5.0"]


def _score_special(draw: Any, doc: Doc) -> None:
    notes = doc.tree.get("notes")
    if not isinstance(notes, dict) or not notes:
        return
    reference = draw(st.sampled_from(sorted(notes)))
    scores = notes[reference]
    choice = draw(st.sampled_from(["score", "score", "score", "reference", "criterion", "empty"]))
    if choice == "score" and isinstance(scores, dict) and scores:
        criterion = draw(st.sampled_from(sorted(scores)))
        spelling = draw(st.sampled_from(BAD_SCORES))
        scores[criterion] = Raw(spelling, json.dumps(spelling) if not spelling[0].isdigit() else spelling)
        bad = spelling not in {"5.0"}
        doc.notes.append(f"notes.{reference}.{criterion} := {spelling[:20]}{'' if bad else ' (peut-être valide)'}")
        doc.overwrite(("notes", reference, criterion))
        doc.mark(("notes", reference, criterion), bad)
    elif choice == "reference":
        other = draw(st.sampled_from(["CERDD-2015-9999", "123456782", "000000000", "217500016", "", " 200033579",
                                      "200033579\u00a0", "cerdd-2015-0001", "CERDD-2015-0003\x1b[0m"]))
        if other in notes:
            return
        notes[other] = notes.pop(reference)
        bad = other not in {" 200033579", "cerdd-2015-0001"}
        doc.notes.append(f"notes : {reference} renommé {other!r}{'' if bad else ' (peut-être valide)'}")
        doc.overwrite(("notes", reference))
        doc.mark(("notes", other), bad)
    elif choice == "criterion" and isinstance(scores, dict):
        criterion = draw(st.sampled_from(["inconnu", "Portage", "portage ", ""]))
        scores[criterion] = 3
        doc.notes.append(f"notes.{reference} : critère inconnu ajouté")
        doc.mark(("notes", reference, criterion))
    elif choice == "empty":
        notes[reference] = {}
        doc.notes.append(f"notes.{reference} := {{}} (peut-être valide)")
        doc.overwrite(("notes", reference))


def _jury_anchor(draw: Any, doc: Doc) -> None:
    _score_special(draw, doc)
    if not doc.bad:
        _unknown_top_key(draw, doc)


@st.composite
def jury_cases(draw: Any) -> Case:
    name = draw(st.sampled_from(SHEETS))
    fmt = draw(st.sampled_from(["yaml", "yaml", "json"]))
    data, notes = draw(mutated_document(_SHEET_SOURCES[name], _SHEET_REQUIRED, fmt, _score_special, _jury_anchor))
    file = f"notes.{fmt}"
    argv = ("jury", "score", file, "--at", TEMPLATE_AT["jury"])
    return Case("jury", "jury", argv, ((file, data),), (name, *notes))


# -- programme files ----------------------------------------------------------------------------

_PROGRAMME_SOURCE = _load(PROGRAMME_FILE)
_PROGRAMME_SOURCE["call"]["territory"]["register_file"] = str(ROOT / "data" / "epci-npdc-2015.csv")
_PROGRAMME_REQUIRED: dict[Path_, set[str]] | None = None


def programme_required() -> dict[Path_, set[str]]:
    global _PROGRAMME_REQUIRED
    if _PROGRAMME_REQUIRED is None:
        from models.programme import ProgrammeDefinition

        _PROGRAMME_REQUIRED = _required_from_schema(ProgrammeDefinition.model_json_schema())
    return _PROGRAMME_REQUIRED


BAD_INSTANTS = ["0001-01-01T00:00", "9999-12-31T23:59:59-12:00", "2015-02-30T09:00:00", "2015-13-01T09:00",
                "2015-04-02T24:00", "2015-04-02T09:00+25:00", "demain", "", "2015-04-02T09:00\x1b[0m",
                "+002015-04-02T09:00", "１９９９-01-01T00:00", "nan", "1e10"]
BAD_DURATIONS = ["P-1M", "P", "PT", "1 mois", "P999999999Y", "-P1M", "P1.5M", "P" + "9" * 5000 + "D"]


def _programme_special(draw: Any, doc: Doc) -> None:
    tree = doc.tree
    choice = draw(st.sampled_from(["instant", "instant", "duration", "register", "templates", "order"]))
    if choice == "instant":
        key = draw(st.sampled_from([("call", "launch"), ("call", "deadline"), ("jury", "meeting")]))
        value = draw(st.sampled_from(BAD_INSTANTS))
        tree[key[0]][key[1]] = value
        doc.notes.append(f"{'.'.join(key)} := {value!r}")
        doc.mark(key)
    elif choice == "duration":
        durations = [p for p in node_paths(tree) if p and isinstance(get(tree, p), str)
                     and re.fullmatch(r"-?P(?:T?\d+[YMWDHS])+", get(tree, p))]
        if not durations:
            raise ValueError("no duration left")
        path = draw(st.sampled_from(durations))
        value = draw(st.sampled_from(BAD_DURATIONS))
        get(tree, path[:-1])[path[-1]] = value
        doc.notes.append(f"{dotted(path)} := {value[:20]!r}")
        doc.mark(path)
    elif choice == "register":
        value = draw(st.sampled_from(["../../../../../../etc/passwd", "/etc/hostname", "/tmp", "", "registre.csv",
                                      "x" * 300 + ".csv", "notes.txt", "binaire.yaml"]))
        tree["call"]["territory"]["register_file"] = value
        doc.notes.append(f"call.territory.register_file := {value[:40]!r}")
        doc.mark(("call", "territory", "register_file"))
    elif choice == "templates":
        value = draw(st.sampled_from(["/etc", "../../../..", "/tmp", "dossier", "notes.txt", "x" * 300]))
        tree["templates_dir"] = value
        bad = value in {"notes.txt", "x" * 300}
        doc.notes.append(f"templates_dir := {value[:40]!r}{'' if bad else ' (peut-être valide)'}")
        doc.mark(("templates_dir",), bad)
    else:
        tree["call"]["launch"] = "2015-05-08T09:00:00"
        doc.notes.append("call.launch := le lendemain de la date limite")
        doc.mark(("call", "launch"))


@st.composite
def programme_cases(draw: Any) -> Case:
    fmt = draw(st.sampled_from(["yaml", "yaml", "yaml", "json"]))
    data, notes = draw(mutated_document(_PROGRAMME_SOURCE, programme_required(), fmt, _programme_special,
                                        _programme_special))
    file = f"programme.{fmt}"
    argv = ("init", "--programme", file, "--at", TEMPLATE_AT["pilots"])
    return Case("programme", "pilots", argv, ((file, data),), ("cerdd-2015.yaml", *notes))


# -- command lines ------------------------------------------------------------------------------

# For each kind of value: (good values, bad values that must be refused, doubtful values).
_AT_GOOD = [TEMPLATE_AT["pilots"], "2015-07-02", "2015-07-02T10:00:00+02:00", "2015-07-02T08:00Z"]
_NAMES_DOUBTFUL = ["Jean-Marc Lefebvre\x1b[31m", "\u202eLefebvre", "É" * 5000, "a" * 100_000, "Nom\u00a0Prénom",
                   "[red]rouge[/red]", "=HYPERLINK(1)", "-", "--", "Nom\nSur deux lignes"]
VALUES: dict[str, tuple[list[str], list[str], list[str]]] = {
    "at": (_AT_GOOD, BAD_INSTANTS + ["le 7 mai", " ", "2015-07-02T10:00 Europe/Paris", "9" * 5000,
                                     "2015-07-02T10:00+02:00[Europe/Paris]"],
           ["1970-01-01T00:00", "2100-01-01T00:00", "2015-07-02T10:00:00.123456789", "2015-W27-4T10:00"]),
    "programme": (["cerdd-2015"], ["inconnu", "", " ", "cerdd-2015\x1b", "../cerdd-2015", "x" * 5000,
                                   "CERDD-2015", "%", "*"], []),
    "siren": (["246201016"], BAD_SIRENS, ["246 201 016", "246\u00a0201\u00a0016",
                                                            "246\u202f201\u202f016"]),
    "pilot": (["200033579", "CERDD-2015-0001", "CU d'Arras"],
              ["inconnu", "", " ", "000000000", "2000335790", "200033578", "%", "_", "CERDD-2015-9999",
               "x" * 10_000], ["200 033 579", "200\u00a0033\u00a0579", "cu d'arras"]),
    "session": (["formation-1"], ["inconnue", "", " ", "../formation-1", "FORMATION-1", "x" * 10_000], []),
    "deliverable": (["diagnostic"], ["inconnu", "", " ", "methode\x1b", "x" * 10_000], []),
    "party": (["territoire", "cerdd", "prestataire"], ["", " ", "tous", "Territoire\x1b", "x" * 10_000], []),
    "name": (["Claire Dufour"], ["", " ", "\t", "\u00a0"], [*_NAMES_DOUBTFUL, "\u200b"]),
    "email": (["d.hochart@ccpl.example.org"], ["", " ", "x", "a@", "@b.org", "a@b@c.org", "a b@c.org",
                                               "a@b.org\x1b[0m", "x" * 5000 + "@b.org"], ["A@EXAMPLE.ORG"]),
    "int": (["1", "5", "50"], ["0", "-1", str(2**63), str(2**64), "9" * 5000, "abc", "", "1.5", "0x10", "1e3"],
            [str(2**31), str(2**63 - 1), " 5", "٣", "5.0"]),
    "notice_id": (["1", "2"], ["0", "-1", "99999999", str(2**63), "9" * 5000, "abc", ""], ["٣", " 1", "1.0"]),
    "out_file": (["sortie.txt"], ["/nonexistent/dossier/f.txt", "", ".", "dossier", "/proc/f.txt", "x" * 300,
                                  "notes.txt/f.txt", "/dev/full"], ["sortie\x1b.txt", "é" * 200]),
    "in_file": ([], ["absent.yaml", "", ".", "dossier", "binaire.yaml", "notes.txt", "x" * 300 + ".yaml",
                     "../../../../../../etc/hostname", "/proc/self/status", "pieces/formulaire-cu-arras.pdf"], []),
    "status": (["envoye", "en_attente", "abandonne"], [], ["inconnu", "", "ENVOYE", "x" * 10_000]),
    "filter": (["accuse_reception", "charte"], [], ["", "%", "_", "\x1b[31m", "x" * 10_000, "'; DROP TABLE x; --"]),
    "what": (["application"], ["inconnu", "", "APPLICATION", "programme"], []),
    "demo_out": ([], ["/proc/transitions-demo", "notes.txt/demo", "/dev/null/demo", "x" * 300], []),
}

# command: (read only?, positional arguments, {option: value kind}, required options)
COMMANDS: dict[tuple[str, ...], tuple[bool, list[str], dict[str, str], set[str]]] = {
    ("tick",): (False, [], {"--at": "at", "--programme": "programme"}, set()),
    ("announce",): (False, ["siren"], {"--contact": "name", "--email": "email", "--at": "at",
                                       "--programme": "programme"}, {"--contact", "--email"}),
    ("submit",): (False, ["in_file"], {"--at": "at", "--by": "email", "--programme": "programme"}, set()),
    ("applications",): (True, [], {"--csv": "out_file", "--history": "pilot", "--show": "pilot",
                                   "--programme": "programme"}, set()),
    ("sign",): (False, ["pilot"], {"--party": "party", "--signatory": "name", "--at": "at",
                                   "--programme": "programme"}, {"--party", "--signatory"}),
    ("attend",): (False, ["pilot", "session", "name"], {"--organisation": "name", "--at": "at",
                                                        "--programme": "programme"}, {"--organisation"}),
    ("deliverable",): (False, ["pilot", "deliverable"], {"--at": "at", "--programme": "programme"}, set()),
    ("tasks",): (True, [], {"--pilot": "pilot", "--csv": "out_file", "--at": "at", "--programme": "programme"},
                 set()),
    ("calendar",): (True, [], {"--out": "out_file", "--programme": "programme"}, {"--out"}),
    ("init",): (False, [], {"--programme": "in_file", "--at": "at"}, set()),
    ("status",): (True, [], {"--at": "at", "--programme": "programme", "--markdown": "out_file"}, set()),
    ("audit",): (True, [], {"--limit": "int", "--action": "filter", "--programme": "programme"}, set()),
    ("schema",): (True, ["what"], {}, set()),
    ("jury", "score"): (False, ["in_file"], {"--at": "at", "--programme": "programme"}, set()),
    ("jury", "ranking"): (True, [], {"--programme": "programme"}, set()),
    ("jury", "dossier"): (True, [], {"--out": "out_file", "--programme": "programme"}, {"--out"}),
    ("outbox", "list"): (True, [], {"--status": "status", "--limit": "int", "--kind": "filter", "--to": "filter"},
                         set()),
    ("outbox", "show"): (True, ["notice_id"], {"--html": "out_file"}, set()),
    ("outbox", "retry"): (False, ["notice_id"], {"--at": "at"}, set()),
    ("outbox", "deliver"): (False, [], {"--at": "at"}, set()),
    ("demo",): (False, [], {"--out": "demo_out"}, {"--out"}),
    ("programme", "diff"): (False, ["in_file"], {"--at": "at", "--html": "out_file"}, set()),
    ("programme", "apply"): (False, ["in_file"], {"--reason": "name", "--at": "at"}, {"--reason"}),
}


# `demo` has a default --out (var/demo): without a bad one it would replay the whole programme.
NEVER_OMITTED = {(("demo",), "--out")}


@st.composite
def value_of(draw: Any, kind: str) -> tuple[str, str]:
    """A value of a kind, and its class: good, bad or doubtful."""
    good, bad, doubtful = VALUES[kind]
    pools = [(name, pool) for name, pool in (("good", good), ("bad", bad), ("doubtful", doubtful)) if pool]
    weights = {"good": 2, "bad": 3, "doubtful": 1}
    name = draw(st.sampled_from([n for n, _ in pools for _ in range(weights[n])]))
    return draw(st.sampled_from(dict(pools)[name])), name


@st.composite
def cli_cases(draw: Any) -> Case:
    command = draw(st.sampled_from(sorted(COMMANDS)))
    read_only, positionals, options, required = COMMANDS[command]
    argv: list[str] = list(command)
    notes: list[str] = []
    bad = False
    for kind in positionals:
        if draw(st.integers(0, 9)) == 0:
            notes.append(f"argument {kind} omis")
            bad = True
            break
        value, label = draw(value_of(kind))
        argv.append(value)
        bad |= label == "bad"
        notes.append(f"{kind}={label}")
    for option, kind in options.items():
        wanted = option in required or draw(st.booleans())
        if option in required and (command, option) not in NEVER_OMITTED and draw(st.integers(0, 9)) == 0:
            notes.append(f"option {option} omise")
            bad, wanted = True, False
        if wanted:
            value, label = draw(value_of(kind))
            argv += [option, value]
            bad |= label == "bad"
            notes.append(f"{option}={label}")
    if command == ("submit",):
        argv.append("--no-send")
    if not bad and not read_only:  # a mutating command: one value surely bad
        kinds = [o for o, k in options.items() if VALUES[k][1]] + [k for k in positionals if VALUES[k][1]]
        choice = draw(st.sampled_from(kinds))
        if choice.startswith("--"):
            value = draw(st.sampled_from(VALUES[options[choice]][1]))
            if choice in argv[len(command):]:
                argv[argv.index(choice, len(command)) + 1] = value
            else:
                argv += [choice, value]
        else:
            value = draw(st.sampled_from(VALUES[choice][1]))
            index = len(command) + positionals.index(choice)
            argv[index] = value
        notes.append(f"{choice}=bad (ajouté)")
        bad = True
    mangle = draw(st.sampled_from([None] * 6 + ["unknown_option", "no_value", "extra_argument", "typo", "repeat",
                                                 "equals", "double_dash"]))
    if mangle == "unknown_option":
        argv.insert(draw(st.integers(len(command), len(argv))), draw(st.sampled_from(["--inconnue", "-x", "--AT",
                                                                                       "--atx", "---at"])))
        bad = True
    elif mangle == "no_value" and options:
        argv.append(draw(st.sampled_from(sorted(options))))
        bad = True
    elif mangle == "extra_argument":
        argv.append(draw(st.sampled_from(["en-trop", "", "\x1b[31m", "-"])))
        bad = True
    elif mangle == "typo":
        argv[0] = draw(st.sampled_from([argv[0][:-1], argv[0].upper(), argv[0] + "s", "", " " + argv[0]]))
        bad = True
    elif mangle == "repeat" and len(argv) > len(command) + 1 and argv[-2].startswith("--"):
        argv += argv[-2:]
    elif mangle == "equals" and len(argv) > len(command) + 1 and argv[-2].startswith("--"):
        argv[-2:] = [f"{argv[-2]}={argv[-1]}"]
    elif mangle == "double_dash":
        argv.insert(len(command), "--")
    if mangle:
        notes.append(f"ligne de commande : {mangle}")
    return Case("cli", "pilots", tuple(argv), (), tuple(notes), expect_refusal=bad, read_only=read_only)


TARGETS = {"application": application_cases, "jury": jury_cases, "programme": programme_cases, "cli": cli_cases}


def any_case() -> st.SearchStrategy[Case]:
    return st.one_of(*(strategy() for strategy in TARGETS.values()))
