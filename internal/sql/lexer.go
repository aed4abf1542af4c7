package sql

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/firn/firn/internal/sferr"
)

// TokenKind classifies a token.
type TokenKind uint8

// Token kinds.
const (
	TokEOF          TokenKind = iota // end of input
	TokWord                          // unquoted identifier or keyword; Value is upper case
	TokQuotedIdent                   // "ident"; Value is the exact text with "" unescaped
	TokString                        // 'text'; Value is the unescaped text
	TokDollarString                  // $$text$$; Value is the text between the delimiters
	TokNumber                        // 42, 1.5, .5, 1e-3; Value is the literal text
	TokVariable                      // $name (Value upper case, without $) or $1 (Value "1")
	TokBind                          // ? (Value "") or :1 (Value "1")
	TokOp                            // operator or punctuation; Value is the text
)

var tokenKindNames = [...]string{"EOF", "Word", "QuotedIdent", "String", "DollarString", "Number", "Variable", "Bind", "Op"}

// String returns the kind's name.
func (k TokenKind) String() string {
	if int(k) < len(tokenKindNames) {
		return tokenKindNames[k]
	}
	return "TokenKind(" + strconv.Itoa(int(k)) + ")"
}

// Token is one lexical token. Text is always src[Offset:Offset+len(Text)].
type Token struct {
	Kind   TokenKind
	Text   string // exact source text
	Value  string // normalised value; see TokenKind
	Offset int    // byte offset of the token in the source
	Line   int    // 1-based line
	Column int    // 0-based position (in characters) within the line, as in Snowflake's messages
}

// End returns the byte offset just after the token.
func (t Token) End() int { return t.Offset + len(t.Text) }

// Is reports whether t is the unquoted word kw (which must be upper case).
func (t Token) Is(kw string) bool { return t.Kind == TokWord && t.Value == kw }

// IsOp reports whether t is the operator or punctuation op.
func (t Token) IsOp(op string) bool { return t.Kind == TokOp && t.Value == op }

// display is the token as Snowflake shows it in "unexpected '...'".
func (t Token) display() string {
	if t.Kind == TokEOF {
		return "<EOF>"
	}
	return t.Text
}

// Lexer splits Snowflake SQL into tokens, skipping whitespace and comments.
// The zero Lexer is not usable; call NewLexer.
type Lexer struct {
	src  string
	off  int
	line int
	col  int
	err  error
}

// NewLexer returns a lexer over src.
func NewLexer(src string) *Lexer { return &Lexer{src: src, line: 1} }

// Tokenize returns all tokens of src, ending with a TokEOF token. Errors (unterminated
// strings, quoted identifiers and comments) are Snowflake 001003 syntax errors.
func Tokenize(src string) ([]Token, error) {
	l := NewLexer(src)
	var toks []Token
	for {
		t, err := l.Next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.Kind == TokEOF {
			return toks, nil
		}
	}
}

// advance moves n bytes forward, keeping line and column.
func (l *Lexer) advance(n int) {
	end := l.off + n
	for i := l.off; i < end; {
		switch b := l.src[i]; {
		case b == '\n':
			l.line++
			l.col = 0
			i++
		case b < utf8.RuneSelf:
			l.col++
			i++
		default: // one character, as utf8 counts them (an invalid byte is one)
			_, size := utf8.DecodeRuneInString(l.src[i:end])
			l.col++
			i += size
		}
	}
	l.off = end
}

func (l *Lexer) byteAt(i int) byte {
	if i < len(l.src) {
		return l.src[i]
	}
	return 0
}

func isIdentStart(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '_'
}

