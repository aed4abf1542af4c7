package sql

// Split splits a script into statements on top-level semicolons. Semicolons inside
// strings, quoted identifiers, comments and $$ blocks do not split, nor do those
// inside a Snowflake Scripting block (BEGIN ... END or DECLARE ... BEGIN ... END as
// a statement of its own). Each statement is trimmed of surrounding white space and
// has no terminating semicolon; statements with no tokens (only space or comments)
// are dropped. Errors are those of Tokenize.
func Split(src string) ([]string, error) {
	toks, err := Tokenize(src)
	if err != nil {
		return nil, err
	}
	var (
		out   []string
		start = 0     // offset where the current statement starts
		first = true  // no token of the current statement seen yet
		block = false // inside a scripting block
		decl  = false // in a block's DECLARE section, before its BEGIN
		depth = 0     // BEGIN / CASE nesting inside a block
	)
	emit := func(end int) {
		if !first {
			out = append(out, trimSpace(src[start:end]))
		}
		first, block, decl, depth = true, false, false, 0
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.Kind == TokEOF {
			emit(len(src))
			break
		}
		if t.IsOp(";") && !block {
			emit(t.Offset)
			start = t.End()
			continue
		}
		if first {
			first = false
			if isBlockStart(t, toks[i+1]) {
				block, decl = true, t.Is("DECLARE")
				if !decl {
					depth = 1
				}
				continue
			}
		}
		if !block {
			continue
		}
		switch {
		case t.Is("BEGIN"):
			if decl {
				decl, depth = false, 1
			} else if n := toks[i+1]; !n.Is("TRANSACTION") && !n.Is("WORK") && !n.IsOp(";") {
				depth++
			}
		case t.Is("CASE") && !decl:
			depth++
		case t.Is("END") && !decl:
			switch n := toks[i+1]; {
			case n.Is("IF"), n.Is("FOR"), n.Is("LOOP"), n.Is("WHILE"), n.Is("REPEAT"):
				i++ // END IF etc. close statements that opened no depth
			case n.Is("CASE"):
				i++
				depth--
			default:
				depth--
			}
			if depth <= 0 {
				block = false // the next semicolon ends the block statement
			}
		}
	}
	return out, nil
}
