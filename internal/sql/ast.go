package sql

// Statement is a parsed statement. Control statements are the concrete types below;
// everything the control grammar does not own (SELECT, WITH, INSERT, ...) parses as
// *Query and runs on the data engine.
type Statement interface {
	// Text returns the statement's source text, without the terminating semicolon.
	Text() string
	stmt()
}

// Node carries a statement's source text.
type Node struct{ Source string }

// Text returns the statement's source text.
func (n Node) Text() string { return n.Source }
func (Node) stmt()          {}

// Ident is one identifier part. Unquoted identifiers are folded to upper case; quoted
// ones keep their exact text with Quoted set.
type Ident struct {
	Name   string
	Quoted bool
}

// ObjectName is a possibly qualified name: Parts has 1 to 3 elements (db.schema.obj).
type ObjectName struct {
	Parts []Ident
}

// Last returns the unqualified object name part, or the zero Ident when n is empty
// (e.g. ALTER ACCOUNT SET ... names no account).
func (n ObjectName) Last() Ident {
	if len(n.Parts) == 0 {
		return Ident{}
	}
	return n.Parts[len(n.Parts)-1]
}

// String renders the name with each part as stored (no quoting).
func (n ObjectName) String() string {
	s := ""
	for i, p := range n.Parts {
		if i > 0 {
			s += "."
		}
		s += p.Name
	}
	return s
}

// ValueKind tells which field of a Value is set.
type ValueKind int

// Value kinds.
const (
	ValString ValueKind = iota // 'text' or $$text$$
	ValNumber                  // 42, -1.5 (kept as text)
	ValBool                    // TRUE / FALSE
	ValIdent                   // a bare word or (qualified) identifier, e.g. X4LARGE or db.sch.rule
	ValList                    // ( v, v, ... )
	ValNull                    // NULL
	ValPair                    // key = value or key => value inside a list: List is [key, value]
)

// Value is a property value.
type Value struct {
	Kind   ValueKind
	Str    string     // ValString: unescaped text; ValNumber: literal text
	Bool   bool       // ValBool
	Ident  ObjectName // ValIdent
	List   []Value    // ValList
	Line   int        // 1-based line of the value's first token, for errors
	Column int        // 0-based position within the line, as in Snowflake's messages
}

// Property is NAME = value, as in CREATE ... COMMENT = 'x' or ALTER ... SET P = v.
// Name is upper-cased. Multi-word property names (e.g. ADMIN_RSA_PUBLIC_KEY) keep
// their underscores.
type Property struct {
	Name  string
	Value Value
}

// Create is CREATE [OR REPLACE | OR ALTER] <kind> [IF NOT EXISTS] <name> [props...].
// Kind is the upper-case object kind with single spaces ("DATABASE", "SCHEMA",
// "WAREHOUSE", "ACCOUNT", "USER", "ROLE", "NETWORK RULE", ...).
type Create struct {
	Node
	Kind        string
	Name        ObjectName
	OrReplace   bool
	OrAlter     bool
	IfNotExists bool
	Transient   bool
	Props       []Property
}

// Drop is DROP <kind> [IF EXISTS] <name> [CASCADE | RESTRICT].
type Drop struct {
	Node
	Kind     string
	Name     ObjectName
	IfExists bool
	Cascade  bool
	Restrict bool
	// Args is the parenthesised argument type list of a function or procedure
	// (upper case, one element per argument); nil when no list was written.
	Args []string
	// Props holds trailing NAME = value options, e.g. DROP ACCOUNT a GRACE_PERIOD_IN_DAYS = 3.
	Props []Property
}

// Alter is ALTER <kind> [IF EXISTS] <name> <action>. Exactly one action is set.
type Alter struct {
	Node
	Kind     string
	Name     ObjectName
	IfExists bool
	Set      []Property
	Unset    []string
	RenameTo *ObjectName
	// Other holds actions the generic grammar does not model (e.g. "SUSPEND", "RESUME",
	// "RESET PASSWORD"), as upper-case words separated by single spaces. Quoted
	// identifiers, strings and numbers are kept as written.
	Other string
	// OtherProps holds NAME = value pairs that follow an Other action, e.g.
	// ALTER USER u ADD PAT t DAYS_TO_EXPIRY = 30 has Other "ADD PAT T".
	OtherProps []Property
	// Args is the argument type list of a function or procedure, as in Drop.
	Args []string
}

// AlterSession is ALTER SESSION SET p = v [, ...] | UNSET p [, ...].
type AlterSession struct {
	Node
	Set   []Property
	Unset []string
}

// Use is USE [ROLE | WAREHOUSE | DATABASE | SCHEMA] name, and USE SECONDARY ROLES
// ALL | NONE | r1, r2. Kind is "ROLE", "WAREHOUSE", "DATABASE", "SCHEMA" or
// "SECONDARY ROLES"; a bare USE name is "DATABASE" (or "SCHEMA" when qualified).
type Use struct {
	Node
	Kind  string
	Name  ObjectName
	Roles []Ident // SECONDARY ROLES list; a single ALL or NONE is kept as a name
}

