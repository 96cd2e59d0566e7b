"""Label selectors: the ``-l`` string syntax, LabelSelector objects, and matching.

Controllers, ``get -l`` and validation (selector must match the template's labels) all
agree on one meaning, Kubernetes': ``a=b`` / ``a==b`` equality, ``a!=b`` (true when the
label is absent), ``a in (x,y)``, ``a notin (x,y)`` (true when absent), ``a`` exists,
``!a`` does not exist; requirements are ANDed; an empty selector matches everything.
"""

import re
from typing import Any, List, Mapping, NamedTuple, Optional, Tuple, Union

from kubeform.errors import UserError

OPS = ("=", "!=", "in", "notin", "exists", "!")

_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
KEY_RE = re.compile(rf"^({_NAME}(\.{_NAME})*/)?{_NAME}$")
VALUE_RE = re.compile(rf"^({_NAME})?$")

_TOKEN = re.compile(
    r"\s*(?:(?P<op>==|!=|=|\(|\)|,|!)|(?P<word>[A-Za-z0-9_./-]+))"
)


class Requirement(NamedTuple):
    """One ANDed condition on one label key."""

    key: str
    op: str
    values: Tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        if self.op == "exists":
            return present
        return not present  # "!"

    def __str__(self) -> str:
        if self.op == "exists":
            return self.key
        if self.op == "!":
            return f"!{self.key}"
        if self.op in ("=", "!="):
            return f"{self.key}{self.op}{self.values[0]}"
        return f"{self.key} {self.op} ({','.join(self.values)})"


Selector = Tuple[Requirement, ...]


def matches(selector: Selector, labels: Optional[Mapping[str, str]]) -> bool:
    """True when every requirement holds; an empty selector matches everything."""
    lab = labels or {}
    return all(r.matches(lab) for r in selector)


def format_selector(selector: Selector) -> str:
    """The ``-l`` string of a selector (parse(format(s)) == s)."""
    return ",".join(str(r) for r in selector)


def _check_key(key: str) -> None:
    if not KEY_RE.match(key) or len(key.split("/")[-1]) > 63:
        raise UserError(f"invalid label key {key!r}")


def _check_value(value: str) -> None:
    if not VALUE_RE.match(value) or len(value) > 63:
        raise UserError(f"invalid label value {value!r}")


def requirement(key: str, op: str, values: Union[List[str], Tuple[str, ...]] = ()) -> Requirement:
    """A checked requirement; set values are sorted and deduplicated (order is meaningless)."""
    _check_key(key)
    for v in values:
        _check_value(v)
    if op in ("=", "!=") and len(values) != 1:
        raise UserError(f"{op} needs exactly one value")
    if op in ("in", "notin"):
        if not values:
            raise UserError(f"{op} needs at least one value for {key!r}")
        values = tuple(sorted(set(values)))
    if op in ("exists", "!") and values:
        raise UserError(f"{op} takes no values")
    if op not in OPS:
        raise UserError(f"unknown selector operator {op!r}")
    return Requirement(key, op, tuple(values))


def _tokens(text: str) -> List[str]:
    out: List[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise UserError(f"invalid selector {text!r}: unexpected {text[pos:].strip()[:10]!r}")
        out.append(m.group("op") or m.group("word"))
        pos = m.end()
    return out


def parse(text: str) -> Selector:
    """Parse ``a=b,c!=d,e in (x,y),e notin (z),f,!g`` into requirements."""
    toks = _tokens(text)
    reqs: List[Requirement] = []
    i = 0

    def expect_word() -> str:
        nonlocal i
        if i >= len(toks) or toks[i] in ("==", "!=", "=", "(", ")", ",", "!"):
            raise UserError(f"invalid selector {text!r}: expected a name")
        i += 1
        return toks[i - 1]

    while i < len(toks):
        if toks[i] == "!":
            i += 1
            reqs.append(requirement(expect_word(), "!"))
        else:
            key = expect_word()
            nxt = toks[i] if i < len(toks) else ","
            if nxt in ("=", "==", "!="):
                i += 1
                value = "" if i >= len(toks) or toks[i] == "," else expect_word()
                reqs.append(requirement(key, "!=" if nxt == "!=" else "=", (value,)))
            elif nxt in ("in", "notin"):
                i += 1
                if i >= len(toks) or toks[i] != "(":
                    raise UserError(f"invalid selector {text!r}: expected '(' after {nxt}")
                i += 1
                values: List[str] = []
                while True:
                    if i < len(toks) and toks[i] == ")":
                        i += 1
                        break
                    values.append(expect_word())
                    if i < len(toks) and toks[i] == ",":
                        i += 1
                    elif i >= len(toks) or toks[i] != ")":
                        raise UserError(f"invalid selector {text!r}: expected ')'")
                reqs.append(requirement(key, nxt, values))
            elif nxt == ",":
                reqs.append(requirement(key, "exists"))
            else:
                raise UserError(f"invalid selector {text!r}: unexpected {nxt!r}")
        if i < len(toks):
            if toks[i] != ",":
                raise UserError(f"invalid selector {text!r}: expected ',' before {toks[i]!r}")
            i += 1
            if i >= len(toks):
                raise UserError(f"invalid selector {text!r}: trailing ','")
    return tuple(reqs)


def from_label_selector(sel: Optional[Mapping[str, Any]]) -> Selector:
    """A LabelSelector (matchLabels + matchExpressions) as requirements."""
    if not sel:
        return ()
    # str(): YAML lets a key or value be null or a number; the checks then name it
    labels = sorted((str(k), str(v)) for k, v in (sel.get("matchLabels") or {}).items())
    reqs = [requirement(k, "=", (v,)) for k, v in labels]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in sel.get("matchExpressions") or []:
        op = ops.get(expr.get("operator", ""))
        if op is None:
            raise UserError(f"unknown operator {expr.get('operator')!r}", field="operator")
        reqs.append(requirement(str(expr.get("key", "")), op, tuple(str(v) for v in expr.get("values") or ())))
    return tuple(reqs)


def from_map(selector: Optional[Mapping[str, str]]) -> Selector:
    """The plain map selector of ReplicationController and Service (equality only)."""
    return tuple(requirement(k, "=", (str(v),)) for k, v in sorted((selector or {}).items()))


def of_object(obj: Mapping[str, Any]) -> Optional[Selector]:
    """The pod selector of a workload or Service, None when it selects nothing."""
    spec = obj.get("spec") or {}
    sel = spec.get("selector")
    if sel is None:
        return None
    if obj.get("kind") in ("ReplicationController", "Service"):
        return from_map(sel)
    return from_label_selector(sel)
