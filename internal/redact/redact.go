package redact

import (
	"errors"
	"strings"
	"sync"

	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
)

// Redacted replaces a secret value in recorded statement text.
const Redacted = "'***'"

// sensitive holds the upper-case names of properties whose values are secrets.
// Statement text is redacted with it before it is recorded in query history or
// logged, and error messages are scrubbed of the values it finds.
var (
	sensitiveMu sync.RWMutex
	sensitive   = map[string]bool{
		"PASSWORD":            true, // CREATE/ALTER USER, SECRET TYPE = PASSWORD
		"SECRET_STRING":       true, // SECRET TYPE = GENERIC_STRING
		"OAUTH_REFRESH_TOKEN": true, // SECRET TYPE = OAUTH2
		"OAUTH_CLIENT_SECRET": true, // SECURITY INTEGRATION ... OAUTH2
		"OAUTH_ACCESS_TOKEN":  true,
		"CLIENT_SECRET":       true,
		"PRIVATE_KEY":         true,
		"AWS_SECRET_KEY":      true, // CREDENTIALS = (...) of stages and storage
		"AWS_TOKEN":           true,
		"AZURE_SAS_TOKEN":     true,
		"MASTER_KEY":          true, // ENCRYPTION = (...)
		"TOKEN":               true,
	}
)

// Register marks a property name (any case) as secret-bearing, so
// that its values are redacted from recorded statement text and error messages.
// Object kinds with secret properties call it from init.
func Register(name string) {
	sensitiveMu.Lock()
	defer sensitiveMu.Unlock()
	sensitive[strings.ToUpper(name)] = true
}

func isSensitive(upper string) bool {
	sensitiveMu.RLock()
	defer sensitiveMu.RUnlock()
	return sensitive[upper]
}

// asciiUpper upper-cases ASCII letters only, keeping every byte offset.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}

// mentionsSensitive is a cheap pre-check: whether text contains any sensitive
// property name at all, ignoring case.
func mentionsSensitive(text string) (string, int) {
	up := asciiUpper(text) // byte-for-byte, so indexes stay valid in text
	sensitiveMu.RLock()
	defer sensitiveMu.RUnlock()
	first, at := "", -1
	for name := range sensitive {
		if i := strings.Index(up, name); i >= 0 && (at < 0 || i < at) {
			first, at = name, i
		}
	}
	return first, at
}

// Statement returns statement text with the value of every secret-bearing property
// (NAME = 'value', NAME = $$value$$, NAME 'value', NAME = value) replaced by
// '***', and the literal values it replaced. Text that does not tokenize (an
// unterminated string, say) and mentions a sensitive name is cut after the first
// mention, since where its values end cannot be known.
func Statement(text string) (string, []string) {
	name, at := mentionsSensitive(text)
	if at < 0 {
		return text, nil
	}
	toks, err := sql.Tokenize(text)
	if err != nil {
		return text[:at+len(name)] + " " + Redacted + " (statement redacted)", nil
	}
	var b strings.Builder
	var values []string
	last := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.Kind != sql.TokWord || !isSensitive(t.Value) {
			continue
		}
		j := i + 1
		if j < len(toks) && (toks[j].IsOp("=") || toks[j].IsOp("=>")) {
			j++
		}
		if j >= len(toks) {
			break
		}
		v := toks[j]
		switch v.Kind {
		case sql.TokString, sql.TokDollarString, sql.TokNumber, sql.TokQuotedIdent:
		case sql.TokWord:
			if j == i+1 {
				continue // NAME WORD: a keyword (RESET PASSWORD), not a value
			}
		default:
			continue
		}
		b.WriteString(text[last:v.Offset])
		b.WriteString(Redacted)
		last = v.End()
		if v.Value != "" {
			values = append(values, v.Value)
		}
		if v.Text != "" && !strings.Contains(v.Text, v.Value) {
			values = append(values, v.Text)
		}
		i = j
	}
	if last == 0 {
		return text, nil
	}
	b.WriteString(text[last:])
	return b.String(), values
}

// Scrub removes every value from msg.
func Scrub(msg string, values []string) string {
	for _, v := range values {
		if v != "" {
			msg = strings.ReplaceAll(msg, v, "***")
		}
	}
	return msg
}

// Error returns err with any secret value of text scrubbed from its message
// (a syntax error can quote the token it stopped at). Other errors pass unchanged.
func Error(text string, err error) error {
	if err == nil {
		return nil
	}
	_, values := Statement(text)
	if len(values) == 0 {
		return err
	}
	var se *sferr.Error
	if !errors.As(err, &se) {
		return err
	}
	msg := Scrub(se.Message, values)
	if msg == se.Message {
		return err
	}
	c := *se
	c.Message = msg
	c.Cause = nil
	return &c
}
