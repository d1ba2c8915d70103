#!/usr/bin/env python3
"""A Python gRPC client generated from the project's proto/ at test time
streams flows from the observer server (hubble_test_server) over TCP and the
unix socket: last N, follow with datapath-loss events, filters, a bad filter,
ServerStatus, GetNodes and the grpc.health.v1 Check.

usage: test_python_client.py HUBBLE_TEST_SERVER PROTO_DIR PROTOC GRPC_PYTHON_PLUGIN
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def generate_stubs(proto_dir, protoc, plugin, out):
    if not plugin or not os.path.exists(plugin):
        sys.exit("grpc_python_plugin not found: install the Debian package protobuf-compiler-grpc")
    os.makedirs(out)
    cmd = [protoc, f"--python_out={out}", f"--grpc_python_out={out}",
           f"--plugin=protoc-gen-grpc_python={plugin}", f"-I{proto_dir}",
           "flow/flow.proto", "relay/relay.proto", "observer/observer.proto"]
    subprocess.run(cmd, check=True)
    # Python's own `grpc` package would shadow modules generated at
    # grpc/health/v1: generate them under another path. The wire names come
    # from the proto package (grpc.health.v1), not the file's path.
    health_dir = os.path.join(out, "health-proto")
    os.makedirs(os.path.join(health_dir, "healthcheck"))
    shutil.copy(os.path.join(proto_dir, "grpc/health/v1/health.proto"), os.path.join(health_dir, "healthcheck"))
    subprocess.run([protoc, f"--python_out={out}", f"--grpc_python_out={out}",
                    f"--plugin=protoc-gen-grpc_python={plugin}", f"-I{health_dir}", "healthcheck/health.proto"],
                   check=True)
    sys.path.insert(0, out)


def start_server(binary, sock, extra):
    proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--socket", sock] + extra,
                            stdout=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stdout:  # log lines, then "ready port=N" (or EOF if it died)
        if line.startswith("ready port="):
            # Keep draining stdout so the server never blocks on a full pipe.
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return proc, int(line.strip().split("=")[1])
        seen.append(line)
    proc.kill()
    proc.wait()
    sys.exit("hubble_test_server did not start:\n" + "".join(seen))


def stop_server(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = None
    check(rc == 0, f"server exits 0 on SIGTERM (rc={rc})")


def main():
    binary, proto_dir, protoc, plugin = sys.argv[1:5]
    tmp = tempfile.mkdtemp(prefix="cpp-hubble-py-")
    procs = []
    try:
        generate_stubs(proto_dir, protoc, plugin, os.path.join(tmp, "gen"))
        import grpc
        from flow import flow_pb2
        from observer import observer_pb2, observer_pb2_grpc
        from healthcheck import health_pb2, health_pb2_grpc

        sock = os.path.join(tmp, "run", "hubble.sock")
        proc, port = start_server(binary, sock, ["--flows", "10", "--tick-ms", "20", "--lost-per-tick", "3"])
        procs.append(proc)

        for target in (f"127.0.0.1:{port}", f"unix:{sock}"):
            with grpc.insecure_channel(target) as ch:
                stub = observer_pb2_grpc.ObserverStub(ch)
                got = list(stub.GetFlows(observer_pb2.GetFlowsRequest(number=4), timeout=30))
                flows = [r.flow for r in got if r.HasField("flow")]
                check(len(flows) == 4, f"{target}: last 4 → {len(flows)} flows")
                times = [f.time.ToNanoseconds() for f in flows]
                check(times == sorted(times), f"{target}: flows oldest first")
                f = flows[-1]
                check(f.source.pod_name == "client" and f.destination.pod_name == "server",
                      f"{target}: pod names client → server")
                check(f.node_name == "test-node" and got[-1].node_name == "test-node", f"{target}: node name")
                check(f.IP.source == "10.0.0.1" and f.IP.ipVersion == flow_pb2.IPv4, f"{target}: IP")
                check(f.Type == flow_pb2.L3_L4, f"{target}: Type L3_L4")
                check("k8s:app=client" in f.source.labels, f"{target}: source labels")

        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            stub = observer_pb2_grpc.ObserverStub(ch)

            dropped = list(stub.GetFlows(observer_pb2.GetFlowsRequest(
                number=3, whitelist=[flow_pb2.FlowFilter(verdict=[flow_pb2.DROPPED])]), timeout=30))
            check(len(dropped) == 3 and all(r.flow.verdict == flow_pb2.DROPPED for r in dropped),
                  "whitelist verdict=DROPPED → only dropped flows")
            d = dropped[-1].flow
            check(d.drop_reason_desc == flow_pb2.POLICY_DENIED, "drop reason POLICY_DENIED")
            check(d.l4.WhichOneof("protocol") == "UDP" and d.l4.UDP.destination_port == 53, "L4 oneof UDP:53")
            check([p.name for p in d.ingress_denied_by] == ["deny-dns"], "ingress_denied_by names the policy")

            tcp = list(stub.GetFlows(observer_pb2.GetFlowsRequest(
                number=2, blacklist=[flow_pb2.FlowFilter(protocol=["udp"])]), timeout=30))
            check(len(tcp) == 2 and all(r.flow.l4.WhichOneof("protocol") == "TCP" for r in tcp),
                  "blacklist protocol=udp → only TCP")
            check(tcp[-1].flow.Summary == "TCP Flags: SYN" and tcp[-1].flow.l4.TCP.flags.SYN,
                  "TCP flags and Summary")

            try:
                list(stub.GetFlows(observer_pb2.GetFlowsRequest(
                    whitelist=[flow_pb2.FlowFilter(source_ip=["not-an-ip"])]), timeout=30))
                check(False, "bad filter rejected")
            except grpc.RpcError as e:
                check(e.code() == grpc.StatusCode.INVALID_ARGUMENT and "not-an-ip" in e.details(),
                      f"bad filter → INVALID_ARGUMENT naming the value ({e.code()}: {e.details()})")

            # Follow: new flows (one per tick) and the datapath loss counter's
            # growth (3 per tick) as PERF_EVENT_RING_BUFFER lost events.
            call = stub.GetFlows(observer_pb2.GetFlowsRequest(follow=True), timeout=60)
            new_flows, lost = 0, 0
            for r in call:
                if r.HasField("flow"):
                    new_flows += 1
                elif r.HasField("lost_events"):
                    check(r.lost_events.source == flow_pb2.PERF_EVENT_RING_BUFFER, "lost source PERF_EVENT_RING_BUFFER")
                    lost += r.lost_events.num_events_lost
                if new_flows >= 5 and lost > 0:
                    break
            call.cancel()
            check(new_flows >= 5, f"follow streamed {new_flows} new flows")
            check(lost > 0 and lost % 3 == 0, f"follow reported {lost} datapath-lost events")

            st = stub.ServerStatus(observer_pb2.ServerStatusRequest(), timeout=30)
            check(st.seen_flows >= 15 and 0 <= st.seen_flows - st.num_flows <= 1 and st.max_flows == 1010,
                  f"ServerStatus flows seen={st.seen_flows} num={st.num_flows} max={st.max_flows}")
            check(st.version == "0.0.0-test" and st.num_connected_nodes.value == 1 and st.uptime_ns > 0,
                  "ServerStatus version, connected nodes, uptime")
            # The standard health service, as grpc_health_probe and `hubble status` ask it.
            health = health_pb2_grpc.HealthStub(ch)
            for service in ("", "hubble.server.Observer"):
                hc = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=30)
                check(hc.status == health_pb2.HealthCheckResponse.SERVING, f"health Check '{service}' → SERVING")
            nodes = stub.GetNodes(observer_pb2.GetNodesRequest(), timeout=30).nodes
            check(len(nodes) == 1 and nodes[0].name == "test-node" and nodes[0].address == f"127.0.0.1:{port}",
                  "GetNodes: this node and its address")

        stop_server(proc)
        procs.remove(proc)
        check(not os.path.exists(sock), "socket file removed on exit")
    finally:
        for p in procs:
            p.kill()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    if failures:
        print(f"{len(failures)} check(s) failed", flush=True)
        sys.exit(1)
    print("all checks passed", flush=True)


if __name__ == "__main__":
    main()
