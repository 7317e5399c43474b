#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Stream IDS evasions against nodemesh, with hand-made TCP packets.

Runs inside the client pod. Each case opens its own connection (its own
source port) to the recording server in the other pod (tcp_record.py),
does the three-way handshake by hand with scapy, then tries to get the
signature "UNION SELECT" (a `reject` rule with content:"UNION SELECT";
nocase) past the dataplane by splitting, reordering, overlapping,
hiding or fragmenting it. For every case the server's recorded bytes must
not contain the signature, the bytes that should get through must have
got through exactly, and the counter the case is about must have grown.

The pod's own kernel knows nothing of these connections and answers the
server's SYN-ACKs and ACKs with bare RSTs; the wrapper (sig_evasion.sh)
drops bare 40-byte RSTs on the pod's egress. The one bare RST this script
sends on purpose carries TCP options, so it is longer and passes.

Prints one "ok: CASE: ..." line per case that behaved, one "FAIL: CASE:
..." per case that did not, and exits 1 if any failed.
"""
import argparse
import json
import os
import random
import select
import socket
import subprocess
import sys
import time

from scapy.all import IP, TCP, Ether, Raw, conf, fragment, get_if_hwaddr

SIG = b"union select"

ap = argparse.ArgumentParser()
ap.add_argument("--iface", default="eth0")
ap.add_argument("--gw-mac", required=True)
ap.add_argument("--src", required=True)
ap.add_argument("--dst", required=True)
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--ctl", required=True, help="nodemeshctl binary")
ap.add_argument("--sock", required=True, help="control socket")
ap.add_argument("--alerts", required=True, help="alert log")
ap.add_argument("--server-dir", required=True, help="tcp_record.py's directory")
ap.add_argument("--sid", type=int, required=True)
ap.add_argument("--base-sport", type=int, default=42000)
ap.add_argument("--only", default="", help="comma-separated case names to run")
a = ap.parse_args()

conf.verb = 0


class Net:
    """Frames out to the gateway MAC; everything the server's address and
    port sends back (including RSTs nodemesh forges in its name), kept."""

    def __init__(self):
        self.mac = get_if_hwaddr(a.iface)
        # A plain packet socket: frames built first, then written back to
        # back, so that two of them usually reach nodemesh in one burst.
        self.tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        self.tx.bind((a.iface, 0))
        self.rx = conf.L2listen(
            iface=a.iface, filter="tcp and src host %s and src port %d" % (a.dst, a.port)
        )
        self.seen = []

    def send(self, *pkts):
        frames = [bytes(Ether(src=self.mac, dst=a.gw_mac) / p) for p in pkts]
        for f in frames:
            self.tx.send(f)

    def pump(self, timeout):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            r, _, _ = select.select([self.rx], [], [], max(0.0, left))
            if not r:
                return
            p = self.rx.recv()
            if p is not None and IP in p and TCP in p:
                self.seen.append(p[IP])

    def wait(self, pred, timeout):
        end = time.monotonic() + timeout
        while True:
            for p in self.seen:
                if pred(p):
                    return p
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.pump(min(left, 0.05))


net = Net()


def seq_ge(x, y):
    """x >= y in sequence space (RFC 793 arithmetic modulo 2^32)."""
    return ((x - y) & 0xFFFFFFFF) < 0x80000000


class Conn:
    """One hand-made connection; data positions are offsets from the
    first byte after the SYN."""

    def __init__(self, sport):
        self.sport = sport
        self.isn = random.randrange(1 << 32)
        self.base = (self.isn + 1) & 0xFFFFFFFF
        self.ack = 0
        self.next = 0  # offset of the next new byte

    def from_server(self, p):
        return p[TCP].dport == self.sport

    def syn(self, payload=b""):
        p = IP(src=a.src, dst=a.dst) / TCP(
            sport=self.sport, dport=a.port, flags="S", seq=self.isn, window=65535
        )
        return p / Raw(payload) if payload else p

    def syn_ack(self, timeout=2.0):
        sa = net.wait(lambda p: self.from_server(p) and p[TCP].flags.S and p[TCP].flags.A, timeout)
        if sa is not None:
            self.ack = (sa[TCP].seq + 1) & 0xFFFFFFFF
        return sa

    def handshake(self):
        net.send(self.syn())
        if self.syn_ack() is None:
            raise Failure("no SYN-ACK from the server")
        net.send(self.seg(b"", flags="A"))

    def seg(self, data, off=None, flags="PA", ttl=64, urgptr=0, bad_csum=False, options=None):
        off = self.next if off is None else off
        if urgptr:
            flags += "U"
        tcp = TCP(
            sport=self.sport,
            dport=a.port,
            flags=flags,
            seq=(self.base + off) & 0xFFFFFFFF,
            ack=self.ack,
            window=65535,
            urgptr=urgptr,
            options=options or [],
        )
        p = IP(src=a.src, dst=a.dst, ttl=ttl) / tcp
        if data:
            p = p / Raw(data)
        if bad_csum:
            good = IP(bytes(p))[TCP].chksum
            p[TCP].chksum = good ^ 0x5555
        return p

    def send(self, data, **kw):
        """Send new bytes at the next offset; returns the offset after them."""
        net.send(self.seg(data, **kw))
        self.next += len(data)
        return self.next

    def acked(self, off, timeout=1.0):
        """Has the server acknowledged every byte before offset off?"""
        want = (self.base + off) & 0xFFFFFFFF
        return (
            net.wait(
                lambda p: self.from_server(p) and p[TCP].flags.A and seq_ge(p[TCP].ack, want),
                timeout,
            )
            is not None
        )

    def send_acked(self, data, what, **kw):
        end = self.send(data, **kw)
        if not self.acked(end):
            raise Failure("%s (%r) was not acknowledged by the server" % (what, data))
        return end

    def reset_seen(self, timeout=1.0):
        return net.wait(lambda p: self.from_server(p) and p[TCP].flags.R, timeout) is not None


class Failure(Exception):
    pass


def counters():
    out = subprocess.check_output([a.ctl, "-s", a.sock, "--json", "stats"])
    j = json.loads(out)
    c = dict(j["drops"])
    sg = j["signatures"]
    c.update(sg["stream"])
    c["hits"] = sg["hits_by_sid"].get(str(a.sid), 0)
    c["resets_sent"] = sg["resets_sent"]
    c["reassembled"] = sum(w["reassembled"] for w in j["workers"])
    return c


def alerts_for(sport):
    found = []
    if os.path.exists(a.alerts):
        with open(a.alerts) as f:
            for line in f:
                if line.strip():
                    e = json.loads(line)
                    if e.get("src_port") == sport and e["alert"]["signature_id"] == a.sid:
                        found.append(e)
    return found


def flow_states(sport):
    """(side, state, inspection) of this connection's entries in nodemesh."""
    out = subprocess.check_output([a.ctl, "-s", a.sock, "--json", "flow", "list"])
    return [
        (f["side"], f["state"], f.get("inspection"))
        for f in json.loads(out)["flows"]
        if f["proto"] == "tcp" and f["src"]["port"] == sport and f["dst"]["port"] == a.port
    ]


