//go:build !linux

package main

// physicalMemory returns 0: firn reads the machine's RAM only on Linux.
func physicalMemory() int64 { return 0 }