func isIdentChar(b byte) bool { return isIdentStart(b) || isDigit(b) || b == '$' }

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// skip skips whitespace and comments.
func (l *Lexer) skip() error {
	for l.off < len(l.src) {
		switch b := l.src[l.off]; {
		case b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' || b == '\v':
			l.advance(1)
		case (b == '-' && l.byteAt(l.off+1) == '-') || (b == '/' && l.byteAt(l.off+1) == '/'):
			n := strings.IndexByte(l.src[l.off:], '\n')
			if n < 0 {
				n = len(l.src) - l.off
			}
			l.advance(n)
		case b == '/' && l.byteAt(l.off+1) == '*':
			n := strings.Index(l.src[l.off+2:], "*/")
			if n < 0 {
				return sferr.Syntax(l.line, l.col, "/*")
			}
			l.advance(n + 4)
		default:
			return nil
		}
	}
	return nil
}

// Next returns the next token; at the end of input it returns a TokEOF token at the
// end position, again on every call. After an error, Next keeps returning it.
func (l *Lexer) Next() (Token, error) {
	if l.err != nil {
		return Token{}, l.err
	}
	if err := l.skip(); err != nil {
		l.err = err
		return Token{}, err
	}
	t := Token{Offset: l.off, Line: l.line, Column: l.col}
	if l.off >= len(l.src) {
		t.Kind = TokEOF
		return t, nil
	}
	n, err := l.scan(&t)
	if err != nil {
		l.err = err
		return Token{}, err
	}
	t.Text = l.src[l.off : l.off+n]
	if t.Value == "" && (t.Kind == TokNumber || t.Kind == TokOp) {
		t.Value = t.Text
	}
	l.advance(n)
	return t, nil
}

// scan classifies the token at l.off, sets t.Kind and t.Value (when it differs from
// the text) and returns its length in bytes.
func (l *Lexer) scan(t *Token) (int, error) {
	s := l.src[l.off:]
	b := s[0]
	switch {
	case isIdentStart(b):
		n := 1
		for n < len(s) && isIdentChar(s[n]) {
			n++
		}
		t.Kind, t.Value = TokWord, upper(s[:n])
		return n, nil
	case b == '"':
		return l.scanQuotedIdent(t, s)
	case b == '\'':
		return l.scanString(t, s)
	case b == '$':
		switch c := l.byteAt(l.off + 1); {
		case c == '$':
			end := strings.Index(s[2:], "$$")
			if end < 0 {
				return 0, l.unterminated()
			}
			t.Kind, t.Value = TokDollarString, s[2:2+end]
			return end + 4, nil
		case isIdentStart(c):
			n := 2
			for n < len(s) && (isIdentStart(s[n]) || isDigit(s[n])) {
				n++
			}
			t.Kind, t.Value = TokVariable, upper(s[1:n])
			return n, nil
		case isDigit(c):
			n := 2
			for n < len(s) && isDigit(s[n]) {
				n++
			}
			t.Kind, t.Value = TokVariable, s[1:n]
			return n, nil
		}
	case isDigit(b) || b == '.' && isDigit(l.byteAt(l.off+1)):
		t.Kind = TokNumber
		return scanNumber(s), nil
	case b == '?':
		t.Kind = TokBind
		return 1, nil
	case b == ':':
		if c := l.byteAt(l.off + 1); isDigit(c) {
			n := 2
			for n < len(s) && isDigit(s[n]) {
				n++
			}
			t.Kind, t.Value = TokBind, s[1:n]
			return n, nil
		}
	}
	t.Kind = TokOp
	for _, op := range multiOps {
		if strings.HasPrefix(s, op) {
			return len(op), nil
		}
	}
	_, n := utf8.DecodeRuneInString(s)
	return n, nil
}

// multiOps are the operators longer than one character, longest first.
var multiOps = []string{"->>", "::", "->", "=>", "||", "<=", ">=", "!=", "<>"}

func scanNumber(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	if n < len(s) && s[n] == '.' {
		n++
		for n < len(s) && isDigit(s[n]) {
			n++
		}
	}
	if n < len(s) && (s[n] == 'e' || s[n] == 'E') {
		m := n + 1
		if m < len(s) && (s[m] == '+' || s[m] == '-') {
			m++
		}
		if m < len(s) && isDigit(s[m]) {
			for m < len(s) && isDigit(s[m]) {
				m++
			}
			n = m
		}
	}
	return n
}

