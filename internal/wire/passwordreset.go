package wire

// The page a RESET PASSWORD link opens (exec.PasswordResetPath): GET shows a minimal
// form, POST (form or JSON) sets the new password. Not part of Snowflake's REST API,
// so its replies use real HTTP statuses.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"mime"
	"net/http"

	"github.com/firn/firn/internal/exec"
	"github.com/firn/firn/internal/sferr"
)

// PasswordResetter completes the password resets that ALTER USER … RESET PASSWORD
// starts. The Executor provides it when it implements this interface (exec.Engine
// does); otherwise the reset page answers 404.
type PasswordResetter interface {
	// PasswordResetUser returns the account and user a usable reset token of account
	// belongs to, or exec.ErrPasswordResetInvalid.
	PasswordResetUser(ctx context.Context, account, token string) (acct, user string, err error)
	// RedeemPasswordReset sets the user's new password and burns the token. Errors:
	// exec.ErrPasswordResetInvalid, a *sferr.Error for a password the policy refuses,
	// or an internal failure.
	RedeemPasswordReset(ctx context.Context, account, token, password string) (acct, user string, err error)
}

// maxResetBody caps a reset request body.
const maxResetBody = 16 << 10

// resetInvalid is the one refusal for an unusable link: malformed, unknown, used,
// superseded or expired, or its user gone. It says nothing about which.
func resetInvalid() *sferr.Error {
	return sferr.New("390400", "08004", "This password reset link is invalid or has expired. Ask your administrator for a new one.")
}

// resetHeaders are set on every reply of the reset page: nothing is loaded from
// anywhere, nothing may frame it, nothing is cached, no Referer leaks the link.
var resetHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	"X-Frame-Options":         "DENY",
	"Cache-Control":           "no-store",
	"Pragma":                  "no-cache",
	"Referrer-Policy":         "no-referrer",
	"X-Content-Type-Options":  "nosniff",
}

// resetRequest is a POST body (JSON) or form.
type resetRequest struct {
	Account  string `json:"account"`
	Token    string `json:"token"`
	Password string `json:"password"`
	Confirm  string `json:"confirm"` // optional in JSON; required by the form
}

// resetPage is what the page template shows.
type resetPage struct {
	Action        string
	Account, User string
	Token         string
	Form          bool   // show the form
	Done          bool   // the password was changed
	Message       string // an error or a refusal
}

