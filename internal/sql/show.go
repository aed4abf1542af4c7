package sql

// showClauses are the words that end a SHOW command's kind and start a clause.
var showClauses = map[string]bool{
	"LIKE": true, "IN": true, "STARTS": true, "LIMIT": true,
	"TO": true, "ON": true, "OF": true, "FOR": true, "EXCLUDE": true,
}

// showNameEnd are the words that end an optional name in a SHOW clause.
var showNameEnd = map[string]bool{"LIKE": true, "IN": true, "STARTS": true, "LIMIT": true}

// parseShow parses SHOW [TERSE] <kind words> followed by clauses in any order:
// LIKE 'p', IN <scope> [name], STARTS WITH 's', LIMIT n [FROM 's'], and one TO / ON /
// OF / FOR <kind> [name] target (SHOW GRANTS TO ROLE r). The kind is every word up to
// the first clause word, so new SHOW commands need no parser change.
func parseShow(p *parser) (Statement, error) {
	s := &Show{}
	s.Terse = p.accept("TERSE")
	var kind []byte
	for {
		t := p.peek()
		if t.Kind != TokWord || showClauses[t.Value] {
			break
		}
		if len(kind) > 0 {
			kind = append(kind, ' ')
		}
		kind = append(kind, t.Value...)
		p.next()
	}
	if len(kind) == 0 {
		return nil, p.failHere()
	}
	s.Kind = string(kind)
	for !p.atEnd() {
		t := p.peek()
		if t.Kind != TokWord {
			return nil, p.fail(t)
		}
		var err error
		switch {
		case t.Value == "LIKE" && s.Like == nil:
			p.next()
			var v string
			v, err = p.str()
			s.Like = &v
		case t.Value == "IN" && s.InKind == "" && s.InName == nil:
			p.next()
			err = p.showIn(s)
		case t.Value == "STARTS" && s.StartsWith == nil:
			p.next()
			if err = p.expect("WITH"); err == nil {
				var v string
				v, err = p.str()
				s.StartsWith = &v
			}
		case t.Value == "LIMIT" && s.Limit == 0:
			p.next()
			if s.Limit, err = p.integer(); err == nil && p.accept("FROM") {
				var v string
				v, err = p.str()
				s.LimitFrom = &v
			}
		case (t.Value == "TO" || t.Value == "ON" || t.Value == "OF" || t.Value == "FOR") && s.Target == nil:
			err = p.showTarget(s)
		case t.Value == "EXCLUDE":
			p.next()
			s.Rest = append(s.Rest, "EXCLUDE")
			var w Token
			if w = p.peek(); w.Kind != TokWord || showClauses[w.Value] {
				return nil, p.fail(w)
			}
			s.Rest = append(s.Rest, p.next().Value)
		default:
			return nil, p.fail(t)
		}
		if err != nil {
			return nil, err
		}
	}
	return s, p.end()
}

// optName parses a name unless the statement or the name's clause has ended.
func (p *parser) optName(end map[string]bool) (*ObjectName, error) {
	t := p.peek()
	if !isName(t) || t.Kind == TokWord && end[t.Value] {
		return nil, nil
	}
	n, err := p.name()
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// showIn parses the scope after IN: a kind with an optional name, or a bare name.
func (p *parser) showIn(s *Show) error {
	if k, n := inKinds.match(p, 0); n > 0 {
		for range n {
			p.next()
		}
		s.InKind = k
		name, err := p.optName(showNameEnd)
		s.InName = name
		return err
	}
	n, err := p.name()
	if err != nil {
		return err
	}
	s.InName = &n
	return nil
}

// showTarget parses TO | ON | OF | FOR [<kind>] [name] [(args)].
func (p *parser) showTarget(s *Show) error {
	tg := &ShowTarget{Prep: p.next().Value}
	s.Rest = append(s.Rest, tg.Prep)
	if k, n := inKinds.match(p, 0); n > 0 {
		for range n {
			s.Rest = append(s.Rest, p.next().Value)
		}
		tg.Kind = k
	}
	t := p.peek()
	name, err := p.optName(showNameEnd)
	if err != nil {
		return err
	}
	if name == nil && tg.Kind == "" {
		return p.fail(t)
	}
	if name != nil {
		tg.Name = name
		s.Rest = append(s.Rest, renderName(*name))
		if tg.Args, err = p.args(); err != nil {
			return err
		}
	}
	s.Target = tg
	return nil
}
