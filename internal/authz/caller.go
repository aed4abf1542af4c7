package authz

import (
	"context"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/store"
)

// HoldsCallerGrant reports whether the owner role of an executable holds a caller
// grant for priv on the object: directly on it, or inherited from an enclosing scope
// (the schema, the database or the account) for the object's kind. Grants to any role
// in the owner's hierarchy count, so caller grants to PUBLIC apply to every owner.
func (s *Snapshot) HoldsCallerGrant(ownerRole string, o Object, priv string) bool {
	owners := s.closureOf(ownerRole)
	for _, g := range s.caller {
		if g.Privilege != priv || !owners[g.Grantee] {
			continue
		}
		if !g.Inherited {
			if g.On == o {
				return true
			}
			continue
		}
		if g.Kind != o.Kind {
			continue
		}
		switch g.On.Kind {
		case "ACCOUNT":
			return true
		case "DATABASE":
			if o.Database == g.On.Name {
				return true
			}
		case "SCHEMA":
			if o.Database == g.On.Database && o.Schema == g.On.Name {
				return true
			}
		}
	}
	return false
}

// CallerAllowed is the decision of a restricted caller's-rights session: the
// executable owned by ownerRole may use priv on the object (owned by objOwner) on behalf
// of a caller whose active roles are caller exactly when the caller's own roles allow
// it by the normal rules AND the owner role holds a matching caller grant. Caller
// grants never add privileges.
func (s *Snapshot) CallerAllowed(caller RoleSet, ownerRole string, o Object, objOwner, priv string) bool {
	return s.Allowed(caller, o, objOwner, priv) && s.HoldsCallerGrant(ownerRole, o, priv)
}

// RestrictedCallerAllowed is CallerAllowed for a caller's active roles, reading the
// object's owner from the catalog. A missing object is not allowed.
func RestrictedCallerAllowed(ctx context.Context, tx store.Tx, account string, caller *Active, ownerRole string, o Object, priv string) (bool, error) {
	owner, err := catalog.ObjectOwner(ctx, tx, account, o)
	if err != nil {
		if catalog.IsNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return caller.Snap.CallerAllowed(caller.All, ownerRole, o, owner, priv), nil
}
