#!/usr/bin/env python3
"""Validates Kubernetes manifests offline against the schemas of a Kubernetes release
(kubernetes-validate, pinned in scripts/kubernetes/requirements.txt, carries them), strictly:
an unknown field fails. cert-manager's kinds are checked against the schema shipped beside
this script; any other kind without a schema fails (never a warning that passes).

    .venv/bin/python scripts/kubernetes/validate.py deploy/kubernetes/*.yaml deploy/kubernetes/ingress/*.yaml
"""

import json
import pathlib
import sys

import jsonschema
import kubernetes_validate
import yaml

# The oldest Kubernetes release still supported upstream when this was written; the manifests
# use nothing newer.
KUBERNETES_VERSION = "1.31"
CERT_MANAGER = json.loads(
    (pathlib.Path(__file__).parent / "cert-manager-v1.schema.json").read_text()
)
CERT_MANAGER_KINDS = {"Certificate": "Certificate", "Issuer": "Issuer", "ClusterIssuer": "Issuer"}


def validate(document):
    kind, api = document.get("kind"), document.get("apiVersion")
    if api == "cert-manager.io/v1" and kind in CERT_MANAGER_KINDS:
        schema = dict(CERT_MANAGER)
        schema["$ref"] = "#/definitions/" + CERT_MANAGER_KINDS[kind]
        jsonschema.Draft7Validator(schema).validate(document)
        return "cert-manager.io/v1 (shipped schema)"
    return kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def main(paths):
    if not paths:
        sys.exit("usage: validate.py MANIFEST.yaml...")
    failures = checked = 0
    for path in paths:
        with open(path, encoding="utf-8") as file:
            documents = [d for d in yaml.safe_load_all(file) if d is not None]
        for document in documents:
            name = "%s/%s" % (document.get("kind"), (document.get("metadata") or {}).get("name"))
            try:
                against = validate(document)
                print("ok    %s %s (%s)" % (path, name, against))
                checked += 1
            except Exception as error:  # every kind of failure is reported, then counted
                message = getattr(error, "message", None) or str(error)
                where = "/".join(str(p) for p in getattr(error, "absolute_path", []))
                print("FAIL  %s %s: %s%s" % (path, name, message, " at " + where if where else ""))
                failures += 1
    print("%d resource(s) valid, %d invalid" % (checked, failures))
    sys.exit(1 if failures or not checked else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
