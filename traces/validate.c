/* The checks every event meets, whatever form it came in (traces/validate.h):
 * the rules between fields, shared by the text parser and the binary
 * decoder, and for the binary decoder also the checks text gets from its
 * syntax (allowed keys, value ranges).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "formats/format.h"
#include "traces/syntax.h"
#include "traces/validate.h"

#define B(k) IMS_KB(k)
#define INJECT IMS_KB_INJECT

__attribute__((format(printf, 5, 6)))
static int broken(int *at, int key, char *why, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	*at = key;
	return -EINVAL;
}

/* The later of two present keys, for the column of a conflict. */
static int later(const struct ims_event *ev, int a, int b)
{
	return ev->col[a] > ev->col[b] ? a : b;
}

/* Rules of the iommufd and vfio ops that involve more than one field
 * (docs/uapi.md). NULL when the event keeps them; else the message, and
 * in *key the key to point at (-1: the op). */
static const char *uapi_rule(const struct ims_event *ev, int *key)
{
	uint64_t has = ev->keys;
	*key = -1;
	switch (ev->op) {
	case IMS_OP_IOMMUFD_SET_DIRTY: {
		uint64_t m = has & (B(ON) | B(OFF) | B(FLAGS));
		if (!m)
			return "set-dirty-tracking needs on, off or flags=";
		if (m & (m - 1)) {
			int a = __builtin_ctzll(m), b = __builtin_ctzll(m & (m - 1));
			*key = later(ev, a, b);
			return "set-dirty-tracking takes one of on, off and flags=";
		}
		return NULL;
	}
	case IMS_OP_VFIO_UNMAP: {
		if ((has & B(FLAGS)) && (has & B(GET_DIRTY_BITMAP))) {
			*key = later(ev, IMS_K_FLAGS, IMS_K_GET_DIRTY_BITMAP);
			return "flags= gives the raw flags: it excludes get-dirty-bitmap";
		}
		uint64_t bm = has & (B(PAGE_SIZE) | B(BITMAP_SIZE) | B(EXPECT) | B(EXPECT_COUNT));
		if (bm && !(has & (B(GET_DIRTY_BITMAP) | B(FLAGS)))) {
			*key = __builtin_ctzll(bm);
			return "the bitmap's keys need get-dirty-bitmap (or flags=)";
		}
		break;
	}
	case IMS_OP_VFIO_DIRTY: {
		uint64_t words = has & (B(START) | B(STOP) | B(GET_BITMAP));
		if (!words && !(has & B(FLAGS)))
			return "dirty-pages needs start, stop, get-bitmap or flags=";
		if (words && (has & B(FLAGS))) {
			*key = later(ev, IMS_K_FLAGS, __builtin_ctzll(words));
			return "flags= gives the raw flags: it excludes start, stop and get-bitmap";
		}
		uint64_t bm = has & (B(IOVA) | B(LENGTH) | B(PAGE_SIZE) | B(BITMAP_SIZE) | B(EXPECT) |
				     B(EXPECT_COUNT));
		if (bm && !(has & (B(GET_BITMAP) | B(FLAGS)))) {
			*key = __builtin_ctzll(bm);
			return "iova=, length= and the bitmap's keys need get-bitmap (or flags=)";
		}
		if ((has & B(GET_BITMAP)) && (~has & (B(IOVA) | B(LENGTH))))
			return "get-bitmap needs iova= and length=";
		break;
	}
	default:
		break;
	}
	if ((has & B(EXPECT)) && (has & B(EXPECT_COUNT)) && ev->op != IMS_OP_HARVEST) {
		*key = later(ev, IMS_K_EXPECT, IMS_K_EXPECT_COUNT);
		return "expect= and expect-count= exclude each other (expected one)";
	}
	return NULL;
}