def server_data(sport):
    path = os.path.join(a.server_dir, "%d.bin" % sport)
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return f.read()


def server_end(sport):
    path = os.path.join(a.server_dir, "%d.end" % sport)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return f.read().strip()


failed = []
notes = {}  # sport -> extra detail for the case's line


def run(name, fn, sport):
    """Run case fn(Conn) and judge what it returns: a dict with
    grew: counters that must have grown (all of them),
    grew_any: counters of which at least one must have grown,
    still: counters that must not have grown,
    caught: True if the signature must have hit (alert, blocked, RSTs),
            False if it must not have (nothing matched: no alert),
    server: the exact bytes the server must have received (None: no
            connection at all),
    ends: how the server's connection may end in a caught case
            (default: only "reset"; None: it never saw one)."""
    c = Conn(sport)
    before = counters()
    try:
        want = fn(c)
        # The worker may not have handled the last packet yet (nothing
        # comes back for a dropped one), alerts go through the control
        # thread, the server writes from its own thread: wait, up to 3 s,
        # until everything expected is there.
        deadline = time.monotonic() + 3.0
        while True:
            got = server_data(sport)
            alerts = alerts_for(sport)
            # Counters after the alerts, and a caught case waits for its
            # drop too: the worker queues the alert a moment before it
            # counts the drop, so the alert can reach the log first.
            after = counters()
            settled = (
                (
                    not want.get("caught")
                    or (alerts and after["signature_drop"] > before["signature_drop"])
                )
                and got == want["server"]
                and all(after[k] > before[k] for k in want.get("grew", []))
                and (
                    not want.get("grew_any")
                    or any(after[k] > before[k] for k in want["grew_any"])
                )
            )
            if settled or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        delta = {k: after[k] - before[k] for k in after if after[k] != before[k]}
        problems = []
        if got is not None and SIG in got.lower():
            problems.append("THE SIGNATURE REACHED THE SERVER")
        if got != want["server"]:
            problems.append("server received %r, expected %r" % (got, want["server"]))
        for k in want.get("grew", []):
            if after[k] <= before[k]:
                problems.append("counter %s did not grow" % k)
        if want.get("grew_any") and not any(after[k] > before[k] for k in want["grew_any"]):
            problems.append("none of %s grew" % "/".join(want["grew_any"]))
        for k in want.get("still", []):
            if after[k] != before[k]:
                problems.append("counter %s grew" % k)
        if want.get("caught"):
            if len(alerts) != 1 or alerts[0]["alert"]["action"] != "blocked":
                problems.append("expected one 'blocked' alert for port %d, got %s" % (sport, alerts))
            if after["hits"] <= before["hits"]:
                problems.append("hits of sid %d did not grow" % a.sid)
            if after["signature_drop"] <= before["signature_drop"]:
                problems.append("signature_drop did not grow")
            if not c.reset_seen():
                problems.append("the client got no RST from the reject")
            end = None
            for _ in range(20):
                end = server_end(sport)
                if end is not None:
                    break
                time.sleep(0.1)
            if end not in want.get("ends", ("reset",)):
                problems.append("server connection ended %r, expected %s" % (
                    end, " or ".join(repr(e) for e in want.get("ends", ("reset",)))))
        elif want.get("caught") is False and alerts:
            problems.append("unexpected alert(s): %s" % alerts)
        if problems:
            raise Failure("; ".join(problems))
        print(
            "ok: %s: port %d, server got %r, counters %s%s"
            % (name, sport, got, json.dumps(delta, sort_keys=True), notes.get(sport, "")),
            flush=True,
        )
    except Failure as e:
        after = counters()
        delta = {k: after[k] - before[k] for k in after if after[k] != before[k]}
        print(
            "FAIL: %s: port %d: %s (server got %r, alerts %d, counters %s%s)"
            % (name, sport, e, server_data(sport), len(alerts_for(sport)),
               json.dumps(delta, sort_keys=True), notes.get(sport, "")),
            flush=True,
        )
        failed.append(name)


