package sql

import "strings"

// Object kinds. To support a new kind of object, add it to controlKinds (parsed by
// the control grammar: CREATE/ALTER/DROP produce *Create, *Alter, *Drop) or to
// dataKinds (CREATE/ALTER/DROP produce *Query for the data engine; DESC and GRANT
// still parse). Kinds are matched longest first, so "EXTERNAL ACCESS INTEGRATION"
// and "EXTERNAL TABLE" coexist.
var (
	controlKinds = []string{
		"ACCOUNT", "DATABASE", "SCHEMA", "WAREHOUSE", "USER", "ROLE",
		"DATABASE ROLE", "APPLICATION ROLE", "APPLICATION", "APPLICATION PACKAGE",
		"NETWORK RULE", "NETWORK POLICY", "SECRET",
		"INTEGRATION", "SECURITY INTEGRATION", "EXTERNAL ACCESS INTEGRATION",
		"API INTEGRATION", "STORAGE INTEGRATION", "NOTIFICATION INTEGRATION",
		"CATALOG INTEGRATION", "EXTERNAL VOLUME",
		"COMPUTE POOL", "SERVICE", "IMAGE REPOSITORY",
		"PASSWORD POLICY", "SESSION POLICY", "AUTHENTICATION POLICY", "PACKAGES POLICY",
		"MASKING POLICY", "ROW ACCESS POLICY", "AGGREGATION POLICY", "PROJECTION POLICY",
		"RESOURCE MONITOR", "SHARE", "TAG", "CONNECTION",
		"FAILOVER GROUP", "REPLICATION GROUP",
	}
	dataKinds = []string{
		"TABLE", "VIEW", "MATERIALIZED VIEW", "SEQUENCE", "FUNCTION", "PROCEDURE",
		"STAGE", "FILE FORMAT", "EXTERNAL TABLE", "DYNAMIC TABLE", "HYBRID TABLE",
		"ICEBERG TABLE", "EVENT TABLE", "EXTERNAL FUNCTION", "AGGREGATE FUNCTION",
		"STREAM", "TASK", "PIPE", "ALERT", "INDEX", "STREAMLIT", "NOTEBOOK",
	}
	// createModifiers are words between CREATE [OR REPLACE] and the kind that make
	// the statement a data statement (TRANSIENT is handled separately).
	createModifiers = map[string]bool{
		"TEMPORARY": true, "TEMP": true, "LOCAL": true, "GLOBAL": true,
		"VOLATILE": true, "SECURE": true, "RECURSIVE": true,
	}
	// scopeKinds are the extra words SHOW ... IN accepts besides object kinds.
	scopeKinds = []string{"SESSION", "CLASS"}
	// granteeKinds are the kinds of grantees in GRANT ... TO and REVOKE ... FROM.
	granteeKinds = []string{"ROLE", "USER", "DATABASE ROLE", "APPLICATION ROLE", "APPLICATION", "SHARE"}
	// grantRoleKinds are the kinds of role in GRANT <kind> r TO ....
	grantRoleKinds = []string{"ROLE", "DATABASE ROLE", "APPLICATION ROLE"}
)

// kindTable matches multi-word kinds, longest first.
type kindTable struct {
	byFirst map[string][]phrase // first word → phrases, longest first
	data    map[string]bool
}

type phrase struct {
	name  string
	words []string
}

func newKindTable(data []string, lists ...[]string) *kindTable {
	t := &kindTable{byFirst: map[string][]phrase{}, data: map[string]bool{}}
	add := func(k string) {
		w := strings.Fields(k)
		ps := t.byFirst[w[0]]
		i := 0
		for i < len(ps) && len(ps[i].words) >= len(w) {
			i++
		}
		ps = append(ps, phrase{})
		copy(ps[i+1:], ps[i:])
		ps[i] = phrase{name: strings.Join(w, " "), words: w}
		t.byFirst[w[0]] = ps
	}
	for _, k := range data {
		add(k)
		t.data[k] = true
	}
	for _, l := range lists {
		for _, k := range l {
			add(k)
		}
	}
	return t
}

// match returns the longest kind starting at the parser's i-th lookahead token and
// its length in tokens, or "", 0.
func (t *kindTable) match(p *parser, i int) (string, int) {
	first := p.peekN(i)
	if first.Kind != TokWord {
		return "", 0
	}
next:
	for _, ph := range t.byFirst[first.Value] {
		for j := 1; j < len(ph.words); j++ {
			if !p.peekN(i + j).Is(ph.words[j]) {
				continue next
			}
		}
		return ph.name, len(ph.words)
	}
	return "", 0
}

var (
	objectKinds = newKindTable(dataKinds, controlKinds)
	inKinds     = newKindTable(nil, controlKinds, dataKinds, scopeKinds)
	grantees    = newKindTable(nil, granteeKinds)
	grantRoles  = newKindTable(nil, grantRoleKinds)
)

// isDataKind reports whether kind belongs to the data engine.
func isDataKind(kind string) bool { return objectKinds.data[kind] }
