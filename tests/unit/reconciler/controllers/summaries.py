"""Actions as the controllers' case files spell them (short, readable, what matters)."""

from __future__ import annotations

from typing import Any

from kubeform.reconciler.machinery.actions import Action, Create, CreateEvent, Delete, Put

POD_META = ("labels", "deletionTimestamp", "deletionGracePeriodSeconds")


def _refs(meta: dict[str, Any]) -> list[str]:
    return [f"{r['kind']}/{r['name']}" for r in meta.get("ownerReferences") or [] if r.get("controller")]


def summary(action: Action) -> dict[str, Any]:
    if isinstance(action, Create):
        meta = action.obj["metadata"]
        out: dict[str, Any] = {"key": f"{action.prefix}{meta['namespace']}/{meta['name']}", "owner": _refs(meta)}
        if action.prefix == "/registry/pods/":
            out["labels"] = meta.get("labels")
            out["image"] = [c.get("image") for c in action.obj["spec"].get("containers") or []]
        else:
            out["replicas"] = action.obj["spec"].get("replicas")
            out["annotations"] = meta.get("annotations")
            out["labels"] = meta.get("labels")
        return {"create": out}
    if isinstance(action, Put):
        meta = action.obj.get("metadata") or {}
        out = {"key": action.key, "expect_mod_revision": action.expect_mod_revision}
        if action.key.startswith("/registry/pods/"):
            out["owner"] = _refs(meta)
            for field in POD_META[1:]:
                if field in meta:
                    out[field] = meta[field]
        elif action.key.startswith("/registry/replicasets/") and action.obj.get("kind") == "ReplicaSet" and "spec" in action.obj:
            out["replicas"] = action.obj["spec"].get("replicas")
            if meta.get("annotations"):
                out["annotations"] = meta["annotations"]
            out["status"] = action.obj.get("status")
        else:
            out["status"] = action.obj.get("status")
            if action.obj.get("kind") == "Deployment" and meta.get("annotations"):
                out["annotations"] = meta["annotations"]
        return {"put": out}
    if isinstance(action, Delete):
        return {"delete": {"key": action.key, "expect_mod_revision": action.expect_mod_revision}}
    assert isinstance(action, CreateEvent)
    meta = action.involved["metadata"]
    return {"event": f"{action.event_type} {action.reason} {meta.get('namespace')}/{meta['name']}: {action.message}"}
