/* What a fuzz campaign exercised (docs/fuzzing.md, "What a run covered"):
 * the geometries its domains had, the leaf sizes its maps laid out, its
 * harvests with and without NO_CLEAR, and its injections, those whose
 * device write landed inside the op's walk and those that set A/D in a
 * page-table entry there (a race with the walker). A run that never
 * raced the walker, or never saw a format's large leaves, tested less
 * than its op count says. */
#include <inttypes.h>
#include <string.h>

#include "iommusim/model.h"
#include "tools/fuzz.h"

void fz_cover_add(struct fz_cover *dst, const struct fz_cover *src)
{
	dst->geos |= src->geos;
	for (int f = 0; f < IMS_FMT_COUNT; f++)
		dst->leaf_shifts[f] |= src->leaf_shifts[f];
	dst->harvests += src->harvests;
	dst->noclear += src->noclear;
	dst->inj_armed += src->inj_armed;
	dst->inj_fired += src->inj_fired;
	dst->inj_changed += src->inj_changed;
	dst->corrupt_seqs += src->corrupt_seqs;
	dst->corrupt_writes += src->corrupt_writes;
	dst->corrupt_failures += src->corrupt_failures;
	dst->corrupt_findings += src->corrupt_findings;
	for (int f = 0; f < IMS_FMT_COUNT; f++)
		dst->nested[f] += src->nested[f];
	dst->s2_out_maps += src->s2_out_maps;
	dst->s2_frames_ro += src->s2_frames_ro;
	dst->s2_frames_absent += src->s2_frames_absent;
	dst->s2_faults_output += src->s2_faults_output;
	dst->s2_faults_table += src->s2_faults_table;
	dst->s2_faults_ad += src->s2_faults_ad;
}

void fz_cover_replay(struct fz_cover *c, const struct ims_replay_stats *st)
{
	c->harvests += st->harvests;
	c->noclear += st->harvests_noclear;
	c->inj_armed += st->inject_armed;
	c->inj_fired += st->inject_fired;
	c->inj_changed += st->inject_changed;
	/* A sequence without corruption stops at its first failure, so what a
	 * run that found nothing counts here followed a corruption. */
	c->corrupt_failures += st->validation_failures;
	c->corrupt_findings += st->walker_findings;
	c->s2_faults_output += st->s2_faults_output;
	c->s2_faults_table += st->s2_faults_table;
	c->s2_faults_ad += st->s2_faults_ad;
}

static unsigned leaf_sizes(const struct fz_cover *c)
{
	unsigned n = 0;
	for (int f = 0; f < IMS_FMT_COUNT; f++)
		n += (unsigned)__builtin_popcountll(c->leaf_shifts[f]);
	return n;
}

void fz_cover_short(const struct fz_cover *c, char *buf, size_t len)
{
	snprintf(buf, len,
		 "%d geometries, %u leaf sizes, %" PRIu64 " injections in a walk (%" PRIu64
		 " set A/D), %" PRIu64 " noclear harvests",
		 __builtin_popcountll(c->geos), leaf_sizes(c), c->inj_fired, c->inj_changed,
		 c->noclear);
}

/* "4K 8K 2M" */
static void sizes(char *buf, size_t len, uint64_t shifts)
{
	size_t n = 0;
	buf[0] = '\0';
	for (unsigned s = 0; s < 64 && n < len; s++) {
		if (!(shifts >> s & 1))
			continue;
		static const char unit[] = "KMGTPE";
		unsigned u = s >= 10 ? (s - 10) / 10 : 0;
		if (u > 5)
			u = 5;
		n += (size_t)snprintf(buf + n, len - n, "%s%llu%c", n ? " " : "",
				      1ull << (s - 10 - 10 * u), unit[u]);
	}
}

void fz_cover_print(FILE *f, const char *prefix, const struct fz_cover *c,
		    const struct fz_geo *geos, size_t ngeos)
{
	fprintf(f, "%sgeometries: %d of %zu\n", prefix, __builtin_popcountll(c->geos), ngeos);
	for (int fmt = 0; fmt < IMS_FMT_COUNT; fmt++) {
		char line[512];
		size_t n = 0;
		line[0] = '\0';
		for (size_t i = 0; i < ngeos && i < 64; i++) {
			if (geos[i].fmt != (enum ims_format)fmt || !(c->geos >> i & 1))
				continue;
			if (geos[i].gshift && geos[i].levels) /* a start level (SMMU stage 2) */
				n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%uK/ias%u/%ulv",
						      n ? " " : "", 1u << (geos[i].gshift - 10),
						      geos[i].ias, geos[i].levels);
			else if (geos[i].gshift)
				n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%uK/ias%u",
						      n ? " " : "", 1u << (geos[i].gshift - 10),
						      geos[i].ias);
			else
				n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%u levels",
						      n ? ", " : "", geos[i].levels);
			if (n >= sizeof(line))
				break;
		}
		if (!line[0] && !c->leaf_shifts[fmt])
			continue;
		char ls[512];
		sizes(ls, sizeof(ls), c->leaf_shifts[fmt]);
		fprintf(f, "%s  %s: %s; leaves %s\n", prefix, ims_format_name((enum ims_format)fmt),
			line[0] ? line : "-", ls[0] ? ls : "none");
	}
	for (int fmt = 0; fmt < IMS_FMT_COUNT; fmt++)
		if (c->nested[fmt])
			fprintf(f, "%s  nested %s over %s: %" PRIu64 " sequences\n", prefix,
				ims_format_name((enum ims_format)fmt),
				ims_format_name((enum ims_format)ims_format_nest_s2((enum ims_format)fmt)),
				c->nested[fmt]);
	if (c->s2_out_maps || c->s2_frames_ro || c->s2_frames_absent)
		fprintf(f, "%s  stage 2 refusing: %" PRIu64 " stage-1 maps over read-only or unmapped "
			   "GPAs, %" PRIu64 " table frames made read-only, %" PRIu64 " unmapped; stage-2 "
			   "faults: %" PRIu64 " on the output, %" PRIu64 " on a table read, %" PRIu64
			   " on an A/D write\n",
			prefix, c->s2_out_maps, c->s2_frames_ro, c->s2_frames_absent,
			c->s2_faults_output, c->s2_faults_table, c->s2_faults_ad);
	fprintf(f, "%sharvests: %" PRIu64 " (%" PRIu64 " with NO_CLEAR)\n", prefix, c->harvests,
		c->noclear);
	fprintf(f, "%sinjections: %" PRIu64 " armed, %" PRIu64 " landed inside the walk, %" PRIu64
		   " of them set A/D in a page-table entry (a race with the walker)\n",
		prefix, c->inj_armed, c->inj_fired, c->inj_changed);
	if (c->corrupt_seqs)
		fprintf(f, "%scorrupted tables: %" PRIu64 " sequences wrote %" PRIu64
			   " entries into live tables; %" PRIu64 " validation failures followed, %" PRIu64
			   " of them corrupt-table findings (expected: not failures)\n",
			prefix, c->corrupt_seqs, c->corrupt_writes, c->corrupt_failures,
			c->corrupt_findings);
}
