/* QEMU importer: the device side (hw/nvme, softmmu/dma-helpers.c, hw/pci).
 * NVMe commands and the data ranges they move tell the direction of the
 * accesses the IOMMU translates; a config read marks the workload's
 * phases.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/import_qemu.h"

/* ---- NVMe commands and their data ranges ------------------------------------ */

static struct cmd *cmd_new(struct q *q)
{
	q->cmd_head = (q->cmd_head + 1) % NCMD;
	struct cmd *c = &q->cmds[q->cmd_head];
	memset(c, 0, sizeof(*c));
	c->live = true;
	q->cur = c;
	return c;
}

static struct cmd *cmd_find(struct q *q, uint16_t cid)
{
	for (unsigned i = 0; i < NCMD; i++) {
		struct cmd *c = &q->cmds[(q->cmd_head + NCMD - i) % NCMD];
		if (c->live && c->has_cid && c->cid == cid)
			return c;
	}
	return NULL;
}

static void cmd_range(struct cmd *c, uint64_t a, uint64_t len, unsigned dir)
{
	if (!len || a + len < a)
		return;
	if (c->n && c->r[c->n - 1].b == a && c->r[c->n - 1].dir == dir) {
		c->r[c->n - 1].b = a + len;
		return;
	}
	if (c->n < NRANGE)
		c->r[c->n++] = (struct range){a, a + len, dir};
}

static void cmd_set_dir(struct cmd *c, unsigned dir)
{
	c->dir = dir;
	for (unsigned i = 0; i < c->n; i++)
		if (!c->r[i].dir)
			c->r[i].dir = dir;
}

/* The direction and the data range of the command that holds iova. */
unsigned qemu_cmd_dir(struct q *q, uint64_t iova, struct range *out)
{
	for (unsigned i = 0; i < NCMD; i++) {
		struct cmd *c = &q->cmds[(q->cmd_head + NCMD - i) % NCMD];
		if (!c->live)
			continue;
		for (unsigned j = 0; j < c->n; j++)
			if (iova >= c->r[j].a && iova < c->r[j].b) {
				*out = c->r[j];
				return c->r[j].dir;
			}
	}
	return 0;
}

int qh_nvme_io_cmd(struct q *q, const char *a, const char *e)
{
	uint64_t cid;
	const char *op;
	size_t n;
	if (!arg_num(a, e, "cid", &cid))
		return bad(q, "'cid N ... opname NAME'");
	/* Command identifiers are 16 bits (NVMe base spec, CDW0.CID). */
	if (cid > 0xffff)
		return bad_range(q, "cid", cid, 0xffff);
	struct cmd *c = cmd_new(q);
	c->has_cid = true;
	c->cid = (uint16_t)cid;
	if (arg_str(a, e, "opname", &op, &n)) {
		/* The command reads the disk: the device writes memory. */
		if (n >= 16 && memmem(op, n, "CMD_READ", 8))
			c->dir = DIR_W;
		else if (memmem(op, n, "CMD_WRITE", 9) && !memmem(op, n, "ZEROES", 6))
			c->dir = DIR_R;
	}
	return 0;
}

static int qh_nvme_rw(struct q *q, const char *a, const char *e, unsigned dir)
{
	uint64_t cid;
	if (!arg_num(a, e, "cid", &cid))
		return bad(q, "'cid N ...'");
	if (cid > 0xffff)
		return bad_range(q, "cid", cid, 0xffff);
	struct cmd *c = q->cur && q->cur->live && q->cur->has_cid && q->cur->cid == cid && !q->cur->prp_seen
				? q->cur
				: NULL;
	if (!c) {
		c = cmd_new(q);
		c->has_cid = true;
		c->cid = (uint16_t)cid;
	}
	cmd_set_dir(c, dir);
	return 0;
}

int qh_nvme_read(struct q *q, const char *a, const char *e)
{
	return qh_nvme_rw(q, a, e, DIR_W);
}

