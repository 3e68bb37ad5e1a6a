#!/usr/bin/env python3
"""Talks to baresip's ctrl_tcp module (JSON messages framed as netstrings, "LEN:JSON,").

ctrl_tcp in baresip 1.0 serves ONE connection: a second client replaces the first. So one process
holds it and relays commands from a unix socket:

  baresip_ctl.py serve HOST PORT DIR      hold the ctrl_tcp connection; write every event to
                                          DIR/events.log (one JSON object per line) and each DTMF
                                          digit baresip received to DIR/dtmf.log ("<unix ms> <digit>");
                                          accept commands on DIR/ctl.sock. Runs until baresip closes
                                          the connection or SIGTERM.
  baresip_ctl.py command DIR CMD [PARAMS] send one command through DIR/ctl.sock, e.g.
                                          "dial sip:echo@127.0.0.1:5080", "hangup", "listcalls";
                                          print baresip's response text; exit 0 if baresip said ok

Events look like {"event":true,"class":"call","type":"CALL_DTMF_START","param":"1",...};
commands {"command":"dial","params":"...","token":"t1"} are answered with
{"response":true,"ok":true|false,"data":"...","token":"t1"}.
"""
import json, os, signal, socket, sys, threading, time


def netstring(obj):
    body = json.dumps(obj).encode()
    return b"%d:%s," % (len(body), body)


def read_line(sock):
    """One newline-terminated JSON object from the unix control socket (None if it closed early)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    return json.loads(data)


def frames(sock):
    buf = b""
    while True:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            return
        if not data:
            return
        buf += data
        while b":" in buf:
            head, rest = buf.split(b":", 1)
            if not head.isdigit():
                return
            n = int(head)
            if len(rest) < n + 1:
                break
            yield json.loads(rest[:n].decode("utf-8", "replace"))
            buf = rest[n + 1:]


def serve(host, port, outdir):
    end = time.time() + 10
    while True:
        try:
            tcp = socket.create_connection((host, int(port)), timeout=1)
            break
        except OSError:
            if time.time() > end:
                print("baresip_ctl: cannot connect to ctrl_tcp %s:%s" % (host, port), file=sys.stderr)
                return 1
            time.sleep(0.1)
    tcp.settimeout(0.5)
    send_lock = threading.Lock()
    pending = {}  # token -> [threading.Event, response]
    path = os.path.join(outdir, "ctl.sock")
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)

    def client(conn):
        with conn:
            conn.settimeout(10)
            req = read_line(conn)
            if req is None:
                return
            token = "t%d.%d" % (os.getpid(), time.monotonic_ns())
            slot = pending[token] = [threading.Event(), None]
            with send_lock:
                tcp.sendall(netstring({"command": req["command"], "params": req.get("params", ""), "token": token}))
            slot[0].wait(10)
            pending.pop(token, None)
            resp = slot[1] or {"ok": False, "data": "no response from baresip"}
            conn.sendall((json.dumps(resp) + "\n").encode())

    def accept_loop():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=client, args=(conn,), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: (srv.close(), tcp.close()))
    with open(os.path.join(outdir, "events.log"), "a") as ev, open(os.path.join(outdir, "dtmf.log"), "a") as dt:
        print("baresip_ctl: ready", file=sys.stderr, flush=True)
        for msg in frames(tcp):
            if msg.get("response"):
                slot = pending.get(msg.get("token"))
                if slot:
                    slot[1] = msg
                    slot[0].set()
                continue
            ev.write(json.dumps(msg) + "\n")
            ev.flush()
            if msg.get("type") == "CALL_DTMF_START":
                dt.write("%d %s\n" % (int(time.time() * 1000), msg.get("param", "")))
                dt.flush()
    srv.close()
    return 0


def command(outdir, cmd, params):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(15)
    try:
        s.connect(os.path.join(outdir, "ctl.sock"))
    except OSError as e:
        print("baresip_ctl: no control socket in %s (%s)" % (outdir, e), file=sys.stderr)
        return 1
    s.sendall((json.dumps({"command": cmd, "params": params}) + "\n").encode())
    resp = read_line(s) or {}
    print((resp.get("data") or "").strip())
    return 0 if resp.get("ok") else 1


def main():
    a = sys.argv[1:]
    if len(a) == 4 and a[0] == "serve":
        return serve(a[1], a[2], a[3])
    if len(a) >= 3 and a[0] == "command":
        return command(a[1], a[2], " ".join(a[3:]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
