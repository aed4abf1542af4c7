package main

import (
	"log/slog"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	prevPercent := debug.SetGCPercent(100)
	prevLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(prevPercent)
		debug.SetMemoryLimit(prevLimit)
	})
	log := slog.New(slog.DiscardHandler)

	// Nothing set by the operator: firn's defaults.
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	debug.SetGCPercent(100)
	tuneGC(log)
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Errorf("GC percent = %d, want %d", got, defaultGCPercent)
	}
	if runtime.GOOS == "linux" {
		avail := availableMemory()
		if avail <= 0 {
			t.Fatalf("availableMemory() = %d on linux", avail)
		}
		if got := debug.SetMemoryLimit(-1); got != avail/4*3 {
			t.Errorf("memory limit = %d, want %d", got, avail/4*3)
		}
	}

	// The operator's GOGC and GOMEMLIMIT win.
	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetGCPercent(150)
	debug.SetMemoryLimit(1 << 30)
	tuneGC(log)
	if got := debug.SetGCPercent(100); got != 150 {
		t.Errorf("GC percent = %d, want the operator's 150", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 1<<30 {
		t.Errorf("memory limit = %d, want the operator's 1GiB", got)
	}
}
