/* Trace event names and the canonical text writer.
 *
 * The writer's output is the text form of ../shared/spec/trace-format.md;
 * reading a written line back gives the same op, keys and values.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "iommusim/trace.h"

static const char *const op_names[IMS_OP_COUNT] = {
	[IMS_OP_DOMAIN] = "domain",
	[IMS_OP_ATTACH] = "attach",
	[IMS_OP_DETACH] = "detach",
	[IMS_OP_MAP] = "map",
	[IMS_OP_UNMAP] = "unmap",
	[IMS_OP_TRACK] = "track",
	[IMS_OP_HARVEST] = "harvest",
	[IMS_OP_FLUSH] = "flush",
	[IMS_OP_DMA] = "dma",
	[IMS_OP_MEM] = "mem",
	[IMS_OP_IOMMUFD_BIND] = "iommufd bind",
	[IMS_OP_IOMMUFD_HW_INFO] = "iommufd hw-info",
	[IMS_OP_IOMMUFD_IOAS] = "iommufd ioas-alloc",
	[IMS_OP_IOMMUFD_MAP] = "iommufd map",
	[IMS_OP_IOMMUFD_UNMAP] = "iommufd unmap",
	[IMS_OP_IOMMUFD_HWPT] = "iommufd hwpt-alloc",
	[IMS_OP_IOMMUFD_ATTACH] = "iommufd attach",
	[IMS_OP_IOMMUFD_SET_DIRTY] = "iommufd set-dirty-tracking",
	[IMS_OP_IOMMUFD_GET_DIRTY] = "iommufd get-dirty-bitmap",
	[IMS_OP_IOMMUFD_INVALIDATE] = "iommufd invalidate",
	[IMS_OP_IOMMUFD_VIOMMU] = "iommufd viommu-alloc",
	[IMS_OP_IOMMUFD_VDEVICE] = "iommufd vdevice-alloc",
	[IMS_OP_VFIO_CONTAINER] = "vfio container",
	[IMS_OP_VFIO_GROUP] = "vfio group",
	[IMS_OP_VFIO_MAP] = "vfio map",
	[IMS_OP_VFIO_UNMAP] = "vfio unmap",
	[IMS_OP_VFIO_DIRTY] = "vfio dirty-pages",
	[IMS_OP_VFIO_PIN] = "vfio pin",
	[IMS_OP_VFIO_UNPIN] = "vfio unpin",
	[IMS_OP_EXPECT_MEM] = "expect mem",
	[IMS_OP_EXPECT_PA] = "expect pa",
	[IMS_OP_EXPECT_FAULT] = "expect fault",
	[IMS_OP_EXPECT_NOFAULT] = "expect nofault",
	[IMS_OP_EXPECT_CONSISTENT] = "expect consistent",
	[IMS_OP_EXPECT_TABLES] = "expect tables",
};

/* How a key's value is written. */
enum style {
	S_HEX,     /* addresses, sizes, words: 0x hex */
	S_DEC,     /* small counts and ids people read as decimal */
	S_ONOFF,
	S_FLAG,
	S_FORMAT,
	S_ACCESS,  /* r | w | rw (IMS_PROT_* and IMS_ACC_* share the encoding) */
	S_KIND,
	S_PGSIZES,
	S_BITMAP,
	S_ERRNO,   /* EINVAL, EOPNOTSUPP, ... */
};