# --- the cases ---------------------------------------------------------------


def split2(c):
    c.handshake()
    c.send_acked(b"id=1 ", "prefix")
    c.send_acked(b"UNION SEL", "first half")
    c.send(b"ECT pw\n")
    return {"caught": True, "server": b"id=1 UNION SEL"}


def split12(c):
    c.handshake()
    c.send_acked(b"id=2 ", "prefix")
    sig = b"UNION SELECT"
    for i in range(len(sig) - 1):
        c.send_acked(sig[i : i + 1], "byte %d" % i)
    c.send(sig[-1:])
    return {"caught": True, "server": b"id=2 UNION SELEC"}


def out_of_order(c):
    c.handshake()
    p = c.send_acked(b"id=3 ", "prefix")
    n0 = counters()["held_out_of_order"]
    # Second half first: ahead of the next byte to scan. nodemesh forwards it
    # (the server queues it, its application cannot read it before the gap
    # fills) and holds a reference to scan it when the gap comes.
    net.send(c.seg(b"SELECT pw\n", off=p + 6))
    deadline = time.monotonic() + 2
    while counters()["held_out_of_order"] == n0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if counters()["held_out_of_order"] == n0:
        raise Failure("held_out_of_order did not grow for the early second half")
    # The first half fills the gap: scanned together with the held half, it
    # is dropped, so the server's application never reads either half.
    c.send(b"UNION ")
    return {"caught": True, "server": b"id=3 ", "grew": ["held_out_of_order"]}


def overlap_insertion(c):
    c.handshake()
    p = c.send_acked(b"id=4 ", "prefix")
    # A decoy the server discards (bad checksum) but a naive IDS scans...
    net.send(c.seg(b"UNION XELECT pw\n", off=p, bad_csum=True))
    if c.acked(p + 1, 0.5):
        raise Failure("the server acknowledged the bad-checksum decoy")
    # ...then the real bytes at the same sequence number and length.
    net.send(c.seg(b"UNION SELECT pw\n", off=p))
    return {"caught": False, "server": b"id=4 ", "grew": ["tcp_overlap_different"]}


