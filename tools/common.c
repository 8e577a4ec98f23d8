/* Helpers shared by the subcommands: atomic outputs, option values. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/cmd.h"
#include "tools/opts.h"

int outfile_open(struct outfile *o, const char *path)
{
	memset(o, 0, sizeof(*o));
	if (!strcmp(path, "-")) {
		o->f = stdout;
		return 0;
	}
	/* A device or a pipe (/dev/null, a FIFO) is written in place: a rename
	 * over it would replace the device with a file. */
	struct stat st;
	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		o->f = fopen(path, "w");
		if (!o->f) {
			fprintf(stderr, "iommusim: %s: %s\n", path, strerror(errno));
			return -1;
		}
		return 0;
	}
	o->path = strdup(path);
	size_t n = strlen(path) + 16;
	o->tmp = malloc(n);
	if (!o->path || !o->tmp) {
		outfile_abort(o);
		return -1;
	}
	snprintf(o->tmp, n, "%s.tmpXXXXXX", path);
	int fd = mkstemp(o->tmp);
	if (fd < 0) {
		fprintf(stderr, "iommusim: %s: %s\n", path, strerror(errno));
		free(o->tmp);
		o->tmp = NULL;
		outfile_abort(o);
		return -1;
	}
	/* mkstemp makes the file 0600; an output file gets what a plain
	 * create would give it. */
	mode_t um = umask(0);
	umask(um);
	if (fchmod(fd, 0666 & ~um)) {
		/* Only the permissions are off; the output is still right. */
	}
	o->f = fdopen(fd, "w");
	if (!o->f) {
		close(fd);
		outfile_abort(o);
		return -1;
	}
	return 0;
}

int outfile_commit(struct outfile *o)
{
	if (o->f == stdout) {
		fflush(stdout);
		return 0;
	}
	int rc = 0;
	if (fflush(o->f) || ferror(o->f) || fclose(o->f)) {
		fprintf(stderr, "iommusim: %s: write failed: %s\n", o->path ? o->path : "output",
			strerror(errno));
		o->f = NULL;
		outfile_abort(o);
		return -1;
	}
	o->f = NULL;
	if (!o->tmp)
		return 0; /* written in place (a device or a pipe) */
	if (rename(o->tmp, o->path)) {
		fprintf(stderr, "iommusim: %s: %s\n", o->path, strerror(errno));
		rc = -1;
		unlink(o->tmp);
	}
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
	return rc;
}

void outfile_abort(struct outfile *o)
{
	if (o->f && o->f != stdout)
		fclose(o->f);
	if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof(*o));
}

int opt_u64(const char *cmd, const char *opt, const char *s, bool size, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!*s || *s == '-') {
		fprintf(stderr, "iommusim %s: %s: '%s' is not a number\n", cmd, opt, s);
		return -1;
	}
	unsigned long long v = strtoull(s, &end, 0);
	if (errno == ERANGE) {
		fprintf(stderr, "iommusim %s: %s: '%s' does not fit in 64 bits\n", cmd, opt, s);
		return -1;
	}
	unsigned sh = 0;
	if (size && *end && !end[1]) {
		const char *suf = "KMGT";
		const char *p = strchr(suf, *end);
		if (p && *end) {
			sh = 10 * (unsigned)(p - suf + 1);
			end++;
		}
	}
	if (end == s || *end) {
		fprintf(stderr, "iommusim %s: %s: '%s' is not a number%s\n", cmd, opt, s,
			size ? " (decimal or 0x hex, optional K/M/G/T)" : " (decimal or 0x hex)");
		return -1;
	}
	if (sh && (v >> (64 - sh))) {
		fprintf(stderr, "iommusim %s: %s: '%s' does not fit in 64 bits\n", cmd, opt, s);
		return -1;
	}
	*out = (uint64_t)v << sh;
	return 0;
}

int model_opt(const char *cmd, int opt, const char *arg, struct ims_iommu_cfg *cfg)
{
	uint64_t v;
	switch (opt) {
	case OPT_REPLICA:
		if (!strcmp(arg, "first"))
			cfg->replica = IMS_REPLICA_FIRST;
		else if (!strcmp(arg, "covering"))
			cfg->replica = IMS_REPLICA_COVERING;
		else if (!strcmp(arg, "random"))
			cfg->replica = IMS_REPLICA_RANDOM;
		else {
			fprintf(stderr, "iommusim %s: --replica: '%s' (expected first, covering or random)\n",
				cmd, arg);
			return -1;
		}
		return 1;
	case OPT_SEED:
		if (opt_u64(cmd, "--seed", arg, false, &v))
			return -1;
		cfg->seed = v;
		return 1;
	case OPT_IOTLB_ENTRIES:
	case OPT_IOTLB_WAYS:
	case OPT_WC_ENTRIES:
	case OPT_WC_WAYS:
		if (opt_u64(cmd, "cache size", arg, false, &v))
			return -1;
		if (v > (1u << 24)) {
			fprintf(stderr, "iommusim %s: cache size %s is too large\n", cmd, arg);
			return -1;
		}
		if (opt == OPT_IOTLB_ENTRIES)
			cfg->iotlb_entries = (unsigned)v;
		else if (opt == OPT_IOTLB_WAYS)
			cfg->iotlb_ways = (unsigned)v;
		else if (opt == OPT_WC_ENTRIES)
			cfg->wc_entries = (unsigned)v;
		else
			cfg->wc_ways = (unsigned)v;
		/* Given after --config, a walk-cache size wins over the
		 * file's per-level sizes too. */
		for (unsigned l = 0; l < IMS_WC_LEVELS; l++) {
			if (!cfg->wc_level[l].set)
				continue;
			if (opt == OPT_WC_ENTRIES)
				cfg->wc_level[l].entries = (unsigned)v;
			else if (opt == OPT_WC_WAYS)
				cfg->wc_level[l].ways = (unsigned)v;
		}
		return 1;
	case OPT_CONFIG: {
		char err[512];
		if (ims_iommu_cfg_load(cfg, arg, err, sizeof(err))) {
			/* FILE:LINE:COL: as trace input errors. */
			fprintf(stderr, "%s\n", err);
			return -1;
		}
		return 1;
	}
	case OPT_AMD_PDE_A:
		cfg->amd_pde_accessed = true;
		return 1;
	case OPT_DMA_PRIV:
		cfg->dma_privileged = true;
		return 1;
	default:
		return 0;
	}
}

void model_opts_help(FILE *f)
{
	fprintf(f,
		"model options (applied in order: one given after --config overrides the file):\n"
		"  --config FILE         model configuration (YAML: caches, latencies, model\n"
		"                        options, capabilities; see docs/timing.md)\n"
		"  --replica first|covering|random\n"
		"                        which entry of an AMD NextLevel=7 replica run or Arm\n"
		"                        contiguous group hardware updates (default covering)\n"
		"  --seed N              seed of the model's random choices (default 1)\n"
		"  --iotlb-entries N     IOTLB entries, 0 = no IOTLB (default 2048)\n"
		"  --iotlb-ways N        IOTLB associativity (default 4)\n"
		"  --walk-cache-entries N  walk-cache entries per level, 0 = none (default 64)\n"
		"  --walk-cache-ways N   walk-cache associativity (default 4)\n"
		"  --amd-pde-accessed    AMD: hardware sets A in PDEs too (default off)\n"
		"  --dma-privileged      SMMU: device accesses are privileged (default off)\n");
}

void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '\t')
			fputs("\\t", f);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}