var resetTemplate = template.Must(template.New("reset").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>firn: reset password</title></head>
<body><main>
<h1>Reset password</h1>
{{- if .Message}}
<p role="alert">{{.Message}}</p>
{{- end}}
{{- if .Done}}
<p>The password of user {{.User}} in account {{.Account}} has been changed. Log in with the new password.</p>
{{- end}}
{{- if .Form}}
<p>Choose a new password for user <strong>{{.User}}</strong> in account <strong>{{.Account}}</strong>:
8 to 256 characters with at least one upper-case letter, one lower-case letter and one digit.</p>
<form method="post" action="{{.Action}}" autocomplete="off">
<input type="hidden" name="account" value="{{.Account}}">
<input type="hidden" name="token" value="{{.Token}}">
<p><label>New password <input type="password" name="password" autocomplete="new-password" required minlength="8" maxlength="256"></label></p>
<p><label>Repeat it <input type="password" name="confirm" autocomplete="new-password" required minlength="8" maxlength="256"></label></p>
<p><button type="submit">Set password</button></p>
</form>
{{- end}}
</main></body></html>
`))

// handlePasswordReset serves exec.PasswordResetPath.
func (s *Server) handlePasswordReset(w http.ResponseWriter, r *http.Request) {
	for k, v := range resetHeaders {
		w.Header().Set(k, v)
	}
	rs, ok := s.exec.(PasswordResetter)
	if !ok {
		s.handleNotFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.resetForm(w, r, rs)
	case http.MethodPost:
		s.resetSubmit(w, r, rs)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		s.resetReply(w, r, false, http.StatusMethodNotAllowed, sferr.New("000601", "08P01", "Method not allowed."), resetPage{})
	}
}

// resetForm answers GET ?account=…&token=…: the form for a usable link, else the
// generic refusal.
func (s *Server) resetForm(w http.ResponseWriter, r *http.Request, rs PasswordResetter) {
	q := r.URL.Query()
	req := resetRequest{Account: q.Get("account"), Token: q.Get("token")}
	acct, user, ok := s.resetCheck(w, r, rs, &req, false)
	if !ok {
		return
	}
	s.resetReply(w, r, false, http.StatusOK, nil, resetPage{Account: acct, User: user, Token: req.Token, Form: true})
}

// resetSubmit answers POST: form fields or a JSON object with account, token,
// password (and confirm).
func (s *Server) resetSubmit(w http.ResponseWriter, r *http.Request, rs PasswordResetter) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	asJSON := mt == "application/json"
	r.Body = http.MaxBytesReader(w, r.Body, maxResetBody)
	var req resetRequest
	if asJSON {
		dec := json.NewDecoder(r.Body)
		if err := dec.Decode(&req); err != nil {
			s.resetReply(w, r, true, http.StatusBadRequest, errBadBody(), resetPage{})
			return
		}
	} else {
		if err := r.ParseForm(); err != nil {
			s.resetReply(w, r, false, http.StatusBadRequest, sferr.New("000601", "08P01", "Invalid request body: expected a form."), resetPage{})
			return
		}
		req = resetRequest{Account: r.PostForm.Get("account"), Token: r.PostForm.Get("token"),
			Password: r.PostForm.Get("password"), Confirm: r.PostForm.Get("confirm")}
	}
	acct, user, ok := s.resetCheck(w, r, rs, &req, asJSON)
	if !ok {
		return
	}
	again := resetPage{Account: acct, User: user, Token: req.Token, Form: true}
	if (!asJSON || req.Confirm != "") && req.Confirm != req.Password {
		s.resetReply(w, r, asJSON, http.StatusBadRequest, sferr.New("000601", "08P01", "The two passwords differ."), again)
		return
	}
	_, _, err := rs.RedeemPasswordReset(r.Context(), acct, req.Token, req.Password)
	var se *sferr.Error
	switch {
	case err == nil:
		s.resetReply(w, r, asJSON, http.StatusOK, nil, resetPage{Account: acct, User: user, Done: true})
	case errors.Is(err, exec.ErrPasswordResetInvalid):
		s.resetRefused(w, r, asJSON, "invalid link")
	case errors.As(err, &se):
		s.resetReply(w, r, asJSON, http.StatusBadRequest, se, again) // the password policy's refusal
	default:
		s.log.ErrorContext(r.Context(), "wire: password reset failed", "account", acct, "user", user, "err", err)
		s.resetReply(w, r, asJSON, http.StatusInternalServerError, sferr.Internal(), resetPage{})
	}
}

// resetCheck resolves the link of req (account from the Host header when absent)
// and applies the user's network policy, answering the request itself when either
// refuses.
func (s *Server) resetCheck(w http.ResponseWriter, r *http.Request, rs PasswordResetter, req *resetRequest, asJSON bool) (acct, user string, ok bool) {
	if req.Account == "" {
		req.Account = s.hostAcct(r.Host)
	}
	acct, user, err := rs.PasswordResetUser(r.Context(), req.Account, req.Token)
	switch {
	case errors.Is(err, exec.ErrPasswordResetInvalid):
		s.resetRefused(w, r, asJSON, "invalid link")
		return "", "", false
	case err != nil:
		s.log.ErrorContext(r.Context(), "wire: password reset failed", "err", err)
		s.resetReply(w, r, asJSON, http.StatusInternalServerError, sferr.Internal(), resetPage{})
		return "", "", false
	}
	if s.ingress != nil {
		if e := s.ingress.Enforce(r.Context(), acct, user, clientIP(r)); e != nil {
			s.log.InfoContext(r.Context(), "password reset refused", "reason", "network policy",
				"account", acct, "user", user, "client_ip", clientIP(r).String())
			s.resetReply(w, r, asJSON, http.StatusForbidden, e, resetPage{})
			return "", "", false
		}
	}
	return acct, user, true
}

// resetRefused answers an unusable link: 410 with the generic refusal.
func (s *Server) resetRefused(w http.ResponseWriter, r *http.Request, asJSON bool, reason string) {
	s.log.InfoContext(r.Context(), "password reset refused", "reason", reason, "client_ip", clientIP(r).String())
	s.resetReply(w, r, asJSON, http.StatusGone, resetInvalid(), resetPage{})
}

// resetReply writes a reply as the JSON envelope or as the HTML page.
func (s *Server) resetReply(w http.ResponseWriter, r *http.Request, asJSON bool, status int, e *sferr.Error, page resetPage) {
	if asJSON {
		var b []byte
		var err error
		if e != nil {
			b, err = marshalEnvelope(false, e.Code, e.Message, nil)
		} else {
			b, err = marshalEnvelope(true, "", "Password changed.", nil)
		}
		if err != nil {
			s.log.ErrorContext(r.Context(), "wire: encode password reset reply", "err", err)
			status = http.StatusInternalServerError
		}
		writeBody(w, status, b)
		return
	}
	if e != nil {
		page.Message = e.Message
	}
	page.Action = exec.PasswordResetPath
	var buf bytes.Buffer
	if err := resetTemplate.Execute(&buf, page); err != nil {
		s.log.ErrorContext(r.Context(), "wire: render password reset page", "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString("internal error\n")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}
