package exec

// USER objects: CREATE / ALTER / DROP / DESC USER and SHOW USERS, with Snowflake's
// property set, TYPE rules (PERSON, SERVICE, LEGACY_SERVICE) and key-pair slots.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/firn/firn/internal/auth"
	"github.com/firn/firn/internal/authz"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/ingress"
	"github.com/firn/firn/internal/params"
	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
	"github.com/firn/firn/internal/store"
)

func init() {
	creators["USER"] = (*Engine).createUser
	alterers["USER"] = (*Engine).alterUser
	droppers["USER"] = (*Engine).dropUser
	describers["USER"] = (*Engine).describeUser
	showers["USERS"] = (*Engine).showUsers
}

// User types.
const (
	userPerson        = "PERSON"
	userService       = "SERVICE"
	userLegacyService = "LEGACY_SERVICE"
)

// serviceForbidden are the properties a SERVICE user may not have.
var serviceForbidden = map[string]bool{
	"FIRST_NAME": true, "MIDDLE_NAME": true, "LAST_NAME": true, "PASSWORD": true,
	"MUST_CHANGE_PASSWORD": true, "MINS_TO_BYPASS_MFA": true,
}

// selfAlterable are the properties a user may set or unset on itself without owning
// itself; user-level session parameters are allowed too.
var selfAlterable = map[string]bool{
	"DEFAULT_WAREHOUSE": true, "DEFAULT_NAMESPACE": true, "DEFAULT_ROLE": true, "DEFAULT_SECONDARY_ROLES": true,
}

func userMissing(name string) *sferr.Error { return sferr.DoesNotExist("User", name) }

func userRefused(name string) *sferr.Error {
	return sferr.InsufficientPrivileges(fmt.Sprintf("user '%s'", name))
}

// userObjectName returns a user's name from a one-part object name.
func userObjectName(n sql.ObjectName) (string, error) {
	if len(n.Parts) != 1 {
		return "", userMissing(n.String())
	}
	return n.Parts[0].Name, nil
}

// passwordPolicy enforces Snowflake's default password policy: 8 to 256 characters
// with at least one upper-case letter, one lower-case letter and one digit.
func passwordPolicy(pw string) error {
	var upper, lower, digit bool
	for _, r := range pw {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		}
	}
	n := len([]rune(pw))
	var reason string
	switch {
	case n < 8:
		reason = "PASSWORD_TOO_SHORT"
	case n > 256:
		reason = "PASSWORD_TOO_LONG"
	case !upper:
		reason = "PASSWORD_MISSING_UPPER_CASE_CHARACTER"
	case !lower:
		reason = "PASSWORD_MISSING_LOWER_CASE_CHARACTER"
	case !digit:
		reason = "PASSWORD_MISSING_NUMERIC_CHARACTER"
	default:
		return nil
	}
	return sferr.Compilation("003002", "28P01", fmt.Sprintf("New password rejected by current password policy. Reason: '%s'.", reason))
}

// foldName folds an identifier written as a string ('analytics', '"Mixed"') the way
// Snowflake resolves DEFAULT_ROLE and friends: unquoted text upper-cased, quoted kept.
func foldName(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return strings.ToUpper(s)
}

// propName reads an object-name property: an identifier with at most maxParts parts,
// or a string holding one. It returns the parts joined by dots.
func propName(p sql.Property, maxParts int) (string, error) {
	switch p.Value.Kind {
	case sql.ValIdent:
		if len(p.Value.Ident.Parts) > maxParts {
			return "", invalidValue(p.Name, p.Value)
		}
		return p.Value.Ident.String(), nil
	case sql.ValString:
		parts := strings.Split(p.Value.Str, ".")
		if len(parts) > maxParts || strings.TrimSpace(p.Value.Str) == "" {
			return "", invalidValue(p.Name, p.Value)
		}
		for i := range parts {
			parts[i] = foldName(parts[i])
		}
		return strings.Join(parts, "."), nil
	}
	return "", invalidValue(p.Name, p.Value)
}

// userEdit is a validated list of changes to apply to a user inside a transaction.
// Validation that is expensive (argon2id hashing, key parsing) happens before the
// transaction starts.
type userEdit struct {
	props        []sql.Property
	unset        []string
	passwordHash string
	keys         map[string]rsaSlot // RSA_PUBLIC_KEY / RSA_PUBLIC_KEY_2 -> parsed key
	disables     bool               // sets DISABLED = TRUE
	selfOnly     bool               // every change is one a user may make to itself
}

type rsaSlot struct{ body, fp string }

