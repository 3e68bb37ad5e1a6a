#!/usr/bin/env python3
"""netem_nfq: a user-space stand-in for `tc qdisc ... netem` built on NFQUEUE (pure Python, no
dependencies), for kernels without sch_netem. Used by scripts/peers/netns inside the router
namespace: iptables sends each link direction's packets to its own queue, and this process holds
each packet for DELAY +- uniform JITTER ms, drops it with probability LOSS, or (probability
REORDER) lets it pass at once, as netem's reorder does. Packets are released by due time, so a
jitter larger than the packet spacing reorders them, as with netem.

Adapted from the reference recipe netns.sh (netem_nfq, the peers recipes tried on these
machines), with per-queue counters written as JSON for the tests.

  netem_nfq.py --queue NUM,NAME,DELAY_MS,JITTER_MS,LOSS_PCT,REORDER_PCT  (repeatable)
               --counters FILE [--seed N] [--meta JSON]

Counters (FILE, rewritten atomically every 0.5 s when they changed, at once on SIGUSR1, and at
exit): {"links": {NAME: {"seen", "dropped", "delayed", "immediate", "reorder_bypassed",
"late_max_us", "late_over_1ms", "delay_ms", "jitter_ms", "loss_pct", "reorder_pct"}},
"updated_unix_ms", ...meta}. seen = dropped + delayed + immediate; immediate includes
reorder_bypassed. late_max_us / late_over_1ms: how far past its due time the emulator released a
held packet (the worst, in microseconds) and how many were released more than 1 ms late — the
emulator's own timing error, so a test can tell a faithful run from one where this process was
starved of CPU. Packets still held at exit are accepted. SIGTERM/SIGINT end it.

nfnetlink_queue is spoken over a raw netlink socket (linux/netfilter/nfnetlink_queue.h):
NFQNL_MSG_CONFIG (bind, copy meta only, queue length), NFQNL_MSG_PACKET in, NFQNL_MSG_VERDICT out.
"""
import argparse, heapq, json, os, random, select, signal, socket, struct, sys, time

NETLINK_NETFILTER, NFNL_SUBSYS_QUEUE = 12, 3
MSG_PACKET, MSG_VERDICT, MSG_CONFIG = 0, 1, 2
NLM_F_REQUEST, NLM_F_ACK, NLMSG_ERROR = 1, 4, 2
NF_DROP, NF_ACCEPT = 0, 1


def nla(kind, data):
    n = 4 + len(data)
    return struct.pack("=HH", n, kind) + data + b"\0" * ((4 - n % 4) % 4)


