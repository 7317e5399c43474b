#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Send malformed control requests to nodemeshd, each raw on its own
connection, and check that each gets exactly one line of JSON with
"ok": false and a non-empty "error". Prints one line per request; exits 1
if any request got anything else.

usage: ctl_errors.py SOCKET IFACE1 IFACE2 FREE_IFACE IP1
  IFACE1/IFACE2: host ends of pods already added (pod-1, pod-2)
  FREE_IFACE:    host end of a veth that is not a pod (used so that only the
                 one wrong thing in a request is wrong)
  IP1:           pod-1's address
"""
import json
import socket
import sys

sock_path, if1, if2, free_if, ip1 = sys.argv[1:6]


def pod_add(**over):
    """A valid `pod add` for a new pod, with some keys overridden or
    (value None) removed."""
    kv = {"name": "newpod", "namespace": "test", "serviceaccount": "sa-new",
          "ip": "198.18.0.9", "iface": free_if}
    kv.update(over)
    return "pod add " + " ".join("%s=%s" % (k, v) for k, v in kv.items() if v is not None)


full = pod_add()
cases = [
    ("unknown command", b"frobnicate"),
    ("unknown command, uppercase", b"POD LIST"),
    ("unknown command that looks like JSON", b'{"cmd":"stats"}'),
    ("pod without subcommand", b"pod"),
    ("pod unknown subcommand", b"pod frob"),
    ("pod add without arguments", b"pod add"),
    ("pod add only name", b"pod add name=x"),
    ("pod add missing name", pod_add(name=None).encode()),
    ("pod add missing namespace", pod_add(namespace=None).encode()),
    ("pod add labels without serviceaccount",
     pod_add(serviceaccount=None, labels="app=x").encode()),
    ("pod add bad container id", pod_add(container="a/b").encode()),
    ("pod del with name and container", b"pod del name=x container=y"),
    ("identity set missing serviceaccount", b"identity set namespace=test name=x"),
    ("identity set bad namespace", b"identity set namespace=Test name=x serviceaccount=s"),
    ("identity del unknown", b"identity del namespace=test name=nobody"),
    ("identity del missing name", b"identity del namespace=test"),
    ("pod add missing ip", pod_add(ip=None).encode()),
    ("pod add missing iface", pod_add(iface=None).encode()),
    ("bad ip: octet > 255", pod_add(ip="999.1.1.1").encode()),
    ("bad ip: 3 octets", pod_add(ip="198.18.0").encode()),
    ("bad ip: 5 octets", pod_add(ip="198.18.0.1.5").encode()),
    ("bad ip: letters", pod_add(ip="abc").encode()),
    ("bad ip: negative", pod_add(ip="-1.2.3.4").encode()),
    ("bad ip: 300", pod_add(ip="198.18.0.300").encode()),
    ("bad ip: CIDR", pod_add(ip="198.18.0.9/32").encode()),
    ("bad ip: empty", pod_add(ip="").encode()),
    ("bad ip: IPv6", pod_add(ip="2001:db8::1").encode()),
    ("duplicate ip", pod_add(ip=ip1).encode()),
    ("duplicate name", pod_add(name="pod-1").encode()),
    ("duplicate iface", pod_add(iface=if1).encode()),
    ("iface does not exist", pod_add(iface="nmnoexist0").encode()),
    ("iface name too long", pod_add(iface="nm" + "x" * 20).encode()),
    ("name too long (100)", pod_add(name="n" * 100).encode()),
    ("token too long (300)", pod_add(name="t" * 300).encode()),
    ("unknown key in pod add", (full + " color=red").encode()),
    ("unknown driver", (full + " driver=nosuch").encode()),
    ("duplicate key in pod add", (full + " name=other").encode()),
    ("bare word after arguments", (full + " extra").encode()),
    ("empty key", (full + " =x").encode()),
    ("uppercase key", b"pod del Name=pod-1"),
    ("pod del without name", b"pod del"),
    ("pod del empty name", b"pod del name="),
    ("pod del unknown pod", b"pod del name=nosuchpod"),
    ("pod del unknown key", b"pod del name=pod-1 extra=1"),
    ("pod del duplicate key", b"pod del name=pod-1 name=pod-2"),
    ("pod list unknown key", b"pod list bogus=1"),
    ("stats unknown key", b"stats now=1"),
    ("version unknown key", b"version x=1"),
    ("help unknown key", b"help x=1"),
    ("too many words", b"a b c d e f g h i j"),
    ("too many arguments", ("pod add " + " ".join("k%d=v" % i for i in range(30))).encode()),
    ("line of 4097 bytes", b"x" * 4097),
    ("line of 5000 bytes starting with a valid command", b"pod list " + b"a" * 5000),
    ("control byte 0x01", b"pod\x01 list"),
    ("NUL byte", b"pod\x00list"),
    ("DEL byte", b"stats\x7f"),
    ("bytes >= 0x80", b"pod list \xff\xfe"),
    ("escape sequence", b"stats\x1b[31m"),
    ("CR inside the line", b"pod\rlist"),
]

failures = 0
for what, req in cases:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    got = b""
    problem = None
    try:
        s.connect(sock_path)
        s.sendall(req + b"\n")
        while b"\n" not in got:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        if b"\n" in got:
            # Anything more than one line (within a short wait) is wrong.
            s.settimeout(0.3)
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
            except (socket.timeout, ConnectionResetError):
                pass
    except (socket.timeout, OSError) as e:
        problem = "socket error %r after %r" % (e, got)
    finally:
        s.close()
    if problem is None:
        lines = got.split(b"\n")
        if not got.endswith(b"\n"):
            problem = "no complete line: %r" % got[:200]
        elif len(lines) != 2:
            problem = "%d lines: %r" % (len(lines) - 1, got[:300])
        else:
            try:
                resp = json.loads(lines[0])
            except ValueError:
                problem = "not JSON: %r" % lines[0][:200]
            else:
                if not isinstance(resp, dict) or resp.get("ok") is not False:
                    problem = "not ok:false: %r" % lines[0][:200]
                elif not isinstance(resp.get("error"), str) or not resp["error"].strip():
                    problem = "no error text: %r" % lines[0][:200]
    if problem:
        failures += 1
        print("FAIL %-45s %s" % (what, problem))
    else:
        print("ok   %-45s %s" % (what, resp["error"]))

print("%d requests, %d wrong answers" % (len(cases), failures))
sys.exit(1 if failures else 0)
