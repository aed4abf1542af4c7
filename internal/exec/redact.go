package exec

import (
	"errors"

	"github.com/firn/firn/internal/redact"
	"github.com/firn/firn/internal/sferr"
)

// Statement text reaches query history and logs only through Redact; the work is
// package redact's (secret-bearing properties) plus the secret arguments of
// registered SYSTEM$ functions (sysfunc.go).

// Redacted replaces a secret value in recorded statement text.
const Redacted = redact.Redacted

// Redact returns text with secret values replaced by '***', and the values removed.
func Redact(text string) (string, []string) {
	return redactSysFuncSecrets(redact.Statement(text))
}

// RegisterSensitiveProperty marks a property name as secret-bearing (see redact.Register).
func RegisterSensitiveProperty(name string) { redact.Register(name) }

func scrub(msg string, values []string) string { return redact.Scrub(msg, values) }

// redactError returns err with the secret values of text scrubbed from its message.
func redactError(text string, err error) error {
	if err == nil {
		return nil
	}
	_, values := Redact(text)
	var se *sferr.Error
	if len(values) == 0 || !errors.As(err, &se) {
		return err
	}
	msg := scrub(se.Message, values)
	if msg == se.Message {
		return err
	}
	c := *se
	c.Message, c.Cause = msg, nil
	return &c
}