int trc_event_rules(const struct ims_event *ev, int *at, char *why, size_t n)
{
	int op = (int)ev->op;
	uint64_t missing = trc_opdefs[op].req & ~ev->keys;

	if (missing) {
		int k = __builtin_ctzll(missing);
		return broken(at, -1, why, n, "%s needs %s=", ims_op_name(ev->op),
			      trc_keydefs[k].name);
	}
	uint64_t inj = ev->keys & INJECT;
	if (inj && inj != INJECT) {
		int k = __builtin_ctzll(INJECT & ~inj);
		return broken(at, __builtin_ctzll(inj), why, n,
			      "an injection needs inject-at=, inject-dev= and inject-iova= together "
			      "(missing %s=)",
			      trc_keydefs[k].name);
	}
	if (inj && ev->v[IMS_K_INJECT_AT] == 0)
		return broken(at, IMS_K_INJECT_AT, why, n,
			      "inject-at counts software accesses from 1 (expected at least 1)");
	switch (ev->op) {
	case IMS_OP_DOMAIN:
		if (ims_ev_has(ev, IMS_K_ROOT) && !ims_ev_has(ev, IMS_K_RAW))
			return broken(at, IMS_K_ROOT, why, n,
				      "root= needs the raw flag (a raw domain is 'root=PA raw')");
		if (ims_ev_has(ev, IMS_K_RAW) && !ims_ev_has(ev, IMS_K_ROOT))
			return broken(at, IMS_K_RAW, why, n,
				      "raw needs root= (a raw domain is 'root=PA raw')");
		for (int k = IMS_K_HA; k <= IMS_K_HD; k++)
			if (ims_ev_has(ev, k) && !ims_ev_has(ev, IMS_K_RAW))
				return broken(at, k, why, n,
					      "%s= is only for raw domains (expected root=PA raw)",
					      trc_keydefs[k].name);
		if (ims_ev_has(ev, IMS_K_NESTED) && ims_ev_has(ev, IMS_K_RAW))
			return broken(at, IMS_K_NESTED, why, n,
				      "nested= is for software domains (a raw domain has no "
				      "software tables to map in stage 2)");
		break;
	case IMS_OP_IOMMUFD_HWPT: {
		int pt[3] = {IMS_K_IOAS, IMS_K_NESTED, IMS_K_VIOMMU}, seen = -1;
		for (int i = 0; i < 3; i++) {
			if (!ims_ev_has(ev, pt[i]))
				continue;
			if (seen >= 0)
				return broken(at, ev->col[pt[i]] > ev->col[seen] ? pt[i] : seen, why, n,
					      "hwpt-alloc takes ioas= (a paging HWPT), nested= (a "
					      "nested HWPT over a parent HWPT) or viommu= (one on a "
					      "vIOMMU), exactly one");
			seen = pt[i];
		}
		if (seen < 0)
			return broken(at, -1, why, n,
				      "hwpt-alloc takes ioas= (a paging HWPT), nested= (a nested HWPT "
				      "over a parent HWPT) or viommu= (one on a vIOMMU), exactly one");
		break;
	}
	case IMS_OP_IOMMUFD_INVALIDATE:
		if (ims_ev_has(ev, IMS_K_HWPT) == ims_ev_has(ev, IMS_K_VIOMMU))
			return broken(at, ims_ev_has(ev, IMS_K_HWPT) ? IMS_K_VIOMMU : -1, why, n,
				      "invalidate takes hwpt= (a nested HWPT) or viommu= (a vIOMMU), "
				      "exactly one");
		break;
	case IMS_OP_UNMAP:
		if (ims_ev_has(ev, IMS_K_PGSIZE) && !ims_ev_has(ev, IMS_K_READ_DIRTY))
			return broken(at, IMS_K_PGSIZE, why, n,
				      "pgsize= on unmap is the bitmap page size of read-dirty "
				      "(expected read-dirty too)");
		break;
	case IMS_OP_TRACK:
		if (!ims_ev_has(ev, IMS_K_ON) && !ims_ev_has(ev, IMS_K_OFF))
			return broken(at, -1, why, n, "track needs on or off");
		if (ims_ev_has(ev, IMS_K_ON) && ims_ev_has(ev, IMS_K_OFF)) {
			int k = ev->col[IMS_K_ON] > ev->col[IMS_K_OFF] ? IMS_K_ON : IMS_K_OFF;
			return broken(at, k, why, n, "track takes on or off, not both");
		}
		break;
	case IMS_OP_HARVEST:
		if (ims_ev_has(ev, IMS_K_EXPECT) && ims_ev_has(ev, IMS_K_EXPECT_COUNT)) {
			int k = ev->col[IMS_K_EXPECT] > ev->col[IMS_K_EXPECT_COUNT]
					? IMS_K_EXPECT
					: IMS_K_EXPECT_COUNT;
			return broken(at, k, why, n,
				      "expect= and expect-count= exclude each other (expected one)");
		}
		break;
	case IMS_OP_FLUSH:
		if (ims_ev_has(ev, IMS_K_IOVA) != ims_ev_has(ev, IMS_K_SIZE)) {
			int k = ims_ev_has(ev, IMS_K_IOVA) ? IMS_K_IOVA : IMS_K_SIZE;
			return broken(at, k, why, n,
				      "flush takes iova= and size= together (or neither, for the "
				      "whole domain)");
		}
		break;
	default:
		break;
	}
	int uk;
	const char *urule = uapi_rule(ev, &uk);
	if (urule)
		return broken(at, uk, why, n, "%s", urule);

	int sk = ims_ev_has(ev, IMS_K_SIZE) ? IMS_K_SIZE : ims_ev_has(ev, IMS_K_LEN) ? IMS_K_LEN : -1;
	if (sk >= 0) {
		uint64_t len = ev->v[sk];
		if (len == 0)
			return broken(at, sk, why, n, "%s must be at least 1", trc_keydefs[sk].name);
		/* [iova, iova+len) may end exactly at 2^64. */
		if (ims_ev_has(ev, IMS_K_IOVA) && ev->v[IMS_K_IOVA] > 0 - len)
			return broken(at, sk, why, n, "range iova+%s wraps past 2^64",
				      trc_keydefs[sk].name);
	}
	/* The output range of a map, likewise. (The calls' pa + length= is
	 * theirs to refuse, with EOVERFLOW: docs/uapi.md.) */
	if (ims_ev_has(ev, IMS_K_SIZE) && ims_ev_has(ev, IMS_K_PA) && ev->v[IMS_K_SIZE] &&
	    ev->v[IMS_K_PA] > 0 - ev->v[IMS_K_SIZE])
		return broken(at, IMS_K_SIZE, why, n, "range pa+size wraps past 2^64");
	return 0;
}

