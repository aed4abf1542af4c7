package sql

// parseUse parses USE [ROLE | WAREHOUSE | DATABASE | SCHEMA] name and USE SECONDARY
// ROLES ALL | NONE | r1 [, r2 ...].
func parseUse(p *parser) (Statement, error) {
	u := &Use{}
	t := p.peek()
	switch {
	case t.Is("SECONDARY") && p.peekN(1).Is("ROLES"):
		p.next()
		p.next()
		u.Kind = "SECONDARY ROLES"
		for {
			id, err := p.ident()
			if err != nil {
				return nil, err
			}
			u.Roles = append(u.Roles, id)
			if !p.acceptOp(",") {
				break
			}
		}
	case t.Is("ROLE") || t.Is("WAREHOUSE") || t.Is("DATABASE") || t.Is("SCHEMA"):
		p.next()
		u.Kind = t.Value
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		u.Name = n
	default:
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		u.Kind, u.Name = "DATABASE", n
		if len(n.Parts) > 1 {
			u.Kind = "SCHEMA"
		}
	}
	return u, p.end()
}
