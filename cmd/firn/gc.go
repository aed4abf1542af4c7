package main

import (
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// defaultGCPercent is the garbage collector's target for firn serve when GOGC is not
// set. firn's live heap is small (megabytes: the catalog lives in SQLite, table data
// in DuckDB's own memory) while each login or statement allocates tens of kilobytes,
// so at Go's default of 100 the collector runs dozens of times a second under load,
// and its marking, assists and write barriers took ~15% of a busy server's CPU (see
// docs/benchmarks.md, "Identity throughput"). 400 lets the heap grow to five times
// the live data between collections.
const defaultGCPercent = 400

// tuneGC applies firn's collector defaults unless the operator chose their own with
// GOGC or GOMEMLIMIT. With a higher GOGC it also sets a soft memory limit, three
// quarters of the memory available to the process (its cgroup's limit, or the
// machine's RAM), so that a large live heap makes the collector work harder instead
// of growing the process toward the OOM killer.
func tuneGC(log *slog.Logger) {
	gcPercent, limit := "GOGC", "GOMEMLIMIT"
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
		gcPercent = strconv.Itoa(defaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		if avail := availableMemory(); avail > 0 {
			debug.SetMemoryLimit(avail / 4 * 3)
			limit = strconv.FormatInt(avail/4*3>>20, 10) + "MiB"
		} else {
			limit = "none"
		}
	}
	log.Debug("garbage collector", slog.String("gc_percent", gcPercent), slog.String("memory_limit", limit))
}

// availableMemory is the memory the process may use in bytes: the cgroup v2 limit
// when one is set, else the machine's RAM; 0 when neither can be read.
func availableMemory() int64 {
	ram := physicalMemory()
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		s := strings.TrimSpace(string(b))
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 && (ram <= 0 || n < ram) {
			return n
		}
	}
	return ram
}
