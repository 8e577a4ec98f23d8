#!/usr/bin/env python3
"""A cocotb-style testbench for dirty tracking, in plain asyncio.

Coroutines share a clock the way a cocotb test's do: a driver issues DMA
reads and writes (random pages, seeded) to the IOMMU through a bus, a
monitor observes each completed transaction and tells the scoreboard which
pages were written, and the scoreboard, on a periodic dirty sync, stops the
bus, harvests the domain's dirty bitmap and compares it with its own model
of the written pages (a Python set). The simulator's oracle judges each
harvest too; both must agree for a pass.

    scoreboard.py [--walker NAME] [--format amdv1|vtd|smmuv3] [--seed N]

Exit status 0 when every sync matched, 1 when one did not: with a seeded
bug walker (--walker bug3-no-flush: cleans without invalidating the IOTLB,
so a page written again after a sync is not marked dirty) it must fail.
"""
import argparse
import asyncio
import random
import sys
from dataclasses import dataclass
from typing import List

import iommusim

TAG = 1
DEV = 0x10
IOVA = 0x100000000
PA = 0x200000000
PAGE = 0x1000


class Clock:
    """Cycles that advance as fast as the coroutines waiting on them let
    them: each edge wakes every waiter, in the order they began to wait."""

    def __init__(self):
        self.now = 0
        self._edge = asyncio.Event()

    async def run(self):
        while True:
            await asyncio.sleep(0)  # the woken coroutines run to their next await
            self.now += 1
            edge, self._edge = self._edge, asyncio.Event()
            edge.set()

    async def cycles(self, n: int):
        for _ in range(n):
            await self._edge.wait()


@dataclass
class Transaction:
    cycle: int
    iova: int
    length: int
    write: bool
    accesses: List[iommusim.Access]


class Bus:
    """The device's path to the IOMMU: requests in, one at a time, and
    every completed transaction out to the observers' queue. Holding
    `quiet` stops it (a dirty sync does, so that no DMA lands between the
    monitor's last report and the harvest)."""

    def __init__(self, tb: iommusim.Testbench, clock: Clock):
        self.tb = tb
        self.clock = clock
        self.requests: asyncio.Queue = asyncio.Queue()
        self.observed: asyncio.Queue = asyncio.Queue()
        self.quiet = asyncio.Lock()

    async def serve(self):
        while True:
            iova, length, write, done = await self.requests.get()
            async with self.quiet:
                acc = self.tb.dma(DEV, iova, length, write=write)
                self.observed.put_nowait(Transaction(self.clock.now, iova, length, write, acc))
            done.set_result(acc)

    async def transfer(self, iova: int, length: int, write: bool):
        done = asyncio.get_running_loop().create_future()
        await self.requests.put((iova, length, write, done))
        return await done


class Scoreboard:
    def __init__(self, tb: iommusim.Testbench, npages: int, verbose: bool):
        self.tb = tb
        self.npages = npages
        self.verbose = verbose
        self.written = set()  # pages written since the last sync: the model
        self.syncs = self.errors = self.writes = 0

    def observe(self, t: Transaction):
        if not t.write:
            return
        self.writes += 1
        for a in t.accesses:
            if a.fault is None:
                self.written.add(a.iova & ~(PAGE - 1))

    def sync(self, cycle: int):
        self.syncs += 1
        bits, verdict = self.tb.harvest(TAG, IOVA, self.npages * PAGE)
        got, want = set(bits.iovas()), self.written
        self.written = set()
        ok = got == want and verdict.match
        if not ok:
            self.errors += 1
        if self.verbose or not ok:
            print("sync %d at cycle %d: %d pages dirty, %s" % (
                self.syncs, cycle, len(got), "ok" if ok else "MISMATCH"))
        if got != want:
            print("  missing %s" % [hex(p) for p in sorted(want - got)][:8])
            print("  extra   %s" % [hex(p) for p in sorted(got - want)][:8])
        if not verdict.match:
            print("  oracle: under %d (first 0x%x), over %d" % (
                verdict.under, verdict.first_under_iova or 0, verdict.over))

    async def periodic_sync(self, bus: Bus, clock: Clock, every: int):
        while True:
            await clock.cycles(every)
            await self.sync_now(bus, clock)

    async def sync_now(self, bus: Bus, clock: Clock):
        async with bus.quiet:
            await bus.observed.join()  # the monitor has reported every transaction
            self.sync(clock.now)


async def monitor(bus: Bus, sb: Scoreboard):
    while True:
        t = await bus.observed.get()
        sb.observe(t)
        bus.observed.task_done()


async def driver(bus: Bus, clock: Clock, rng: random.Random, count: int, npages: int):
    for _ in range(count):
        page = rng.randrange(npages)
        off = rng.randrange(0, PAGE, 8)
        length = rng.choice([4, 8, 64, 512, PAGE])
        # Within the mapping; a burst may cross into the next page.
        length = min(length, npages * PAGE - page * PAGE - off)
        await bus.transfer(IOVA + page * PAGE + off, length, write=rng.random() < 0.75)
        await clock.cycles(rng.randrange(1, 16))


async def run(args) -> bool:
    oracle_failures = []
    tb = iommusim.Testbench(walker=args.walker, on_failure=oracle_failures.append)
    try:
        tb.domain(TAG, args.format, dirty=True)
        tb.attach(DEV, TAG)
        tb.map(TAG, IOVA, PA, args.pages * PAGE, "rw", PAGE)
        tb.track(TAG)
        clock, rng = Clock(), random.Random(args.seed)
        bus = Bus(tb, clock)
        sb = Scoreboard(tb, args.pages, args.verbose)
        tasks = [asyncio.create_task(c) for c in (
            clock.run(), bus.serve(), monitor(bus, sb),
            sb.periodic_sync(bus, clock, args.sync_every))]
        await driver(bus, clock, rng, args.transactions, args.pages)
        await sb.sync_now(bus, clock)  # what the last period wrote
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        passed = sb.errors == 0 and not oracle_failures
        print("scoreboard: %s (walker %s, %s, seed %d: %d writes, %d syncs, %d mismatched, "
              "%d oracle failures)" % ("PASS" if passed else "FAIL", tb.walker, args.format,
                                      args.seed, sb.writes, sb.syncs, sb.errors,
                                      len(oracle_failures)))
        return passed
    finally:
        tb.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--walker", help="a built-in walker (default: fast)")
    ap.add_argument("--format", default="amdv1", choices=iommusim.FORMATS)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pages", type=int, default=64, help="pages mapped (default 64)")
    ap.add_argument("--transactions", type=int, default=400, help="DMAs issued (default 400)")
    ap.add_argument("--sync-every", type=int, default=200, metavar="CYCLES",
                    help="dirty sync period (default 200)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every sync")
    args = ap.parse_args(argv)
    try:
        return 0 if asyncio.run(run(args)) else 1
    except iommusim.Error as e:
        print("scoreboard: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
