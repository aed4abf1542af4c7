package exec

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/firn/firn/internal/auth"
	"github.com/firn/firn/internal/authz"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
	"github.com/firn/firn/internal/store"
)

// Programmatic access tokens: ALTER USER [IF EXISTS] [u] ADD | ROTATE | MODIFY |
// REMOVE { PROGRAMMATIC ACCESS TOKEN | PAT } name ..., and SHOW USER { PROGRAMMATIC
// ACCESS TOKENS | PATS } [FOR USER u].

// PAT limits (reference §1 "Programmatic access tokens").
const (
	patDefaultDays         = 15
	patMaxDays             = 365
	patDefaultRotatedHours = 24
	patMaxNameLen          = 255
	patShowExpiredFor      = 7 * 24 * time.Hour
)

func init() {
	showers["USER PATS"] = (*Engine).showUserPATs
	showers["USER PROGRAMMATIC ACCESS TOKENS"] = (*Engine).showUserPATs
	// ALTER USER's handler (user.go) calls alterUserPAT before its own actions.
}

// patAction is a parsed PAT action of ALTER USER.
type patAction struct {
	verb   string // ADD, ROTATE, MODIFY, REMOVE
	name   string // token name, case-exact
	modify string // MODIFY: SET, UNSET or RENAME
	unset  []string
	rename string
}

// parsePATAction recognises the PAT actions kept in Alter.Other; ok is false for any
// other ALTER USER action.
func parsePATAction(other string) (act *patAction, ok bool, err error) {
	toks, terr := sql.Tokenize(other)
	if terr != nil || len(toks) < 3 {
		return nil, false, nil
	}
	if toks[len(toks)-1].Kind == sql.TokEOF {
		toks = toks[:len(toks)-1]
	}
	verb := toks[0]
	if !(verb.Is("ADD") || verb.Is("ROTATE") || verb.Is("MODIFY") || verb.Is("REMOVE")) {
		return nil, false, nil
	}
	i := 1
	switch {
	case toks[i].Is("PAT"):
		i++
	case len(toks) > i+2 && toks[i].Is("PROGRAMMATIC") && toks[i+1].Is("ACCESS") && toks[i+2].Is("TOKEN"):
		i += 3
	default:
		return nil, false, nil
	}
	act = &patAction{verb: verb.Value}
	syntax := func(t sql.Token) error {
		return sferr.Syntax(1, t.Column, t.Text)
	}
	if i >= len(toks) {
		return nil, true, sferr.Syntax(1, len(other), "<EOF>")
	}
	switch t := toks[i]; t.Kind {
	case sql.TokWord, sql.TokQuotedIdent:
		act.name = t.Value
	default:
		return nil, true, syntax(t)
	}
	i++
	rest := toks[i:]
	if act.verb != "MODIFY" {
		if len(rest) > 0 {
			return nil, true, syntax(rest[0])
		}
		return act, true, nil
	}
	if len(rest) == 0 {
		return nil, true, sferr.Syntax(1, len(other), "<EOF>")
	}
	switch {
	case rest[0].Is("SET") && len(rest) == 1:
		act.modify = "SET"
	case rest[0].Is("UNSET") && len(rest) > 1:
		act.modify = "UNSET"
		for j := 1; j < len(rest); j++ {
			t := rest[j]
			if j%2 == 0 {
				if !t.IsOp(",") {
					return nil, true, syntax(t)
				}
				continue
			}
			if t.Kind != sql.TokWord {
				return nil, true, syntax(t)
			}
			act.unset = append(act.unset, t.Value)
		}
		if len(rest)%2 != 0 { // a trailing comma
			return nil, true, sferr.Syntax(1, len(other), "<EOF>")
		}
	case rest[0].Is("RENAME") && len(rest) == 3 && rest[1].Is("TO") &&
		(rest[2].Kind == sql.TokWord || rest[2].Kind == sql.TokQuotedIdent):
		act.modify = "RENAME"
		act.rename = rest[2].Value
	default:
		return nil, true, syntax(rest[0])
	}
	return act, true, nil
}

