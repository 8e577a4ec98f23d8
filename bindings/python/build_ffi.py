"""Builds iommusim._iommusim, the C side of the Python bindings, with cffi's
API mode out of line.

The public headers cannot be fed to cffi (includes, macros, inline
functions), so CDEF below restates, in cffi's dialect, the part of the API
the package uses. The generated C includes the real headers, and
checks() adds a compile-time assertion for every function, typedef and
struct field of CDEF: a prototype or a field type that differs from the
header, or a complete struct that lost or gained a field, fails the build
instead of corrupting memory at run time. Structs that embed the model
configuration (whose layout the package never needs) are partial ("...;"):
the compiler places their fields.

Two ways to build:
  build_ffi.py --emit-c FILE
      write the C source; CMake compiles and links it (the project build,
      bindings/python/CMakeLists.txt)
  build_ffi.py --build DIR --include INCDIR --archive libiommusim.a
      compile the extension with cffi itself into DIR/iommusim/, for a
      tree CMake did not configure (needs setuptools)
"""
import argparse
import os
import sys

import cffi

CDEF = r"""
/* iommusim/common.h */
const char *ims_version(void);
enum ims_format { IMS_FMT_AMDV1, IMS_FMT_VTD, IMS_FMT_SMMUV3, IMS_FMT_VTD_FS, IMS_FMT_AMDV2,
                  IMS_FMT_SMMUV3_S2, IMS_FMT_COUNT, ... };
const char *ims_format_name(enum ims_format f);
int ims_format_parse(const char *name, size_t len, enum ims_format *out);
enum ims_fault_kind { IMS_FAULT_NONE, IMS_FAULT_NOTPRESENT, IMS_FAULT_PERM, IMS_FAULT_ACCESS,
                      IMS_FAULT_UNATTACHED, IMS_FAULT_KIND_COUNT, ... };
const char *ims_fault_kind_name(enum ims_fault_kind k);
#define IMS_PAGE_SHIFT ...
#define IMS_PROT_R ...
#define IMS_PROT_W ...
#define IMS_PROT_RW ...
#define IMS_ACC_R ...
#define IMS_ACC_W ...

/* iommusim/bitmap.h */
struct ims_bitmap {
	uint64_t iova;
	uint64_t length;
	unsigned pgshift;
	uint64_t nbits;
	uint64_t nwords;
	uint64_t *words;
};
void ims_bitmap_fini(struct ims_bitmap *bm);

/* iommusim/model.h */
struct ims_iommu_cfg { ...; };
void ims_iommu_cfg_default(struct ims_iommu_cfg *cfg);
int ims_iommu_cfg_load(struct ims_iommu_cfg *cfg, const char *path, char *err, size_t errlen);
int ims_iommu_cfg_set(struct ims_iommu_cfg *cfg, const char *key, const char *value, char *err,
		      size_t errlen);
int ims_iommu_cfg_get(const struct ims_iommu_cfg *cfg, const char *key, char *buf, size_t len);
struct ims_leaf {
	int level;
	uint64_t pte_pa;
	uint64_t pte;
	uint64_t first_pa;
	unsigned nentries;
	uint64_t leaf_iova;
	unsigned leaf_shift;
	uint64_t pa;
	bool accessed;
	bool dirty;
	bool readable;
	bool writable;
};

/* iommusim/walker.h, iommusim/pt.h: built-in walkers and plug-ins */
struct ims_walker_ops {
	uint32_t abi_version;
	uint32_t size;
	const char *name;
	const char *description;
	...;
};
unsigned ims_pt_walker_count(void);
const char *ims_pt_walker_name(unsigned idx);
const char *ims_pt_walker_what(unsigned idx);
int ims_pt_walker_parse(const char *name, unsigned *out);
struct ims_walker_plugin;
int ims_walker_plugin_load(const char *path, struct ims_walker_plugin **out, char *err,
			   size_t errlen);
const struct ims_walker_ops *ims_walker_plugin_ops(const struct ims_walker_plugin *p);
void ims_walker_plugin_unload(struct ims_walker_plugin *p);
#define IMS_DIRTY_NO_CLEAR ...

/* iommusim/replay.h: the counters. Complete: a counter added to the header
 * fails the build until it is added here (and so reaches Python). */
struct ims_replay_stats {
	uint64_t events;
	uint64_t dma_ops;
	uint64_t dma_pages;
	uint64_t dma_bytes;
	uint64_t faults;
	uint64_t harvests;
	uint64_t harvest_mismatches;
	uint64_t bits_reported;
	uint64_t bits_expected;
	uint64_t bits_under;
	uint64_t bits_over;
	uint64_t lost_on_unmap;
	uint64_t lost_partial;
	uint64_t assertions;
	uint64_t assertion_failures;
	uint64_t maps;
	uint64_t unmaps;
	uint64_t validation_failures;
	uint64_t uapi_calls;
	uint64_t uapi_errors;
	uint64_t gpa_missed;
	uint64_t walker_findings;
	uint64_t lost_by_contract;
	uint64_t tables_kept_by_contract;
	uint64_t mapped_dirty_by_contract;
	uint64_t inject_armed;
	uint64_t inject_fired;
	uint64_t inject_changed;
	uint64_t harvests_noclear;
	uint64_t s2_faults_output;
	uint64_t s2_faults_table;
	uint64_t s2_faults_ad;
};

/* iommusim/tb.h */
#define IMS_TB_API_VERSION ...
struct ims_tb;
enum ims_tb_failure_kind { IMS_TB_FAIL_DIRTY_READ, IMS_TB_FAIL_EXPECT, IMS_TB_FAIL_LOST_UPDATE,
                           IMS_TB_FAIL_WALKER, ... };
struct ims_tb_failure {
	enum ims_tb_failure_kind kind;
	const char *file;
	uint64_t line;
	const char *message;
	uint16_t domain;
	const struct ims_bitmap *expected;
	const struct ims_bitmap *got;
	uint64_t expected_bits;
	uint64_t got_bits;
	uint64_t under;
	uint64_t over;
	uint64_t first_under_iova;
	uint64_t first_over_iova;
};
typedef void (*ims_tb_failure_fn)(void *arg, const struct ims_tb_failure *f);
struct ims_tb_opts {
	uint32_t size;
	struct ims_iommu_cfg model;
	unsigned walker;
	const struct ims_walker_ops *plugin;
	int verbosity;
	FILE *diag;
	ims_tb_failure_fn on_failure;
	void *on_failure_arg;
	...;
};
void ims_tb_opts_default(struct ims_tb_opts *o);
int ims_tb_new(const struct ims_tb_opts *opts, struct ims_tb **out);
void ims_tb_free(struct ims_tb *tb);
const char *ims_tb_error(const struct ims_tb *tb);
void ims_tb_set_where(struct ims_tb *tb, const char *file, uint64_t line);
void ims_tb_set_failure_cb(struct ims_tb *tb, ims_tb_failure_fn fn, void *arg);
struct ims_tb_domain_cfg {
	enum ims_format fmt;
	unsigned levels;
	unsigned granule_shift;
	unsigned ias;
	uint64_t pgsizes;
	bool dirty;
};
int ims_tb_domain(struct ims_tb *tb, uint16_t tag, const struct ims_tb_domain_cfg *cfg);
int ims_tb_attach(struct ims_tb *tb, uint32_t dev, uint16_t tag);
int ims_tb_detach(struct ims_tb *tb, uint32_t dev);
int ims_tb_map(struct ims_tb *tb, uint16_t tag, uint64_t iova, uint64_t pa, uint64_t size,
	       unsigned prot, uint64_t pgsize);
int ims_tb_unmap(struct ims_tb *tb, uint16_t tag, uint64_t iova, uint64_t size, uint64_t pgsize,
		 struct ims_bitmap *dirty);
int ims_tb_track(struct ims_tb *tb, uint16_t tag, bool on);
int ims_tb_flush(struct ims_tb *tb, uint16_t tag, uint64_t iova, uint64_t size);
struct ims_tb_verdict {
	bool match;
	uint64_t expected_bits;
	uint64_t got_bits;
	uint64_t under;
	uint64_t over;
	uint64_t first_under_iova;
	uint64_t first_over_iova;
};
int ims_tb_harvest(struct ims_tb *tb, uint16_t tag, uint64_t iova, uint64_t size,
		   uint64_t pgsize, unsigned flags, struct ims_bitmap *got,
		   struct ims_tb_verdict *v);
struct ims_tb_access {
	uint64_t iova;
	uint64_t len;
	uint64_t pa;
	int fault;
	uint32_t code;
	bool iotlb_hit;
	bool accessed_set;
	bool dirty_set;
	uint64_t leaf_iova;
	unsigned leaf_shift;
	uint64_t cycles;
};
int64_t ims_tb_dma(struct ims_tb *tb, uint32_t dev, uint64_t iova, uint64_t len, unsigned dir,
		   struct ims_tb_access *acc, size_t nacc, uint64_t *npieces);
int ims_tb_leaf(struct ims_tb *tb, uint16_t tag, uint64_t iova, struct ims_leaf *out);
int ims_tb_inject(struct ims_tb *tb, uint64_t at, uint32_t dev, uint64_t iova);
const struct ims_replay_stats *ims_tb_stats(const struct ims_tb *tb);

/* iommusim/trace.h, iommusim/replay.h */
struct ims_reader;
int ims_reader_open(const char *path, struct ims_reader **out, char *err, size_t errlen);
void ims_reader_close(struct ims_reader *r);
struct ims_replay;
struct ims_replay_opts {
	struct ims_iommu_cfg model;
	int verbosity;
	FILE *diag;
	unsigned walker;
	const struct ims_walker_ops *plugin;
	...;
};
void ims_replay_opts_default(struct ims_replay_opts *o);
int ims_replay_new(const struct ims_replay_opts *opts, struct ims_replay **out);
void ims_replay_free(struct ims_replay *r);
int ims_replay_run(struct ims_replay *r, struct ims_reader *rd);
const char *ims_replay_error(const struct ims_replay *r);
const struct ims_replay_stats *ims_replay_stats(const struct ims_replay *r);
struct ims_tb *ims_replay_tb(struct ims_replay *r);

/* Defined in PRELUDE. */
char *ims_py_replay_json(const struct ims_replay *r);
void ims_py_free(void *p);

/* The failure callback: iommusim/_core.py defines it (@ffi.def_extern). */
extern "Python" void ims_py_on_failure(void *arg, const struct ims_tb_failure *f);
"""