static const struct {
	const char *name;
	unsigned char style;
} keys[IMS_K_COUNT] = {
	[IMS_K_ID] = {"id", S_DEC},
	[IMS_K_FORMAT] = {"format", S_FORMAT},
	[IMS_K_LEVELS] = {"levels", S_DEC},
	[IMS_K_GRANULE] = {"granule", S_HEX},
	[IMS_K_IAS] = {"ias", S_DEC},
	[IMS_K_PGSIZES] = {"pgsizes", S_PGSIZES},
	[IMS_K_DIRTY] = {"dirty", S_ONOFF},
	[IMS_K_ROOT] = {"root", S_HEX},
	[IMS_K_RAW] = {"raw", S_FLAG},
	[IMS_K_HA] = {"ha", S_ONOFF},
	[IMS_K_HD] = {"hd", S_ONOFF},
	[IMS_K_DEV] = {"dev", S_HEX},
	[IMS_K_DOMAIN] = {"domain", S_DEC},
	[IMS_K_IOVA] = {"iova", S_HEX},
	[IMS_K_PA] = {"pa", S_HEX},
	[IMS_K_SIZE] = {"size", S_HEX},
	[IMS_K_PROT] = {"prot", S_ACCESS},
	[IMS_K_PGSIZE] = {"pgsize", S_HEX},
	[IMS_K_ON] = {"on", S_FLAG},
	[IMS_K_OFF] = {"off", S_FLAG},
	[IMS_K_NOCLEAR] = {"noclear", S_FLAG},
	[IMS_K_EXPECT] = {"expect", S_BITMAP},
	[IMS_K_EXPECT_COUNT] = {"expect-count", S_DEC},
	[IMS_K_LEN] = {"len", S_HEX},
	[IMS_K_DIR] = {"dir", S_ACCESS},
	[IMS_K_VAL] = {"val", S_HEX},
	[IMS_K_MASK] = {"mask", S_HEX},
	[IMS_K_KIND] = {"kind", S_KIND},
	[IMS_K_INJECT_AT] = {"inject-at", S_DEC},
	[IMS_K_INJECT_DEV] = {"inject-dev", S_HEX},
	[IMS_K_INJECT_IOVA] = {"inject-iova", S_HEX},
	[IMS_K_CNT] = {"count", S_DEC},
	[IMS_K_READ_DIRTY] = {"read-dirty", S_FLAG},
	[IMS_K_DIRTY_CAP] = {"dirty-cap", S_ONOFF},
	[IMS_K_IOAS] = {"ioas", S_DEC},
	[IMS_K_HWPT] = {"hwpt", S_DEC},
	[IMS_K_LENGTH] = {"length", S_HEX},
	[IMS_K_PAGE_SIZE] = {"page-size", S_HEX},
	[IMS_K_FLAGS] = {"flags", S_HEX},
	[IMS_K_RESERVED] = {"reserved", S_HEX},
	[IMS_K_BITMAP_SIZE] = {"bitmap-size", S_HEX},
	[IMS_K_EXPECT_ERR] = {"expect-err", S_ERRNO},
	[IMS_K_CONTAINER] = {"container", S_DEC},
	[IMS_K_PIN_SCOPE] = {"pin-scope", S_FLAG},
	[IMS_K_START] = {"start", S_FLAG},
	[IMS_K_STOP] = {"stop", S_FLAG},
	[IMS_K_GET_BITMAP] = {"get-bitmap", S_FLAG},
	[IMS_K_GET_DIRTY_BITMAP] = {"get-dirty-bitmap", S_FLAG},
	[IMS_K_NESTED] = {"nested", S_DEC},
	[IMS_K_NEST_PARENT] = {"nest-parent", S_FLAG},
	[IMS_K_DATA_TYPE] = {"data-type", S_DEC},
	[IMS_K_DATA_LEN] = {"data-len", S_DEC},
	[IMS_K_DATA0] = {"data0", S_HEX},
	[IMS_K_DATA1] = {"data1", S_HEX},
	[IMS_K_DATA2] = {"data2", S_HEX},
	[IMS_K_DATA3] = {"data3", S_HEX},
	[IMS_K_ENTRY_LEN] = {"entry-len", S_DEC},
	[IMS_K_ENTRY_NUM] = {"entry-num", S_DEC},
	[IMS_K_VIOMMU] = {"viommu", S_DEC},
	[IMS_K_VIRT_ID] = {"virt-id", S_HEX},
	[IMS_K_TYPE] = {"type", S_DEC},
};

/* The errno values the dirty-tracking calls return (docs/uapi.md). */
static const struct {
	int err;
	const char *name;
} errnos[] = {
	{EPERM, "EPERM"},     {ENOENT, "ENOENT"},   {EFAULT, "EFAULT"},   {EBUSY, "EBUSY"},
	{EEXIST, "EEXIST"},   {EINVAL, "EINVAL"},   {ENOSPC, "ENOSPC"},   {ENOMEM, "ENOMEM"},
	{E2BIG, "E2BIG"},     {EIO, "EIO"},     {EOVERFLOW, "EOVERFLOW"}, {EOPNOTSUPP, "EOPNOTSUPP"},
};