// validPATName reports whether name follows Snowflake's token-name rule: letters,
// digits and underscores, starting with a letter or underscore, at most 255 chars.
func validPATName(name string) bool {
	if name == "" || len(name) > patMaxNameLen {
		return false
	}
	for i, c := range name {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func patInvalidName(name string) *sferr.Error {
	return sferr.Compilation("001423", "22023", fmt.Sprintf("invalid value [%s] for parameter 'NAME'", name))
}

func patMissing(name string) *sferr.Error {
	return sferr.DoesNotExist("Programmatic access token", name)
}

func patRule(msg string) *sferr.Error { return sferr.Compilation("001423", "22023", msg) }

// alterUserPAT runs the PAT actions of ALTER USER. handled is false when st is not a
// PAT action, so the ALTER USER handler goes on with its own actions.
func (e *Engine) alterUserPAT(ctx context.Context, s *session.Session, st *sql.Alter) (*result.Set, bool, error) {
	if st.Kind != "USER" || st.Other == "" {
		return nil, false, nil
	}
	act, ok, err := parsePATAction(st.Other)
	if !ok {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	if (act.verb == "REMOVE" || act.verb == "MODIFY" && act.modify != "SET") && len(st.OtherProps) > 0 {
		p := st.OtherProps[0]
		return nil, true, sferr.Syntax(p.Value.Line, p.Value.Column, p.Name)
	}
	user := s.User
	if len(st.Name.Parts) > 0 {
		if user, err = accountObjectName(st.Name); err != nil {
			return nil, true, err
		}
	}
	var set *result.Set
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		u, err := catalog.GetUser(ctx, tx, s.Account, user)
		if catalog.IsNotFound(err) {
			if st.IfExists {
				set = result.Status(result.DDL, executed)
				return nil
			}
			return sferr.DoesNotExist("User", user)
		}
		if err != nil {
			return err
		}
		if !mayManagePATs(s, r, u) {
			return sferr.InsufficientPrivileges(fmt.Sprintf("user '%s'", u.Name))
		}
		if act.verb != "ADD" && s.AuthMethod == auth.FactorPAT && s.User == u.Name {
			e := sferr.New("003001", "42501", fmt.Sprintf("SQL access control error:\nProgrammatic access token '%s' cannot be changed in a session authenticated with a programmatic access token of user '%s'.", act.name, u.Name))
			e.Type = "COMPILATION"
			return e
		}
		switch act.verb {
		case "ADD":
			set, err = e.addPAT(ctx, tx, s, u, act.name, st.OtherProps)
		case "ROTATE":
			set, err = e.rotatePAT(ctx, tx, s, u, act.name, st.OtherProps)
		case "MODIFY":
			set, err = e.modifyPAT(ctx, tx, s, u, act, st.OtherProps)
		case "REMOVE":
			set, err = e.removePAT(ctx, tx, s, u, act.name)
		}
		return err
	})
	if err != nil {
		return nil, true, err
	}
	return set, true, nil
}

// mayManagePATs: a PERSON user manages its own tokens; anyone else needs, as in
// Snowflake, OWNERSHIP of the user or the MODIFY PROGRAMMATIC AUTHENTICATION METHODS
// privilege on it (primary or secondary roles).
func mayManagePATs(s *session.Session, r *authz.Active, u *catalog.User) bool {
	if u.Name == s.User && !auth.IsServiceType(u.Type) {
		return true
	}
	return r.Allowed(catalog.Object{Kind: "USER", Name: u.Name}, u.Meta.Owner, "MODIFY PROGRAMMATIC AUTHENTICATION METHODS")
}

// resolveRole finds a role named as written, else upper-cased (ROLE_RESTRICTION = 'r').
func resolveRole(ctx context.Context, tx store.Tx, account, name string) (string, bool, error) {
	for _, n := range []string{name, strings.ToUpper(name)} {
		_, err := catalog.GetRole(ctx, tx, account, n)
		if err == nil {
			return n, true, nil
		}
		if !catalog.IsNotFound(err) {
			return "", false, err
		}
	}
	return "", false, nil
}

func (e *Engine) addPAT(ctx context.Context, tx store.Tx, s *session.Session, u *catalog.User, name string, props []sql.Property) (*result.Set, error) {
	if !validPATName(name) {
		return nil, patInvalidName(name)
	}
	days := int64(patDefaultDays)
	var role, comment string
	var bypass int64
	for _, p := range props {
		var err error
		switch p.Name {
		case "ROLE_RESTRICTION":
			role, err = propString(p.Name, p.Value)
		case "DAYS_TO_EXPIRY":
			if days, err = propInt(p.Name, p.Value); err == nil && (days < 1 || days > patMaxDays) {
				err = invalidValue(p.Name, p.Value)
			}
		case "MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT":
			if bypass, err = propInt(p.Name, p.Value); err == nil && bypass < 0 {
				err = invalidValue(p.Name, p.Value)
			}
			if err == nil && u.Type == "SERVICE_AGENT" {
				err = invalidProperty(p.Name, "USER")
			}
		case "COMMENT":
			comment, err = propString(p.Name, p.Value)
		default:
			err = invalidProperty(p.Name, "PROGRAMMATIC ACCESS TOKEN")
		}
		if err != nil {
			return nil, err
		}
	}
	service := auth.IsServiceType(u.Type) || u.Type == "SERVICE_AGENT"
	if role == "" && service {
		return nil, patRule(fmt.Sprintf("ROLE_RESTRICTION is required for a programmatic access token of user '%s' with TYPE = %s.", u.Name, u.Type))
	}
	if role != "" {
		resolved, found, err := resolveRole(ctx, tx, s.Account, role)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, sferr.DoesNotExist("Role", role)
		}
		ok, err := authz.CanUseRole(ctx, tx, s.Account, u.Name, resolved)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, patRule(fmt.Sprintf("Role '%s' specified in ROLE_RESTRICTION is not granted to user '%s'.", resolved, u.Name))
		}
		role = resolved
	}
	if auth.IsServiceType(u.Type) {
		has, err := catalog.NetworkPolicies().UserHasNetworkPolicy(ctx, tx, s.Account, u.Name)
		if err != nil {
			return nil, err
		}
		if !has {
			return nil, patRule(fmt.Sprintf("User '%s' with TYPE = %s must be subject to a network policy to generate a programmatic access token.", u.Name, u.Type))
		}
	}
	now := e.now()
	existing, err := catalog.ListPATs(ctx, tx, s.Account, u.Name)
	if err != nil {
		return nil, err
	}
	live := 0
	for _, p := range existing {
		if p.Name == name {
			return nil, sferr.AlreadyExists("Programmatic access token", name)
		}
		if now.Before(p.ExpiresAt) {
			live++
		}
	}
	if live >= catalog.MaxPATsPerUser {
		return nil, patRule(fmt.Sprintf("User '%s' already has the maximum number of programmatic access tokens (%d).", u.Name, catalog.MaxPATsPerUser))
	}
	secret, id, hash, err := auth.NewPATSecret()
	if err != nil {
		return nil, err
	}
	p := &catalog.PAT{
		Name: name, User: u.Name, ID: id, Hash: hash, RoleRestriction: role,
		ExpiresAt: now.Add(time.Duration(days) * 24 * time.Hour), Lifetime: days,
		CreatedAt: now, CreatedBy: s.User, Comment: comment, MinsToBypassNetworkPolicy: bypass,
	}
	if err := catalog.CreatePAT(ctx, tx, s.Account, p); err != nil {
		if catalog.IsExists(err) {
			return nil, sferr.AlreadyExists("Programmatic access token", name)
		}
		return nil, err
	}
	return &result.Set{Type: result.DDL,
		Columns: []result.Column{result.Text("token_name"), result.Text("token_secret")},
		Rows:    [][]any{{name, secret}}}, nil
}

