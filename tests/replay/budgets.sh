#!/bin/sh
# Budgets of a replay and of trace stat (docs/limits.md, "Replay and model
# budgets"), and values out of range: each input that once ran for minutes,
# grew to gigabytes or was cut to its low bits is refused at its key's
# column (exit 2) before the work, its budget named with the option that
# raises it; what is counted instead of kept (faults past the queue,
# samples past a series' rows) is said. usage: budgets.sh IOMMUSIM SCRATCH
set -u
cmd=$1
out=$2
rm -rf "$out"
mkdir -p "$out"
cd "$out" || exit 1
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
# want EXIT PATTERN -- COMMAND...: the exit status and a line of stderr
# (the timeout only stops a regression from running on; no result depends
# on time).
want() {
	code=$1 pat=$2
	shift 3
	timeout 20 "$@" >stdout.txt 2>stderr.txt
	rc=$?
	if [ "$rc" != "$code" ] || { [ -n "$pat" ] && ! grep -q -- "$pat" stderr.txt; }; then
		fail "$*: exit $rc (want $code and '$pat'), stderr:"
		cat stderr.txt
	fi
}
# has PATTERN FILE: a line of FILE matches.
has() {
	grep -q -- "$1" "$2" || { fail "$2 lacks '$1':"; cat "$2"; }
}

# ---- one DMA's pages ---------------------------------------------------
printf 'dma dev=9 iova=0 len=0xfffffffffffff000 dir=w\n' >dma-all.trace
want 2 "dma-all.trace:1:18: len=0xfffffffffffff000 is more than one DMA may cover (4 GiB; --max-dma-bytes raises it)" \
	-- "$cmd" replay -q dma-all.trace
# A valid read of 256 TiB of mapped memory: the same budget.
cat >dma-256t.trace <<'T'
domain id=1 format=amdv1 levels=6 pgsizes=4K,2M,1G,512G
attach dev=1 domain=1
map domain=1 iova=0 pa=0 size=256T pgsize=512G
dma dev=1 iova=0 len=256T dir=r
T
want 2 "dma-256t.trace:4:18: len=0x1000000000000 is more than one DMA may cover" \
	-- "$cmd" replay -q dma-256t.trace
# The option moves the line both ways.
cat >dma-16k.trace <<'T'
domain id=1 format=vtd levels=3
attach dev=1 domain=1
map domain=1 iova=0 pa=0x100000 size=64K
dma dev=1 iova=0 len=16K dir=r
T
want 0 "" -- "$cmd" replay -q dma-16k.trace
want 2 "dma-16k.trace:4:18: len=0x4000 is more than one DMA may cover (8 KiB; --max-dma-bytes raises it)" \
	-- "$cmd" replay -q --max-dma-bytes 8K dma-16k.trace
want 0 "" -- "$cmd" replay -q --max-dma-bytes 16K dma-16k.trace
want 2 "iommusim replay: --max-dma-bytes: the budget must be at least 1" \
	-- "$cmd" replay -q --max-dma-bytes 0 dma-16k.trace

# ---- dirty bitmaps -----------------------------------------------------
cat >harvest-128t.trace <<'T'
domain id=1 format=amdv1 levels=6 dirty=on
track domain=1 on
harvest domain=1 iova=0 size=128T
T
want 2 "harvest-128t.trace:3:25: a bitmap of 34359738368 bits (4 GiB) is more than one dirty read may hold (1 GiB; --max-bitmap-bytes raises it)" \
	-- "$cmd" replay -q harvest-128t.trace
cat >unmap-128t.trace <<'T'
domain id=1 format=amdv1 levels=6 pgsizes=4K,2M,1G,512G dirty=on
map domain=1 iova=0 pa=0 size=128T pgsize=512G
track domain=1 on
unmap domain=1 iova=0 size=128T read-dirty pgsize=4K
T
want 2 "unmap-128t.trace:4:23: a bitmap of 34359738368 bits (4 GiB) is more than one dirty read may hold" \
	-- "$cmd" replay -q unmap-128t.trace
# iommufd's GET_DIRTY_BITMAP: the same budget and the same words.
cat >iommufd-bm.trace <<'T'
iommufd bind dev=00:03.0 format=amdv1
iommufd ioas-alloc ioas=1
iommufd map ioas=1 iova=0x100000 pa=0x40000000 length=64K
iommufd hwpt-alloc hwpt=5 dev=00:03.0 ioas=1 dirty=on pgsizes=4K,2M
iommufd attach dev=00:03.0 hwpt=5
iommufd set-dirty-tracking hwpt=5 on
iommufd get-dirty-bitmap hwpt=5 iova=0x100000 length=64K page-size=4K expect=0
T
want 0 "" -- "$cmd" replay -q iommufd-bm.trace
want 2 "iommufd-bm.trace:7:47: a bitmap of 8 bytes is more than one dirty read may hold (1 byte; --max-bitmap-bytes raises it)" \
	-- "$cmd" replay -q --max-bitmap-bytes 1 iommufd-bm.trace