PRELUDE = r"""
#include <stdio.h>
#include <stdlib.h>

#include <iommusim/model.h>
#include <iommusim/pt.h>
#include <iommusim/replay.h>
#include <iommusim/tb.h>
#include <iommusim/trace.h>

/* A replay's JSON record (the `summary` object of `iommusim replay --json`). */
static char *ims_py_replay_json(const struct ims_replay *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	ims_replay_write_json(r, f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void ims_py_free(void *p)
{
	free(p);
}
"""


def checks(ffi):
    """C assertions that CDEF says what the headers say.

    cffi itself checks that names exist and, for integers, little more: a
    uint16_t declared where the header has uint32_t would convert silently.
    This reads cffi's parsed declarations (its parser's table, stable across
    cffi 1.x) and asserts type identity with GCC/Clang's
    __builtin_types_compatible_p.
    """
    out = ["\n/* Generated by build_ffi.py: CDEF against the headers. */",
           "#include <stddef.h>"]
    decls = ffi._parser._declarations
    for key in sorted(decls):
        tp, _quals = decls[key]
        kind, _, name = key.partition(" ")
        if kind == "function":
            out.append('_Static_assert(__builtin_types_compatible_p(__typeof__(&%s), %s), '
                       '"build_ffi.py: the prototype of %s differs from the header");'
                       % (name, tp.get_c_name(), name))
        elif kind == "typedef":
            out.append('_Static_assert(__builtin_types_compatible_p(%s, %s), '
                       '"build_ffi.py: typedef %s differs from the header");'
                       % (name, tp.get_c_name(), name))
        elif kind == "struct" and tp.fldnames is not None:
            sname = "struct " + name
            for fname, ftype in zip(tp.fldnames, tp.fldtypes):
                out.append('_Static_assert(__builtin_types_compatible_p('
                           '__typeof__(((%s *)0)->%s), %s), '
                           '"build_ffi.py: %s.%s has another type in the header");'
                           % (sname, fname, ftype.get_c_name(), sname, fname))
            if not tp.partial:
                # A complete struct: its fields in CDEF's order must lay it
                # out exactly (a field the header added would change sizeof).
                mirror = "ims_py_cdef_" + name
                out.append("struct %s {" % mirror)
                for fname, ftype in zip(tp.fldnames, tp.fldtypes):
                    out.append("\t%s;" % ftype.get_c_name(" " + fname))
                out.append("};")
                out.append('_Static_assert(sizeof(%s) == sizeof(struct %s), '
                           '"build_ffi.py: %s has fields CDEF does not list");'
                           % (sname, mirror, sname))
                for fname in tp.fldnames:
                    out.append('_Static_assert(offsetof(%s, %s) == offsetof(struct %s, %s), '
                               '"build_ffi.py: %s.%s is not where CDEF puts it");'
                               % (sname, fname, mirror, fname, sname, fname))
    return "\n".join(out) + "\n"