// unterminated is the error for a string, quoted identifier or $$ block that runs to
// the end of input: the unexpected token is the rest of its first line.
func (l *Lexer) unterminated() error {
	rest := l.src[l.off:]
	if i := strings.IndexAny(rest, "\r\n"); i >= 0 {
		rest = rest[:i]
	}
	return sferr.Syntax(l.line, l.col, rest)
}

func (l *Lexer) scanQuotedIdent(t *Token, s string) (int, error) {
	t.Kind = TokQuotedIdent
	escaped := false
	for i := 1; i < len(s); i++ {
		if s[i] != '"' {
			continue
		}
		if i+1 < len(s) && s[i+1] == '"' {
			escaped = true
			i++
			continue
		}
		t.Value = s[1:i]
		if escaped {
			t.Value = strings.ReplaceAll(t.Value, `""`, `"`)
		}
		return i + 1, nil
	}
	return 0, l.unterminated()
}

// scanString scans a single-quoted string with Snowflake's escapes: ” and \' for a
// quote, \\, \b, \f, \n, \r, \t, \0, \ooo (octal), \xhh (hex), \uhhhh; a backslash
// before any other character yields that character.
func (l *Lexer) scanString(t *Token, s string) (int, error) {
	t.Kind = TokString
	i := 1
	for i < len(s) && s[i] != '\'' && s[i] != '\\' {
		i++
	}
	if i < len(s) && s[i] == '\'' && (i+1 >= len(s) || s[i+1] != '\'') {
		t.Value = s[1:i] // fast path: no escapes
		return i + 1, nil
	}
	var sb strings.Builder
	sb.WriteString(s[1:i])
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\'' && i+1 < len(s) && s[i+1] == '\'':
			sb.WriteByte('\'')
			i += 2
		case c == '\'':
			t.Value = sb.String()
			return i + 1, nil
		case c == '\\' && i+1 < len(s):
			i += unescape(&sb, s[i+1:]) + 1
		case c == '\\':
			i++
		default:
			sb.WriteByte(c)
			i++
		}
	}
	return 0, l.unterminated()
}

// unescape writes the character escaped by the backslash sequence starting at s
// (just after the backslash) and returns how many bytes of s it used.
func unescape(sb *strings.Builder, s string) int {
	switch c := s[0]; c {
	case 'b':
		sb.WriteByte('\b')
	case 'f':
		sb.WriteByte('\f')
	case 'n':
		sb.WriteByte('\n')
	case 'r':
		sb.WriteByte('\r')
	case 't':
		sb.WriteByte('\t')
	case 'x':
		if len(s) >= 3 {
			if v, err := strconv.ParseUint(s[1:3], 16, 8); err == nil {
				sb.WriteRune(rune(v))
				return 3
			}
		}
		sb.WriteByte('x')
	case 'u':
		if len(s) >= 5 {
			if v, err := strconv.ParseUint(s[1:5], 16, 16); err == nil {
				sb.WriteRune(rune(v))
				return 5
			}
		}
		sb.WriteByte('u')
	default:
		if c >= '0' && c <= '7' {
			n := 1
			for n < 3 && n < len(s) && s[n] >= '0' && s[n] <= '7' {
				n++
			}
			v, _ := strconv.ParseUint(s[:n], 8, 16)
			sb.WriteRune(rune(v))
			return n
		}
		_, n := utf8.DecodeRuneInString(s)
		sb.WriteString(s[:n])
		return n
	}
	return 1
}

// upper returns s in ASCII upper case, without allocating when it already is.
func upper(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			return strings.ToUpper(s)
		}
	}
	return s
}

// trimSpace trims the white space the lexer skips (ASCII only, unlike
// strings.TrimSpace, so that no token is ever trimmed).
func trimSpace(s string) string { return strings.Trim(s, " \t\n\r\f\v") }
