"""ansible_filters: more of Ansible's filters, rendered through the templating environment."""

from __future__ import annotations

from typing import Any

import pytest

from kubeform.engine import templating
from kubeform.engine.variables import Vars

V = Vars({"h": {"a": {"ip": "1.1.1.1"}, "b": {"ip": "2.2.2.2"}}, "users": [{"n": "x", "g": ["a", "b"]}]})


@pytest.mark.parametrize(
    ("expr", "expect"),
    [
        ("{{ 'managed' | comment }}", "#\n# managed\n#"),
        ("{{ 'a\nb' | comment('c') }}", "//\n// a\n// b\n//"),
        ("{{ 'a,b' | split(',') }}", ["a", "b"]),
        ("{{ 'a b' | split }}", ["a", "b"]),
        ("{{ ['a', 'b'] | map('extract', h, 'ip') | list }}", ["1.1.1.1", "2.2.2.2"]),
        ("{{ 'a.b*' | regex_escape }}", "a\\.b\\*"),
        ("{{ [1, 2] | zip(['x', 'y']) | list }}", [[1, "x"], [2, "y"]]),
        ("{{ [1] | zip_longest([2, 3]) | list }}", [[1, 2], [None, 3]]),
        ("{{ [1, 2] | product(['a']) | list }}", [[1, "a"], [2, "a"]]),
        ("{{ users | subelements('g') | map('last') | list }}", ["a", "b"]),
        ("{{ ['/etc', 'app', 'x.conf'] | path_join }}", "/etc/app/x.conf"),
        ("{{ 1536 | human_readable }}", "1.50 KB"),
        ("{{ '2 GB' | human_to_bytes }}", 2147483648),
        ("{{ 'https://h.example:8443/p?q=1' | urlsplit('hostname') }}", "h.example"),
        ("{{ 8 | log(2) }}", 3.0),
        ("{{ 2 | pow(10) }}", 1024.0),
        ("{{ 27 | root(3) | round(6) }}", 3.0),
        ("{{ 'fe80::1' | ansible.utils.ipwrap }}", "[fe80::1]"),
        ("{{ '10.0.0.1' | ipwrap }}", "10.0.0.1"),
        ("{{ '10.0.0.0/24' | ansible.utils.ipaddr('network') }}", "10.0.0.0"),
        ("{{ '10.0.0.0/24' | ipaddr(1) }}", "10.0.0.1/24"),
        ("{{ 'nope' | ipaddr }}", False),
        ("{{ '10.1.2.3' is ansible.utils.ipv4 }}", True),
        ("{{ '::1' is ipv4 }}", False),
        ("{{ [1, 2] | ansible.builtin.union([3]) }}", [1, 2, 3]),
        ("{{ 'a: 1' | community.general.from_yaml }}", {"a": 1}),
        ("{{ 'a\nnameserver x\n' | regex_findall('^nameserver (.*)$', multiline=True) }}", ["x"]),
        ("{{ (undefined_thing | from_yaml)['k'] | default('d') }}", "d"),
    ],
)
def test_filter(expr: str, expect: Any) -> None:
    assert templating.render(expr, V) == expect
