/* Code layout of the harvest's path. Every function a harvest runs (the
 * software walk and its block scans, the host's calls, the bitmap, the
 * format's flush, the model's command decode and invalidation, the frame
 * look-ups) is marked IMS_HARVEST_PATH: hot, which GCC and clang put in
 * .text.hot, where the linker lays them out together. A harvest that starts
 * with cold caches then meets a few code pages rather than a few per file,
 * each a TLB miss with a cold page walk (docs/benchmarks.md, "What is left",
 * 1 GiB leaves at 0.1 %). The frame pass joins them by section name instead
 * (PT_FRAME_ALIGN, pagetables/harvest.c), since the attribute would change
 * its code. tests/bench/hot_text.cmake checks the stretch. A bottom-layer
 * header: the path crosses every layer below the harness.
 */
#ifndef IMS_MODEL_HOT_PATH_H
#define IMS_MODEL_HOT_PATH_H

#define IMS_HARVEST_PATH __attribute__((hot))

#endif
