#!/usr/bin/env python3
"""Releases each packet of NFQUEUE <queue> after <delay ms> (+- <jitter ms>, drawn uniformly), in
order: scripts/netns.sh runs it in a test bed's bridge namespace to emulate `netem delay` on a
kernel without sch_netem. Prints "bound" once it owns the queue. It reads only packet ids (copy
mode META) and answers each packet ACCEPT once due; the iptables rule that feeds the queue has
--queue-bypass, so packets pass undelayed should this process die.

    netns-delay.py QUEUE DELAY_MS JITTER_MS
"""
import heapq
import random
import select
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NLMSG_ERROR, NLM_F_REQUEST, NLM_F_ACK = 2, 1, 4
# nfnetlink_queue: subsystem, message types, attributes and values (linux/netfilter/nfnetlink_queue.h).
SUBSYS_QUEUE, MSG_PACKET, MSG_VERDICT, MSG_CONFIG = 3, 0, 1, 2
CFG_CMD, CFG_PARAMS, CMD_BIND, COPY_META = 1, 2, 1, 1
PACKET_HDR, VERDICT_HDR, ACCEPT = 1, 2, 1


def attribute(kind, payload):
    size = 4 + len(payload)
    return struct.pack("=HH", size, kind) + payload + b"\0" * (-size % 4)


class Queue:
    def __init__(self, number):
        self.number = number
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind((0, 0))

    def send(self, kind, body, flags=NLM_F_REQUEST):
        body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(self.number)) + body
        self.sock.send(struct.pack("=IHHII", 16 + len(body), SUBSYS_QUEUE << 8 | kind, flags, 0, 0) + body)

    def configure(self, body, what):
        self.send(MSG_CONFIG, body, NLM_F_REQUEST | NLM_F_ACK)
        reply = self.sock.recv(65536)
        if struct.unpack_from("=H", reply, 4)[0] == NLMSG_ERROR and struct.unpack_from("=i", reply, 16)[0] != 0:
            sys.exit(f"NFQUEUE {self.number}: {what} refused")

    def bind(self):
        self.configure(attribute(CFG_CMD, struct.pack("=BxH", CMD_BIND, 0)), "bind (is the queue taken?)")
        self.configure(attribute(CFG_PARAMS, struct.pack(">IB", 0, COPY_META)), "copy mode")

    def packet_ids(self):
        """The ids of the packets in one read of the socket."""
        data, offset = self.sock.recv(1 << 20), 0
        while offset + 16 <= len(data):
            size, kind = struct.unpack_from("=IH", data, offset)
            if size < 16:
                break
            if kind == SUBSYS_QUEUE << 8 | MSG_PACKET:
                at = offset + 20
                while at + 4 <= offset + size:
                    length, attribute_kind = struct.unpack_from("=HH", data, at)
                    if length < 4:
                        break
                    if attribute_kind & 0x7FFF == PACKET_HDR:
                        yield struct.unpack_from(">I", data, at + 4)[0]
                    at += (length + 3) & ~3
            offset += (size + 3) & ~3

    def accept(self, packet):
        self.send(MSG_VERDICT, attribute(VERDICT_HDR, struct.pack(">II", ACCEPT, packet)))


def main():
    number, delay, jitter = int(sys.argv[1]), float(sys.argv[2]) / 1000, float(sys.argv[3]) / 1000
    queue = Queue(number)
    queue.bind()
    print("bound", flush=True)
    due, last = [], 0.0
    while True:
        wait = max(0.0, due[0][0] - time.monotonic()) if due else None
        if select.select([queue.sock], [], [], wait)[0]:
            for packet in queue.packet_ids():
                # Never before an earlier packet: jitter must not reorder a TCP stream wholesale.
                last = max(last, time.monotonic() + max(0.0, delay + random.uniform(-jitter, jitter)))
                heapq.heappush(due, (last, packet))
        now = time.monotonic()
        while due and due[0][0] <= now:
            queue.accept(heapq.heappop(due)[1])


if __name__ == "__main__":
    main()
