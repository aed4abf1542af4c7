// Package result defines the result sets that statements produce and their encoding as
// Snowflake JSON rowsets.
//
// Statements build a *Set of typed Go values; the wire layer encodes each cell with
// Encode into the string form both drivers decode (see reference §3.3).
package result

// StatementType is Snowflake's statementTypeId.
type StatementType int64

// Statement type ids the drivers branch on.
const (
	Select       StatementType = 0x1000
	Insert       StatementType = 0x3100
	Update       StatementType = 0x3200
	Delete       StatementType = 0x3300
	Merge        StatementType = 0x3400
	MultiInsert  StatementType = 0x3500
	AlterSession StatementType = 0x4100
	Use          StatementType = 0x4300
	Show         StatementType = 0x4400
	Describe     StatementType = 0x4500
	Begin        StatementType = 0x5100
	Commit       StatementType = 0x5200
	Rollback     StatementType = 0x5300
	DDL          StatementType = 0x6000
	MultiStmt    StatementType = 0xA000
)

// Column describes one column with Snowflake's rowtype fields. Type is the lower-case
// Snowflake type name: fixed, real, text, boolean, date, time, timestamp_ntz,
// timestamp_ltz, timestamp_tz, variant, object, array, binary.
type Column struct {
	Name      string
	Type      string
	Precision int64 // fixed: digits (38 default); time/timestamp: unused
	Scale     int64 // fixed: decimals; time/timestamp: fractional digits (9 default)
	Length    int64 // text/binary: max length; 0 = null on the wire
	Nullable  bool
	Database  string
	Schema    string
	Table     string
}

// Set is a complete result. Cells hold Go values of these kinds, matched to the column
// type: nil (NULL); string (text, and fixed/real given as exact decimal text); bool;
// int64, int, int32, *big.Int; float64; time.Time (date, time, timestamps); []byte
// (binary); json.RawMessage or any JSON-marshalable value (variant/object/array).
type Set struct {
	Type    StatementType
	Columns []Column
	Rows    [][]any
	// Children is set only on a multi-statement parent (Type MultiStmt).
	Children []Child
}

// Status returns the one-column "status" result DDL and other statements answer with.
func Status(t StatementType, msg string) *Set {
	return &Set{Type: t, Columns: []Column{{Name: "status", Type: "text", Length: 16777216, Nullable: true}}, Rows: [][]any{{msg}}}
}

// Text returns a text column with Snowflake's default length.
func Text(name string) Column {
	return Column{Name: name, Type: "text", Length: 16777216, Nullable: true}
}

// Fixed returns a NUMBER(38,0) column.
func Fixed(name string) Column {
	return Column{Name: name, Type: "fixed", Precision: 38, Nullable: true}
}

// Bool returns a boolean column.
func Bool(name string) Column { return Column{Name: name, Type: "boolean", Nullable: true} }

// TimestampLTZ returns a TIMESTAMP_LTZ(3) column, the type of SHOW's created_on.
func TimestampLTZ(name string) Column {
	return Column{Name: name, Type: "timestamp_ltz", Scale: 3, Nullable: true}
}

// Child is one statement's outcome inside a multi-statement request. The parent Set
// has Type MultiStmt and one Child per statement, in order.
type Child struct {
	QueryID string
	SQL     string
	Set     *Set  // nil when Err is set
	Err     error // the statement's error; statements after a failed one do not run
}
