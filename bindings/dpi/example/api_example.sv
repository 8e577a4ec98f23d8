// The DPI-C example of docs/api.md, runnable (ctest dpi.api-example): one
// write through the model, a harvest the model checks against its oracle,
// and the harvested bits checked by hand.
module api_example;
  import iommusim_dpi::*;

  chandle h;
  int bad = 0;

  function automatic void ok(int rc);
    if (rc < 0) $fatal(1, "FAIL: %s", ims_dpi_last_error(h));
  endfunction

  initial begin
    h = ims_dpi_new("", "");  // default model and walker
    if (ims_dpi_ok(h) == 0) $fatal(1, "FAIL: %s", ims_dpi_last_error(h));
    ok(ims_dpi_domain(h, 1, "amdv1", 0, 1));  // tag 1, allocated for dirty tracking
    ok(ims_dpi_attach(h, 'h10, 1));  // device 0x10 in it
    // 64 KiB read-write in 4 KiB leaves (0 would let the walker pick a
    // 64 KiB leaf, and a write dirties the whole leaf).
    ok(ims_dpi_map(h, 1, 64'h4000_0000, 64'h8000_0000, 64'h10000, IMS_RW, 'h1000));
    ok(ims_dpi_track(h, 1, 1));

    if (ims_dpi_dma(h, 'h10, 64'h4000_2000, 64, 1) != 0) bad++;  // a 64-byte write, page 2
    if (ims_dpi_last_pa(h, 0) != 64'h8000_2000) bad++;
    if ((ims_dpi_last_flags(h, 0) & IMS_DIRTY_SET) == 0) bad++;

    // 0: the walker's harvest matches the oracle bit for bit.
    if (ims_dpi_harvest(h, 1, 64'h4000_0000, 64'h10000, 0, 1) != 0) bad++;
    for (int p = 0; p < 16; p++)
      if (ims_dpi_harvest_bit(h, 64'h4000_0000 + longint'(p) * 'h1000) != int'(p == 2)) bad++;

    for (int i = 0; i < ims_dpi_failures(h); i++) $display("%s", ims_dpi_failure(h, i));
    ims_dpi_free(h);
    if (bad != 0) $fatal(1, "FAIL: %0d checks", bad);
    $display("PASS");
    $finish;
  end
endmodule
