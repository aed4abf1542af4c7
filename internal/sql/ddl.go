package sql

import "github.com/firn/firn/internal/sferr"

// createParsers maps an object kind to the parser of what follows CREATE <kind>
// [IF NOT EXISTS] <name>. Kinds not listed take the generic property list (see
// props.go); add an entry for kinds with other clauses (e.g. CREATE SERVICE ... IN
// COMPUTE POOL p FROM SPECIFICATION $$...$$).
var createParsers map[string]func(p *parser, c *Create) error

func init() {
	createParsers = map[string]func(p *parser, c *Create) error{
		"SCHEMA": createSchema,
	}
}

// createSchema parses the properties of CREATE SCHEMA, which may include the flag
// WITH MANAGED ACCESS; it is kept as the property MANAGED_ACCESS = TRUE.
func createSchema(p *parser, c *Create) error {
	managed := func(i int) bool { return p.peekN(i).Is("WITH") && p.peekN(i+1).Is("MANAGED") }
	for {
		props, err := p.props(0, managed)
		if err != nil {
			return err
		}
		c.Props = append(c.Props, props...)
		if !managed(0) {
			return nil
		}
		t := p.peek()
		p.next()
		p.next()
		if err := p.expect("ACCESS"); err != nil {
			return err
		}
		c.Props = append(c.Props, Property{Name: "MANAGED_ACCESS", Value: Value{Kind: ValBool, Bool: true, Line: t.Line, Column: t.Column}})
	}
}

// dataStatement is the *Query for DDL the data engine owns.
func dataStatement(verb string) (Statement, error) { return &Query{Verb: verb}, nil }

// parseCreate parses CREATE [OR REPLACE | OR ALTER] [TRANSIENT] <kind> [IF NOT
// EXISTS] <name> [props]. CREATE of data kinds (TABLE, VIEW, ...) is a *Query.
func parseCreate(p *parser) (Statement, error) {
	c := &Create{}
	if p.accept("OR") {
		switch {
		case p.accept("REPLACE"):
			c.OrReplace = true
		case p.accept("ALTER"):
			c.OrAlter = true
		default:
			return nil, p.failHere()
		}
	}
	for {
		t := p.peek()
		if t.Is("TRANSIENT") {
			c.Transient = true
			p.next()
			continue
		}
		if t.Kind == TokWord && createModifiers[t.Value] {
			return dataStatement("CREATE")
		}
		break
	}
	kind, n := objectKinds.match(p, 0)
	switch {
	case n == 0:
		return nil, p.failHere()
	case isDataKind(kind):
		return dataStatement("CREATE")
	}
	for range n {
		p.next()
	}
	c.Kind = kind
	if p.accept("IF") {
		if err := p.expect("NOT", "EXISTS"); err != nil {
			return nil, err
		}
		c.IfNotExists = true
	}
	if c.OrReplace && c.IfNotExists {
		return nil, sferr.Compilation("002035", "42601", "OR REPLACE and IF NOT EXISTS are incompatible.")
	}
	var err error
	if c.Name, err = p.name(); err != nil {
		return nil, err
	}
	if fn := createParsers[kind]; fn != nil {
		err = fn(p, c)
	} else {
		c.Props, err = p.props(0, nil)
	}
	if err != nil {
		return nil, err
	}
	return c, p.end()
}

// parseDrop parses DROP <kind> [IF EXISTS] <name> [(args)] [CASCADE | RESTRICT]
// [props]. DROP of data kinds is a *Query.
func parseDrop(p *parser) (Statement, error) {
	kind, n := objectKinds.match(p, 0)
	switch {
	case n == 0:
		return nil, p.failHere()
	case isDataKind(kind):
		return dataStatement("DROP")
	}
	for range n {
		p.next()
	}
	d := &Drop{Kind: kind}
	var err error
	if d.IfExists, err = p.ifExists(); err != nil {
		return nil, err
	}
	if d.Name, err = p.name(); err != nil {
		return nil, err
	}
	if d.Args, err = p.args(); err != nil {
		return nil, err
	}
	for !p.atEnd() {
		switch t := p.peek(); {
		case t.Is("CASCADE") && !d.Cascade && !d.Restrict:
			p.next()
			d.Cascade = true
		case t.Is("RESTRICT") && !d.Cascade && !d.Restrict:
			p.next()
			d.Restrict = true
		default:
			prop, err := p.prop()
			if err != nil {
				return nil, err
			}
			d.Props = append(d.Props, prop)
		}
	}
	return d, p.end()
}

