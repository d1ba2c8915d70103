#!/usr/bin/python3
"""cpp-kube-apiserver-fixture speaks the Kubernetes API protocol: discovery,
CRUD with optimistic concurrency, status subresource, patches, selectors,
chunked lists, watch streams (order, bookmarks, 410), and its /fixture/
fault injection. Runs its own fixture on 127.0.0.1 with free ports.

usage: protocol_test.py BIN_DIR
"""
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

BIN = None
TOKEN = "protocol-test-token"
STATE = {}


def wait_until(pred, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def setUpModule():
    tmp = tempfile.mkdtemp(prefix="cpp-kfix-")
    STATE["tmp"] = tmp
    port_file = os.path.join(tmp, "ports")
    log = open(os.path.join(tmp, "fixture.log"), "w")
    STATE["proc"] = subprocess.Popen(
        [os.path.join(BIN, "cpp-kube-apiserver-fixture"), "--listen", "127.0.0.1:0",
         "--control-listen", "127.0.0.1:0", "--port-file", port_file, "--token", TOKEN,
         "--history", "200", "--bookmark-interval", "0.2"],
        stdout=log, stderr=subprocess.STDOUT)
    ports = wait_until(lambda: os.path.exists(port_file) and open(port_file).read().split(), "the port file")
    STATE["port"], STATE["control"] = int(ports[0]), int(ports[1])


def tearDownModule():
    proc = STATE.get("proc")
    if proc:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    if os.environ.get("KFIX_KEEP_LOG") is None and "tmp" in STATE:
        subprocess.run(["rm", "-rf", STATE["tmp"]], check=False)


def request(method, path, body=None, ctype="application/json", token=TOKEN, port=None, params=None):
    """(status, parsed JSON or raw text, headers)"""
    if params:
        path += "?" + urllib.parse.urlencode(params)
    conn = http.client.HTTPConnection("127.0.0.1", port or STATE["port"], timeout=30)
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = None
    if body is not None:
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        headers["Content-Type"] = ctype
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    raw = resp.read().decode("utf-8", "replace")
    conn.close()
    try:
        return resp.status, json.loads(raw), resp.headers
    except ValueError:
        return resp.status, raw, resp.headers


def control(path, **params):
    st, body, _ = request("POST" if path != "state" else "GET", "/fixture/" + path, params=params or None,
                          token=None, port=STATE["control"])
    assert st == 200, (path, st, body)
    return body


class Watch:
    """A watch stream read event by event as it arrives. The chunked framing
    is decoded here so that a connection closed without the terminating
    chunk (a broken stream) is told apart from a clean end."""

    def __init__(self, path, **params):
        params["watch"] = "true"
        self.conn = http.client.HTTPConnection("127.0.0.1", STATE["port"], timeout=30)
        self.conn.request("GET", path + "?" + urllib.parse.urlencode(params),
                          headers={"Authorization": "Bearer " + TOKEN})
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200, self.resp.status
        assert self.resp.getheader("Transfer-Encoding") == "chunked"
        self.buf = b""
        self.ended = False

    def _chunk(self):
        fp = self.resp.fp
        line = fp.readline()
        if not line:
            raise ConnectionError("watch stream broken: closed without the terminating chunk")
        size = int(line.split(b";")[0], 16)
        if size == 0:
            fp.readline()
            return None
        data = fp.read(size)
        if len(data) < size:
            raise ConnectionError("watch stream broken inside a chunk")
        fp.read(2)
        return data

    def next(self):
        """The next event; None once the server ended the stream cleanly."""
        while b"\n" not in self.buf:
            if self.ended:
                return None
            data = self._chunk()
            if data is None:
                self.ended = True
                continue
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def rest(self):
        """Every event until the server ends the stream."""
        out = []
        while True:
            ev = self.next()
            if ev is None:
                return out
            out.append(ev)

    def close(self):
        self.conn.close()


def pod(name, ns="proto", labels=None, node="node1"):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]}}


def cnp(name, ns="proto", app="web", labels=None):
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
            "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
            "spec": {"endpointSelector": {"matchLabels": {"app": app}}}}


def ensure_ns(ns):
    st, _, _ = request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                      "metadata": {"name": ns}})
    assert st in (201, 409), st