// prepareUserEdit validates props and unset names for USER and pre-computes what is
// costly. Values are checked here; TYPE rules are checked against the final user in
// apply.
func prepareUserEdit(props []sql.Property, unset []string) (*userEdit, error) {
	ed := &userEdit{props: props, keys: map[string]rsaSlot{}, selfOnly: true}
	seen := map[string]bool{}
	for _, p := range props {
		if seen[p.Name] {
			return nil, sferr.Compilation("001423", "22023", fmt.Sprintf("duplicate property '%s'", p.Name))
		}
		seen[p.Name] = true
		if !selfAlterable[p.Name] {
			if d, ok := params.Lookup(p.Name); !ok || d.Levels&params.User == 0 || p.Name == "NETWORK_POLICY" {
				ed.selfOnly = false
			}
		}
		if err := checkUserProp(p); err != nil {
			return nil, err
		}
		switch p.Name {
		case "PASSWORD":
			if p.Value.Kind != sql.ValString {
				return nil, invalidValue(p.Name, p.Value)
			}
			if err := passwordPolicy(p.Value.Str); err != nil {
				return nil, err
			}
			h, err := auth.HashPassword(p.Value.Str)
			if err != nil {
				return nil, err
			}
			ed.passwordHash = h
		case "RSA_PUBLIC_KEY", "RSA_PUBLIC_KEY_2":
			if p.Value.Kind != sql.ValString {
				return nil, invalidValue(p.Name, p.Value)
			}
			pub, err := auth.ParseRSAPublicKey(p.Value.Str)
			if err != nil {
				return nil, sferr.Compilation("001423", "22023", fmt.Sprintf("New public key rejected by current policy. Reason: '%s'.", err))
			}
			body, err := auth.PublicKeyBody(pub)
			if err != nil {
				return nil, err
			}
			ed.keys[p.Name] = rsaSlot{body: body, fp: auth.Fingerprint(pub)}
		case "DISABLED":
			ed.disables = p.Value.Kind == sql.ValBool && p.Value.Bool || strings.EqualFold(valueText(p.Value), "TRUE")
		}
	}
	for _, n := range unset {
		n = strings.ToUpper(n)
		if !unsettable(n) {
			return nil, invalidProperty(n, "USER")
		}
		ed.unset = append(ed.unset, n)
		if !selfAlterable[n] {
			if d, ok := params.Lookup(n); !ok || d.Levels&params.User == 0 || n == "NETWORK_POLICY" {
				ed.selfOnly = false
			}
		}
	}
	return ed, nil
}

// checkUserProp checks one property's name and value shape.
func checkUserProp(p sql.Property) error {
	var err error
	switch p.Name {
	case "LOGIN_NAME", "DISPLAY_NAME", "FIRST_NAME", "MIDDLE_NAME", "LAST_NAME", "EMAIL", "COMMENT",
		"RSA_PUBLIC_KEY_FP", "RSA_PUBLIC_KEY_2_FP":
		_, err = propString(p.Name, p.Value)
		if err == nil && p.Name == "LOGIN_NAME" && strings.TrimSpace(valueText(p.Value)) == "" {
			err = invalidValue(p.Name, p.Value)
		}
	case "PASSWORD", "RSA_PUBLIC_KEY", "RSA_PUBLIC_KEY_2":
		// Checked by prepareUserEdit.
	case "MUST_CHANGE_PASSWORD", "DISABLED", "DISABLE_MFA":
		_, err = propBool(p.Name, p.Value)
	case "DAYS_TO_EXPIRY", "MINS_TO_UNLOCK", "MINS_TO_BYPASS_MFA":
		if p.Value.Kind == sql.ValNull {
			return nil
		}
		var n int64
		if n, err = propInt(p.Name, p.Value); err == nil && n < 0 {
			err = invalidValue(p.Name, p.Value)
		}
	case "DEFAULT_WAREHOUSE", "DEFAULT_ROLE":
		_, err = propName(p, 1)
	case "DEFAULT_NAMESPACE":
		_, err = propName(p, 2)
	case "DEFAULT_SECONDARY_ROLES":
		_, err = secondaryRoles(p)
	case "TYPE":
		_, err = userTypeValue(p)
	case "TAG":
		return unsupported("USER ... TAG")
	default:
		d, ok := params.Lookup(p.Name)
		if !ok || d.Levels&params.User == 0 {
			return invalidProperty(p.Name, "USER")
		}
		if _, err := d.Normalize(valueText(p.Value)); err != nil {
			return invalidValue(d.Name, p.Value)
		}
	}
	return err
}