func (e *Engine) rotatePAT(ctx context.Context, tx store.Tx, s *session.Session, u *catalog.User, name string, props []sql.Property) (*result.Set, error) {
	hours := int64(patDefaultRotatedHours)
	for _, p := range props {
		var err error
		switch p.Name {
		case "EXPIRE_ROTATED_TOKEN_AFTER_HOURS":
			if hours, err = propInt(p.Name, p.Value); err == nil && hours < 0 {
				err = invalidValue(p.Name, p.Value)
			}
		default:
			err = invalidProperty(p.Name, "PROGRAMMATIC ACCESS TOKEN")
		}
		if err != nil {
			return nil, err
		}
	}
	old, err := catalog.GetPAT(ctx, tx, s.Account, u.Name, name)
	if catalog.IsNotFound(err) || err == nil && old.RotatedTo != "" {
		return nil, patMissing(name)
	}
	if err != nil {
		return nil, err
	}
	now := e.now()
	var rotatedName any
	if hours == 0 {
		if err := catalog.DeletePAT(ctx, tx, s.Account, old); err != nil {
			return nil, err
		}
	} else {
		// The old secret lives on under a new name until the rotation window ends.
		to := fmt.Sprintf("%s_ROTATED_%d", name, now.UnixMilli())
		if len(to) > patMaxNameLen {
			to = fmt.Sprintf("%.*s_ROTATED_%d", patMaxNameLen-30, name, now.UnixMilli())
		}
		keep := *old
		if err := catalog.RenamePAT(ctx, tx, s.Account, &keep, to); err != nil {
			return nil, err
		}
		keep.RotatedTo = name
		if end := now.Add(time.Duration(hours) * time.Hour); end.Before(keep.ExpiresAt) {
			keep.ExpiresAt = end
		}
		if err := catalog.PutPAT(ctx, tx, s.Account, &keep); err != nil {
			return nil, err
		}
		rotatedName = to
	}
	secret, id, hash, err := auth.NewPATSecret()
	if err != nil {
		return nil, err
	}
	// Expiry, role restriction, comment and creation stay those of the token:
	// rotation only replaces the secret.
	next := *old
	next.ID, next.Hash, next.RotatedTo = id, hash, ""
	if err := catalog.CreatePAT(ctx, tx, s.Account, &next); err != nil {
		return nil, err
	}
	return &result.Set{Type: result.DDL,
		Columns: []result.Column{result.Text("token_name"), result.Text("token_secret"), result.Text("rotated_token_name")},
		Rows:    [][]any{{name, secret, rotatedName}}}, nil
}

