"""Config files of the host daemons (agent, reconciler): JSON read and checked at start.

Why shared: both daemons read a JSON object and the same etcd block (endpoints, and the
client certificate when they are https); a mistake stops the daemon at once with one line
naming the file and field (systemd shows it), never a traceback later.
"""

import json
from typing import Any, Dict, List, NamedTuple, Optional


class ConfigError(Exception):
    """The config file is missing, not JSON, or a field is wrong (the message names it)."""


class EtcdSettings(NamedTuple):
    endpoints: List[str]
    ca: Optional[str]
    cert: Optional[str]
    key: Optional[str]


def read_json_object(path: str) -> Dict[str, Any]:
    """The file's JSON object; ConfigError naming the file when it cannot be had."""
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


def etcd_settings(raw: Dict[str, Any], path: str) -> EtcdSettings:
    """The ``etcd`` block: http(s) endpoints; https needs ca_file, cert_file and key_file."""
    etcd = raw.get("etcd")
    if not isinstance(etcd, dict):
        raise ConfigError("%s: field 'etcd' must be an object with endpoints, ca_file, cert_file, key_file" % path)
    endpoints = etcd.get("endpoints", [])
    if not isinstance(endpoints, list) or not all(isinstance(e, str) for e in endpoints):
        raise ConfigError("%s: field 'etcd.endpoints' must be a list of strings" % path)
    if not endpoints:
        raise ConfigError("%s: field 'etcd.endpoints' must list at least one https:// URL" % path)
    for url in endpoints:
        if not (url.startswith("https://") or url.startswith("http://")):
            raise ConfigError("%s: field 'etcd.endpoints': %r is not an http(s) URL" % (path, url))
    files = {}  # type: Dict[str, Optional[str]]
    for name in ("ca_file", "cert_file", "key_file"):
        value = etcd.get(name)
        if value is not None and not isinstance(value, str):
            raise ConfigError("%s: field 'etcd.%s' must be a string" % (path, name))
        files[name] = value
    if any(u.startswith("https://") for u in endpoints) and not all(files.values()):
        raise ConfigError("%s: field 'etcd': https endpoints need ca_file, cert_file and key_file" % path)
    return EtcdSettings(list(endpoints), files["ca_file"], files["cert_file"], files["key_file"])