func secondaryRoles(p sql.Property) ([]string, error) {
	if p.Value.Kind == sql.ValList {
		switch len(p.Value.List) {
		case 0:
			return nil, nil
		case 1:
			if v := p.Value.List[0]; (v.Kind == sql.ValString || v.Kind == sql.ValIdent) && strings.EqualFold(valueText(v), "ALL") {
				return []string{"ALL"}, nil
			}
		}
	}
	return nil, sferr.Compilation("001423", "22023", fmt.Sprintf("invalid value %s for property 'DEFAULT_SECONDARY_ROLES'; use ('ALL') or ()", valueText(p.Value)))
}

func userTypeValue(p sql.Property) (string, error) {
	if p.Value.Kind == sql.ValNull {
		return "", nil
	}
	v, err := propString(p.Name, p.Value)
	if err != nil {
		return "", err
	}
	switch v = strings.ToUpper(v); v {
	case userPerson, userService, userLegacyService:
		return v, nil
	}
	return "", invalidValue(p.Name, p.Value)
}

func unsettable(n string) bool {
	switch n {
	case "PASSWORD", "RSA_PUBLIC_KEY", "RSA_PUBLIC_KEY_2", "DEFAULT_WAREHOUSE", "DEFAULT_NAMESPACE", "DEFAULT_ROLE",
		"DEFAULT_SECONDARY_ROLES", "COMMENT", "DISPLAY_NAME", "FIRST_NAME", "MIDDLE_NAME", "LAST_NAME", "EMAIL",
		"TYPE", "DAYS_TO_EXPIRY", "MINS_TO_UNLOCK", "MINS_TO_BYPASS_MFA", "MUST_CHANGE_PASSWORD", "DISABLED", "LOGIN_NAME":
		return true
	}
	d, ok := params.Lookup(n)
	return ok && d.Levels&params.User != 0
}

// apply applies the edit to u at time now and checks the TYPE rules on the result.
func (ed *userEdit) apply(u *catalog.User, now time.Time) error {
	typ := u.Type
	for _, p := range ed.props {
		if p.Name == "TYPE" {
			typ, _ = userTypeValue(p)
		}
	}
	if typ == userService {
		for _, p := range ed.props {
			if serviceForbidden[p.Name] {
				if p.Name == "PASSWORD" {
					return sferr.Compilation("001423", "22023", "Cannot set password for user of type SERVICE.")
				}
				return sferr.Compilation("001423", "22023", fmt.Sprintf("Cannot set %s for user of type SERVICE.", p.Name))
			}
			if p.Name == "DISABLE_MFA" {
				if b, _ := propBool(p.Name, p.Value); b {
					return sferr.Compilation("001423", "22023", "Cannot set DISABLE_MFA for user of type SERVICE.")
				}
			}
		}
		if u.Type != userService {
			// A user becoming SERVICE loses what SERVICE users cannot have, so that a
			// password can never outlive the type change.
			u.PasswordHash, u.PasswordSet, u.MustChangePassword, u.BypassMFAUntil = "", 0, false, 0
			u.FirstName, u.MiddleName, u.LastName = "", "", ""
		}
	}
	for _, n := range ed.unset {
		unsetUserProp(u, n)
	}
	for _, p := range ed.props {
		if err := setUserProp(u, p, ed, now); err != nil {
			return err
		}
	}
	for _, slot := range []struct{ name, fp string }{{"RSA_PUBLIC_KEY_FP", u.RSAPublicKeyFP}, {"RSA_PUBLIC_KEY_2_FP", u.RSAPublicKey2FP}} {
		for _, p := range ed.props {
			if p.Name == slot.name && valueText(p.Value) != slot.fp {
				return sferr.Compilation("001423", "22023", fmt.Sprintf("%s does not match the fingerprint of the public key.", slot.name))
			}
		}
	}
	return nil
}