class Queue:
    def __init__(self, num, name, delay, jitter, loss, reorder, maxlen):
        self.num, self.name = num, name
        self.delay, self.jitter = delay / 1e3, jitter / 1e3
        self.loss, self.reorder = loss / 100.0, reorder / 100.0
        self.params = {"delay_ms": delay, "jitter_ms": jitter, "loss_pct": loss, "reorder_pct": reorder}
        self.stats = {"seen": 0, "dropped": 0, "delayed": 0, "immediate": 0, "reorder_bypassed": 0,
                      "late_max_us": 0, "late_over_1ms": 0}
        self.seq = 0
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind((0, 0))
        self.config(nla(1, struct.pack("!BxH", 1, socket.AF_INET)))  # NFQA_CFG_CMD: BIND
        self.config(nla(2, struct.pack("!IB", 0xFFFF, 1)))            # NFQA_CFG_PARAMS: COPY_META
        self.config(nla(3, struct.pack("!I", maxlen)))                # NFQA_CFG_QUEUE_MAXLEN

    def send(self, mtype, payload, flags):
        self.seq += 1
        body = struct.pack("BB", socket.AF_UNSPEC, 0) + struct.pack("!H", self.num) + payload
        hdr = struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | mtype, flags, self.seq, 0)
        self.sock.send(hdr + body)

    def config(self, attr):
        self.send(MSG_CONFIG, attr, NLM_F_REQUEST | NLM_F_ACK)
        data = self.sock.recv(65536)
        if struct.unpack_from("=IH", data, 0)[1] == NLMSG_ERROR:
            err = struct.unpack_from("=i", data, 16)[0]
            if err:
                raise OSError(-err, "nfqueue %d config: %s" % (self.num, os.strerror(-err)))

    def verdict(self, packet_id, verdict):
        self.send(MSG_VERDICT, nla(2, struct.pack("!II", verdict, packet_id)), NLM_F_REQUEST)  # NFQA_VERDICT_HDR

    def packet_ids(self):
        try:
            data = self.sock.recv(1 << 20)
        except OSError as e:  # ENOBUFS: the kernel dropped packets for us (queue overrun)
            print("netem_nfq: queue %d recv: %s" % (self.num, e), file=sys.stderr, flush=True)
            return
        off = 0
        while off + 16 <= len(data):
            n, kind = struct.unpack_from("=IH", data, off)
            if n < 16:
                break
            if kind == (NFNL_SUBSYS_QUEUE << 8) | MSG_PACKET:
                a, end = off + 20, off + n
                while a + 4 <= end:
                    alen, atype = struct.unpack_from("=HH", data, a)
                    if alen < 4:
                        break
                    if atype & 0x3FFF == 1:  # NFQA_PACKET_HDR: packet id first
                        yield struct.unpack_from("!I", data, a + 4)[0]
                        break
                    a += (alen + 3) & ~3
            off += (n + 3) & ~3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--queue", action="append", required=True)
    ap.add_argument("--counters", required=True)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--meta", default="{}")
    ap.add_argument("--maxlen", type=int, default=20000)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    meta = json.loads(a.meta)
    queues = []
    for spec in a.queue:
        num, name, d, j, l, r = spec.split(",")
        queues.append(Queue(int(num), name, float(d), float(j), float(l), float(r), a.maxlen))
    by_fd = {q.sock.fileno(): q for q in queues}
    held, counter = [], 0
    state = {"run": True, "dump": True, "dirty": True}

    def dump():
        doc = dict(meta)
        doc["updated_unix_ms"] = int(time.time() * 1000)
        doc["links"] = {q.name: dict(q.stats, **q.params) for q in queues}
        tmp = a.counters + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, sort_keys=True)
            f.write("\n")
        os.replace(tmp, a.counters)

    signal.signal(signal.SIGTERM, lambda *_: state.update(run=False))
    signal.signal(signal.SIGINT, lambda *_: state.update(run=False))
    signal.signal(signal.SIGUSR1, lambda *_: state.update(dump=True))
    dump()
    print("netem_nfq: ready queues=%s" % ",".join("%d(%s)" % (q.num, q.name) for q in queues), flush=True)
    next_dump = time.monotonic() + 0.5
    while state["run"]:
        now = time.monotonic()
        timeout = min(0.1, max(0.0, held[0][0] - now)) if held else 0.1
        try:
            ready = select.select(list(by_fd), [], [], timeout)[0]
        except InterruptedError:
            ready = []
        for fd in ready:
            q = by_fd[fd]
            for pid in q.packet_ids():
                q.stats["seen"] += 1
                state["dirty"] = True
                if q.loss > 0 and rng.random() < q.loss:
                    q.stats["dropped"] += 1
                    q.verdict(pid, NF_DROP)
                    continue
                d = q.delay + (rng.uniform(-q.jitter, q.jitter) if q.jitter > 0 else 0.0)
                if q.reorder > 0 and rng.random() < q.reorder:
                    d = 0.0
                    q.stats["reorder_bypassed"] += 1
                if d <= 0.0:
                    q.stats["immediate"] += 1
                    q.verdict(pid, NF_ACCEPT)
                else:
                    q.stats["delayed"] += 1
                    counter += 1
                    heapq.heappush(held, (time.monotonic() + d, counter, q, pid))
        now = time.monotonic()
        while held and held[0][0] <= now:
            due, _, q, pid = heapq.heappop(held)
            q.verdict(pid, NF_ACCEPT)
            late = time.monotonic() - due
            q.stats["late_max_us"] = max(q.stats["late_max_us"], int(late * 1e6))
            if late > 0.001:
                q.stats["late_over_1ms"] += 1
        if state["dump"] or (state["dirty"] and now >= next_dump):
            dump()
            state["dump"] = state["dirty"] = False
            next_dump = now + 0.5
    for _, _, q, pid in held:
        q.verdict(pid, NF_ACCEPT)
    dump()
    for q in queues:
        print("netem_nfq: %s %s" % (q.name, q.stats), flush=True)


if __name__ == "__main__":
    main()