# A harvest's bitmap is whole 64-bit words.
cat >harvest-64k.trace <<'T'
domain id=1 format=vtd levels=3 dirty=on
map domain=1 iova=0 pa=0x100000 size=64K
track domain=1 on
harvest domain=1 iova=0 size=64K expect=0
T
want 0 "" -- "$cmd" replay -q --max-bitmap-bytes 8 harvest-64k.trace
want 2 "harvest-64k.trace:4:25: a bitmap of 16 bits (8 bytes) is more than one dirty read may hold (7 bytes" \
	-- "$cmd" replay -q --max-bitmap-bytes 7 harvest-64k.trace

# ---- page-table memory -------------------------------------------------
cat >map-64t.trace <<'T'
domain id=1 format=amdv1 levels=6
map domain=1 iova=0 pa=0 size=64T pgsize=4K
T
want 2 "map-64t.trace:2:26: the map needs up to 128.3 GiB more simulated memory (it holds 4 KiB): more than the table budget (8 GiB; --max-table-bytes raises it)" \
	-- "$cmd" replay -q map-64t.trace
# The same range of 1 GiB leaves is a few tables.
sed 's/pgsize=4K/pgsize=1G/' map-64t.trace >map-64t-1g.trace
want 0 "" -- "$cmd" replay -q map-64t-1g.trace
want 2 "map-64t-1g.trace:2:26: the map needs up to .* more than the table budget (64 KiB;" \
	-- "$cmd" replay -q --max-table-bytes 64K map-64t-1g.trace
# Frames that mem lines write count too (a raw table is built so).
cat >mem.trace <<'T'
mem pa=0x1000 val=1
mem pa=0x1008 val=2
mem pa=0x2000 val=3
mem pa=0x3000 val=4
T
want 0 "" -- "$cmd" replay -q --max-table-bytes 12K mem.trace
want 2 "mem.trace:4:5: the mem line needs up to 4 KiB more simulated memory (it holds 8 KiB): more than the table budget (8 KiB;" \
	-- "$cmd" replay -q --max-table-bytes 8K mem.trace
# VFIO type1's map checks before it maps too.
cat >vfio-map.trace <<'T'
vfio container id=3 format=vtd levels=3
vfio map container=3 iova=0 pa=0x100000 length=1G
T
want 0 "" -- "$cmd" replay -q vfio-map.trace
want 2 "vfio-map.trace:2:41: the map needs up to 2.0 MiB more simulated memory" -- "$cmd" replay -q --max-table-bytes 64K vfio-map.trace

# A domain's root table counts too (from the memory's own limit, under the
# replayer's estimates).
printf 'domain id=1 format=amdv1\ndomain id=2 format=amdv1\ndomain id=3 format=amdv1\n' >doms.trace
want 2 "doms.trace:3:8: the domain's root table needs more simulated memory than the table budget (8 KiB) leaves; --max-table-bytes raises it" \
	-- "$cmd" replay -q --max-table-bytes 8K doms.trace

# ---- the fault queue: bounded, its overflow counted and said -------------
cat >faults.trace <<'T'
domain id=1 format=vtd levels=3
attach dev=1 domain=1
dma dev=1 iova=0 len=12K dir=r
expect fault dev=1 iova=0 kind=notpresent
expect fault dev=1 iova=0x1000 kind=notpresent
expect fault dev=1 iova=0x2000 kind=notpresent
dma dev=1 iova=0x1000 len=8K dir=r
expect fault dev=1 iova=0x1000 kind=notpresent
expect fault dev=1 iova=0x2000 kind=notpresent
expect nofault
T
want 0 "" -- "$cmd" replay -q faults.trace
want 1 "faults.trace:6: FAIL: expected a notpresent fault at iova 0x2000, none is pending; 1 fault was not recorded: the fault queue was full (2 records; --max-fault-records raises it)" \
	-- "$cmd" replay --max-fault-records 2 --json fq.json faults.trace
has "    of which not recorded: 1 (the fault queue was full: 2 records; --max-fault-records raises it)" stdout.txt
has '"faults":5,"faults_dropped":1,' fq.json
# A fault the queue dropped is one no expect took.
head -4 faults.trace >nofault.trace
echo "expect nofault" >>nofault.trace
want 1 "nofault.trace:5: FAIL: expected no pending fault: 2 faults were not recorded: the fault queue was full (1 record;" \
	-- "$cmd" replay -q --max-fault-records 1 nofault.trace