func (e *Engine) modifyPAT(ctx context.Context, tx store.Tx, s *session.Session, u *catalog.User, act *patAction, props []sql.Property) (*result.Set, error) {
	p, err := catalog.GetPAT(ctx, tx, s.Account, u.Name, act.name)
	if catalog.IsNotFound(err) {
		return nil, patMissing(act.name)
	}
	if err != nil {
		return nil, err
	}
	switch act.modify {
	case "RENAME":
		if !validPATName(act.rename) {
			return nil, patInvalidName(act.rename)
		}
		if err := catalog.RenamePAT(ctx, tx, s.Account, p, act.rename); err != nil {
			if catalog.IsExists(err) {
				return nil, sferr.AlreadyExists("Programmatic access token", act.rename)
			}
			return nil, err
		}
		return result.Status(result.DDL, executed), nil
	case "SET":
		if len(props) == 0 {
			return nil, sferr.Syntax(1, len("MODIFY"), "<EOF>")
		}
		for _, pr := range props {
			var err error
			switch pr.Name {
			case "DISABLED":
				p.Disabled, err = propBool(pr.Name, pr.Value)
			case "MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT":
				var n int64
				if n, err = propInt(pr.Name, pr.Value); err == nil && n < 0 {
					err = invalidValue(pr.Name, pr.Value)
				}
				if err == nil && u.Type == "SERVICE_AGENT" {
					err = invalidProperty(pr.Name, "USER")
				}
				// The window counts from now, as it did from creation.
				p.MinsToBypassNetworkPolicy = n + int64(e.now().Sub(p.CreatedAt)/time.Minute)
				if n == 0 {
					p.MinsToBypassNetworkPolicy = 0
				}
			case "COMMENT":
				p.Comment, err = propString(pr.Name, pr.Value)
			default:
				err = invalidProperty(pr.Name, "PROGRAMMATIC ACCESS TOKEN")
			}
			if err != nil {
				return nil, err
			}
		}
	case "UNSET":
		for _, n := range act.unset {
			switch n {
			case "DISABLED":
				p.Disabled = false
			case "MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT":
				p.MinsToBypassNetworkPolicy = 0
			case "COMMENT":
				p.Comment = ""
			default:
				return nil, invalidProperty(n, "PROGRAMMATIC ACCESS TOKEN")
			}
		}
	}
	if err := catalog.PutPAT(ctx, tx, s.Account, p); err != nil {
		return nil, err
	}
	return result.Status(result.DDL, executed), nil
}

