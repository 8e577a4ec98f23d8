/* The importer dispatcher: `--from` picks the importer (traces/importers.h),
 * which reads the log through the shared machinery (traces/import.h) and
 * calls no other importer; combining a QEMU log with the guest's ftrace
 * (docs/importers.md, "Combining") is wired here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/format.h"
#include "traces/import.h"
#include "traces/importers.h"

static int cmp_count(const void *a, const void *b)
{
	const struct ims_import_count *x = a, *y = b;
	return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->name, y->name);
}

/* A QEMU log, with the guest's side when combining. */
static int qemu(struct imp *m, struct lsrc *in)
{
	if (!m->o.guest)
		return import_qemu(m, in, NULL);
	struct imp_guest g;
	int rc = guest_open(m, m->o.guest, &g);
	if (rc)
		return rc;
	rc = import_qemu(m, in, &g);
	guest_close(&g);
	return rc;
}

/* --levels and --ias against the format's geometry rule, when the source
 * says the format: refused before a line is read (else at the first
 * domain that uses them). */
static int check_geometry(const struct ims_import_opts *o, char *err, size_t errlen)
{
	int f = o->from == IMS_FROM_QEMU_VTD	 ? IMS_FMT_VTD
		: o->from == IMS_FROM_QEMU_AMDVI ? IMS_FMT_AMDV1
		: o->from == IMS_FROM_QEMU_SMMUV3 ? IMS_FMT_SMMUV3
						  : o->format;
	const struct fmt_desc *fd = f >= 0 ? fmt_get((enum ims_format)f) : NULL;
	if (f >= 0 && !fd) {
		snprintf(err, errlen, "--format %d: no built-in format has this value", f);
		return -EINVAL;
	}
	if (!fd)
		return 0;
	bool levels = fd->import_geom.levels != 0;
	if (levels ? !o->levels : !o->ias)
		return 0;
	struct fmt_geom g = levels ? (struct fmt_geom){o->levels, 0, 0}
				   : (struct fmt_geom){0, fd->import_geom.granule_shift, o->ias};
	char why[128];
	if (!fd->geometry(&g, why, sizeof(why)))
		return 0;
	snprintf(err, errlen, "%s %u: %s", levels ? "--levels" : "--ias", levels ? o->levels : o->ias,
		 why);
	return -EINVAL;
}

static int run(const struct ims_import_opts *o, struct lsrc *in, const struct ims_import_sink *sink,
	       struct ims_import_stats *st, char *err, size_t errlen)
{
	struct imp m;
	memset(st, 0, sizeof(*st));
	int grc = check_geometry(o, err, errlen);
	if (grc)
		return grc;
	if (imp_init(&m, o, sink, st, in->name, err, errlen)) {
		snprintf(err, errlen, "%s: out of memory", in->name);
		return -ENOMEM;
	}
	int rc = imp_comment(&m, "imported by iommusim %s: trace import --from %s from %s",
			     IMS_VERSION_STRING, ims_import_from_name(o->from), in->name);
	if (!rc)
		rc = o->from == IMS_FROM_FTRACE ? import_ftrace(&m, in) : qemu(&m, in);
	if (!rc)
		rc = imp_finish(&m);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", in->name);
	imp_fini(&m);
	qsort(st->known, st->n_known, sizeof(st->known[0]), cmp_count);
	qsort(st->unknown_names, st->n_unknown, sizeof(st->unknown_names[0]), cmp_count);
	return rc;
}

int ims_import(const struct ims_import_opts *o, const char *path,
	       const struct ims_import_sink *sink, struct ims_import_stats *st, char *err,
	       size_t errlen)
{
	struct lsrc in;
	if ((unsigned)o->from >= IMS_FROM_COUNT)
		return -EINVAL;
	int rc = lsrc_open(&in, path, err, errlen);
	if (rc)
		return rc;
	rc = run(o, &in, sink, st, err, errlen);
	lsrc_close(&in);
	return rc;
}

int ims_import_mem(const struct ims_import_opts *o, const char *name, const char *buf, size_t len,
		   const struct ims_import_sink *sink, struct ims_import_stats *st, char *err,
		   size_t errlen)
{
	struct lsrc in;
	if ((unsigned)o->from >= IMS_FROM_COUNT)
		return -EINVAL;
	int rc = lsrc_open_mem(&in, name, buf, len);
	if (rc)
		return rc;
	rc = run(o, &in, sink, st, err, errlen);
	lsrc_close(&in);
	return rc;
}
