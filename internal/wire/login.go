package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/firn/firn/internal/auth"
	"github.com/firn/firn/internal/params"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/version"
)

// bindingThreshold is never sent to clients: firn does not implement stage binding.
const bindingThreshold = "CLIENT_STAGE_ARRAY_BINDING_THRESHOLD"

// param is one entry of a reply's "parameters" array.
type param struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

type sessionInfo struct {
	DatabaseName  *string `json:"databaseName"`
	SchemaName    *string `json:"schemaName"`
	WarehouseName *string `json:"warehouseName"`
	RoleName      *string `json:"roleName"`
}

type loginData struct {
	Token                   string      `json:"token"`
	ValidityInSeconds       int64       `json:"validityInSeconds"`
	MasterToken             string      `json:"masterToken"`
	MasterValidityInSeconds int64       `json:"masterValidityInSeconds"`
	SessionID               int64       `json:"sessionId"`
	DisplayUserName         string      `json:"displayUserName"`
	ServerVersion           string      `json:"serverVersion"`
	FirstLogin              bool        `json:"firstLogin"`
	HealthCheckInterval     int         `json:"healthCheckInterval"`
	IDToken                 *string     `json:"idToken"`
	MFAToken                *string     `json:"mfaToken"`
	Parameters              []param     `json:"parameters"`
	SessionInfo             sessionInfo `json:"sessionInfo"`
}

// jsonString returns a JSON string or number as text; other kinds give "".
func jsonString(raw json.RawMessage) string {
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' &&
		bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw[1 : n-1]) // no escapes: the text is the string
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// jsonValue decodes a session-parameter value keeping its JSON type: string, bool,
// int64 or float64 (or objects and arrays as decoded).
func jsonValue(raw json.RawMessage) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	if n, ok := v.(json.Number); ok {
		if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
			return i
		}
		if f, err := n.Float64(); err == nil {
			return f
		}
		return n.String()
	}
	return v
}

// loginString is a login-body field read as text: a JSON string, or a number's literal
// text; any other kind reads as "" (never an error), as jsonString does.
type loginString string

// UnmarshalJSON implements json.Unmarshaler.
func (l *loginString) UnmarshalJSON(b []byte) error {
	*l = loginString(jsonString(b))
	return nil
}

// loginBody is the part of a login request's data object firn reads. Decoding into a
// struct skips the fields it does not name (CLIENT_ENVIRONMENT and the like) instead
// of copying each into a map.
type loginBody struct {
	LoginName         loginString     `json:"LOGIN_NAME"`
	Authenticator     loginString     `json:"AUTHENTICATOR"`
	Password          loginString     `json:"PASSWORD"`
	Token             loginString     `json:"TOKEN"`
	Passcode          loginString     `json:"PASSCODE"`
	ClientAppID       loginString     `json:"CLIENT_APP_ID"`
	ClientAppVersion  loginString     `json:"CLIENT_APP_VERSION"`
	AccountName       loginString     `json:"ACCOUNT_NAME"`
	SessionParameters json.RawMessage `json:"SESSION_PARAMETERS"`
}

