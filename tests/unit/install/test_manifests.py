#!/usr/bin/python3
"""unit.install.manifests: install/kubernetes/ against the seed cluster.

  * every document of every manifest parses and names apiVersion/kind/name;
  * the cilium-config ConfigMap has every key of the seed's, with the seed's
    values, and cilium-agent accepts all of them (--validate-config);
  * the agent DaemonSet and operator Deployment match the seed's pods
    (tests/testdata/seed/) container by container: command, args, env,
    probes, security context, volume mounts, lifecycle, ports, resources,
    and the pod's volumes, host network, service account, priority class,
    tolerations, anti-affinity. Differences not in DEVIATIONS fail, printed
    as a structural diff; a DEVIATIONS entry that no longer differs fails too;
  * images are scripts/build-image.sh's names for src/common/version.h;
  * RBAC: the cilium and cilium-operator service accounts may read every
    kind of src/store/resource.cpp known_kinds() and write what each writes.

Usage: test_manifests.py REPO_DIR BIN_DIR
"""
import copy
import os
import re
import subprocess
import sys
import tempfile

import yaml

REPO, BIN = sys.argv[1], sys.argv[2]
K8S = os.path.join(REPO, "install", "kubernetes")
SEED = os.path.join(REPO, "tests", "testdata", "seed")
MANIFESTS = ["serviceaccounts.yaml", "cilium-agent-rbac.yaml", "cilium-operator-rbac.yaml",
             "cilium-configmap.yaml", "cilium-agent-daemonset.yaml", "cilium-operator-deployment.yaml"]

# Intended differences from the seed's pods: path -> (seed value, ours, why).
# The DaemonSet/Deployment headers say the same to a reader.
ABSENT = "<absent>"
DEVIATIONS = {
    "cilium": {
        "initContainers[config].command": (
            ["cilium-dbg", "build-config"], ["/build-config.sh"],
            "copies the mounted ConfigMap instead of reading it from the API server"),
        "initContainers[config].volumeMounts[cilium-config-path]": (
            ABSENT, {"mountPath": "/cilium-config", "name": "cilium-config-path", "readOnly": True},
            "build-config.sh's source"),
        "volumes[cilium-config-path]": (
            ABSENT, {"configMap": {"defaultMode": 420, "name": "cilium-config"}, "name": "cilium-config-path"},
            "build-config.sh's source"),
        "containers[cilium-agent].lifecycle.postStart": (
            "<AWS ENI iptables cleanup>", ABSENT, "no AWS ENI mode, no iptables rules"),
        "containers[cilium-agent].env[GOMEMLIMIT]": (
            "<limits.memory>", ABSENT, "Go runtime setting"),
    },
    "cilium-operator": {},
}

failures = []


def check(cond, what):
    if cond:
        print("ok:", what)
    else:
        print("FAIL:", what)
        failures.append(what)


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


# ---- parse ------------------------------------------------------------------------
docs = []
for name in MANIFESTS:
    path = os.path.join(K8S, name)
    try:
        ds = load_all(path)
    except yaml.YAMLError as e:
        check(False, f"{name} parses: {e}")
        continue
    bad = [i for i, d in enumerate(ds)
           if not (isinstance(d, dict) and d.get("apiVersion") and d.get("kind") and d.get("metadata", {}).get("name"))]
    check(ds and not bad, f"{name}: {len(ds)} documents, each with apiVersion, kind, metadata.name (bad: {bad})")
    docs += ds


def find(kind, name):
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    if len(found) != 1:
        check(False, f"exactly one {kind}/{name} (found {len(found)})")
        sys.exit(1)
    return found[0]


