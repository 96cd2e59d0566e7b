"""Kubernetes' syntax rules for names, label keys and values, ports and counts.

The apiserver refuses an object whose name, labels or ports break these rules
(k8s.io/apimachinery/pkg/util/validation); so must ``kubeform apply``, or an object is
stored that nothing can select, schedule or reach. Each function returns the problem
in words (None when the value is fine), worded like the apiserver's messages. Shared by
the operator's validation and ``label``/``annotate``/``scale``; stdlib only.
"""

import re
from typing import Any, List, Optional, Tuple

from kubeform.errors import shorten

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_PORT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")

LABEL_MAX = 63
SUBDOMAIN_MAX = 253
ANNOTATIONS_MAX_BYTES = 256 * 1024
INT32_MAX = 2 ** 31 - 1

# metadata.name rules that differ from the default (a DNS-1123 subdomain, 253 characters).
# CronJob: its Jobs are named <name>-<11 digits>, which must fit in 63 characters; a
# Job's name becomes the value of its pods' job-name label (63 characters).
NAME_RULES = {
    "Namespace": ("label", LABEL_MAX),
    "Service": ("dns1035", LABEL_MAX),
    "CronJob": ("subdomain", 52),
    "Job": ("subdomain", LABEL_MAX),
}


def dns1123_label(value: str) -> Optional[str]:
    if len(value) > LABEL_MAX:
        return "must be no more than {} characters".format(LABEL_MAX)
    if not _DNS1123_LABEL.match(value):
        return "must consist of lower case letters, digits and '-', and start and end with a letter or digit"
    return None


def dns1123_subdomain(value: str, limit: int = SUBDOMAIN_MAX) -> Optional[str]:
    if len(value) > limit:
        return "must be no more than {} characters".format(limit)
    if not _DNS1123_SUBDOMAIN.match(value):
        return (
            "must consist of lower case letters, digits, '-' and '.', "
            "and start and end with a letter or digit"
        )
    return None


def dns1035_label(value: str) -> Optional[str]:
    if len(value) > LABEL_MAX:
        return "must be no more than {} characters".format(LABEL_MAX)
    if not _DNS1035_LABEL.match(value):
        return "must consist of lower case letters, digits and '-', start with a letter and end with a letter or digit"
    return None


def object_name(kind: str, name: str) -> Optional[str]:
    """What is wrong with ``name`` as the metadata.name of a ``kind`` object."""
    rule, limit = NAME_RULES.get(kind, ("subdomain", SUBDOMAIN_MAX))
    if rule == "label":
        return dns1123_label(name)
    if rule == "dns1035":
        return dns1035_label(name)
    return dns1123_subdomain(name, limit)


def qualified_name(key: str) -> Optional[str]:
    """A label or annotation key: ``[prefix/]name``, prefix a DNS subdomain, name <= 63."""
    prefix, slash, name = key.rpartition("/")
    if slash:
        if not prefix:
            return "prefix part must be non-empty"
        problem = dns1123_subdomain(prefix)
        if problem is not None:
            return "prefix part " + problem
        if "/" in prefix:
            return "a qualified name may have only one '/'"
    if not name:
        return "name part must be non-empty"
    if len(name) > LABEL_MAX:
        return "name part must be no more than {} characters".format(LABEL_MAX)
    if not _QUALIFIED_NAME.match(name):
        return (
            "name part must consist of letters, digits, '-', '_' or '.', "
            "and start and end with a letter or digit"
        )
    return None


def label_value(value: str) -> Optional[str]:
    if len(value) > LABEL_MAX:
        return "must be no more than {} characters".format(LABEL_MAX)
    if value and not _QUALIFIED_NAME.match(value):
        return "must be empty or consist of letters, digits, '-', '_' or '.', and start and end with a letter or digit"
    return None


def label_problems(labels: Any) -> List[Tuple[str, str]]:
    """(key, problem) for every bad label key or value of a labels mapping."""
    out = []  # type: List[Tuple[str, str]]
    if not isinstance(labels, dict):
        return out
    for key, value in labels.items():
        problem = qualified_name(str(key))
        if problem is not None:
            out.append((str(key), "invalid label key {}: {}".format(shorten(key), problem)))
        elif isinstance(value, str):
            problem = label_value(value)
            if problem is not None:
                out.append((str(key), "invalid label value {}: {}".format(shorten(value), problem)))
    return out


def annotation_problems(annotations: Any) -> List[Tuple[str, str]]:
    """(key, problem) for bad annotation keys, and ("", problem) when all are too large."""
    out = []  # type: List[Tuple[str, str]]
    if not isinstance(annotations, dict):
        return out
    total = 0
    for key, value in annotations.items():
        problem = qualified_name(str(key).lower())
        if problem is not None:
            out.append((str(key), "invalid annotation key {}: {}".format(shorten(key), problem)))
        total += len(str(key).encode()) + len(str(value).encode())
    if total > ANNOTATIONS_MAX_BYTES:
        out.append(("", "annotations may hold at most {} bytes in all, found {}".format(ANNOTATIONS_MAX_BYTES, total)))
    return out


def config_key(key: str) -> Optional[str]:
    """A ConfigMap or Secret data key (a file name in the mounted volume)."""
    if len(key) > SUBDOMAIN_MAX:
        return "must be no more than {} characters".format(SUBDOMAIN_MAX)
    if not _CONFIG_KEY.match(key):
        return "must consist of letters, digits, '-', '_' or '.'"
    if key in (".", "..") or key.startswith(".."):
        return "must not be '.' or '..' or start with '..'"
    return None


def port_number(value: Any) -> Optional[str]:
    if isinstance(value, bool) or not isinstance(value, int):
        return None  # the schema reports the type
    if not 1 <= value <= 65535:
        return "must be between 1 and 65535, inclusive (got {})".format(shorten(value))
    return None


def port_name(value: str) -> Optional[str]:
    """An IANA service name (a named port): <= 15 characters, at least one letter."""
    if len(value) > 15:
        return "port name {} must be no more than 15 characters".format(shorten(value))
    if not _PORT_NAME.match(value) or "--" in value:
        return "port name {} must consist of lower case letters, digits and '-' (not '--', nor first or last)".format(
            shorten(value)
        )
    if not re.search(r"[a-z]", value):
        return "port name {} must contain at least one letter".format(shorten(value))
    return None


def port_or_name(value: Any) -> Optional[str]:
    """A targetPort: a number 1-65535 or a port name."""
    if isinstance(value, str):
        return port_number(int(value)) if value.isdigit() and len(value) < 10 else port_name(value)
    return port_number(value)


def count(value: Any) -> Optional[str]:
    """A replica (or similar) count: an int32 of at least 0, as the apiserver stores it."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    if value < 0:
        return "must be greater than or equal to 0 (got {})".format(value)
    if value > INT32_MAX:
        return "must be at most {} (got {})".format(INT32_MAX, shorten(value))
    return None
