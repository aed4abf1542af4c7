package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/store"
	"github.com/firn/firn/internal/store/storetest"
)

func TestPATSecretFormat(t *testing.T) {
	s1, id1, h1, err := NewPATSecret()
	if err != nil {
		t.Fatal(err)
	}
	s2, id2, _, err := NewPATSecret()
	if err != nil {
		t.Fatal(err)
	}
	if s1 == s2 || id1 == id2 {
		t.Fatal("two secrets are equal: not random")
	}
	if !strings.HasPrefix(s1, PATPrefix) || len(h1) != 32 {
		t.Fatalf("secret %q hash len %d", s1, len(h1))
	}
	if id, ok := ParsePATSecret(s1); !ok || id != id1 {
		t.Fatalf("ParsePATSecret(%q) = %q, %v; want %q", s1, id, ok, id1)
	}
	for _, bad := range []string{
		"", "firnpat_", s1[:len(s1)-1], s1 + "A", "xirnpat_" + s1[8:],
		s1[:24] + "-" + s1[25:],               // separator not '_'
		s1[:10] + "*" + s1[11:],               // not base64url in id
		s1[:len(s1)-3] + "=" + s1[len(s1)-2:], // padding inside key
		strings.Repeat("x", len(s1)),
	} {
		if _, ok := ParsePATSecret(bad); ok {
			t.Errorf("ParsePATSecret(%q) accepted", bad)
		}
	}
}

func FuzzParsePATSecret(f *testing.F) {
	s, _, _, _ := NewPATSecret()
	f.Add(s)
	f.Add("firnpat_AAAAAAAAAAAAAAAA_" + strings.Repeat("A", 43))
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		id, ok := ParsePATSecret(in)
		if ok && (len(id) != lookupIDChars || !strings.Contains(in, id)) {
			t.Fatalf("ParsePATSecret(%q) = %q", in, id)
		}
	})
}

// patFixture is a store with account A (users U person, SVC service, role R granted
// to both) and account B.
type patFixture struct {
	st  store.Store
	now time.Time
	pat *PAT
}