def rv_of(obj):
    return int(obj["metadata"]["resourceVersion"])


class Discovery(unittest.TestCase):
    def test_version_and_groups(self):
        st, v, _ = request("GET", "/version")
        self.assertEqual(st, 200)
        self.assertEqual(v["major"], "1")
        st, api, _ = request("GET", "/api")
        self.assertEqual(api["kind"], "APIVersions")
        self.assertEqual(api["versions"], ["v1"])
        st, apis, _ = request("GET", "/apis")
        groups = {g["name"]: g for g in apis["groups"]}
        self.assertIn("cilium.io", groups)
        self.assertIn("networking.k8s.io", groups)
        self.assertIn("discovery.k8s.io", groups)
        self.assertEqual(groups["cilium.io"]["preferredVersion"]["groupVersion"], "cilium.io/v2")

    def test_resource_lists(self):
        st, core, _ = request("GET", "/api/v1")
        res = {r["name"]: r for r in core["resources"]}
        self.assertTrue(res["pods"]["namespaced"])
        self.assertFalse(res["nodes"]["namespaced"])
        self.assertIn("po", res["pods"]["shortNames"])
        self.assertEqual(res["pods/status"]["verbs"], ["get", "patch", "update"])
        self.assertIn("watch", res["services"]["verbs"])
        st, cil, _ = request("GET", "/apis/cilium.io/v2")
        res = {r["name"]: r for r in cil["resources"]}
        self.assertEqual(res["ciliumnetworkpolicies"]["kind"], "CiliumNetworkPolicy")
        self.assertIn("cnp", res["ciliumnetworkpolicies"]["shortNames"])
        self.assertFalse(res["ciliumnodes"]["namespaced"])
        st, _, _ = request("GET", "/apis/example.com/v1")
        self.assertEqual(st, 404)

    def test_openapi_v3_index(self):
        st, idx, _ = request("GET", "/openapi/v3")
        url = idx["paths"]["apis/cilium.io/v2"]["serverRelativeURL"]
        st, doc, _ = request("GET", url)
        self.assertEqual(st, 200)
        patch = doc["paths"]["/apis/cilium.io/v2/namespaces/{namespace}/ciliumnetworkpolicies/{name}"]["patch"]
        self.assertEqual(patch["x-kubernetes-group-version-kind"]["kind"], "CiliumNetworkPolicy")
        self.assertIn("fieldValidation", [p["name"] for p in patch["parameters"]])

    def test_token_required(self):
        st, body, _ = request("GET", "/api/v1/pods", token=None)
        self.assertEqual(st, 401)
        self.assertEqual(body["kind"], "Status")
        st, _, _ = request("GET", "/api/v1/pods", token="wrong")
        self.assertEqual(st, 401)