int qh_nvme_write(struct q *q, const char *a, const char *e)
{
	return qh_nvme_rw(q, a, e, DIR_R);
}

int qh_nvme_map_prp(struct q *q, const char *a, const char *e)
{
	uint64_t len, prp1, prp2, num;
	if (!arg_num(a, e, "prp1", &prp1) || !arg_num(a, e, "prp2", &prp2))
		return bad(q, "'trans_len N len N prp1 0x... prp2 0x... num_prps N'");
	struct cmd *c = q->cur;
	if (!c || !c->live || c->prp_seen)
		c = cmd_new(q);
	c->prp_seen = true;
	/* More than two PRPs: prp2 points at a PRP list, which the device
	 * reads (NVMe base spec, "Physical Region Page Entry and List"). */
	/* QEMU counts a transfer's PRPs from its 32-bit length. */
	if (arg_num(a, e, "num_prps", &num) && num > UINT32_MAX)
		return bad_range(q, "num_prps", num, UINT32_MAX);
	if (arg_num(a, e, "num_prps", &num) && num > 2 && prp2) {
		uint64_t list = (num - 1) * 8;
		uint64_t room = IMS_PAGE_SIZE - (prp2 & (IMS_PAGE_SIZE - 1));
		cmd_range(c, prp2, list < room ? list : room, DIR_R);
	}
	(void)len;
	return 0;
}

int qh_nvme_map_addr(struct q *q, const char *a, const char *e)
{
	uint64_t addr, len;
	if (!arg_num(a, e, "addr", &addr) || !arg_num(a, e, "len", &len))
		return bad(q, "'addr 0x... len N'");
	if (len && addr + len - 1 < addr)
		return bad(q, "a range addr + len that ends by 2^64");
	struct cmd *c = q->cur;
	if (!c || !c->live || c->dma_seen)
		c = cmd_new(q);
	cmd_range(c, addr, len, c->dir);
	return 0;
}

int qh_nvme_rw_cb(struct q *q, const char *a, const char *e)
{
	uint64_t cid;
	if (!arg_num(a, e, "cid", &cid))
		return bad(q, "'cid N blk NAME'");
	if (cid > 0xffff)
		return bad_range(q, "cid", cid, 0xffff);
	struct cmd *c = cmd_find(q, (uint16_t)cid);
	if (c)
		c->live = false;
	if (c == q->cur)
		q->cur = NULL;
	return 0;
}

int qh_dma_blk_io(struct q *q, const char *a, const char *e)
{
	uint64_t to_dev;
	if (!arg_num(a, e, "to_dev", &to_dev))
		return bad(q, "'dbs=P bs=P offset=N to_dev=0|1'");
	/* to_dev=1: memory to the device, the device reads. */
	if (q->cur && q->cur->live) {
		cmd_set_dir(q->cur, to_dev ? DIR_R : DIR_W);
		q->cur->dma_seen = true;
	}
	return 0;
}

int qh_pci_cfg_read(struct q *q, const char *a, const char *e)
{
	/* The workload's phase marker (../shared/traces/captured/README.md):
	 * a read of the subsystem id of the NVMe function. */
	size_t n = (size_t)(e - a);
	static const char tail[] = "@0x2c -> 0xf4";
	if (n < sizeof(tail) - 1 || memcmp(e - (sizeof(tail) - 1), tail, sizeof(tail) - 1))
		return 0;
	q->phase++;
	if (q->g) {
		/* The guest wrote its marker before this read. */
		for (;;) {
			const char *mk = NULL;
			size_t mn = 0;
			int rc = imp_guest_step(q->g, &mk, &mn);
			if (rc <= 0)
				return rc;
			if (mk)
				return imp_comment(q->m, "phase: %.*s", (int)mn, mk);
		}
	}
	return imp_comment(q->m, "phase: marker %u", q->phase);
}
