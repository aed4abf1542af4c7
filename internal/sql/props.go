package sql

// The generic property grammar shared by CREATE, ALTER ... SET, ALTER SESSION SET
// and DROP options:
//
//	props    = { [ "," ] [ "WITH" ] prop }
//	prop     = NAME "=" value | NAME "(" list ")"      -- the second form is TAG ( ... )
//	value    = 'str' | $$str$$ | [ "+" | "-" ] number | TRUE | FALSE | NULL
//	         | name [ "." name [ "." name ] ] | "(" list ")"
//	list     = [ elem { "," elem } ]
//	elem     = value [ ( "=" | "=>" ) value ]      -- key = value pairs become ValPair

// maxDepth bounds the nesting of parenthesised lists, so that hostile input cannot
// exhaust the stack.
const maxDepth = 64

// props parses properties until the end of the statement or until stop(0) holds
// (stop may be nil). With min 1 at least one property is required.
func (p *parser) props(min int, stop func(i int) bool) ([]Property, error) {
	var out []Property
	for !p.atEnd() {
		if stop != nil && stop(0) {
			break
		}
		if len(out) > 0 && p.acceptOp(",") {
			if p.atEnd() {
				return nil, p.failHere()
			}
			continue
		}
		if p.peek().Is("WITH") && p.peekN(1).Kind == TokWord {
			p.next()
		}
		prop, err := p.prop()
		if err != nil {
			return nil, err
		}
		out = append(out, prop)
	}
	if len(out) < min {
		return nil, p.failHere()
	}
	return out, nil
}

// prop parses NAME = value or NAME ( list ).
func (p *parser) prop() (Property, error) {
	t := p.peek()
	if t.Kind != TokWord {
		return Property{}, p.fail(t)
	}
	p.next()
	if p.peek().IsOp("(") {
		v, err := p.value()
		return Property{Name: t.Value, Value: v}, err
	}
	if !p.acceptOp("=") {
		return Property{}, p.failHere()
	}
	v, err := p.value()
	if err != nil {
		return Property{}, err
	}
	return Property{Name: t.Value, Value: v}, nil
}

// value parses one property value.
func (p *parser) value() (Value, error) {
	t := p.peek()
	v := Value{Line: t.Line, Column: t.Column}
	switch t.Kind {
	case TokString, TokDollarString:
		p.next()
		v.Kind, v.Str = ValString, t.Value
	case TokNumber:
		p.next()
		v.Kind, v.Str = ValNumber, t.Text
	case TokWord:
		switch t.Value {
		case "TRUE", "FALSE":
			if !p.peekN(1).IsOp(".") {
				p.next()
				v.Kind, v.Bool = ValBool, t.Value == "TRUE"
				return v, nil
			}
		case "NULL":
			if !p.peekN(1).IsOp(".") {
				p.next()
				v.Kind = ValNull
				return v, nil
			}
		}
		fallthrough
	case TokQuotedIdent:
		n, err := p.name()
		if err != nil {
			return Value{}, err
		}
		v.Kind, v.Ident = ValIdent, n
	case TokOp:
		switch t.Value {
		case "-", "+":
			p.next()
			num := p.peek()
			if num.Kind != TokNumber {
				return Value{}, p.fail(num)
			}
			p.next()
			v.Kind, v.Str = ValNumber, t.Value+num.Text
			if t.Value == "+" {
				v.Str = num.Text
			}
		case "(":
			if p.depth >= maxDepth {
				return Value{}, p.fail(t)
			}
			p.next()
			p.depth++
			defer func() { p.depth-- }()
			return p.list(v)
		default:
			return Value{}, p.fail(t)
		}
	default:
		return Value{}, p.fail(t)
	}
	return v, nil
}

// list parses the elements of a parenthesised list after its "(".
func (p *parser) list(v Value) (Value, error) {
	v.Kind = ValList
	v.List = []Value{}
	if p.acceptOp(")") {
		return v, nil
	}
	for {
		e, err := p.value()
		if err != nil {
			return Value{}, err
		}
		if p.acceptOp("=") || p.acceptOp("=>") {
			val, err := p.value()
			if err != nil {
				return Value{}, err
			}
			e = Value{Kind: ValPair, List: []Value{e, val}, Line: e.Line, Column: e.Column}
		}
		v.List = append(v.List, e)
		if p.acceptOp(")") {
			return v, nil
		}
		if !p.acceptOp(",") {
			return Value{}, p.failHere()
		}
	}
}

// unsetList parses NAME [, NAME ...] to the end of the statement. ok is false (and
// nothing is consumed) when the tokens do not have that shape.
func (p *parser) unsetList() (names []string, ok bool) {
	for i := 0; ; i += 2 {
		if p.peekN(i).Kind != TokWord {
			return nil, false
		}
		sep := p.peekN(i + 1)
		if sep.Kind == TokEOF || sep.IsOp(";") {
			break
		}
		if !sep.IsOp(",") {
			return nil, false
		}
	}
	for {
		names = append(names, p.next().Value)
		if !p.acceptOp(",") {
			return names, true
		}
	}
}