# Nothing expected and strict: what the queue could not hold fails too.
head -3 faults.trace >unexpected.trace
want 1 "unexpected.trace:3: FAIL: unexpected faults (--strict-faults), from this line on: 2 faults were not recorded: the fault queue was full (1 record;" \
	-- "$cmd" replay -q --strict-faults --max-fault-records 1 unexpected.trace
# Unexpected faults by the million stay within the queue.
awk 'BEGIN { print "domain id=1 format=vtd levels=3"; print "attach dev=1 domain=1";
	for (i = 0; i < 200000; i++) printf "dma dev=1 iova=0x%x len=4 dir=r\n", i * 4096 }' >many.trace
want 0 "" -- "$cmd" replay --json many.json many.trace
has '"faults":200000,"faults_dropped":134464,' many.json

# ---- values out of range: refused, not cut ---------------------------------
cat >dev.trace <<'T'
domain id=1 format=vtd levels=3
attach dev=0x100000001 domain=1
T
want 2 "dev.trace:2:12: dev=0x100000001 is out of range (expected 0..0xffffffff" \
	-- "$cmd" replay -q dev.trace
cat >oa.trace <<'T'
domain id=1 format=smmuv3
attach dev=1 domain=1
map domain=1 iova=0x1000 pa=0x1000000000000 size=4K
T
want 2 "oa.trace:3:26: pa=0x1000000000000 is past the domain's output addresses (smmuv3 leaves here hold 48 bits" \
	-- "$cmd" replay -q oa.trace
cat >oa-end.trace <<'T'
domain id=1 format=amdv1
map domain=1 iova=0 pa=0xffffffffff000 size=8K
T
want 2 "oa-end.trace:2:40: pa=0xffffffffff000 + 0x2000 reaches past 0x10000000000000" \
	-- "$cmd" replay -q oa-end.trace
cat >pa-wrap.trace <<'T'
domain id=1 format=amdv1
map domain=1 iova=0x1000 pa=0xfffffffffffff000 size=8K
T
want 2 "pa-wrap.trace:2:48: range pa+size wraps past 2^64" -- "$cmd" replay -q pa-wrap.trace
# The binary form refuses what text refuses.
printf 'detach dev=0xffffffff\n' >dev-max.trace
"$cmd" trace convert -q dev-max.trace dev-max.bin >/dev/null 2>&1 || fail "convert dev-max.trace"
want 2 "dev=0x100000001 is out of range" -- "$cmd" trace convert -q dev.trace dev.bin

# ---- trace stat: exact footprints without a page each ---------------------
cat >stat3.trace <<'T'
domain id=1 format=amdv1
map domain=1 iova=0 pa=0 size=0x100000000000
dma dev=1 iova=0 len=0xfffffffffffff000 dir=r
T
want 0 "" -- "$cmd" trace stat --json stat3.json stat3.trace
has '"pages_mapped":4294967296,"pages_accessed":4503599627370495,' stat3.json
# Overlaps, containment, gaps, out of order, and past the merge's first
# thousand intervals: 3000 pages apart, walked backwards, each twice, and
# one range over the first ten of them.
awk 'BEGIN { for (i = 2999; i >= 0; i--) {
	printf "dma dev=1 iova=0x%x len=4K dir=w\n", i * 8192;
	printf "dma dev=1 iova=0x%x len=1 dir=r\n", i * 8192 + 4095 }
	print "dma dev=1 iova=0 len=80K dir=r" }' >scatter.trace
want 0 "" -- "$cmd" trace stat --json scatter.json scatter.trace
has '"pages_accessed":3010,' scatter.json

# ---- --stats-interval: a bounded series that still covers every event -----
awk 'BEGIN { print "domain id=1 format=vtd levels=3"; print "attach dev=1 domain=1";
	print "map domain=1 iova=0 pa=0x100000 size=2M";
	for (i = 0; i < 40; i++) printf "dma dev=1 iova=0x%x len=4K dir=r\n", (i * 12288) % 2097152 }' >series.trace
want 0 "" -- "$cmd" replay -q --stats-interval 8 --stats-out by8.csv series.trace
want 0 "note: --stats-interval: a series holds at most 6 rows (--stats-max-rows), so its interval doubled from 1 to 8 events" \
	-- "$cmd" replay -q --stats-interval 1 --stats-max-rows 6 --stats-out capped.csv series.trace
cmp -s by8.csv capped.csv || { fail "a series merged to 8 events differs from one sampled at 8:"; diff by8.csv capped.csv; }
want 2 "iommusim replay: --stats-max-rows needs --stats-interval" \
	-- "$cmd" replay -q --stats-max-rows 6 series.trace

[ "$fails" = 0 ] && echo "budgets: every input refused or bounded as it should be"
exit "$fails"