class Crud(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ensure_ns("proto")

    def test_create_get_conflicts(self):
        st, created, _ = request("POST", "/apis/cilium.io/v2/namespaces/proto/ciliumnetworkpolicies", cnp("c1"))
        self.assertEqual(st, 201)
        md = created["metadata"]
        self.assertTrue(md["uid"])
        self.assertTrue(md["creationTimestamp"].endswith("Z"))
        self.assertEqual(md["generation"], 1)
        st, err, _ = request("POST", "/apis/cilium.io/v2/namespaces/proto/ciliumnetworkpolicies", cnp("c1"))
        self.assertEqual((st, err["reason"], err["code"]), (409, "AlreadyExists", 409))
        st, got, _ = request("GET", "/apis/cilium.io/v2/namespaces/proto/ciliumnetworkpolicies/c1")
        self.assertEqual(got, created)
        # PUT with the current resourceVersion succeeds and bumps generation on a spec change.
        got["spec"]["endpointSelector"]["matchLabels"]["app"] = "db"
        st, upd, _ = request("PUT", "/apis/cilium.io/v2/namespaces/proto/ciliumnetworkpolicies/c1", got)
        self.assertEqual(st, 200)
        self.assertGreater(rv_of(upd), rv_of(created))
        self.assertEqual(upd["metadata"]["generation"], 2)
        self.assertEqual(upd["metadata"]["uid"], md["uid"])
        # A stale resourceVersion is a Conflict.
        st, err, _ = request("PUT", "/apis/cilium.io/v2/namespaces/proto/ciliumnetworkpolicies/c1", got)
        self.assertEqual((st, err["reason"]), (409, "Conflict"))
        # A label change keeps the generation.
        upd["metadata"]["labels"] = {"x": "y"}
        st, upd2, _ = request("PUT", "/apis/cilium.io/v2/namespaces/proto/ciliumnetworkpolicies/c1", upd)
        self.assertEqual(upd2["metadata"]["generation"], 2)
        st, deleted, _ = request("DELETE", "/apis/cilium.io/v2/namespaces/proto/ciliumnetworkpolicies/c1")
        self.assertEqual(st, 200)
        self.assertEqual(deleted["metadata"]["name"], "c1")
        st, err, _ = request("GET", "/apis/cilium.io/v2/namespaces/proto/ciliumnetworkpolicies/c1")
        self.assertEqual((st, err["reason"], err["details"]["name"]), (404, "NotFound", "c1"))
        self.assertIn('ciliumnetworkpolicies.cilium.io "c1" not found', err["message"])

    def test_invalid_and_unknown(self):
        st, err, _ = request("POST", "/apis/cilium.io/v2/namespaces/proto/ciliumnetworkpolicies",
                             {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
                              "metadata": {"name": "nospec"}})
        self.assertEqual((st, err["reason"]), (422, "Invalid"))
        self.assertEqual(err["details"]["causes"][0]["field"], "spec")
        st, err, _ = request("POST", "/apis/cilium.io/v2/namespaces/proto/ciliumnetworkpolicies", cnp("Bad_Name"))
        self.assertEqual(st, 422)
        self.assertEqual(err["details"]["causes"][0]["field"], "metadata.name")
        st, err, _ = request("GET", "/apis/cilium.io/v2/namespaces/proto/widgets")
        self.assertEqual((st, err["reason"]), (404, "NotFound"))
        st, err, _ = request("POST", "/apis/cilium.io/v2/namespaces/proto/ciliumnetworkpolicies", "{not json")
        self.assertEqual((st, err["reason"]), (400, "BadRequest"))
        st, err, _ = request("POST", "/apis/cilium.io/v2/namespaces/nope/ciliumnetworkpolicies", cnp("x", ns="nope"))
        self.assertEqual((st, err["reason"]), (404, "NotFound"))
        self.assertIn('namespaces "nope" not found', err["message"])
        st, err, _ = request("POST", "/apis/cilium.io/v2/namespaces/proto/ciliumnetworkpolicies", cnp("x", ns="other"))
        self.assertEqual((st, err["reason"]), (400, "BadRequest"))

    def test_patches(self):
        base = "/apis/cilium.io/v2/namespaces/proto/ciliumnetworkpolicies/p1"
        request("POST", "/apis/cilium.io/v2/namespaces/proto/ciliumnetworkpolicies", cnp("p1", labels={"a": "1"}))
        st, o, _ = request("PATCH", base, {"metadata": {"labels": {"b": "2", "a": None}}},
                           ctype="application/merge-patch+json")
        self.assertEqual(st, 200)
        self.assertEqual(o["metadata"]["labels"], {"b": "2"})
        st, o, _ = request("PATCH", base, [{"op": "replace", "path": "/spec/endpointSelector/matchLabels/app",
                                           "value": "api"}], ctype="application/json-patch+json")
        self.assertEqual(o["spec"]["endpointSelector"]["matchLabels"]["app"], "api")
        self.assertEqual(o["metadata"]["generation"], 2)
        st, o, _ = request("PATCH", base, {"metadata": {"labels": {"c": "3"}}, "$setElementOrder/x": []},
                           ctype="application/strategic-merge-patch+json")
        self.assertEqual(o["metadata"]["labels"], {"b": "2", "c": "3"})
        self.assertNotIn("$setElementOrder/x", o)
        # A patch carrying a stale resourceVersion is a precondition.
        st, err, _ = request("PATCH", base, {"metadata": {"resourceVersion": "1", "labels": {"d": "4"}}},
                             ctype="application/merge-patch+json")
        self.assertEqual((st, err["reason"]), (409, "Conflict"))
        st, err, _ = request("PATCH", base, [{"op": "test", "path": "/spec/nope", "value": 1}],
                             ctype="application/json-patch+json")
        self.assertEqual(st, 422)
        st, err, _ = request("PATCH", base, "{}", ctype="application/apply-patch+yaml")
        self.assertEqual((st, err["reason"]), (415, "UnsupportedMediaType"))
        st, err, _ = request("PATCH", base + "x", {}, ctype="application/merge-patch+json")
        self.assertEqual(st, 404)

    def test_status_subresource(self):
        base = "/api/v1/namespaces/proto/pods/s1"
        body = pod("s1")
        body["status"] = {"phase": "Running"}
        st, o, _ = request("POST", "/api/v1/namespaces/proto/pods", body)
        self.assertEqual(st, 201)
        self.assertEqual(o["status"], {"phase": "Pending"})  # the server owns status on create
        o["status"] = {"phase": "Running", "podIP": "10.0.0.5"}
        o["spec"]["nodeName"] = "node9"
        st, s, _ = request("PUT", base + "/status", o)
        self.assertEqual(st, 200)
        self.assertEqual(s["status"]["podIP"], "10.0.0.5")
        self.assertEqual(s["spec"]["nodeName"], "node1")  # /status changes only status
        self.assertEqual(s["metadata"]["generation"], 1)
        st, s, _ = request("PATCH", base + "/status", {"status": {"podIPs": [{"ip": "10.0.0.5"}]}},
                           ctype="application/merge-patch+json")
        self.assertEqual(s["status"]["podIPs"], [{"ip": "10.0.0.5"}])
        s["status"] = {"phase": "Failed"}
        s["metadata"]["labels"] = {"l": "v"}
        st, m, _ = request("PUT", base, s)
        self.assertEqual(m["status"]["phase"], "Running")  # main resource writes keep status
        self.assertEqual(m["metadata"]["labels"], {"l": "v"})
        st, err, _ = request("PUT", "/apis/cilium.io/v2/namespaces/proto/ciliumendpoints/x/status", {})
        self.assertEqual(st, 404)  # CiliumEndpoint has no status subresource

    def test_service_cluster_ip_and_versions(self):
        st, svc, _ = request("POST", "/api/v1/namespaces/proto/services",
                             {"metadata": {"name": "svc1"}, "spec": {"type": "NodePort", "ports": [{"port": 80}]}})
        self.assertEqual(st, 201)
        self.assertTrue(svc["spec"]["clusterIP"].startswith("10.233."))
        self.assertGreaterEqual(svc["spec"]["ports"][0]["nodePort"], 30000)
        st, pool, _ = request("POST", "/apis/cilium.io/v2alpha1/ciliumloadbalancerippools",
                              {"apiVersion": "cilium.io/v2alpha1", "kind": "CiliumLoadBalancerIPPool",
                               "metadata": {"name": "pool1"}, "spec": {"blocks": [{"cidr": "192.0.2.0/28"}]}})
        self.assertEqual(st, 201)
        st, got, _ = request("GET", "/apis/cilium.io/v2/ciliumloadbalancerippools/pool1")
        self.assertEqual(got["apiVersion"], "cilium.io/v2")
        st, _, _ = request("GET", "/apis/cilium.io/v2/namespaces/proto/ciliumloadbalancerippools/pool1")
        self.assertEqual(st, 404)  # cluster-scoped

    def test_owned_objects_are_garbage_collected(self):
        st, owner, _ = request("POST", "/api/v1/namespaces/proto/pods", pod("owner"))
        cep = {"apiVersion": "cilium.io/v2", "kind": "CiliumEndpoint",
               "metadata": {"name": "owner", "ownerReferences": [
                   {"apiVersion": "v1", "kind": "Pod", "name": "owner", "uid": owner["metadata"]["uid"]}]},
               "status": {"id": 7}}
        self.assertEqual(request("POST", "/apis/cilium.io/v2/namespaces/proto/ciliumendpoints", cep)[0], 201)
        self.assertEqual(request("DELETE", "/api/v1/namespaces/proto/pods/owner")[0], 200)
        st, _, _ = request("GET", "/apis/cilium.io/v2/namespaces/proto/ciliumendpoints/owner")
        self.assertEqual(st, 404)

    def test_namespace_delete_cascades(self):
        ensure_ns("doomed")
        request("POST", "/api/v1/namespaces/doomed/pods", pod("p", ns="doomed"))
        st, _, _ = request("DELETE", "/api/v1/namespaces/doomed")
        self.assertEqual(st, 200)
        st, _, _ = request("GET", "/api/v1/namespaces/doomed/pods/p")
        self.assertEqual(st, 404)


class ListsAndSelectors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ensure_ns("lists")
        for i in range(5):
            request("POST", "/api/v1/namespaces/lists/pods",
                    pod("p%d" % i, ns="lists", labels={"tier": "web" if i % 2 == 0 else "db", "i": str(i)},
                        node="node%d" % (i % 2)))

    def test_limit_continue_snapshot(self):
        st, page1, _ = request("GET", "/api/v1/namespaces/lists/pods", params={"limit": 2})
        self.assertEqual([p["metadata"]["name"] for p in page1["items"]], ["p0", "p1"])
        self.assertEqual(page1["metadata"]["remainingItemCount"], 3)
        token = page1["metadata"]["continue"]
        # Changes after the first page are not in later pages: the list is a snapshot.
        request("POST", "/api/v1/namespaces/lists/pods", pod("p9", ns="lists"))
        request("DELETE", "/api/v1/namespaces/lists/pods/p4")
        names = []
        while token:
            st, page, _ = request("GET", "/api/v1/namespaces/lists/pods", params={"limit": 2, "continue": token})
            self.assertEqual(st, 200)
            self.assertEqual(page["metadata"]["resourceVersion"], page1["metadata"]["resourceVersion"])
            names += [p["metadata"]["name"] for p in page["items"]]
            token = page["metadata"].get("continue")
        self.assertEqual(names, ["p2", "p3", "p4"])
        st, err, _ = request("GET", "/api/v1/namespaces/lists/pods", params={"continue": "garbage!"})
        self.assertEqual(st, 400)
        request("POST", "/api/v1/namespaces/lists/pods", pod("p4", ns="lists", labels={"tier": "web"}, node="node0"))
        request("DELETE", "/api/v1/namespaces/lists/pods/p9")

    def test_continue_after_compaction_is_410(self):
        st, page1, _ = request("GET", "/api/v1/namespaces/lists/pods", params={"limit": 1})
        request("POST", "/api/v1/namespaces/lists/pods", pod("compact-marker", ns="lists"))
        control("compact")
        st, err, _ = request("GET", "/api/v1/namespaces/lists/pods",
                             params={"limit": 1, "continue": page1["metadata"]["continue"]})
        self.assertEqual((st, err["reason"], err["code"]), (410, "Expired", 410))
        request("DELETE", "/api/v1/namespaces/lists/pods/compact-marker")

    def test_selectors(self):
        def names(**params):
            st, l, _ = request("GET", "/api/v1/namespaces/lists/pods", params=params)
            self.assertEqual(st, 200, l)
            return sorted(p["metadata"]["name"] for p in l["items"])
        self.assertEqual(names(labelSelector="tier=web"), ["p0", "p2", "p4"])
        self.assertEqual(names(labelSelector="tier!=web"), ["p1", "p3"])
        self.assertEqual(names(labelSelector="i in (1,2),tier"), ["p1", "p2"])
        self.assertEqual(names(labelSelector="i notin (0,1,2),!nolabel"), ["p3", "p4"])
        self.assertEqual(names(fieldSelector="spec.nodeName=node1"), ["p1", "p3"])
        self.assertEqual(names(fieldSelector="metadata.name==p2"), ["p2"])
        self.assertEqual(names(fieldSelector="metadata.name!=p2,spec.nodeName=node0", labelSelector="tier=web"),
                         ["p0", "p4"])
        st, l, _ = request("GET", "/api/v1/pods", params={"fieldSelector": "metadata.namespace=lists"})
        self.assertEqual(len(l["items"]), 5)
        st, err, _ = request("GET", "/api/v1/namespaces/lists/pods", params={"fieldSelector": "spec.bogus=1"})
        self.assertEqual(st, 400)
        self.assertIn("field label not supported", err["message"])
        st, err, _ = request("GET", "/apis/cilium.io/v2/ciliumnetworkpolicies",
                             params={"fieldSelector": "spec.nodeName=x"})
        self.assertEqual(st, 400)
        st, err, _ = request("GET", "/api/v1/pods", params={"labelSelector": "a in (b"})
        self.assertEqual(st, 400)

    def test_delete_collection(self):
        ensure_ns("coll")
        for i in range(3):
            request("POST", "/api/v1/namespaces/coll/pods", pod("d%d" % i, ns="coll", labels={"gone": str(i < 2)}))
        st, l, _ = request("DELETE", "/api/v1/namespaces/coll/pods", params={"labelSelector": "gone=True"})
        self.assertEqual(sorted(p["metadata"]["name"] for p in l["items"]), ["d0", "d1"])
        st, l, _ = request("GET", "/api/v1/namespaces/coll/pods")
        self.assertEqual([p["metadata"]["name"] for p in l["items"]], ["d2"])


class Watches(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ensure_ns("watch")

    def test_sees_exactly_later_changes_in_order(self):
        base = "/apis/cilium.io/v2/namespaces/watch/ciliumnetworkpolicies"
        self.assertEqual(request("POST", base, cnp("before", ns="watch"))[0], 201)
        st, l, _ = request("GET", base)
        start = l["metadata"]["resourceVersion"]
        self.assertEqual(request("POST", base, cnp("w1", ns="watch"))[0], 201)
        self.assertEqual(request("PATCH", base + "/w1", {"metadata": {"labels": {"k": "v"}}},
                                 ctype="application/merge-patch+json")[0], 200)
        self.assertEqual(request("POST", "/api/v1/namespaces/watch/pods", pod("other-kind", ns="watch"))[0], 201)
        self.assertEqual(request("DELETE", base + "/w1")[0], 200)
        self.assertEqual(request("POST", base, cnp("w2", ns="watch"))[0], 201)
        w = Watch(base, resourceVersion=start, timeoutSeconds=1)
        evs = w.rest()  # timeoutSeconds ends the stream cleanly
        w.close()
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in evs],
                         [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1"), ("ADDED", "w2")])
        rvs = [rv_of(e["object"]) for e in evs]
        self.assertEqual(rvs, sorted(rvs))
        self.assertGreater(rvs[0], int(start))

    def test_live_events_and_initial_state(self):
        base = "/api/v1/namespaces/watch/services"
        request("POST", base, {"metadata": {"name": "existing"}, "spec": {"ports": [{"port": 1}]}})
        w = Watch(base, timeoutSeconds=30)  # no resourceVersion: current state first
        ev = w.next()
        self.assertEqual((ev["type"], ev["object"]["metadata"]["name"]), ("ADDED", "existing"))
        request("POST", base, {"metadata": {"name": "live"}, "spec": {"ports": [{"port": 2}]}})
        ev = w.next()
        self.assertEqual((ev["type"], ev["object"]["metadata"]["name"]), ("ADDED", "live"))
        w.close()

    def test_bookmarks(self):
        st, l, _ = request("GET", "/api/v1/nodes")
        w = Watch("/api/v1/nodes", resourceVersion=l["metadata"]["resourceVersion"], allowWatchBookmarks="true",
                  timeoutSeconds=30)
        ev = w.next()
        self.assertEqual(ev["type"], "BOOKMARK")
        self.assertEqual(list(ev["object"]["metadata"].keys()), ["resourceVersion"])
        self.assertGreaterEqual(int(ev["object"]["metadata"]["resourceVersion"]), int(l["metadata"]["resourceVersion"]))
        self.assertEqual(ev["object"]["kind"], "Node")
        w.close()

    def test_label_selector_turns_modifications_into_add_delete(self):
        base = "/api/v1/namespaces/watch/pods"
        st, l, _ = request("GET", base)
        w = Watch(base, resourceVersion=l["metadata"]["resourceVersion"], labelSelector="sel=yes", timeoutSeconds=30)
        request("POST", base, pod("sel1", ns="watch", labels={"sel": "no"}))
        request("PATCH", base + "/sel1", {"metadata": {"labels": {"sel": "yes"}}}, ctype="application/merge-patch+json")
        request("PATCH", base + "/sel1", {"metadata": {"labels": {"sel": "no"}}}, ctype="application/merge-patch+json")
        self.assertEqual(w.next()["type"], "ADDED")
        self.assertEqual(w.next()["type"], "DELETED")
        w.close()

    def test_410_after_compaction_and_history_overflow(self):
        st, l, _ = request("GET", "/api/v1/namespaces/watch/pods")
        old = l["metadata"]["resourceVersion"]
        request("POST", "/api/v1/namespaces/watch/pods", pod("c410", ns="watch"))
        control("compact")
        w = Watch("/api/v1/namespaces/watch/pods", resourceVersion=old, timeoutSeconds=30)
        evs = w.rest()
        w.close()
        self.assertEqual(len(evs), 1)
        self.assertEqual(evs[0]["type"], "ERROR")
        status = evs[0]["object"]
        self.assertEqual((status["kind"], status["code"], status["reason"]), ("Status", 410, "Expired"))
        self.assertIn("too old resource version", status["message"])
        # Overflowing --history (200) has the same effect without compaction.
        st, l, _ = request("GET", "/api/v1/namespaces/watch/pods")
        old = l["metadata"]["resourceVersion"]
        for i in range(205):
            request("PATCH", "/api/v1/namespaces/watch/pods/c410", {"metadata": {"labels": {"n": str(i)}}},
                    ctype="application/merge-patch+json")
        w = Watch("/api/v1/namespaces/watch/pods", resourceVersion=old, timeoutSeconds=30)
        evs = w.rest()
        w.close()
        self.assertEqual([e["type"] for e in evs], ["ERROR"])
        self.assertEqual(evs[0]["object"]["code"], 410)


class Faults(unittest.TestCase):
    def test_fail_next_requests(self):
        control("fail", count=2, code=503)
        self.assertEqual(control("state")["pendingFaults"], 2)
        st, err, hdr = request("GET", "/api/v1/nodes")
        self.assertEqual((st, err["reason"]), (503, "ServiceUnavailable"))
        self.assertEqual(request("GET", "/api/v1/nodes")[0], 503)
        self.assertEqual(request("GET", "/api/v1/nodes")[0], 200)

    def test_fail_matching_and_garbage(self):
        control("fail", count=1, mode="garbage", match="/pods")
        self.assertEqual(request("GET", "/api/v1/nodes")[0], 200)  # not matched, not consumed
        st, body, _ = request("GET", "/api/v1/pods")
        self.assertEqual(st, 200)
        self.assertIsInstance(body, str)  # not JSON
        self.assertRaises(ValueError, json.loads, body)
        self.assertEqual(request("GET", "/api/v1/pods")[0], 200)

    def test_break_watches(self):
        st, l, _ = request("GET", "/api/v1/nodes")
        w = Watch("/api/v1/nodes", resourceVersion=l["metadata"]["resourceVersion"], timeoutSeconds=60)
        wait_until(lambda: control("state")["openWatches"] >= 1, "the watch to be open")
        self.assertGreaterEqual(control("break-watches")["broken"], 1)
        # The stream ends without the terminating chunk: a broken connection, not a clean end.
        self.assertRaises(ConnectionError, w.rest)
        w.close()
        wait_until(lambda: control("state")["openWatches"] == 0, "the broken watch to be gone")

    def test_down_and_up(self):
        st, l, _ = request("GET", "/api/v1/nodes")
        w = Watch("/api/v1/nodes", resourceVersion=l["metadata"]["resourceVersion"], timeoutSeconds=60)
        control("down")

        def refused():
            try:
                request("GET", "/version")
                return False
            except (ConnectionError, OSError):
                return True
        wait_until(refused, "the API to refuse connections")
        self.assertRaises(ConnectionError, w.rest)
        w.close()
        self.assertFalse(control("state")["up"])
        control("up")
        wait_until(lambda: not refused(), "the API to answer again")
        self.assertEqual(request("GET", "/api/v1/nodes")[0], 200)
        # A timed outage ends by itself.
        control("down", seconds=1)
        wait_until(refused, "the timed outage")
        wait_until(lambda: not refused(), "the API to come back after the timed outage")


if __name__ == "__main__":
    BIN = sys.argv.pop(1)
    unittest.main(verbosity=2)