// parseLogin builds a LoginRequest from a login body and URL (reference §2).
func parseLogin(r *http.Request, body []byte, hostAcct func(string) string) (*auth.LoginRequest, *sferr.Error) {
	var env struct {
		Data *loginBody `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Data == nil {
		return nil, errBadBody()
	}
	d := env.Data
	req := &auth.LoginRequest{
		LoginName:     string(d.LoginName),
		Authenticator: strings.ToUpper(strings.TrimSpace(string(d.Authenticator))),
		Password:      string(d.Password),
		Token:         string(d.Token),
		Passcode:      string(d.Passcode),
		ClientApp:     string(d.ClientAppID),
		ClientVersion: string(d.ClientAppVersion),
		ClientIP:      clientIP(r),
	}
	acct := string(d.AccountName)
	if i := strings.IndexByte(acct, '.'); i >= 0 {
		acct = acct[:i]
	}
	acct = strings.TrimSpace(acct)
	if acct == "" {
		acct = hostAcct(r.Host)
	}
	req.Account = acct
	q := r.URL.Query()
	req.Database = q.Get("databaseName")
	req.Schema = q.Get("schemaName")
	req.Warehouse = q.Get("warehouse")
	req.Role = q.Get("roleName")
	if raw := d.SessionParameters; raw != nil {
		var sp map[string]json.RawMessage
		if err := json.Unmarshal(raw, &sp); err == nil && len(sp) > 0 {
			req.SessionParams = make(map[string]any, len(sp))
			for k, v := range sp {
				req.SessionParams[strings.ToUpper(k)] = jsonValue(v)
			}
		}
	}
	return req, nil
}

// loginParameters merges the executor's parameters with the client's own session
// parameters, echoed with their JSON types.
func loginParameters(base []params.Param, client map[string]any) []param {
	out := make([]param, 0, len(base)+len(client))
	idx := map[string]int{}
	for _, p := range base {
		name := strings.ToUpper(p.Name)
		if name == bindingThreshold {
			continue
		}
		idx[name] = len(out)
		out = append(out, param{Name: p.Name, Value: p.Value})
	}
	names := make([]string, 0, len(client))
	for k := range client {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if k == bindingThreshold {
			continue
		}
		if i, ok := idx[k]; ok {
			out[i].Value = client[k]
			continue
		}
		out = append(out, param{Name: k, Value: client[k]})
	}
	return out
}

// responseParameters converts the executor's parameters for a query reply.
func responseParameters(ps []params.Param) []param {
	out := make([]param, 0, len(ps))
	for _, p := range ps {
		if strings.EqualFold(p.Name, bindingThreshold) {
			continue
		}
		out = append(out, param{Name: p.Name, Value: p.Value})
	}
	return out
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, e := s.readBody(w, r)
	if e != nil {
		s.writeError(w, r, e, nil)
		return
	}
	req, e := parseLogin(r, body, s.hostAcct)
	if e != nil {
		s.writeError(w, r, e, nil)
		return
	}
	req.Sessions = s.sessions // the session is stored in the login's own transaction
	sess, err := s.auth.Login(ctx, req)
	if err == nil && sess == nil {
		err = sferr.IncorrectCredentials()
	}
	if err != nil {
		s.writeLoginError(w, r, sferr.As(err))
		return
	}
	if sess.Account == "" {
		sess.Account = req.Account
	}
	tok, issued := sess.IssuedTokens()
	if !issued {
		if tok, err = s.sessions.Create(ctx, sess); err != nil {
			s.writeLoginError(w, r, sferr.As(err))
			return
		}
	}
	ps, err := s.exec.Parameters(ctx, sess)
	if err != nil {
		if cerr := s.sessions.Close(context.WithoutCancel(ctx), sess); cerr != nil {
			s.log.ErrorContext(ctx, "wire: close session after failed login", "session", sess.ID, "err", cerr)
		}
		s.writeLoginError(w, r, sferr.As(err))
		return
	}
	s.writeOK(w, r, "", "", loginData{
		Token:                   tok.SessionToken,
		ValidityInSeconds:       int64(tok.SessionValidity.Seconds()),
		MasterToken:             tok.MasterToken,
		MasterValidityInSeconds: int64(tok.MasterValidity.Seconds()),
		SessionID:               sess.ID,
		DisplayUserName:         sess.User,
		ServerVersion:           version.Snowflake,
		HealthCheckInterval:     45,
		Parameters:              loginParameters(ps, req.SessionParams),
		SessionInfo:             infoOf(sess),
	})
}

func infoOf(sess *session.Session) sessionInfo {
	return sessionInfo{
		DatabaseName:  strPtr(sess.Database),
		SchemaName:    strPtr(sess.Schema),
		WarehouseName: strPtr(sess.Warehouse),
		RoleName:      strPtr(sess.Role),
	}
}

// writeLoginError writes a login failure (reference §2.4). Its data always carries the
// SQLSTATE, which Node reports as the error's sqlState.
func (s *Server) writeLoginError(w http.ResponseWriter, r *http.Request, e *sferr.Error) {
	data := map[string]any{}
	if e.SQLState != "" {
		data["sqlState"] = e.SQLState
	}
	s.writeError(w, r, e, data)
}
