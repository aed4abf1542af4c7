package sql

// grantNameEnd are the words that end an optional name in a GRANT target.
var grantNameEnd = map[string]bool{"TO": true, "FROM": true}

// parseGrant parses GRANT <privileges> ON <target> TO <grantee> [WITH GRANT OPTION]
// [COPY | REVOKE CURRENT GRANTS] and GRANT ROLE r TO <grantee>.
func parseGrant(p *parser) (Statement, error) {
	g := &Grant{}
	if err := p.grantSpec(&g.GrantSpec, "TO"); err != nil {
		return nil, err
	}
	for !p.atEnd() {
		switch t := p.peek(); {
		case t.Is("WITH") && !g.WithGrantOption:
			p.next()
			if err := p.expect("GRANT", "OPTION"); err != nil {
				return nil, err
			}
			g.WithGrantOption = true
		case (t.Is("COPY") || t.Is("REVOKE")) && g.CurrentGrants == "":
			p.next()
			if err := p.expect("CURRENT", "GRANTS"); err != nil {
				return nil, err
			}
			g.CurrentGrants = t.Value
		default:
			return nil, p.fail(t)
		}
	}
	return g, p.end()
}

// parseRevoke parses REVOKE [GRANT OPTION FOR] <privileges> ON <target> FROM
// <grantee> [CASCADE | RESTRICT] and REVOKE ROLE r FROM <grantee>.
func parseRevoke(p *parser) (Statement, error) {
	r := &Revoke{}
	if p.peek().Is("GRANT") && p.peekN(1).Is("OPTION") {
		p.next()
		p.next()
		if err := p.expect("FOR"); err != nil {
			return nil, err
		}
		r.GrantOptionFor = true
	}
	if err := p.grantSpec(&r.GrantSpec, "FROM"); err != nil {
		return nil, err
	}
	switch {
	case p.accept("CASCADE"):
		r.Cascade = true
	case p.accept("RESTRICT"):
		r.Restrict = true
	}
	return r, p.end()
}

// grantSpec parses what GRANT and REVOKE share, up to and including the grantee
// after prep ("TO" or "FROM").
func (p *parser) grantSpec(g *GrantSpec, prep string) error {
	if k, n := grantRoles.match(p, 0); n > 0 {
		for range n {
			p.next()
		}
		n, err := p.name()
		if err != nil {
			return err
		}
		g.RoleKind, g.Role = k, &n
	} else {
		if err := p.privileges(g); err != nil {
			return err
		}
		if err := p.expect("ON"); err != nil {
			return err
		}
		if err := p.grantTarget(g); err != nil {
			return err
		}
	}
	if err := p.expect(prep); err != nil {
		return err
	}
	g.GranteeKind = "ROLE"
	if k, n := grantees.match(p, 0); n > 0 {
		for range n {
			p.next()
		}
		g.GranteeKind = k
	}
	var err error
	g.Grantee, err = p.name()
	return err
}

// privileges parses [ALL] [INHERITED] CALLER ... or a comma-separated list of
// privileges, each one or more words ("CREATE SCHEMA").
func (p *parser) privileges(g *GrantSpec) error {
	all := p.peek().Is("ALL") && (p.peekN(1).Is("CALLER") || p.peekN(1).Is("INHERITED") && p.peekN(2).Is("CALLER"))
	if all {
		p.next()
	}
	switch {
	case p.accept("INHERITED"):
		if err := p.expect("CALLER"); err != nil {
			return err
		}
		g.Caller, g.Inherited = true, true
	case p.accept("CALLER"):
		g.Caller = true
	}
	if all || g.Caller && p.peek().Is("PRIVILEGES") && p.peekN(1).Is("ON") {
		if err := p.expect("PRIVILEGES"); err != nil {
			return err
		}
		g.Privileges = []string{"ALL PRIVILEGES"}
		return nil
	}
	for {
		var words []string
		for {
			t := p.peek()
			if t.Kind != TokWord || t.Value == "ON" || t.Value == "TO" || t.Value == "FROM" {
				break
			}
			words = append(words, p.next().Value)
		}
		if len(words) == 0 {
			return p.failHere()
		}
		priv := joinWords(words)
		if priv == "ALL" {
			priv = "ALL PRIVILEGES"
		}
		g.Privileges = append(g.Privileges, priv)
		if !p.acceptOp(",") {
			return nil
		}
	}
}

// grantTarget parses the object after ON: ACCOUNT, <kind> <name> [(args)], or
// ALL | FUTURE <kinds> IN <container> [name].
func (p *parser) grantTarget(g *GrantSpec) error {
	if t := p.peek(); t.Is("ALL") || t.Is("FUTURE") {
		p.next()
		g.Scope = t.Value
		var words []string
		for {
			t := p.peek()
			if t.Kind != TokWord || t.Value == "IN" {
				break
			}
			words = append(words, p.next().Value)
		}
		if len(words) == 0 {
			return p.failHere()
		}
		g.OnKind = joinWords(words)
		if err := p.expect("IN"); err != nil {
			return err
		}
		var err error
		if g.InKind, err = p.kind(inKinds); err != nil {
			return err
		}
		g.InName, err = p.optName(grantNameEnd)
		return err
	}
	var err error
	if g.OnKind, err = p.kind(objectKinds); err != nil {
		return err
	}
	if g.OnKind == "ACCOUNT" {
		if t := p.peek(); t.Is("TO") || t.Is("FROM") {
			return nil
		}
	}
	n, err := p.name()
	if err != nil {
		return err
	}
	g.OnName = &n
	g.OnArgs, err = p.args()
	return err
}