func setUserProp(u *catalog.User, p sql.Property, ed *userEdit, now time.Time) error {
	str := func() string { v, _ := propString(p.Name, p.Value); return v }
	mins := func() int64 {
		if p.Value.Kind == sql.ValNull {
			return 0
		}
		n, _ := propInt(p.Name, p.Value)
		return n
	}
	switch p.Name {
	case "LOGIN_NAME":
		u.LoginName = strings.ToUpper(strings.TrimSpace(str()))
	case "DISPLAY_NAME":
		u.DisplayName = str()
	case "FIRST_NAME":
		u.FirstName = str()
	case "MIDDLE_NAME":
		u.MiddleName = str()
	case "LAST_NAME":
		u.LastName = str()
	case "EMAIL":
		u.Email = str()
	case "COMMENT":
		u.Comment = str()
	case "PASSWORD":
		u.PasswordHash, u.PasswordSet = ed.passwordHash, now.Unix()
	case "MUST_CHANGE_PASSWORD":
		u.MustChangePassword, _ = propBool(p.Name, p.Value)
	case "DISABLED":
		u.Disabled, _ = propBool(p.Name, p.Value)
	case "DISABLE_MFA", "RSA_PUBLIC_KEY_FP", "RSA_PUBLIC_KEY_2_FP":
	case "DAYS_TO_EXPIRY":
		if p.Value.Kind == sql.ValNull {
			u.DaysToExpiry, u.ExpiresAt = 0, 0
			break
		}
		d := mins()
		u.DaysToExpiry, u.ExpiresAt = d, now.Add(time.Duration(d)*24*time.Hour).Unix()
	case "MINS_TO_UNLOCK":
		if m := mins(); m > 0 {
			u.LockedUntil = now.Add(time.Duration(m) * time.Minute).Unix()
		} else {
			u.LockedUntil, u.FailedLogins = 0, 0
		}
	case "MINS_TO_BYPASS_MFA":
		if m := mins(); m > 0 {
			u.BypassMFAUntil = now.Add(time.Duration(m) * time.Minute).Unix()
		} else {
			u.BypassMFAUntil = 0
		}
	case "DEFAULT_WAREHOUSE":
		u.DefaultWarehouse, _ = propName(p, 1)
	case "DEFAULT_ROLE":
		u.DefaultRole, _ = propName(p, 1)
	case "DEFAULT_NAMESPACE":
		u.DefaultNamespace, _ = propName(p, 2)
	case "DEFAULT_SECONDARY_ROLES":
		u.DefaultSecondaryRoles, _ = secondaryRoles(p)
	case "TYPE":
		u.Type, _ = userTypeValue(p)
	case "RSA_PUBLIC_KEY":
		k := ed.keys[p.Name]
		u.RSAPublicKey, u.RSAPublicKeyFP, u.RSAPublicKeySet = k.body, k.fp, now.Unix()
	case "RSA_PUBLIC_KEY_2":
		k := ed.keys[p.Name]
		u.RSAPublicKey2, u.RSAPublicKey2FP, u.RSAPublicKey2Set = k.body, k.fp, now.Unix()
	default:
		d, _ := params.Lookup(p.Name)
		v, err := d.Normalize(valueText(p.Value))
		if err != nil {
			return invalidValue(d.Name, p.Value)
		}
		if u.Params == nil {
			u.Params = map[string]string{}
		}
		u.Params[d.Name] = v
	}
	return nil
}

func unsetUserProp(u *catalog.User, n string) {
	switch n {
	case "PASSWORD":
		u.PasswordHash, u.PasswordSet = "", 0
	case "RSA_PUBLIC_KEY":
		u.RSAPublicKey, u.RSAPublicKeyFP, u.RSAPublicKeySet = "", "", 0
	case "RSA_PUBLIC_KEY_2":
		u.RSAPublicKey2, u.RSAPublicKey2FP, u.RSAPublicKey2Set = "", "", 0
	case "DEFAULT_WAREHOUSE":
		u.DefaultWarehouse = ""
	case "DEFAULT_NAMESPACE":
		u.DefaultNamespace = ""
	case "DEFAULT_ROLE":
		u.DefaultRole = ""
	case "DEFAULT_SECONDARY_ROLES":
		u.DefaultSecondaryRoles = []string{"ALL"}
	case "COMMENT":
		u.Comment = ""
	case "DISPLAY_NAME":
		u.DisplayName = ""
	case "FIRST_NAME":
		u.FirstName = ""
	case "MIDDLE_NAME":
		u.MiddleName = ""
	case "LAST_NAME":
		u.LastName = ""
	case "EMAIL":
		u.Email = ""
	case "TYPE":
		u.Type = ""
	case "DAYS_TO_EXPIRY":
		u.DaysToExpiry, u.ExpiresAt = 0, 0
	case "MINS_TO_UNLOCK":
		u.LockedUntil, u.FailedLogins = 0, 0
	case "MINS_TO_BYPASS_MFA":
		u.BypassMFAUntil = 0
	case "MUST_CHANGE_PASSWORD":
		u.MustChangePassword = false
	case "DISABLED":
		u.Disabled = false
	case "LOGIN_NAME":
		u.LoginName = u.Name
	default:
		delete(u.Params, n)
	}
}

// checkLoginName refuses a login name another user of the account already has.
func checkLoginName(ctx context.Context, tx store.Tx, account string, u *catalog.User, except string) error {
	users, err := catalog.ListUsers(ctx, tx, account)
	if err != nil {
		return err
	}
	for _, o := range users {
		if o.Name != except && o.Name != u.Name && strings.EqualFold(o.LoginName, u.LoginName) {
			return sferr.Compilation("002002", "42710", fmt.Sprintf("User with login name '%s' already exists.", u.LoginName))
		}
	}
	return nil
}

