package exec

// Request is one query-request as the wire layer received it.
type Request struct {
	// QueryID is assigned by the caller before execution so that it can be reported
	// (333334, monitoring) while the statement runs.
	QueryID string
	SQL     string
	// Bindings are keyed "1", "2", ... (positional) or by name.
	Bindings map[string]Binding
	// MultiStatementCount is the client's MULTI_STATEMENT_COUNT: 1 (default) allows one
	// statement; 0 allows any number; n > 1 requires exactly n.
	MultiStatementCount int
	DescribeOnly        bool
	// Params are statement-level parameters the client sent (QUERY_TAG, ...).
	Params map[string]any
	// ChildQueryID returns the query id for the i-th statement of a multi-statement
	// request (0-based). Nil means the engine makes its own.
	ChildQueryID func(i int) string
}

// Binding is one bind value as the drivers send it.
type Binding struct {
	Type   string    // FIXED, REAL, TEXT, BOOLEAN, DATE, TIME, TIMESTAMP_NTZ, ...
	Value  *string   // nil for NULL; unset when Values is used
	Values []*string // array binding (one execution per element)
	Fmt    string    // e.g. "json"
}
