// An example testbench for the iommusim DPI-C shim (bindings/dpi/README.md).
//
// The design under test is a DMA engine that writes a 64-byte burst into
// each page its mask selects, one page per clock. The testbench plays the
// IOMMU's bus side: each burst the engine issues is translated by the model
// (ims_dpi_dma), its result checked; after each round it reads the leaves
// back and harvests dirty state, which the model compares with its oracle.
// Two rounds over the same pages: the second only passes when the walker's
// harvest invalidated the IOTLB entries it cleaned, so a seeded-bug walker
// that does not (+walker=bug3-no-flush) must make it FAIL.
//
//   +walker=NAME   a built-in walker or a plug-in's path ("" the default)
//   +config=FILE   a model configuration (YAML)
// Exit status 0 and "PASS", or $fatal with "FAIL".

module dma_engine #(
    parameter int PAGES = 16
) (
    input  logic             clk,
    input  logic             rst,
    input  logic             start,
    input  logic [     63:0] base,
    input  logic [PAGES-1:0] mask,
    output logic             req,       // a write burst this cycle
    output logic [     63:0] req_iova,
    output logic             done
);
  typedef enum logic [1:0] {IDLE, RUN, DONE} state_t;
  state_t state;
  logic [$clog2(PAGES)-1:0] page;

  always_ff @(posedge clk) begin
    if (rst) begin
      state <= IDLE;
      page <= '0;
      req <= 1'b0;
      req_iova <= '0;
      done <= 1'b0;
    end else begin
      req <= 1'b0;
      case (state)
        IDLE:
        if (start) begin
          state <= RUN;
          page  <= '0;
          done  <= 1'b0;
        end
        RUN: begin
          if (mask[page]) begin
            req <= 1'b1;
            req_iova <= base + (64'(page) << 12) + 64'h40;
          end
          if (page == $clog2(PAGES)'(PAGES - 1)) state <= DONE;
          else page <= page + 1'b1;
        end
        default: begin
          done  <= 1'b1;
          state <= IDLE;
        end
      endcase
    end
  end
endmodule

module tb;
  import iommusim_dpi::*;

  localparam int PAGES = 16;
  localparam int TAG = 1;
  localparam int DEV = 'h10;
  localparam longint IOVA = 64'h4000_0000;
  localparam longint PA = 64'h8000_0000;
  localparam logic [PAGES-1:0] MASK = 16'b0000_0000_1010_0101;  // pages 0, 2, 5, 7
  localparam longint BURST = 64;

  logic clk = 1'b0, rst = 1'b1, start = 1'b0;
  logic req, done;
  logic [63:0] req_iova;
  always #5 clk = ~clk;

  dma_engine #(.PAGES(PAGES)) dut (
      .clk,
      .rst,
      .start,
      .base(IOVA),
      .mask(MASK),
      .req,
      .req_iova,
      .done
  );

  chandle h;
  int errors = 0;

  function automatic void check(int rc, string what);
    if (rc < 0) $fatal(1, "FAIL: %s: %s", what, ims_dpi_last_error(h));
  endfunction

  // The bus side: each burst goes through the model as the hardware would
  // translate it. The first write to a page after a harvest cleaned it
  // must set the dirty bit again.
  always @(posedge clk)
    if (!rst && req) begin
      int faults;
      faults = ims_dpi_dma(h, DEV, req_iova, BURST, 1);
      check(faults, "dma");
      if (faults != 0) begin
        $display("ERROR: write at 0x%h faulted (%s)", req_iova,
                 ims_dpi_fault_name(ims_dpi_last_fault(h, 0)));
        errors++;
      end else if (ims_dpi_last_pa(h, 0) != PA + (req_iova - IOVA)) begin
        $display("ERROR: write at 0x%h went to 0x%h", req_iova, ims_dpi_last_pa(h, 0));
        errors++;
      end else if ((ims_dpi_last_flags(h, 0) & IMS_DIRTY_SET) == 0) begin
        $display("ERROR: write at 0x%h did not set the dirty bit (flags %0d)", req_iova,
                 ims_dpi_last_flags(h, 0));
        errors++;
      end
    end

  task automatic run_round(int round);
    int mismatch;
    check(ims_dpi_where(h, "tb.sv round", longint'(round)), "where");
    // Stimulus changes on the falling edge, clear of the engine's.
    @(negedge clk) start = 1'b1;
    @(negedge clk) start = 1'b0;
    wait (done);
    @(posedge clk);
    // The leaves as the hardware left them: dirty exactly where the
    // engine wrote.
    for (int p = 0; p < PAGES; p++) begin
      check(ims_dpi_leaf(h, TAG, IOVA + longint'(p) * 4096), "leaf");
      if (ims_dpi_leaf_dirty(h) != int'(MASK[p])) begin
        $display("ERROR: round %0d: page %0d's leaf has D=%0d, expected %0d", round, p,
                 ims_dpi_leaf_dirty(h), MASK[p]);
        errors++;
      end
    end
    // The walker's harvest, which the model compares with its oracle.
    mismatch = ims_dpi_harvest(h, TAG, IOVA, PAGES * 4096, 0, 1);
    check(mismatch, "harvest");
    if (mismatch != 0) begin
      $display("ERROR: round %0d: the harvest differs from the oracle in %0d bits (%0d missing, the first at 0x%h)",
               round, mismatch, ims_dpi_harvest_under(h), ims_dpi_harvest_first_under(h));
      errors++;
    end
    for (int p = 0; p < PAGES; p++)
      if (ims_dpi_harvest_bit(h, IOVA + longint'(p) * 4096) != int'(MASK[p])) begin
        $display("ERROR: round %0d: harvest bit of page %0d is %0d, expected %0d", round, p,
                 ims_dpi_harvest_bit(h, IOVA + longint'(p) * 4096), MASK[p]);
        errors++;
      end
  endtask

  initial begin
    string walker = "", cfg = "";
    void'($value$plusargs("walker=%s", walker));
    void'($value$plusargs("config=%s", cfg));
    h = ims_dpi_new(cfg, walker);
    if (ims_dpi_ok(h) == 0) $fatal(1, "FAIL: %s", ims_dpi_last_error(h));
    check(ims_dpi_domain(h, TAG, "amdv1", 0, 1), "domain");
    check(ims_dpi_attach(h, DEV, TAG), "attach");
    check(ims_dpi_map(h, TAG, IOVA, PA, PAGES * 4096, IMS_RW, 4096), "map");
    check(ims_dpi_track(h, TAG, 1), "track");
    repeat (2) @(negedge clk);
    rst = 1'b0;
    run_round(1);
    run_round(2);
    for (int i = 0; i < ims_dpi_failures(h); i++) $display("iommusim: %s", ims_dpi_failure(h, i));
    if (ims_dpi_failure_count(h) != 0) errors++;
    $display("%0d DMA pages, %0d harvests, %0d IOTLB hits", ims_dpi_stat(h, "dma_pages"),
             ims_dpi_stat(h, "harvests"), ims_dpi_stat(h, "model.iotlb_hits"));
    ims_dpi_free(h);
    if (errors != 0) $fatal(1, "FAIL: %0d errors", errors);
    $display("PASS");
    $finish;
  end
endmodule