// closeSessions ends a user's sessions after the transaction that required it committed.
func (e *Engine) closeSessions(ctx context.Context, account, user string) error {
	if e.cfg.Sessions == nil {
		return nil
	}
	if _, err := e.cfg.Sessions.CloseUser(context.WithoutCancel(ctx), account, user); err != nil {
		return fmt.Errorf("exec: end sessions of user %s: %w", user, err)
	}
	return nil
}

func (e *Engine) createUser(ctx context.Context, s *session.Session, st *sql.Create) (*result.Set, error) {
	name, err := userObjectName(st.Name)
	if err != nil {
		return nil, err
	}
	if st.OrAlter {
		return nil, unsupported("CREATE OR ALTER USER")
	}
	ed, err := prepareUserEdit(st.Props, nil)
	if err != nil {
		return nil, err
	}
	var out *result.Set
	replaced := false
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		if !authz.HasAccountPrivilege(r.Primary, "CREATE USER") {
			return sferr.InsufficientPrivileges(fmt.Sprintf("account '%s'", s.Account))
		}
		owner, err := catalog.Owner(ctx, tx, catalog.UserKey(s.Account, name))
		switch {
		case err == nil && !st.OrReplace:
			if st.IfNotExists {
				out = result.Status(result.DDL, fmt.Sprintf("%s already exists, statement succeeded.", name))
				return nil
			}
			return sferr.AlreadyExists("User", name)
		case err == nil:
			if !authz.Owns(r.All, owner) {
				return userRefused(name)
			}
			if err := catalog.DropUser(ctx, tx, s.Account, name); err != nil {
				return err
			}
			replaced = true
		case !catalog.IsNotFound(err):
			return err
		}
		u := &catalog.User{Name: name, LoginName: name, DefaultSecondaryRoles: []string{"ALL"}}
		if err := ed.apply(u, e.now()); err != nil {
			return err
		}
		if err := userNetworkPolicy(ctx, tx, s.Account, r, ed.props, u); err != nil {
			return err
		}
		if err := checkLoginName(ctx, tx, s.Account, u, ""); err != nil {
			return err
		}
		if err := catalog.CreateUser(ctx, tx, s.Account, s.Role, u); err != nil {
			if catalog.IsExists(err) {
				return sferr.AlreadyExists("User", name)
			}
			return err
		}
		out = result.Status(result.DDL, fmt.Sprintf("User %s successfully created.", name))
		return nil
	})
	if err != nil {
		return nil, err
	}
	ingress.Invalidate()
	if replaced {
		if err := e.closeSessions(ctx, s.Account, name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (e *Engine) alterUser(ctx context.Context, s *session.Session, st *sql.Alter) (*result.Set, error) {
	if set, handled, err := e.alterUserPAT(ctx, s, st); handled {
		return set, err
	}
	name := s.User
	if len(st.Name.Parts) > 0 {
		var err error
		if name, err = userObjectName(st.Name); err != nil {
			return nil, err
		}
	}
	var (
		ed    *userEdit
		to    string
		reset struct { // RESET PASSWORD: the link's token, minted before the transaction
			token, id string
			hash      []byte
		}
		out *result.Set
		err error
	)
	switch {
	case st.RenameTo != nil:
		if to, err = userObjectName(*st.RenameTo); err != nil {
			return nil, err
		}
	case st.Other == "RESET PASSWORD":
		if reset.token, reset.id, reset.hash, err = newResetToken(); err != nil {
			return nil, err
		}
	case st.Other == "ABORT ALL QUERIES":
	case st.Other != "":
		return nil, unsupported("ALTER USER " + st.Other)
	default:
		if ed, err = prepareUserEdit(st.Set, st.Unset); err != nil {
			return nil, err
		}
	}
	endSessions := false
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		u, err := catalog.GetUser(ctx, tx, s.Account, name)
		if catalog.IsNotFound(err) {
			if st.IfExists {
				return nil
			}
			return userMissing(name)
		}
		if err != nil {
			return err
		}
		owns := authz.Owns(r.All, u.Meta.Owner)
		self := u.Name == s.User
		if !owns && !(self && ed != nil && ed.selfOnly) {
			return userRefused(name)
		}
		switch {
		case st.RenameTo != nil:
			if err := catalog.RenameUser(ctx, tx, s.Account, name, to); err != nil {
				if catalog.IsExists(err) {
					return sferr.AlreadyExists("User", to)
				}
				return err
			}
			endSessions = true
			return nil
		case st.Other == "RESET PASSWORD":
			if u.Type == userService {
				return sferr.Compilation("001423", "22023", "Cannot reset password for user of type SERVICE.")
			}
			// A one-time link to firn's reset page (passwordreset.go); the password
			// itself changes only when the user completes the reset.
			out, err = e.issuePasswordReset(ctx, tx, s, u, reset.token, reset.id, reset.hash)
			return err
		case st.Other == "ABORT ALL QUERIES":
			return nil
		}
		oldHash := u.PasswordHash
		if err := ed.apply(u, e.now()); err != nil {
			return err
		}
		if err := userNetworkPolicy(ctx, tx, s.Account, r, ed.props, u); err != nil {
			return err
		}
		if err := checkLoginName(ctx, tx, s.Account, u, ""); err != nil {
			return err
		}
		if u.PasswordHash != oldHash || u.Type == userService { // SET/UNSET PASSWORD, TYPE = SERVICE: no reset link survives
			if err := catalog.DeleteUserPasswordResets(ctx, tx, s.Account, u.Name); err != nil {
				return err
			}
		}
		endSessions = ed.disables && u.Disabled
		return catalog.PutUser(ctx, tx, s.Account, u)
	})
	if err != nil {
		return nil, err
	}
	ingress.Invalidate()
	if endSessions {
		if err := e.closeSessions(ctx, s.Account, name); err != nil {
			return nil, err
		}
	}
	if out != nil { // RESET PASSWORD: the link is shown once, never kept for RESULT_SCAN
		markOneShot(out)
		return out, nil
	}
	return result.Status(result.DDL, executed), nil
}