/* The op's keys (trc_opdefs), the value ranges the text parser's value()
 * checks (traces/text.c: keep the two in step), then the rules between
 * fields. */
int trc_event_validate(const struct ims_event *ev, char *why, size_t n)
{
	int op = (int)ev->op;
	if (op < 0 || op >= IMS_OP_COUNT) {
		snprintf(why, n, "unknown op %d", op);
		return -EINVAL;
	}
	uint64_t bad = ev->keys & ~(trc_opdefs[op].req | trc_opdefs[op].opt);
	if (bad) {
		int k = __builtin_ctzll(bad);
		if (k < IMS_K_COUNT)
			snprintf(why, n, "%s does not take %s", ims_op_name(ev->op),
				 trc_keydefs[k].name);
		else
			snprintf(why, n, "unknown key %d", k);
		return -EINVAL;
	}
	for (uint64_t m = ev->keys; m; m &= m - 1) {
		int k = __builtin_ctzll(m);
		uint64_t v = ev->v[k];
		bool ok = true;
		switch (trc_keydefs[k].type) {
		case IMS_VT_NUM:
			if (k == IMS_K_ID || k == IMS_K_DOMAIN || k == IMS_K_HWPT || k == IMS_K_CONTAINER ||
			    k == IMS_K_NESTED)
				ok = v <= 0xffff;
			else if (k == IMS_K_FLAGS || k == IMS_K_RESERVED || k == IMS_K_IOAS ||
				 k == IMS_K_DATA_TYPE || k == IMS_K_DATA_LEN || k == IMS_K_ENTRY_LEN ||
				 k == IMS_K_ENTRY_NUM || k == IMS_K_VIOMMU || k == IMS_K_TYPE)
				ok = v <= 0xffffffffull;
			break;
		case IMS_VT_SIZE:
			ok = !(k == IMS_K_GRANULE && v != 4096 && v != 16384 && v != 65536) &&
			     !(k == IMS_K_PGSIZE && !ims_is_pow2(v));
			break;
		case IMS_VT_ONOFF:
			ok = v <= 1;
			break;
		case IMS_VT_FORMAT:
			ok = v < IMS_FMT_COUNT && fmt_get((enum ims_format)v); /* no hole */
			break;
		case IMS_VT_ACCESS:
			ok = v >= IMS_PROT_R && v <= IMS_PROT_RW;
			break;
		case IMS_VT_KIND:
			ok = v > IMS_FAULT_NONE && v < IMS_FAULT_KIND_COUNT;
			break;
		case IMS_VT_PGSIZES:
			ok = v != 0;
			break;
		case IMS_VT_ERRNO:
			ok = v >= 1 && v <= 4095;
			break;
		case IMS_VT_DEV:
			ok = v <= IMS_DEV_MAX;
			break;
		default:
			break;
		}
		if (!ok) {
			snprintf(why, n, "%s=0x%llx is out of range", trc_keydefs[k].name,
				 (unsigned long long)v);
			return -EINVAL;
		}
	}
	int at;
	return trc_event_rules(ev, &at, why, n);
}
