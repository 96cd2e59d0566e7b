"""What the cluster's daemons (node agent, reconciler) share in reading their config files.

Why: both read a JSON file written by `kubeform up` with the same etcd block; a mistake in
it must stop the daemon at start with one line naming the file and the field (systemd
shows it), never a traceback later. One reader and one set of field checks keep the two
daemons' messages the same. Stdlib only, Python 3.6: it runs on the cluster's hosts.
"""

import json
import logging
import sys
from typing import Any, Dict, Iterable, List, NamedTuple, Optional


class ConfigError(Exception):
    """The config file is missing, not JSON, or a field is wrong (the message names it)."""


#: The etcd block: endpoints and the client certificate the daemon presents.
EtcdSettings = NamedTuple("EtcdSettings", [
    ("endpoints", List[str]), ("ca_file", Optional[str]), ("cert_file", Optional[str]), ("key_file", Optional[str]),
])


def read_object(path: str) -> Dict[str, Any]:
    """The file's JSON object."""
    try:
        with open(path) as f:
            raw = json.load(f)
    except OSError as exc:
        raise ConfigError("%s: cannot read: %s" % (path, exc.strerror)) from None
    except ValueError as exc:
        raise ConfigError("%s: not valid JSON: %s" % (path, exc)) from None
    if not isinstance(raw, dict):
        raise ConfigError("%s: must be a JSON object" % path)
    return raw


def refuse_unknown(raw: Dict[str, Any], known: Iterable[str], path: str) -> None:
    """A misspelt field is a mistake, not a silent default."""
    unknown = set(raw) - set(known)
    if unknown:
        raise ConfigError("%s: unknown field(s): %s" % (path, ", ".join(sorted(unknown))))


def etcd_settings(raw: Dict[str, Any], path: str) -> EtcdSettings:
    """The ``etcd`` block: http(s) endpoints, and for https the CA and client certificate."""
    etcd = raw.get("etcd")
    if not isinstance(etcd, dict):
        raise ConfigError("%s: field 'etcd' must be an object with endpoints, ca_file, cert_file, key_file" % path)
    endpoints = etcd.get("endpoints")
    if not isinstance(endpoints, list) or not endpoints:
        raise ConfigError("%s: field 'etcd.endpoints' must list at least one https:// URL" % path)
    for url in endpoints:
        if not isinstance(url, str) or not (url.startswith("https://") or url.startswith("http://")):
            raise ConfigError("%s: field 'etcd.endpoints': %r is not an http(s) URL" % (path, url))
    files = [optional_string(etcd, name, path, "etcd.") for name in ("ca_file", "cert_file", "key_file")]
    if any(u.startswith("https://") for u in endpoints) and not all(files):
        raise ConfigError("%s: field 'etcd': https endpoints need ca_file, cert_file and key_file" % path)
    return EtcdSettings(list(endpoints), files[0], files[1], files[2])


def string(raw: Dict[str, Any], field: str, path: str, default: str) -> str:
    value = raw.get(field, default)
    if not isinstance(value, str) or not value:
        raise ConfigError("%s: field '%s' must be a non-empty string" % (path, field))
    return value


def optional_string(raw: Dict[str, Any], field: str, path: str, parent: str = "") -> Optional[str]:
    value = raw.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError("%s: field '%s%s' must be a string" % (path, parent, field))
    return value


def string_list(raw: Dict[str, Any], field: str, path: str, default: List[str]) -> List[str]:
    value = raw.get(field, default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError("%s: field '%s' must be a list of strings" % (path, field))
    return list(value)


def number(raw: Dict[str, Any], field: str, path: str, default: float, least: float = 0.0, strict: bool = True) -> float:
    """A number above ``least`` (or at least ``least`` when not ``strict``)."""
    value = raw.get(field, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < least or (strict and value == least):
        want = "a positive number" if (least == 0 and strict) else "a number >= %g" % least
        raise ConfigError("%s: field '%s' must be %s" % (path, field, want))
    return float(value)


def log_to_stderr(verbose: bool) -> None:
    """The daemons log to stderr (the journal under systemd), one line per record."""
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