func (e *Engine) dropUser(ctx context.Context, s *session.Session, st *sql.Drop) (*result.Set, error) {
	name, err := userObjectName(st.Name)
	if err != nil {
		return nil, err
	}
	var out *result.Set
	dropped := false
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		owner, err := catalog.Owner(ctx, tx, catalog.UserKey(s.Account, name))
		if catalog.IsNotFound(err) {
			if st.IfExists {
				out = result.Status(result.DDL, fmt.Sprintf("Drop statement executed successfully (%s already dropped).", name))
				return nil
			}
			return userMissing(name)
		}
		if err != nil {
			return err
		}
		if !authz.Owns(r.All, owner) {
			return userRefused(name)
		}
		if err := catalog.DropUser(ctx, tx, s.Account, name); err != nil {
			return err
		}
		dropped = true
		out = result.Status(result.DDL, fmt.Sprintf("%s successfully dropped.", name))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if dropped {
		if err := e.closeSessions(ctx, s.Account, name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// userTime renders a stored unix time as DESC USER shows timestamps.
func userTime(unix int64) string {
	if unix == 0 {
		return "null"
	}
	return time.Unix(unix, 0).UTC().Format("2006-01-02 15:04:05.000 -0700")
}

// minsLeft is the number of whole minutes (rounded up) until unix, or nil when past.
func minsLeft(unix int64, now time.Time) any {
	if unix <= now.Unix() {
		return nil
	}
	return strconv.FormatInt((unix-now.Unix()+59)/60, 10)
}

// daysLeft is the fractional number of days until the user expires, or nil.
func daysLeft(u *catalog.User, now time.Time) any {
	if u.ExpiresAt == 0 {
		return nil
	}
	return strconv.FormatFloat(float64(u.ExpiresAt-now.Unix())/86400, 'f', -1, 64)
}

func secondaryRolesText(u *catalog.User) string {
	if len(u.DefaultSecondaryRoles) == 0 {
		return "[]"
	}
	return `["` + strings.Join(u.DefaultSecondaryRoles, `", "`) + `"]`
}

func userTypeOf(u *catalog.User) string {
	if u.Type == "" {
		return userPerson
	}
	return u.Type
}

func orNull(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if x == "" {
			return "null"
		}
		return x
	}
	return fmt.Sprint(v)
}

// describeUser answers DESC USER with Snowflake's property/value/default/description
// rows. The owner (through the active roles) and the user itself may describe it.
func (e *Engine) describeUser(ctx context.Context, s *session.Session, st *sql.Describe) (*result.Set, error) {
	name, err := userObjectName(st.Name)
	if err != nil {
		return nil, err
	}
	var (
		u      *catalog.User
		hasPAT bool
	)
	err = e.cfg.Store.View(ctx, func(tx store.Tx) error {
		r, err := roles(ctx, tx, s)
		if err != nil {
			return err
		}
		if u, err = catalog.GetUser(ctx, tx, s.Account, name); err != nil {
			if catalog.IsNotFound(err) {
				return userMissing(name)
			}
			return err
		}
		if !authz.Owns(r.All, u.Meta.Owner) && u.Name != s.User {
			return userRefused(name)
		}
		hasPAT, err = catalog.UserHasPAT(ctx, tx, s.Account, u.Name, e.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	now := e.now()
	display := u.DisplayName
	if display == "" {
		display = u.Name
	}
	password := "null"
	if u.PasswordHash != "" {
		password = "********"
	}
	b := func(v bool) string { return strconv.FormatBool(v) }
	type row struct{ prop, value, def, desc string }
	rowsOut := []row{
		{"NAME", u.Name, "null", "Name"},
		{"COMMENT", orNull(u.Comment), "null", "user comment associated to an object in the dictionary"},
		{"DISPLAY_NAME", display, "null", "Display name of the associated object"},
		{"TYPE", userTypeOf(u), "null", "Type of the user"},
		{"LOGIN_NAME", u.LoginName, "null", "Login name of the user"},
		{"FIRST_NAME", orNull(u.FirstName), "null", "First name of the user"},
		{"MIDDLE_NAME", orNull(u.MiddleName), "null", "Middle name of the user"},
		{"LAST_NAME", orNull(u.LastName), "null", "Last name of the user"},
		{"EMAIL", orNull(u.Email), "null", "Email address of the user"},
		{"PASSWORD", password, "null", "Password of the user"},
		{"MUST_CHANGE_PASSWORD", b(u.MustChangePassword), "false", "User must change the password"},
		{"DISABLED", b(u.Disabled), "false", "Whether the user is disabled"},
		{"SNOWFLAKE_LOCK", "false", "false", "Whether the user or account is locked by Snowflake"},
		{"SNOWFLAKE_SUPPORT", "false", "false", "Snowflake Support is allowed to use the user or account"},
		{"DAYS_TO_EXPIRY", orNull(daysLeft(u, now)), "null", "User record will be treated as expired after specified number of days"},
		{"MINS_TO_UNLOCK", orNull(minsLeft(u.LockedUntil, now)), "null", "Temporary lock on the user will be removed after specified number of minutes"},
		{"DEFAULT_WAREHOUSE", orNull(u.DefaultWarehouse), "null", "Default warehouse for this user"},
		{"DEFAULT_NAMESPACE", orNull(u.DefaultNamespace), "null", "Default database namespace prefix for this user"},
		{"DEFAULT_ROLE", orNull(u.DefaultRole), "null", "Primary principal of user session will be set to this role"},
		{"DEFAULT_SECONDARY_ROLES", secondaryRolesText(u), "[ALL]", "The secondary roles will be set to all roles provided here"},
		{"EXT_AUTHN_DUO", "false", "false", "Whether Duo Security is enabled as second factor authentication"},
		{"EXT_AUTHN_UID", "null", "null", "External authentication ID of the user"},
		{"DEFAULT_MFA_METHOD", "null", "null", "The default MFA method of the user"},
		{"HAS_MFA", "false", "false", "Whether the user is enrolled in multi-factor authentication"},
		{"HAS_PAT", b(hasPAT), "false", "Whether the user has a programmatic access token"},
		{"HAS_WORKLOAD_IDENTITY", "false", "false", "Whether the user has a workload identity"},
		{"MINS_TO_BYPASS_MFA", orNull(minsLeft(u.BypassMFAUntil, now)), "null", "Temporary bypass MFA for the user for a specified number of minutes"},
		{"MINS_TO_BYPASS_NETWORK_POLICY", "null", "null", "Temporary bypass network policy on the user for a specified number of minutes"},
		{"RSA_PUBLIC_KEY", orNull(u.RSAPublicKey), "null", "RSA public key of the user"},
		{"RSA_PUBLIC_KEY_FP", orNull(u.RSAPublicKeyFP), "null", "Fingerprint of user's RSA public key."},
		{"RSA_PUBLIC_KEY_LAST_SET_TIME", userTime(u.RSAPublicKeySet), "null", "The timestamp at which the RSA public key was last set for the user"},
		{"RSA_PUBLIC_KEY_2", orNull(u.RSAPublicKey2), "null", "Second RSA public key of the user"},
		{"RSA_PUBLIC_KEY_2_FP", orNull(u.RSAPublicKey2FP), "null", "Fingerprint of user's second RSA public key."},
		{"RSA_PUBLIC_KEY_2_LAST_SET_TIME", userTime(u.RSAPublicKey2Set), "null", "The timestamp at which the second RSA public key was last set for the user"},
		{"PASSWORD_LAST_SET_TIME", userTime(u.PasswordSet), "null", "The timestamp on which the last non-null password was set for the user. Default to null if no password has been set yet."},
		{"CUSTOM_LANDING_PAGE_URL", "null", "null", "Snowflake Support is allowed to use the user or account"},
		{"CUSTOM_LANDING_PAGE_URL_FLUSH_NEXT_UI_LOAD", "false", "false", "The custom landing page url will be flushed on the next UI load"},
		{"IS_FROM_ORGANIZATION_USER", "false", "false", "Whether the user is imported from an organization user"},
	}
	set := &result.Set{Columns: []result.Column{result.Text("property"), result.Text("value"), result.Text("default"), result.Text("description")}}
	for _, r := range rowsOut {
		set.Rows = append(set.Rows, []any{r.prop, r.value, r.def, r.desc})
	}
	return set, nil
}

// showUsers answers SHOW [TERSE] USERS. Every role may list users; columns other than
// name are NULL unless the active roles own the user or hold MANAGE GRANTS.
func (e *Engine) showUsers(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, st *sql.Show) (*result.Set, error) {
	users, err := catalog.ListUsers(ctx, tx, s.Account)
	if err != nil {
		return nil, err
	}
	names := []string{"name", "created_on", "login_name", "display_name", "first_name", "last_name", "email",
		"mins_to_unlock", "days_to_expiry", "comment", "disabled", "must_change_password", "snowflake_lock",
		"default_warehouse", "default_namespace", "default_role", "default_secondary_roles", "ext_authn_duo",
		"ext_authn_uid", "mins_to_bypass_mfa", "owner", "last_success_login", "expires_at_time", "locked_until_time",
		"has_password", "has_rsa_public_key", "type", "has_mfa", "has_pat", "has_workload_identity", "is_from_organization_user"}
	if st.Terse {
		names = []string{"name", "created_on", "display_name", "first_name", "last_name", "email", "comment",
			"type", "has_mfa", "has_pat"}
	}
	set := &result.Set{}
	for _, n := range names {
		c := result.Text(n)
		switch n {
		case "created_on", "last_success_login", "expires_at_time", "locked_until_time":
			c = result.TimestampLTZ(n)
		}
		set.Columns = append(set.Columns, c)
	}
	f := &filter{st: st}
	now := e.now()
	for _, u := range users {
		if !f.keep(u.Name) {
			continue
		}
		vals := map[string]any{"name": u.Name}
		if visible(r, u.Meta.Owner) || u.Name == s.User {
			hasPAT, err := catalog.UserHasPAT(ctx, tx, s.Account, u.Name, now)
			if err != nil {
				return nil, err
			}
			var lockedUntil, lastLogin, expiresAt any
			if u.LockedUntil > now.Unix() {
				lockedUntil = time.Unix(u.LockedUntil, 0)
			}
			if u.LastSuccess > 0 {
				lastLogin = time.Unix(u.LastSuccess, 0)
			}
			if u.ExpiresAt > 0 {
				expiresAt = time.Unix(u.ExpiresAt, 0)
			}
			display := u.DisplayName
			if display == "" {
				display = u.Name
			}
			for k, v := range map[string]any{
				"created_on": u.Meta.Created, "login_name": u.LoginName, "display_name": display,
				"first_name": nz(u.FirstName), "last_name": nz(u.LastName), "email": nz(u.Email),
				"mins_to_unlock": minsLeft(u.LockedUntil, now), "days_to_expiry": daysLeft(u, now), "comment": nz(u.Comment),
				"disabled": fmt.Sprint(u.Disabled), "must_change_password": fmt.Sprint(u.MustChangePassword),
				"snowflake_lock": "false", "default_warehouse": nz(u.DefaultWarehouse),
				"default_namespace": nz(u.DefaultNamespace), "default_role": nz(u.DefaultRole),
				"default_secondary_roles": secondaryRolesText(u), "ext_authn_duo": "false", "ext_authn_uid": nil,
				"mins_to_bypass_mfa": minsLeft(u.BypassMFAUntil, now), "owner": u.Meta.Owner, "last_success_login": lastLogin,
				"expires_at_time": expiresAt, "locked_until_time": lockedUntil, "has_password": fmt.Sprint(u.PasswordHash != ""),
				"has_rsa_public_key": fmt.Sprint(u.RSAPublicKey != "" || u.RSAPublicKey2 != ""), "type": userTypeOf(u),
				"has_mfa": "false", "has_pat": fmt.Sprint(hasPAT), "has_workload_identity": "false", "is_from_organization_user": "false",
			} {
				vals[k] = v
			}
		}
		row := make([]any, len(names))
		for i, n := range names {
			row[i] = vals[n]
		}
		set.Rows = append(set.Rows, row)
	}
	return set, nil
}

func nz(s string) any {
	if s == "" {
		return nil
	}
	return s
}
