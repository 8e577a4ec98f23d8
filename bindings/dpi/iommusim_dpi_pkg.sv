// The iommusim testbench API as DPI-C imports (bindings/dpi/README.md).
// The C side is bindings/dpi/iommusim_dpi.h: the same calls, the same
// argument order; longint is an unsigned 64-bit address or size there.
// Link libims_dpi.a and libiommusim.a (or load libims_dpi.so) with the
// simulation.
package iommusim_dpi;

  // prot of ims_dpi_map
  localparam int IMS_R  = 1;
  localparam int IMS_W  = 2;
  localparam int IMS_RW = 3;
  // bits of ims_dpi_last_flags
  localparam int IMS_IOTLB_HIT    = 1;
  localparam int IMS_ACCESSED_SET = 2;
  localparam int IMS_DIRTY_SET    = 4;

  // A testbench: a model configuration file (YAML) or "" for the defaults;
  // a built-in walker's name, a plug-in's path, or "" for the default.
  import "DPI-C" function chandle ims_dpi_new(input string cfg, input string walker);
  import "DPI-C" function void ims_dpi_free(input chandle h);
  import "DPI-C" function int ims_dpi_ok(input chandle h);
  import "DPI-C" function string ims_dpi_last_error(input chandle h);
  import "DPI-C" function int ims_dpi_where(input chandle h, input string name,
                                            input longint line);

  // Domains, devices, mappings. Calls that act return 0 (or a count), or a
  // negative errno with the message in ims_dpi_last_error.
  import "DPI-C" function int ims_dpi_domain(input chandle h, input int tag, input string fmt,
                                             input int levels, input int dirty);
  import "DPI-C" function int ims_dpi_attach(input chandle h, input int dev, input int tag);
  import "DPI-C" function int ims_dpi_detach(input chandle h, input int dev);
  import "DPI-C" function int ims_dpi_map(input chandle h, input int tag, input longint iova,
                                          input longint pa, input longint size, input int prot,
                                          input longint pgsize);
  import "DPI-C" function int ims_dpi_unmap(input chandle h, input int tag, input longint iova,
                                            input longint size, input int read_dirty);
  import "DPI-C" function int ims_dpi_track(input chandle h, input int tag, input int on);
  import "DPI-C" function int ims_dpi_flush(input chandle h, input int tag, input longint iova,
                                            input longint size);

  // A DMA: returns the pieces (one per 4 KiB page) that faulted; each
  // piece's result is read back by index.
  import "DPI-C" function int ims_dpi_dma(input chandle h, input int dev, input longint iova,
                                          input longint len, input int write);
  import "DPI-C" function int ims_dpi_last_pieces(input chandle h);
  import "DPI-C" function longint ims_dpi_last_iova(input chandle h, input int i);
  import "DPI-C" function longint ims_dpi_last_pa(input chandle h, input int i);
  import "DPI-C" function int ims_dpi_last_fault(input chandle h, input int i);
  import "DPI-C" function int ims_dpi_last_flags(input chandle h, input int i);
  import "DPI-C" function longint ims_dpi_last_cycles(input chandle h, input int i);
  import "DPI-C" function string ims_dpi_fault_name(input int kind);

  // A harvest (read_and_clear_dirty) checked against the oracle: returns
  // the bits that differ (0: it matches), or a negative errno.
  import "DPI-C" function int ims_dpi_harvest(input chandle h, input int tag, input longint iova,
                                              input longint size, input longint pgsize,
                                              input int clear);
  import "DPI-C" function int ims_dpi_harvest_bit(input chandle h, input longint iova);
  import "DPI-C" function longint ims_dpi_harvest_word(input chandle h, input int i);
  import "DPI-C" function longint ims_dpi_harvest_nbits(input chandle h);
  import "DPI-C" function longint ims_dpi_harvest_got(input chandle h);
  import "DPI-C" function longint ims_dpi_harvest_expected(input chandle h);
  import "DPI-C" function longint ims_dpi_harvest_under(input chandle h);
  import "DPI-C" function longint ims_dpi_harvest_over(input chandle h);
  import "DPI-C" function longint ims_dpi_harvest_first_under(input chandle h);
  import "DPI-C" function longint ims_dpi_harvest_first_over(input chandle h);

  // The leaf that maps an IOVA, as the hardware decodes it: 0, a positive
  // fault kind when none does, or a negative errno.
  import "DPI-C" function int ims_dpi_leaf(input chandle h, input int tag, input longint iova);
  import "DPI-C" function longint ims_dpi_leaf_pte(input chandle h);
  import "DPI-C" function longint ims_dpi_leaf_pte_pa(input chandle h);
  import "DPI-C" function longint ims_dpi_leaf_pa(input chandle h);
  import "DPI-C" function int ims_dpi_leaf_level(input chandle h);
  import "DPI-C" function int ims_dpi_leaf_shift(input chandle h);
  import "DPI-C" function int ims_dpi_leaf_accessed(input chandle h);
  import "DPI-C" function int ims_dpi_leaf_dirty(input chandle h);

  import "DPI-C" function int ims_dpi_inject(input chandle h, input longint at, input int dev,
                                             input longint iova);
  import "DPI-C" function longint ims_dpi_stat(input chandle h, input string name);

  // Validation failures as "KIND: message" records.
  import "DPI-C" function int ims_dpi_failures(input chandle h);
  import "DPI-C" function string ims_dpi_failure(input chandle h, input int i);
  import "DPI-C" function longint ims_dpi_failure_count(input chandle h);
  import "DPI-C" function void ims_dpi_failures_clear(input chandle h);

endpackage