def overlap_race(c):
    c.handshake()
    p = c.send_acked(b"id=5 ", "prefix")
    # Both copies at once: the second arrives before the server's ACK of the
    # first (dropped, tcp_overlap_different) or after it (forwarded as a
    # retransmission of acknowledged bytes, which the server discards).
    net.send(c.seg(b"UNION XELECT pw\n", off=p), c.seg(b"UNION SELECT pw\n", off=p))
    c.acked(p + 16)
    return {
        "caught": False,
        "server": b"id=5 UNION XELECT pw\n",
        "grew_any": ["tcp_overlap_different", "retransmits_verified"],
    }


def overlap_partial_acked(c):
    c.handshake()
    p = c.send_acked(b"id=6 ", "prefix")
    c.send_acked(b"UNION XELECT", "decoy")
    # Overlaps 8 acknowledged bytes with other data, then adds 4 new ones:
    # the server keeps its first copy, nodemesh scans only the new bytes.
    net.send(c.seg(b"N SELECT pw\n", off=p + 4))
    c.acked(p + 16)
    return {"caught": False, "server": b"id=6 UNION XELECT pw\n"}


def overlap_partial_unacked(c):
    c.handshake()
    p = c.send_acked(b"id=7 ", "prefix")
    net.send(c.seg(b"UNION XELECT", off=p, bad_csum=True))
    net.send(c.seg(b"N SELECT pw\n", off=p + 4))
    return {"caught": False, "server": b"id=7 ", "grew": ["tcp_retransmit_unverified"]}


def data_on_syn(c):
    net.send(c.syn(b"id=8 UNION SELECT pw\n"))
    if c.syn_ack(1.0) is not None:
        raise Failure("the SYN carrying data reached the server (SYN-ACK came back)")
    return {"caught": False, "server": None, "grew": ["tcp_data_before_handshake"]}


def data_before_synack(c):
    # SYN and data back to back: the data is there before the server answers.
    early = counters()["tcp_data_before_handshake"]
    net.send(c.syn(), c.seg(b"id=9 UNION SELECT pw\n"))
    if c.syn_ack() is None:
        raise Failure("no SYN-ACK from the server")
    net.send(c.seg(b"", flags="A"))
    for _ in range(20):
        if server_data(c.sport) is not None:
            break
        time.sleep(0.1)
    if server_data(c.sport) is None and counters()["tcp_data_before_handshake"] == early:
        # On a loaded machine the data can reach nodemesh after the
        # server's SYN-ACK (this script was descheduled between the two
        # frames): then it is in-window data after the handshake, scanned,
        # caught and reset before the server accepted. Not an evasion, and
        # judged as what it is: caught, nothing delivered. The reset may
        # reach the server before the client's ACK completed its handshake
        # (the ACK is then dropped as part of the blocked flow): a half-open
        # connection the kernel drops without the server ever accepting it,
        # so the server may see no end at all.
        return {"caught": True, "server": None, "grew": ["signature_drop"],
                "ends": ("reset", None)}
    if server_data(c.sport) != b"":
        raise Failure("server got %r before the handshake data was resent" % server_data(c.sport))
    # The sender retransmits after the handshake: scanned and caught.
    c.send_acked(b"id=9 ", "prefix")
    c.send(b"UNION SELECT pw\n")
    return {"caught": True, "server": b"id=9 ", "grew": ["tcp_data_before_handshake"]}


def rst_with_data(c):
    c.handshake()
    p = c.send_acked(b"id=10 ", "prefix")
    net.send(c.seg(b"UNION SELECT pw\n", off=p, flags="RA"))
    return {"caught": False, "server": b"id=10 ", "grew": ["tcp_rst_with_data"]}


def after_rst_with_data(c):
    c.handshake()
    c.send_acked(b"id=11 ", "prefix")
    net.send(c.seg(b"xyz", flags="RA"))
    time.sleep(0.2)
    notes[c.sport] = "; after the RST, nodemesh's entries (side, state, inspection): %s" % (
        flow_states(c.sport)
    )
    # The RST never reached the server: its connection is open, and what
    # follows on it must still be scanned and matched.
    c.send_acked(b"UNION SEL", "first half")
    c.send(b"ECT pw\n")
    return {"caught": True, "server": b"id=11 UNION SEL", "grew": ["tcp_rst_with_data"]}