def make(include_dirs=(), library_dirs=(), libraries=(), extra_objects=()):
    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    ffi.set_source("iommusim._iommusim", PRELUDE + checks(ffi),
                   include_dirs=list(include_dirs), library_dirs=list(library_dirs),
                   libraries=list(libraries), extra_objects=list(extra_objects))
    return ffi


# The name cffi's setuptools integration (cffi_modules=) looks for.
ffibuilder = make()


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--emit-c", metavar="FILE", help="write the C source to FILE")
    ap.add_argument("--build", metavar="DIR",
                    help="compile the extension into DIR/iommusim/ with cffi")
    ap.add_argument("--include", metavar="DIR", action="append", default=[],
                    help="where iommusim/tb.h is (with --build)")
    ap.add_argument("--archive", metavar="FILE",
                    help="libiommusim.a to link (with --build); else -liommusim")
    ap.add_argument("--lib-dir", metavar="DIR", action="append", default=[],
                    help="where libiommusim is (with --build, without --archive)")
    a = ap.parse_args(argv)
    if bool(a.emit_c) == bool(a.build):
        ap.error("give one of --emit-c and --build")
    if a.emit_c:
        # cffi rewrites the file only when its content changes; CMake wants
        # the output newer than its inputs.
        ffibuilder.emit_c_code(a.emit_c)
        os.utime(a.emit_c)
        return 0
    extra, libs = [], ["z", "yaml", "m"]
    if a.archive:
        extra.append(os.path.abspath(a.archive))
    else:
        libs.insert(0, "iommusim")
    ffi = make(include_dirs=[os.path.abspath(d) for d in a.include],
               library_dirs=[os.path.abspath(d) for d in a.lib_dir],
               libraries=libs, extra_objects=extra)
    print(ffi.compile(tmpdir=a.build))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