func newPATFixture(t *testing.T) *patFixture {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t)
	var err error
	f := &patFixture{st: st, now: time.Date(2025, 4, 1, 12, 0, 0, 0, time.UTC)}
	f.pat = &PAT{Now: func() time.Time { return f.now }}
	err = st.Update(ctx, func(tx store.Tx) error {
		for _, a := range []string{"A", "B"} {
			if err := catalog.CreateAccount(ctx, tx, &catalog.Account{Name: a}, &catalog.User{Name: "ADMIN"}); err != nil {
				return err
			}
		}
		for _, u := range []*catalog.User{{Name: "U"}, {Name: "SVC", Type: "SERVICE"}, {Name: "V"}} {
			if err := catalog.CreateUser(ctx, tx, "A", catalog.RoleAccountAdmin, u); err != nil {
				return err
			}
		}
		if err := catalog.CreateRole(ctx, tx, "A", catalog.RoleAccountAdmin, &catalog.Role{Name: "R"}); err != nil {
			return err
		}
		for _, u := range []string{"U", "SVC"} {
			if err := catalog.GrantRole(ctx, tx, "A", &catalog.RoleGrant{Role: "R", GranteeKind: catalog.GranteeUser, Grantee: u}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// add stores a token for user and returns its secret.
func (f *patFixture) add(t *testing.T, p catalog.PAT) string {
	t.Helper()
	secret, id, hash, err := NewPATSecret()
	if err != nil {
		t.Fatal(err)
	}
	p.ID, p.Hash = id, hash
	if p.CreatedAt.IsZero() {
		p.CreatedAt = f.now
	}
	if p.ExpiresAt.IsZero() {
		p.ExpiresAt = f.now.Add(24 * time.Hour)
	}
	err = f.st.Update(context.Background(), func(tx store.Tx) error { return catalog.CreatePAT(context.Background(), tx, "A", &p) })
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func (f *patFixture) login(t *testing.T, account string, req *LoginRequest) (*Outcome, error) {
	t.Helper()
	var out *Outcome
	err := f.st.View(context.Background(), func(tx store.Tx) error {
		acct, err := catalog.GetAccount(context.Background(), tx, account)
		if err != nil {
			return err
		}
		out, err = f.pat.Authenticate(context.Background(), tx, acct, req)
		return err
	})
	return out, err
}

func TestPATAuthenticate(t *testing.T) {
	f := newPATFixture(t)
	bypass := int64(60)
	good := f.add(t, catalog.PAT{Name: "GOOD", User: "U", RoleRestriction: "R", MinsToBypassNetworkPolicy: bypass})
	unrestricted := f.add(t, catalog.PAT{Name: "FREE", User: "U", MinsToBypassNetworkPolicy: bypass})
	expired := f.add(t, catalog.PAT{Name: "OLD", User: "U", MinsToBypassNetworkPolicy: bypass, ExpiresAt: f.now.Add(-time.Second)})
	disabled := f.add(t, catalog.PAT{Name: "OFF", User: "U", MinsToBypassNetworkPolicy: bypass, Disabled: true})
	noBypass := f.add(t, catalog.PAT{Name: "NOBYPASS", User: "U"})
	lateBypass := f.add(t, catalog.PAT{Name: "LATE", User: "U", MinsToBypassNetworkPolicy: 1, CreatedAt: f.now.Add(-2 * time.Minute)})
	svc := f.add(t, catalog.PAT{Name: "S", User: "SVC", RoleRestriction: "R", MinsToBypassNetworkPolicy: bypass})
	svcNoRole := f.add(t, catalog.PAT{Name: "S2", User: "SVC", MinsToBypassNetworkPolicy: bypass})
	notGranted := f.add(t, catalog.PAT{Name: "NG", User: "V", RoleRestriction: "R", MinsToBypassNetworkPolicy: bypass})
	forged := good[:len(good)-4] + "AAAA"
	if forged == good {
		forged = good[:len(good)-4] + "BBBB"
	}

	for _, tt := range []struct {
		name     string
		account  string
		req      LoginRequest
		wantRole string
		wantErr  string // "" = success
		wantUser string // user recorded with a refusal ("" = none)
	}{
		{name: "token", account: "A", req: LoginRequest{LoginName: "u", Token: good}, wantRole: "R"},
		{name: "no login name", account: "A", req: LoginRequest{Token: good}, wantRole: "R"},
		{name: "secret in password", account: "A", req: LoginRequest{LoginName: "U", Password: good}, wantRole: "R"},
		{name: "unrestricted", account: "A", req: LoginRequest{LoginName: "U", Token: unrestricted}},
		{name: "expired", account: "A", req: LoginRequest{LoginName: "U", Token: expired}, wantErr: "394400", wantUser: "U"},
		{name: "disabled token", account: "A", req: LoginRequest{LoginName: "U", Token: disabled}, wantErr: "394400", wantUser: "U"},
		{name: "forged key", account: "A", req: LoginRequest{LoginName: "U", Token: forged}, wantErr: "394400", wantUser: "U"},
		{name: "garbage", account: "A", req: LoginRequest{LoginName: "U", Token: "nope"}, wantErr: "394400", wantUser: "U"},
		{name: "garbage unknown user", account: "A", req: LoginRequest{LoginName: "NOBODY", Token: "nope"}, wantErr: "394400"},
		{name: "other user's login name", account: "A", req: LoginRequest{LoginName: "V", Token: good}, wantErr: "394400", wantUser: "V"},
		{name: "other account", account: "B", req: LoginRequest{LoginName: "U", Token: good}, wantErr: "394400"},
		{name: "no network policy", account: "A", req: LoginRequest{LoginName: "U", Token: noBypass}, wantErr: "394400", wantUser: "U"},
		{name: "bypass window over", account: "A", req: LoginRequest{LoginName: "U", Token: lateBypass}, wantErr: "394400", wantUser: "U"},
		{name: "service needs a policy", account: "A", req: LoginRequest{LoginName: "SVC", Token: svc}, wantErr: "394400", wantUser: "SVC"},
		{name: "service without restriction", account: "A", req: LoginRequest{LoginName: "SVC", Token: svcNoRole}, wantErr: "394400", wantUser: "SVC"},
		{name: "restricted role not granted", account: "A", req: LoginRequest{LoginName: "V", Token: notGranted}, wantErr: "394400", wantUser: "V"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := f.login(t, tt.account, &tt.req)
			switch {
			case tt.wantErr == "" && (err != nil || out.Err != nil):
				t.Fatalf("refused: %v %v", err, out)
			case tt.wantErr == "":
				if out.RoleRestriction != tt.wantRole || out.User.Name != "U" {
					t.Fatalf("outcome user %s role %q; want U %q", out.User.Name, out.RoleRestriction, tt.wantRole)
				}
			case tt.wantUser == "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, %+v; want error %s without a user", err, out, tt.wantErr)
				}
			default:
				if err != nil || out.Err == nil || out.Err.Code != tt.wantErr || out.User.Name != tt.wantUser || out.CountsFailure {
					t.Fatalf("got %v, %+v; want refusal %s for %s", err, out, tt.wantErr, tt.wantUser)
				}
			}
		})
	}

	t.Run("service with a network policy", func(t *testing.T) {
		prev := catalog.SetNetworkPolicyChecker(catalog.NetworkPolicyFunc(func(_ context.Context, _ store.Tx, _, user string) (bool, error) {
			return user == "SVC", nil
		}))
		defer catalog.SetNetworkPolicyChecker(prev)
		out, err := f.login(t, "A", &LoginRequest{LoginName: "SVC", Token: svc})
		if err != nil || out.Err != nil || out.RoleRestriction != "R" {
			t.Fatalf("got %v %+v", err, out)
		}
		out, err = f.login(t, "A", &LoginRequest{LoginName: "U", Token: noBypass})
		if err != nil || out.Err == nil {
			t.Fatalf("U has no policy but logged in: %v %+v", err, out)
		}
	})
	t.Run("expiry follows the clock", func(t *testing.T) {
		f.now = f.now.Add(24 * time.Hour)
		defer func() { f.now = f.now.Add(-24 * time.Hour) }()
		out, err := f.login(t, "A", &LoginRequest{LoginName: "U", Token: good})
		if err != nil || out.Err == nil || out.Err.Code != "394400" {
			t.Fatalf("expired token: %v %+v", err, out)
		}
	})
}

func TestPATAsPassword(t *testing.T) {
	f := newPATFixture(t)
	secret := f.add(t, catalog.PAT{Name: "P", User: "U", RoleRestriction: "R", MinsToBypassNetworkPolicy: 5})
	a := &patOrPassword{pw: &Password{Now: f.pat.Now}, pat: f.pat}
	req := &LoginRequest{LoginName: "U", Password: secret}
	var out *Outcome
	err := f.st.View(context.Background(), func(tx store.Tx) error {
		acct, err := catalog.GetAccount(context.Background(), tx, "A")
		if err != nil {
			return err
		}
		out, err = a.Authenticate(context.Background(), tx, acct, req)
		return err
	})
	if err != nil || out.Err != nil || out.RoleRestriction != "R" {
		t.Fatalf("PAT as password: %v %+v", err, out)
	}
	if req.Authenticator != FactorPAT {
		t.Fatalf("request not marked as a PAT login: %q", req.Authenticator)
	}
}