def after_rst_out_of_window(c):
    c.handshake()
    p = c.send_acked(b"id=12 ", "prefix")
    # A bare RST far outside the server's window: the server ignores it
    # (RFC 793 / RFC 5961 3.2). TCP options make it longer than the bare
    # RSTs the wrapper filters out.
    net.send(c.seg(b"", off=p + 3000000, flags="R", options=[("NOP", None)] * 4))
    time.sleep(0.2)
    notes[c.sport] = "; after the RST, nodemesh's entries (side, state, inspection): %s" % (
        flow_states(c.sport)
    )
    c.send_acked(b"UNION SEL", "first half")
    c.send(b"ECT pw\n")
    return {"caught": True, "server": b"id=12 UNION SEL"}


def fin_with_data(c):
    c.handshake()
    c.send_acked(b"id=13 UNION SEL", "prefix")
    c.send(b"ECT pw\n", flags="FPA")
    return {"caught": True, "server": b"id=13 UNION SEL"}


def urgent_decoy(c):
    c.handshake()
    p = c.send_acked(b"id=14 ", "prefix")
    # "UNION XSELECT" with X urgent (urgent pointer: the byte after it): a
    # receiver without SO_OOBINLINE would read "UNION SELECT" in band.
    c.send_acked(b"UNION XSELECT pw\n", "urgent segment", urgptr=7)
    return {"caught": False, "server": b"id=14 UNION XSELECT pw\n", "grew": ["urgent_cleared"]}


def urgent_in_signature(c):
    c.handshake()
    c.send_acked(b"id=15 ", "prefix")
    c.send(b"UNION SELECT pw\n", urgptr=7)
    return {"caught": True, "server": b"id=15 ", "grew": ["urgent_cleared"]}


def low_ttl_decoy(c):
    c.handshake()
    p = c.send_acked(b"id=16 ", "prefix")
    # Dies at nodemesh (TTL 1): must not be scanned either...
    net.send(c.seg(b"UNION XELECT pw\n", off=p, ttl=1))
    time.sleep(0.2)
    # ...so the real bytes at the same place are scanned, not taken for a
    # retransmission with other data.
    c.send(b"UNION SELECT pw\n")
    return {
        "caught": True,
        "server": b"id=16 ",
        "grew": ["ttl_exceeded"],
        "still": ["tcp_overlap_different", "tcp_retransmit_unverified"],
    }


def ip_fragments(c, reverse=False):
    c.handshake()
    c.send_acked(b"id=%d " % (17 + reverse), "prefix")
    # TCP header (20 bytes) + 12 payload bytes in the first fragment:
    # "xx UNION SEL" | "ECT pw\n".
    frags = fragment(c.seg(b"xx UNION SELECT pw\n"), fragsize=32)
    if len(frags) != 2:
        raise Failure("scapy made %d fragments, expected 2" % len(frags))
    net.send(*(reversed(frags) if reverse else frags))
    return {"caught": True, "server": b"id=%d " % (17 + reverse)}


CASES = [
    ("a1 split across 2 in-order segments", split2),
    ("a2 split across 12 one-byte segments", split12),
    ("b out of order, second half first, then in order", out_of_order),
    ("c1 overlap: bad-checksum decoy, then the real bytes at the same seq", overlap_insertion),
    ("c2 overlap: decoy and real copy back to back", overlap_race),
    ("c3 partial overlap of acknowledged bytes", overlap_partial_acked),
    ("c4 partial overlap of unacknowledged bytes", overlap_partial_unacked),
    ("d1 data on the SYN", data_on_syn),
    ("d2 data before the SYN-ACK, resent after the handshake", data_before_synack),
    ("e1 RST carrying the signature", rst_with_data),
    ("e2 attack after a dropped RST with data", after_rst_with_data),
    ("e3 attack after an out-of-window RST", after_rst_out_of_window),
    ("e4 FIN carrying the end of the signature", fin_with_data),
    ("f1 URG: urgent decoy byte inside the signature", urgent_decoy),
    ("f2 URG: urgent pointer inside a matching segment", urgent_in_signature),
    ("g low TTL decoy, then the real bytes", low_ttl_decoy),
    ("h1 IP fragments in order", ip_fragments),
    ("h2 IP fragments in reverse order", lambda c: ip_fragments(c, reverse=True)),
]

only = [s for s in a.only.split(",") if s]
for i, (name, fn) in enumerate(CASES):
    if only and name.split()[0] not in only:
        continue
    run(name, fn, a.base_sport + i)

if failed:
    print("sig_evasion: %d case(s) failed: %s" % (len(failed), ", ".join(failed)))
    sys.exit(1)
print("sig_evasion: all %d cases ok" % (len(CASES) if not only else len(only)))