const char *ims_errno_name(int err)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].err == err)
			return errnos[i].name;
	return NULL;
}

int ims_errno_parse(const char *s, size_t len, int *err)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (strlen(errnos[i].name) == len && !memcmp(errnos[i].name, s, len)) {
			*err = errnos[i].err;
			return 0;
		}
	return -EINVAL;
}

const char *ims_op_name(enum ims_op op)
{
	return (unsigned)op < IMS_OP_COUNT ? op_names[op] : "?";
}

const char *ims_key_name(enum ims_key k)
{
	return (unsigned)k < IMS_K_COUNT ? keys[k].name : "?";
}

/* snprintf-like sink: counts everything, stores what fits. */
struct out {
	char *buf;
	size_t len;
	size_t n;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->n < o->len) {
		size_t room = o->len - o->n;
		memcpy(o->buf + o->n, s, n < room ? n : room);
	}
	o->n += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_hex(struct out *o, uint64_t v)
{
	char t[2 + 16];
	int i = (int)sizeof(t);
	do {
		t[--i] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v);
	t[--i] = 'x';
	t[--i] = '0';
	put(o, t + i, sizeof(t) - (size_t)i);
}

static void put_dec(struct out *o, uint64_t v)
{
	char t[20];
	int i = (int)sizeof(t);
	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, t + i, sizeof(t) - (size_t)i);
}

static void put_access(struct out *o, uint64_t v)
{
	/* IMS_PROT_R/W/RW and IMS_ACC_R/W/RW are both 1/2/3. */
	if (v == IMS_PROT_R)
		puts_(o, "r");
	else if (v == IMS_PROT_W)
		puts_(o, "w");
	else if (v == IMS_PROT_RW)
		puts_(o, "rw");
	else
		put_hex(o, v);
}

static void put_pgsizes(struct out *o, uint64_t mask)
{
	bool first = true;
	for (unsigned b = 0; b < 64; b++) {
		if (!((mask >> b) & 1))
			continue;
		if (!first)
			put(o, ",", 1);
		put_hex(o, 1ull << b);
		first = false;
	}
	if (first)
		put_hex(o, 0);
}

size_t ims_event_format(const struct ims_event *ev, char *buf, size_t len)
{
	struct out o = {buf, len ? len - 1 : 0, 0};

	if (ev->has_ts) {
		put(&o, "@", 1);
		put_dec(&o, ev->ts);
		put(&o, " ", 1);
	}
	puts_(&o, ims_op_name(ev->op));
	for (unsigned k = 0; k < IMS_K_COUNT; k++) {
		if (!ims_ev_has(ev, (enum ims_key)k))
			continue;
		uint64_t v = ev->v[k];
		put(&o, " ", 1);
		puts_(&o, keys[k].name);
		if (keys[k].style == S_FLAG)
			continue;
		put(&o, "=", 1);
		switch (keys[k].style) {
		case S_DEC:
			put_dec(&o, v);
			break;
		case S_ONOFF:
			puts_(&o, v ? "on" : "off");
			break;
		case S_FORMAT:
			puts_(&o, ims_format_name((enum ims_format)v));
			break;
		case S_ACCESS:
			put_access(&o, v);
			break;
		case S_KIND:
			puts_(&o, ims_fault_kind_name((enum ims_fault_kind)v));
			break;
		case S_PGSIZES:
			put_pgsizes(&o, v);
			break;
		case S_ERRNO: {
			const char *e = ims_errno_name((int)v);
			if (e)
				puts_(&o, e);
			else
				put_dec(&o, v);
			break;
		}
		case S_BITMAP:
			put(&o, "0x", 2);
			if (ev->expect_hex && ev->expect_hex_len)
				put(&o, ev->expect_hex, ev->expect_hex_len);
			else
				put(&o, "0", 1);
			break;
		default:
			put_hex(&o, v);
			break;
		}
	}
	if (len)
		buf[o.n < len ? o.n : len - 1] = '\0';
	return o.n;
}