// alterNoName reports whether ALTER <kind> omits the name here: ALTER ACCOUNT SET
// (the current account) and ALTER USER ADD PAT ... (the current user).
func alterNoName(p *parser, kind string) bool {
	t := p.peek()
	switch kind {
	case "ACCOUNT":
		return t.Is("SET") || t.Is("UNSET")
	case "USER":
		if t.Is("SET") || t.Is("UNSET") {
			return true
		}
		if t.Is("ADD") || t.Is("MODIFY") || t.Is("ROTATE") || t.Is("REMOVE") {
			n := p.peekN(1)
			return n.Is("PAT") || n.Is("PROGRAMMATIC")
		}
	}
	return false
}

// parseAlter parses ALTER SESSION ... and ALTER <kind> [IF EXISTS] <name> <action>,
// where the action is SET props, UNSET p [, p], RENAME TO name, or anything else
// (kept in Alter.Other, with trailing NAME = value pairs in Alter.OtherProps).
// ALTER of data kinds is a *Query.
func parseAlter(p *parser) (Statement, error) {
	if p.accept("SESSION") {
		return parseAlterSession(p)
	}
	kind, n := objectKinds.match(p, 0)
	switch {
	case n == 0:
		return nil, p.failHere()
	case isDataKind(kind):
		return dataStatement("ALTER")
	}
	for range n {
		p.next()
	}
	a := &Alter{Kind: kind}
	var err error
	if a.IfExists, err = p.ifExists(); err != nil {
		return nil, err
	}
	if !alterNoName(p, kind) {
		if a.Name, err = p.name(); err != nil {
			return nil, err
		}
		if a.Args, err = p.args(); err != nil {
			return nil, err
		}
	}
	t := p.peek()
	switch {
	case p.atEnd():
		return nil, p.fail(t)
	case t.Is("SET") && p.isPropStart(1):
		p.next()
		if a.Set, err = p.props(1, nil); err != nil {
			return nil, err
		}
	case t.Is("UNSET") && p.peekN(1).Kind == TokWord:
		p.next()
		if names, ok := p.unsetList(); ok {
			a.Unset = names
			break
		}
		err = p.alterOther(a, "UNSET")
	case t.Is("RENAME") && p.peekN(1).Is("TO"):
		p.next()
		p.next()
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		a.RenameTo = &n
	default:
		err = p.alterOther(a, "")
	}
	if err != nil {
		return nil, err
	}
	return a, p.end()
}

// alterOther parses an action the generic grammar does not model: words up to the
// first NAME = value, then properties.
func (p *parser) alterOther(a *Alter, prefix string) error {
	words, err := p.words(p.isPropStart)
	if err != nil {
		return err
	}
	if prefix != "" {
		words = append([]string{prefix}, words...)
	}
	if len(words) == 0 {
		return p.failHere()
	}
	a.Other = joinWords(words)
	a.OtherProps, err = p.props(0, nil)
	return err
}

func joinWords(w []string) string {
	n := len(w)
	for _, s := range w {
		n += len(s)
	}
	b := make([]byte, 0, n)
	for i, s := range w {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, s...)
	}
	return string(b)
}

// parseAlterSession parses ALTER SESSION SET p = v [, ...] | UNSET p [, ...].
func parseAlterSession(p *parser) (Statement, error) {
	a := &AlterSession{}
	var err error
	switch {
	case p.accept("SET"):
		if a.Set, err = p.props(1, nil); err != nil {
			return nil, err
		}
	case p.accept("UNSET"):
		for {
			t := p.peek()
			if t.Kind != TokWord {
				return nil, p.fail(t)
			}
			a.Unset = append(a.Unset, p.next().Value)
			if !p.acceptOp(",") {
				break
			}
		}
	default:
		return nil, p.failHere()
	}
	return a, p.end()
}

// parseDescribe parses DESC[RIBE] <kind> <name> [(args)]. DESCRIBE RESULT is a
// *Query.
func parseDescribe(p *parser) (Statement, error) {
	if p.peek().Is("RESULT") {
		return dataStatement("DESCRIBE")
	}
	d := &Describe{}
	var err error
	if d.Kind, err = p.kind(objectKinds); err != nil {
		return nil, err
	}
	if d.Name, err = p.name(); err != nil {
		return nil, err
	}
	if d.Args, err = p.args(); err != nil {
		return nil, err
	}
	return d, p.end()
}