# ---- ConfigMap ----------------------------------------------------------------------
seed_cm = load_all(os.path.join(SEED, "cilium-config.yaml"))[0]["data"]
cm = find("ConfigMap", "cilium-config")
check(cm["metadata"].get("namespace") == "kube-system", "ConfigMap in kube-system")
data = cm["data"]
check(all(isinstance(v, str) for v in data.values()), "ConfigMap values are all strings")
missing = sorted(set(seed_cm) - set(data))
check(not missing, f"ConfigMap has all {len(seed_cm)} seed keys (missing: {missing})")
changed = sorted(k for k in seed_cm if k in data and data[k] != seed_cm[k])
check(not changed, f"ConfigMap keeps the seed's values (changed: {[(k, seed_cm[k], data[k]) for k in changed]})")

with tempfile.TemporaryDirectory(prefix="cpp-manifests-") as d:
    for k, v in data.items():
        with open(os.path.join(d, k), "w") as f:
            f.write(v)
    r = subprocess.run([os.path.join(BIN, "cilium-agent"), "--config-dir", d, "--node-name", "n1", "--validate-config"],
                       capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    check(r.returncode == 0 and f"{len(data)} keys, 0 unknown" in out,
          f"cilium-agent --validate-config accepts every ConfigMap key (rc={r.returncode}: {out.strip()})")
    # the check can fail: an invalid value is rejected
    with open(os.path.join(d, "enable-ipv4"), "w") as f:
        f.write("maybe")
    r = subprocess.run([os.path.join(BIN, "cilium-agent"), "--config-dir", d, "--node-name", "n1", "--validate-config"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode != 0 and "enable-ipv4" in r.stderr, "--validate-config rejects enable-ipv4=maybe")


# ---- pod specs vs the seed ------------------------------------------------------------
def by_name(items):
    return {i["name"]: i for i in items or []}


INJECTED = re.compile(r"^kube-api-access-")  # the API server's service-account token volume
CONTAINER_FIELDS = ["command", "args", "env", "livenessProbe", "readinessProbe", "startupProbe",
                    "securityContext", "volumeMounts", "lifecycle", "ports", "resources", "imagePullPolicy",
                    "terminationMessagePolicy"]
# What the API server fills in when a manifest leaves it out.
DEFAULTS = {"resources": {}, "terminationMessagePolicy": "File"}


def norm_container(c):
    out = {}
    for f in CONTAINER_FIELDS:
        v = c.get(f, DEFAULTS.get(f, ABSENT))
        if f == "env":
            v = by_name(v) if v != ABSENT else {}
        elif f == "volumeMounts":
            v = {m["name"]: m for m in (v if v != ABSENT else []) if not INJECTED.match(m["name"])}
        elif f == "lifecycle" and v != ABSENT:
            v = dict(v)
        out[f] = v
    return out


def norm_pod(spec):
    return {
        "containers": {c["name"]: norm_container(c) for c in spec.get("containers", [])},
        "initContainers": {c["name"]: norm_container(c) for c in spec.get("initContainers", [])},
        "initContainerOrder": [c["name"] for c in spec.get("initContainers", [])],
        "volumes": {v["name"]: v for v in spec.get("volumes", []) if not INJECTED.match(v["name"])},
        "hostNetwork": spec.get("hostNetwork", False),
        "serviceAccountName": spec.get("serviceAccountName"),
        "priorityClassName": spec.get("priorityClassName"),
        "terminationGracePeriodSeconds": spec.get("terminationGracePeriodSeconds", 30),
        "nodeSelector": spec.get("nodeSelector"),
        "podAntiAffinity": spec.get("affinity", {}).get("podAntiAffinity"),
        # the DaemonSet controller adds the node.kubernetes.io/* tolerations
        "tolerations": [t for t in spec.get("tolerations", []) if not t.get("key", "").startswith("node.kubernetes.io/")],
        "automountServiceAccountToken": spec.get("automountServiceAccountToken", True),
    }


def diff(a, b, path=""):
    """Structural differences between seed (a) and ours (b): {path: (a, b)}."""
    out = {}
    if isinstance(a, dict) and isinstance(b, dict) and (a or b):
        for k in sorted(set(a) | set(b), key=str):
            p = f"{path}[{k}]" if path.endswith(("containers", "initContainers", "volumes", "env", "volumeMounts")) \
                else (f"{path}.{k}" if path else str(k))
            out.update(diff(a.get(k, ABSENT), b.get(k, ABSENT), p))
    elif a != b:
        out[path] = (a, b)
    return out


def compare(label, seed_spec, our_spec, deviations):
    d = diff(norm_pod(seed_spec), norm_pod(our_spec))
    unexpected = {}
    for p, (a, b) in d.items():
        dev = deviations.get(p)
        if dev is None or (dev[1] != b) or (dev[0] != ABSENT and not str(dev[0]).startswith("<") and dev[0] != a) \
           or (dev[0] == ABSENT and a != ABSENT):
            unexpected[p] = (a, b)
    for p, (a, b) in unexpected.items():
        print(f"  {label} differs from the seed at {p}:\n    seed: {a!r}\n    ours: {b!r}")
    check(not unexpected, f"{label}: pod spec matches the seed's except {len(deviations)} documented deviations")
    stale = sorted(set(deviations) - set(d))
    check(not stale, f"{label}: every documented deviation is real (stale: {stale})")
    return d


seed_agent = load_all(os.path.join(SEED, "cilium-agent-pod.yaml"))[0]["spec"]
seed_op = load_all(os.path.join(SEED, "cilium-operator-pod.yaml"))[0]["spec"]
ds = find("DaemonSet", "cilium")
dep = find("Deployment", "cilium-operator")
ds_spec = ds["spec"]["template"]["spec"]
dep_spec = dep["spec"]["template"]["spec"]
check(ds["metadata"].get("namespace") == "kube-system" and dep["metadata"].get("namespace") == "kube-system",
      "DaemonSet and Deployment in kube-system")
for obj in (ds, dep):
    sel = obj["spec"]["selector"]["matchLabels"]
    labels = obj["spec"]["template"]["metadata"]["labels"]
    check(all(labels.get(k) == v for k, v in sel.items()), f"{obj['kind']}: selector matches the template's labels")
compare("DaemonSet cilium", seed_agent, ds_spec, DEVIATIONS["cilium"])
compare("Deployment cilium-operator", seed_op, dep_spec, DEVIATIONS["cilium-operator"])

# the comparison can fail: a changed probe port is reported
mutated = copy.deepcopy(ds_spec)
mutated["containers"][0]["livenessProbe"]["httpGet"]["port"] = 9880
check("containers[cilium-agent].livenessProbe.httpGet.port" in diff(norm_pod(seed_agent), norm_pod(mutated)),
      "the structural diff reports a changed liveness probe port")

mounts = {m["name"] for c in ds_spec["containers"] + ds_spec["initContainers"] for m in c.get("volumeMounts", [])}
check(mounts <= set(by_name(ds_spec["volumes"])), f"DaemonSet: every volumeMount names a volume ({mounts - set(by_name(ds_spec['volumes']))})")

with open(os.path.join(REPO, "src", "common", "version.h")) as f:
    version = re.search(r'kVersion = "([^"]+)"', f.read()).group(1)
for spec, image in ((ds_spec, f"docker.io/ciliumpp/cilium:{version}"),
                    (dep_spec, f"docker.io/ciliumpp/operator-generic:{version}")):
    imgs = {c["image"] for c in spec["containers"] + spec.get("initContainers", [])}
    check(imgs == {image}, f"images are {image} (found {sorted(imgs)})")
with open(os.path.join(REPO, "scripts", "build-image.sh")) as f:
    script = f.read()
check('"$image_repo/cilium:$version"' in script and '"$image_repo/operator-generic:$version"' in script,
      "build-image.sh names its images cilium and operator-generic")

# ---- RBAC ---------------------------------------------------------------------------------
with open(os.path.join(REPO, "src", "store", "resource.cpp")) as f:
    src = f.read()
kinds = re.findall(r'\{"(\w+)", \{"([^"]+)"[^}]*\}, (true|false), "(\w+)"\}', src)
check(len(kinds) >= 19, f"parsed {len(kinds)} kinds from known_kinds()")
kinds = [(k, v.split("/")[0] if "/" in v else "", ns == "true", plural) for k, v, ns, plural in kinds]

sas = {d["metadata"]["name"] for d in docs if d["kind"] == "ServiceAccount"}
check({"cilium", "cilium-operator"} <= sas, "ServiceAccounts cilium and cilium-operator")
check(ds_spec["serviceAccountName"] == "cilium" and dep_spec["serviceAccountName"] == "cilium-operator",
      "workloads run as those ServiceAccounts")
roles = {(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]): d
         for d in docs if d["kind"] in ("ClusterRole", "Role")}


def rules_of(sa):
    """(rules, namespace or None for cluster-wide) granted to kube-system/sa."""
    out = []
    for b in docs:
        if b["kind"] not in ("ClusterRoleBinding", "RoleBinding"):
            continue
        if not any(s.get("kind") == "ServiceAccount" and s["name"] == sa and s.get("namespace") == "kube-system"
                   for s in b["subjects"]):
            continue
        ns = b["metadata"].get("namespace") if b["kind"] == "RoleBinding" else None
        ref = b["roleRef"]
        role = roles.get((ref["kind"], ns if ref["kind"] == "Role" else None, ref["name"]))
        check(role is not None, f"{b['kind']}/{b['metadata']['name']} refers to an existing {ref['kind']}/{ref['name']}")
        if role:
            out += [(r, ns) for r in role["rules"]]
    return out


def allowed(sa, group, resource, verb, namespace="kube-system"):
    for r, ns in rules_of(sa):
        if ns is not None and ns != namespace:
            continue
        if group in r["apiGroups"] and resource in r["resources"] and (verb in r["verbs"] or "*" in r["verbs"]):
            return True
    return False


for kind, group, namespaced, plural in kinds:
    if kind == "Lease":
        continue  # only the operator's leader election touches Leases (checked below)
    for verb in ("get", "list", "watch"):
        check(allowed("cilium", group, plural, verb), f"agent may {verb} {plural}.{group or 'core'} ({kind})")
    if group == "cilium.io":
        check(all(allowed("cilium-operator", group, plural, v) for v in ("get", "list", "watch")),
              f"operator may read {plural}.cilium.io")
        check(allowed("cilium-operator", group, plural + "/status", "update"),
              f"operator may update {plural}/status")
writes = {
    "cilium": [("cilium.io", "ciliumendpoints", v) for v in ("create", "update", "patch", "delete")]
              + [("cilium.io", "ciliumidentities", "create"), ("cilium.io", "ciliumnodes", "create"),
                 ("cilium.io", "ciliumnodes", "update"), ("cilium.io", "ciliumnodes/status", "update"),
                 ("cilium.io", "ciliumendpoints/status", "patch"),
                 ("cilium.io", "ciliumnetworkpolicies/status", "patch"),
                 ("", "nodes", "patch"), ("", "nodes/status", "patch")],
    "cilium-operator": [("cilium.io", "ciliumidentities", "delete"), ("cilium.io", "ciliumendpoints", "delete"),
                        ("cilium.io", "ciliumnodes", "update"), ("cilium.io", "ciliumnodes", "create"),
                        ("cilium.io", "ciliumloadbalancerippools/status", "update"),
                        ("", "nodes", "patch"), ("", "nodes/status", "patch"), ("", "services/status", "update"),
                        ("", "pods", "list"), ("", "nodes", "list"), ("", "services", "list"),
                        ("discovery.k8s.io", "endpointslices", "list")]
                       + [("coordination.k8s.io", "leases", v) for v in ("create", "get", "update")],
}
for sa, items in writes.items():
    for group, res, verb in items:
        check(allowed(sa, group, res, verb), f"{sa} may {verb} {res}.{group or 'core'}")
check(allowed("cilium", "", "secrets", "get", "kube-system") and not allowed("cilium", "", "secrets", "get", "default"),
      "agent reads Secrets in bgp-secrets-namespace (kube-system) only")

print(f"{len(failures)} failures")
sys.exit(1 if failures else 0)