// Show is SHOW [TERSE] <kind> [LIKE 'p'] [IN <scope> [name]] [STARTS WITH 's'] [LIMIT n].
// Kind is upper case and plural as written ("DATABASES", "SCHEMAS", "WAREHOUSES",
// "PARAMETERS", "ACCOUNTS", "USERS", "ROLES", "GRANTS", ...).
type Show struct {
	Node
	Kind       string
	Terse      bool
	Like       *string
	InKind     string // "ACCOUNT", "DATABASE", "SCHEMA", "SESSION", "USER", "WAREHOUSE", ... or ""
	InName     *ObjectName
	StartsWith *string
	Limit      int // 0 = none
	LimitFrom  *string
	// Target is the TO / ON / OF / FOR clause of SHOW GRANTS and similar commands
	// (SHOW GRANTS TO ROLE r, SHOW GRANTS ON ACCOUNT, SHOW USER PATS FOR USER u).
	Target *ShowTarget
	// Rest holds kind-specific trailing words (e.g. "TO", "ROLE", "R" for SHOW GRANTS
	// TO ROLE r, or "EXCLUDE", "JOBS"), upper case, quoted identifiers and literals as
	// written; nil otherwise.
	Rest []string
}

// ShowTarget is the TO / ON / OF / FOR clause of a SHOW command.
type ShowTarget struct {
	Prep string      // "TO", "ON", "OF" or "FOR"
	Kind string      // "ROLE", "USER", "ACCOUNT", "DATABASE ROLE", ...; "" for a bare name
	Name *ObjectName // nil when no name follows (ON ACCOUNT)
	Args []string    // function argument types, as in Drop
}

// Describe is DESC[RIBE] <kind> name.
type Describe struct {
	Node
	Kind string
	Name ObjectName
	Args []string // function argument types, as in Drop
}

// Query is any statement the control grammar does not own; it runs on the data engine.
type Query struct {
	Node
	// Verb is the upper-case first keyword (SELECT, WITH, INSERT, UPDATE, DELETE,
	// MERGE, BEGIN, COMMIT, ROLLBACK, CALL, ...). Leading parentheses are skipped:
	// "(SELECT 1)" has Verb "SELECT".
	Verb string
	// Block is set for a Snowflake Scripting block (BEGIN ... END, DECLARE ... BEGIN
	// ... END), as opposed to BEGIN [TRANSACTION].
	Block bool
}

// GrantSpec is what GRANT and REVOKE have in common.
type GrantSpec struct {
	// Privileges are upper case with single spaces ("USAGE", "CREATE SCHEMA",
	// "OWNERSHIP"); ALL and ALL PRIVILEGES are both "ALL PRIVILEGES". Empty for
	// GRANT ROLE.
	Privileges []string
	Caller     bool // GRANT [INHERITED] CALLER ...
	Inherited  bool // GRANT INHERITED CALLER ...

	// RoleKind and Role are set for GRANT ROLE r / DATABASE ROLE d.r / APPLICATION
	// ROLE a.r TO ...; RoleKind is "ROLE", "DATABASE ROLE" or "APPLICATION ROLE".
	RoleKind string
	Role     *ObjectName

	// Scope is "" for ON <kind> <name>, "ALL" for ON ALL <kinds> IN ..., "FUTURE" for
	// ON FUTURE <kinds> IN ....
	Scope string
	// OnKind is the object kind: singular for a single object ("ACCOUNT", "DATABASE",
	// "NETWORK RULE"), plural as written for ALL / FUTURE ("TABLES", "SCHEMAS").
	OnKind string
	OnName *ObjectName // nil for ON ACCOUNT and for ALL / FUTURE
	OnArgs []string    // function argument types, as in Drop
	// InKind and InName are the container of ALL / FUTURE grants: "ACCOUNT",
	// "DATABASE", "SCHEMA", "APPLICATION", "APPLICATION PACKAGE".
	InKind string
	InName *ObjectName

	// GranteeKind is "ROLE" (also when omitted), "USER", "DATABASE ROLE",
	// "APPLICATION ROLE", "APPLICATION" or "SHARE".
	GranteeKind string
	Grantee     ObjectName
}

// Grant is GRANT <privileges> ON <object> TO <grantee> [WITH GRANT OPTION]
// [COPY | REVOKE CURRENT GRANTS], GRANT OWNERSHIP ..., GRANT [INHERITED] CALLER ...
// and GRANT ROLE r TO ROLE | USER x.
type Grant struct {
	Node
	GrantSpec
	WithGrantOption bool
	// CurrentGrants is "COPY" or "REVOKE" for GRANT OWNERSHIP ... COPY | REVOKE
	// CURRENT GRANTS, else "".
	CurrentGrants string
}

// Revoke is REVOKE [GRANT OPTION FOR] <privileges> ON <object> FROM <grantee>
// [CASCADE | RESTRICT] and REVOKE ROLE r FROM ROLE | USER x.
type Revoke struct {
	Node
	GrantSpec
	GrantOptionFor bool
	Cascade        bool
	Restrict       bool
}