func (e *Engine) removePAT(ctx context.Context, tx store.Tx, s *session.Session, u *catalog.User, name string) (*result.Set, error) {
	p, err := catalog.GetPAT(ctx, tx, s.Account, u.Name, name)
	if catalog.IsNotFound(err) {
		return nil, patMissing(name)
	}
	if err != nil {
		return nil, err
	}
	if err := catalog.DeletePAT(ctx, tx, s.Account, p); err != nil {
		return nil, err
	}
	return result.Status(result.DDL, fmt.Sprintf("Programmatic access token %s successfully removed.", name)), nil
}

// showUserPATs lists a user's tokens (the current user's without FOR USER). The
// secret is never shown; expired tokens disappear seven days after expiry.
func (e *Engine) showUserPATs(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, st *sql.Show) (*result.Set, error) {
	user := s.User
	if st.Target != nil {
		if st.Target.Prep != "FOR" || st.Target.Kind != "USER" || st.Target.Name == nil {
			return nil, unsupported("SHOW " + st.Kind + " " + strings.Join(st.Rest, " "))
		}
		var err error
		if user, err = accountObjectName(*st.Target.Name); err != nil {
			return nil, err
		}
	}
	u, err := catalog.GetUser(ctx, tx, s.Account, user)
	if catalog.IsNotFound(err) {
		return nil, sferr.DoesNotExist("User", user)
	}
	if err != nil {
		return nil, err
	}
	if !mayManagePATs(s, r, u) {
		return nil, sferr.InsufficientPrivileges(fmt.Sprintf("user '%s'", u.Name))
	}
	pats, err := catalog.ListPATs(ctx, tx, s.Account, u.Name)
	if err != nil {
		return nil, err
	}
	set := &result.Set{Columns: []result.Column{
		result.Text("name"), result.Text("user_name"), result.Text("role_restriction"),
		result.TimestampLTZ("expires_at"), result.Text("status"), result.Text("comment"),
		result.TimestampLTZ("created_on"), result.Text("created_by"),
		result.Fixed("mins_to_bypass_network_policy_requirement"), result.Text("rotated_to"),
	}}
	now := e.now()
	f := &filter{st: st}
	for _, p := range pats {
		if !f.keep(p.Name) || now.Sub(p.ExpiresAt) > patShowExpiredFor {
			continue
		}
		status := "ACTIVE"
		switch {
		case !now.Before(p.ExpiresAt):
			status = "EXPIRED"
		case p.Disabled || u.Disabled:
			status = "DISABLED"
		}
		var bypass any
		if p.MinsToBypassNetworkPolicy > 0 {
			left := p.CreatedAt.Add(time.Duration(p.MinsToBypassNetworkPolicy) * time.Minute).Sub(now)
			if left > 0 {
				bypass = int64((left + time.Minute - 1) / time.Minute)
			}
		}
		set.Rows = append(set.Rows, []any{p.Name, p.User, nz(p.RoleRestriction), p.ExpiresAt, status,
			nz(p.Comment), p.CreatedAt, nz(p.CreatedBy), bypass, nz(p.RotatedTo)})
	}
	return set, nil
}
