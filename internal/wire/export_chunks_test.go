package wire

// SetChunkTargetBytes sets the chunk size for a test and returns the restore function.
func SetChunkTargetBytes(n int64) func() {
	old := chunkTargetBytes
	chunkTargetBytes = n
	return func() { chunkTargetBytes = old }
}
